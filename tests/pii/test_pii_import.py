"""`goldsmith import --redact`: PII never reaches the store, span labels stay aligned."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.ingest.options import ImportOptions
from goldsmith.project import Project


def test_import_redacts_before_storing(tmp_path: Path) -> None:
    src = tmp_path / "notes.csv"
    src.write_text(
        "note,dx\n"
        '"Seen by Dr. Eleanor Whitfield, reach her at e.whitfield@clinic.org",cardio\n'
        '"SSN 123-45-6789 on file, chest pain on exertion",cardio\n',
        encoding="utf-8",
    )
    root = tmp_path / "clin"
    Project.init(root, labels=["cardio", "onco"]).close()
    out = CliRunner().invoke(
        app,
        [
            "import",
            str(src),
            "-p",
            str(root),
            "--text-field",
            "note",
            "--label-field",
            "dx",
            "--redact",
            "mask",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "PII redacted (mask): EMAIL 1, PERSON 1, SSN 1" in out.output
    with Project.open(root) as p:
        texts = [r.fields["text"] for r in p.records()]
        with p.store.read() as tx:
            stored_options = json.dumps(tx.list_imports(), default=str)
    assert texts[0] == "Seen by Dr. [PERSON_1], reach her at [EMAIL_1]"  # the title stays
    assert "123-45-6789" not in texts[1] and "[SSN_1]" in texts[1]
    assert "Whitfield" not in stored_options


def test_span_labels_follow_the_redaction(tmp_path: Path) -> None:
    src = tmp_path / "ner.jsonl"
    text = "Contact jane.roe@example.org about breast cancer screening."
    start = text.index("breast cancer")
    row = {"text": text, "spans": [{"start": start, "end": start + 13, "label": "Disease"}]}
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with Project.init(tmp_path / "ner", template="ner", labels=["Disease"]) as p:
        report = p.import_records(src, ImportOptions(redact="mask"))
        assert report.pii == {"EMAIL": 1}
        rec = p.records()[0]
        with p.store.read() as tx:
            (final,) = tx.final_labels_for([rec.id])  # type: ignore[list-item]
    new_text = rec.fields["text"]
    (span,) = final.value
    assert new_text[span["start"] : span["end"]] == "breast cancer"
