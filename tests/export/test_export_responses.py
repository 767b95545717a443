"""The annotators' responses in Label Studio and Prodigy exports (issue 18).

Label Studio: the final labels are the task's ground-truth annotation (no ``completed_by``),
then one annotation per response by ``completed_by: {"email": user}``, a skip
``was_cancelled``; label-studio-sdk's ``LabelInterface`` accepts every annotation and its
``Converter`` reads one row per annotation that is not cancelled, naming the annotator.
Prodigy: the final label's line first, then one line per response with ``_annotator_id`` and
``_session_id`` in the named-session form ``<dataset>-<session>``, a skip as ``ignore``.
Drafts never leave the store. The round trips are in tests/ingest/test_annotator_round_trip.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldsmith import ExportOptions, FinalLabel, Project, Provenance, Response
from goldsmith.cli import app
from goldsmith.export.label_config import CONFIG_NAME
from goldsmith.schema import ResponseStatus

TEXT = "😀 Ana met Bob in Paris."


def _span(word: str, label: str) -> dict[str, Any]:
    start = TEXT.index(word)
    return {"start": start, "end": start + len(word), "label": label}


def _ner(root: Path) -> Project:
    """One record with a final label, two annotators' answers, a skip and a draft."""
    project = Project.init(root, template="ner", labels=["PER", "LOC"])
    (rid, other) = project.add_records(
        [{"fields": {"text": TEXT}}, {"fields": {"text": "No one here."}}]
    ).ids
    with project.store.write() as tx:
        tx.set_final_labels(
            [
                FinalLabel(
                    rid, "spans", [_span("Ana", "PER"), _span("Paris", "LOC")], Provenance.HUMAN
                ),
                FinalLabel(other, "spans", [], Provenance.GOLD),
            ]
        )
    project.add_responses(
        [
            Response(rid, "ann1", {"spans": [_span("Ana", "PER")]}, time_spent=12.5),
            Response(rid, "ann2", {"spans": []}),
            Response(rid, "ann3", {}, status=ResponseStatus.DISCARDED),
            Response(rid, "ann4", {"spans": [_span("Bob", "PER")]}, status=ResponseStatus.DRAFT),
        ]
    )
    return project


@pytest.fixture
def ner(tmp_path: Path) -> Iterator[Project]:
    with _ner(tmp_path / "ner") as project:
        yield project


def _utf16(start: int, end: int) -> str:
    return TEXT.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


def test_label_studio_task_holds_final_then_each_annotator(ner: Project, tmp_path: Path) -> None:
    report = ner.export(ExportOptions(fmt="label-studio", out=tmp_path / "out"))
    assert report.responses == 3  # the draft stays home
    tasks = {t["data"]["text"]: t for t in json.loads(report.files["train"].read_text("utf-8"))}
    final, *answers = tasks[TEXT]["annotations"]
    assert final["ground_truth"] is True and "completed_by" not in final
    assert [s["value"]["text"] for s in final["result"]] == ["Ana", "Paris"]
    assert [a["completed_by"] for a in answers] == [
        {"email": "ann1"},
        {"email": "ann2"},
        {"email": "ann3"},
    ]
    assert [a["ground_truth"] for a in answers] == [False, False, False]
    assert [a["was_cancelled"] for a in answers] == [False, False, True]
    assert answers[0]["lead_time"] == 12.5 and "lead_time" not in answers[1]
    (region,) = answers[0]["result"]
    assert _utf16(region["value"]["start"], region["value"]["end"]) == "Ana"  # UTF-16 units
    assert answers[1]["result"] == [] and answers[2]["result"] == []
    assert len(tasks["No one here."]["annotations"]) == 1  # no annotator: the final label


def test_label_studio_sdk_reads_every_annotation(ner: Project, tmp_path: Path) -> None:
    pytest.importorskip("label_studio_sdk")
    from label_studio_sdk.converter import Converter
    from label_studio_sdk.label_interface import LabelInterface

    out = tmp_path / "out"
    report = ner.export(ExportOptions(fmt="label-studio", out=out))
    interface = LabelInterface((out / CONFIG_NAME).read_text(encoding="utf-8"))
    for task in json.loads(report.files["train"].read_text(encoding="utf-8")):
        for ann in task["annotations"]:
            assert interface.validate_prediction(ann, return_errors=True) == [], ann
    converter = Converter(
        str(out / CONFIG_NAME), project_dir=str(tmp_path), download_resources=False
    )
    converter.convert(str(report.files["train"]), str(tmp_path / "min"), "JSON_MIN", is_dir=False)
    rows = json.loads((tmp_path / "min" / "result.json").read_text(encoding="utf-8"))
    by_annotator = {row.get("annotator"): row for row in rows if row["text"] == TEXT}
    assert set(by_annotator) == {None, "ann1", "ann2"}  # the final label, then the answers
    assert [s["text"] for s in by_annotator["ann1"]["spans"]] == ["Ana"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_prodigy_lines_final_then_one_per_annotator(ner: Project, tmp_path: Path) -> None:
    report = ner.export(ExportOptions(fmt="prodigy", out=tmp_path / "out"))
    lines = [row for row in _lines(report.files["train"]) if row["text"] == TEXT]
    final, *answers = lines
    assert "_annotator_id" not in final and "_session_id" not in final
    assert [s["label"] for s in final["spans"]] == ["PER", "LOC"]
    dataset = ner.task.name
    assert [(a["_annotator_id"], a["_session_id"]) for a in answers] == [
        (f"{dataset}-ann1", f"{dataset}-ann1"),
        (f"{dataset}-ann2", f"{dataset}-ann2"),
        (f"{dataset}-ann3", f"{dataset}-ann3"),
    ]
    assert [a["answer"] for a in answers] == ["accept", "accept", "ignore"]
    assert all(row["meta"]["prodigy_dataset"] == dataset for row in lines)
    (span,) = answers[0]["spans"]
    tokens = answers[0]["tokens"]
    assert (tokens[span["token_start"]]["start"], tokens[span["token_end"]]["end"]) == (
        span["start"],
        span["end"],
    )
    assert answers[1]["spans"] == [] and "spans" not in answers[2]
    assert report.examples["train"] == 5  # 2 final labels + 2 answers + 1 skip


def test_cli_no_responses(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    _ner(root).close()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["export", "-p", str(root), "--format", "prodigy", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "annotators' responses written beside the final labels: 3" in result.output
    assert "Annotators' responses" in (out / "README.md").read_text(encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["export", "-p", str(root), "--format", "prodigy", "--out", str(out), "--no-responses"],
    )
    assert result.exit_code == 0, result.output
    assert len(_lines(out / "train.jsonl")) == 2
    assert "Annotators' responses" not in (out / "README.md").read_text(encoding="utf-8")
