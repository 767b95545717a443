"""End-to-end imports into a real SQLite project: counts, duplicates, labels, errors, rollback."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _ci import import_or_skip, skip_or_fail
from _progress import Recorder
from goldsmith.errors import InputError, RegistryError
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.ingest.pipeline import import_file
from goldsmith.project import Project
from goldsmith.schema import Provenance, ResponseStatus, SuggestionKind, Task
from goldsmith.store import Store

MEDICAL = (
    Path(__file__).resolve().parents[3]
    / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
)
Snapshot = Callable[[Project], dict[str, Any]]


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def records(project: Project) -> list[Any]:
    with project.store.read() as tx:
        return [r for batch in tx.iter_records() for r in batch]


def finals(project: Project) -> dict[str, Any]:
    """Final labels keyed by the record's text."""
    with project.store.read() as tx:
        recs = {r.id: r for batch in tx.iter_records() for r in batch}
        return {recs[f.record_id].fields["text"]: f for f in tx.final_labels_for(list(recs))}


# --------------------------------------------------------------------------- basics


def test_csv_import_counts_fields_metadata_and_provenance(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "in.csv",
        ["id", "abstract", "code", "year"],
        [["a1", "Tumour of the colon.", "1", "1990"], ["a2", "Gastric ulcer.", "2", "1991"]],
    )
    report = project.import_records(path, ImportOptions(text_field="abstract", label_field="code"))
    assert (report.n_read, report.n_inserted, report.n_duplicates, report.n_rejected) == (
        2,
        2,
        0,
        0,
    )
    assert (report.fmt, report.n_labels, report.source) == ("csv", 2, str(path.resolve()))
    recs = records(project)
    assert [r.fields for r in recs] == [
        {"text": "Tumour of the colon."},
        {"text": "Gastric ulcer."},
    ]
    assert [r.external_id for r in recs] == ["a1", "a2"]
    assert [r.metadata for r in recs] == [{"year": "1990"}, {"year": "1991"}]
    assert [(r.source_file, r.source_row) for r in recs] == [
        (str(path.resolve()), 2),
        (str(path.resolve()), 3),
    ]
    labels = finals(project)
    assert labels["Tumour of the colon."].value == "neoplasms"
    assert labels["Gastric ulcer."].provenance == Provenance.GOLD
    assert labels["Gastric ulcer."].confidence == 1.0
    with project.store.read() as tx:
        (imp,) = tx.list_imports()
    assert imp["id"] == report.import_id
    assert (imp["source"], imp["format"]) == (str(path.resolve()), "csv")
    assert (imp["n_read"], imp["n_inserted"], imp["n_duplicates"], imp["n_rejected"]) == (
        2,
        2,
        0,
        0,
    )
    assert imp["options"]["text_field"] == "abstract"
    assert imp["options"]["labels_as"] == "gold"


def test_every_tabular_format_imports_the_same_records(project: Project, tmp_path: Path) -> None:
    rows = [{"text": "alpha", "label": "general"}, {"text": "beta", "label": "nervous"}]
    write_csv(tmp_path / "a.csv", ["text", "label"], [[r["text"], r["label"]] for r in rows])
    (tmp_path / "a.tsv").write_text("text\tlabel\ngamma\tgeneral\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "delta", "label": 4}\n', encoding="utf-8")
    (tmp_path / "a.json").write_text('[{"text": "eps", "label": "1"}]', encoding="utf-8")
    pq.write_table(pa.table({"text": ["zeta"], "label": ["digestive"]}), tmp_path / "a.parquet")
    for name in ("a.csv", "a.tsv", "a.jsonl", "a.json", "a.parquet"):
        assert project.import_records(tmp_path / name).n_inserted >= 1
    assert {t: f.value for t, f in finals(project).items()} == {
        "alpha": "general",
        "beta": "nervous",
        "gamma": "general",
        "delta": "cardiovascular",
        "eps": "neoplasms",
        "zeta": "digestive",
    }
    assert project.status()["imports"] == 5


def test_empty_text_cell_is_refused_or_skipped_with_a_count(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    path = write_csv(tmp_path / "e.csv", ["text", "label"], [["x", "2"], ["", "1"], [" ", "1"]])
    before = snapshot(project)
    with pytest.raises(InputError, match="line 3, field 'text': the text is empty"):
        project.import_records(path)
    assert snapshot(project) == before
    skipped = tmp_path / "rejected.jsonl"
    report = project.import_records(path, ImportOptions(skip_invalid=skipped))
    assert (report.n_inserted, report.n_rejected) == (1, 2)
    assert [r.fields["text"] for r in records(project)] == ["x"]
    assert [json.loads(ln)["line"] for ln in skipped.read_text().splitlines()] == [3, 4]


def test_hf_save_to_disk_import(project: Project, tmp_path: Path) -> None:
    datasets = import_or_skip("datasets", install="pip install 'goldsmith[dev]'")
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(LABELS_))}
    )
    ds = datasets.Dataset.from_dict(
        {"text": ["one", "two", "three"], "label": [0, 4, 2]}, features=features
    )
    ds.save_to_disk(str(tmp_path / "hf"))
    report = project.import_records(tmp_path / "hf")
    assert (report.fmt, report.n_inserted) == ("hf", 3)
    assert {t: f.value for t, f in finals(project).items()} == {
        "one": "neoplasms",
        "two": "general",
        "three": "nervous",
    }


LABELS_ = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")


# --------------------------------------------------------------------------- duplicates


def test_duplicates_within_file_and_against_earlier_import(
    project: Project, tmp_path: Path
) -> None:
    first = write_csv(tmp_path / "1.csv", ["text"], [["A  b"], ["c"], ["a B"], ["d"]])
    r1 = project.import_records(first, ImportOptions(batch_size=2))
    assert (r1.n_read, r1.n_inserted, r1.n_duplicates) == (4, 3, 1)  # "a B" == "A  b"
    second = write_csv(tmp_path / "2.csv", ["text"], [["C"], ["e"], ["e "], ["d"]])
    r2 = project.import_records(second, ImportOptions(batch_size=3))
    assert (r2.n_read, r2.n_inserted, r2.n_duplicates) == (4, 1, 3)
    assert [r.fields["text"] for r in records(project)] == ["A  b", "c", "d", "e"]
    with project.store.read() as tx:
        assert [i["n_duplicates"] for i in tx.list_imports()] == [1, 3]


# --------------------------------------------------------------------------- labels


def test_label_map_and_code_base(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv", ["text", "y"], [["t0", "0"], ["t4", "4"], ["tc", "cancer"]]
    )
    opts = ImportOptions(label_field="y", code_base=0, label_map={"cancer": "neoplasms"})
    project.import_records(path, opts)
    assert {t: f.value for t, f in finals(project).items()} == {
        "t0": "neoplasms",
        "t4": "general",
        "tc": "neoplasms",
    }


def test_labels_as_response_uses_label_user_and_latest_guidelines(
    project: Project, tmp_path: Path
) -> None:
    project.set_guidelines("v1")
    version = project.set_guidelines("v2")
    path = write_csv(tmp_path / "r.csv", ["text", "label"], [["x", "2"], ["y", ""]])
    report = project.import_records(
        path, ImportOptions(labels_as=LabelsAs.RESPONSE, label_user="dr_who")
    )
    assert (report.n_inserted, report.n_labels) == (2, 1)
    with project.store.read() as tx:
        ids = [r.id for b in tx.iter_records() for r in b]
        (resp,) = tx.responses_for(ids)
        assert tx.final_labels_for(ids) == []
    assert (resp.user, resp.values, resp.status) == ("dr_who", {"label": "digestive"}, "submitted")
    assert resp.guideline_version == version == 2
    assert project.status()["records"]["annotated"] == 1


def test_labels_as_suggestion(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "s.csv", ["text", "label"], [["x", "nervous"]])
    project.import_records(path, ImportOptions(labels_as=LabelsAs.SUGGESTION))
    with project.store.read() as tx:
        ids = [r.id for b in tx.iter_records() for r in b]
        (sug,) = tx.suggestions_for(ids)
        assert tx.final_labels_for(ids) == []
    assert (sug.value, sug.agent, sug.kind) == ("nervous", "import:s.csv", SuggestionKind.IMPORT)
    assert project.status()["suggestions"] == {"import": 1}


def test_multilabel_and_ner_projects(make_project: Callable[..., Project], tmp_path: Path) -> None:
    ml = make_project("multilabel", ["a", "b", "c"])
    path = write_csv(tmp_path / "ml.csv", ["text", "labels"], [["x", "c;a"], ["y", '["b"]']])
    ml.import_records(path)
    with ml.store.read() as tx:
        values = sorted(f.value for f in tx.final_labels_for([1, 2]))
    assert values == [["a", "c"], ["b"]]
    ner = make_project("ner", ["DRUG"])
    jl = tmp_path / "ner.jsonl"
    jl.write_text(
        json.dumps({"text": "take aspirin", "spans": [{"start": 5, "end": 12, "label": "DRUG"}]})
        + "\n",
        encoding="utf-8",
    )
    ner.import_records(jl)
    with ner.store.read() as tx:
        (f,) = tx.final_labels_for([1])
    assert f.value == [{"start": 5, "end": 12, "label": "DRUG"}]


# --------------------------------------------------------------------------- errors


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, ImportOptions, int | None, str | None]]:
    """name -> (file, options, expected line, expected field)."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\nok,1\ncaf\xe9,2\n".encode("latin-1"))
    malformed = tmp_path / "bad.jsonl"
    malformed.write_text('{"text": "ok"}\n{"text": "x",}\n', encoding="utf-8")
    missing_text = tmp_path / "missing.jsonl"
    missing_text.write_text('{"text": "ok"}\n{"body": "x"}\n', encoding="utf-8")
    null_text = tmp_path / "null.jsonl"
    null_text.write_text('{"text": "ok"}\n{"text": null}\n', encoding="utf-8")
    bad_label = write_csv(tmp_path / "label.csv", ["text", "y"], [["ok", "1"], ["x", "oncology"]])
    no_col = write_csv(tmp_path / "nocol.csv", ["body"], [["x"]])
    return {
        "latin1-as-utf8": (latin, ImportOptions(), 3, None),
        "malformed-json": (malformed, ImportOptions(), 2, None),
        "missing-text": (missing_text, ImportOptions(), 2, "text"),
        "null-text": (null_text, ImportOptions(), 2, "text"),
        "label-not-in-task": (bad_label, ImportOptions(label_field="y"), 3, "y"),
        "no-such-column": (no_col, ImportOptions(text_field="abstract"), 2, "abstract"),
        "missing-file": (tmp_path / "nope.csv", ImportOptions(), None, None),
    }


@pytest.mark.parametrize(
    "case",
    [
        "latin1-as-utf8",
        "malformed-json",
        "missing-text",
        "null-text",
        "label-not-in-task",
        "no-such-column",
        "missing-file",
    ],
)
def test_bad_input_raises_and_leaves_store_unchanged(
    project: Project, tmp_path: Path, snapshot: Snapshot, case: str
) -> None:
    seed = write_csv(tmp_path / "seed.csv", ["text", "label"], [["seed row", "1"]])
    project.import_records(seed)
    before = snapshot(project)
    path, options, line, field = _bad_inputs(tmp_path)[case]
    with pytest.raises(InputError) as err:
        project.import_records(path, options)
    assert err.value.file == str(path.resolve())
    assert (err.value.line, err.value.field) == (line, field)
    after = snapshot(project)
    assert after == before
    assert after["status"]["records"]["total"] == 1
    assert after["status"]["imports"] == 1


def test_bad_span_in_ner_project_rolls_back(
    make_project: Callable[..., Project], tmp_path: Path, snapshot: Snapshot
) -> None:
    ner = make_project("ner", ["DRUG"])
    path = tmp_path / "ner.jsonl"
    good = {"text": "aspirin", "spans": [{"start": 0, "end": 7, "label": "DRUG"}]}
    bad = {"text": "ibuprofen", "spans": [{"start": 3, "end": 1, "label": "DRUG"}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    before = snapshot(ner)
    with pytest.raises(InputError) as err:
        ner.import_records(path)
    assert (err.value.line, err.value.field) == (2, "spans")
    assert snapshot(ner) == before


def test_unknown_format_is_a_registry_error(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    path = write_csv(tmp_path / "a.csv", ["text"], [["x"]])
    before = snapshot(project)
    with pytest.raises(RegistryError, match="unknown import format 'xlsx'"):
        project.import_records(path, ImportOptions(fmt="xlsx"))
    odd = tmp_path / "a.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(RegistryError, match="cannot tell the format"):
        project.import_records(odd)
    assert snapshot(project) == before


def test_unreadable_input_and_unknown_encoding(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    before = snapshot(project)
    with pytest.raises(InputError, match="cannot read it") as err:
        project.import_records(folder, ImportOptions(fmt="csv"))
    assert err.value.file == str(folder.resolve())
    path = write_csv(tmp_path / "a.csv", ["text"], [["x"]])
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        project.import_records(path, ImportOptions(encoding="klingon"))
    assert snapshot(project) == before


def test_error_in_a_late_batch_rolls_back_earlier_batches(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    rows = [[f"row {i}", "1"] for i in range(9)] + [["bad", "99"]]
    path = write_csv(tmp_path / "late.csv", ["text", "label"], rows)
    before = snapshot(project)
    with pytest.raises(InputError) as err:
        project.import_records(path, ImportOptions(batch_size=2))
    assert (err.value.line, err.value.field) == (11, "label")
    assert snapshot(project) == before
    assert before["status"]["records"]["total"] == 0


# --------------------------------------------------------------------------- skip_invalid


def test_skip_invalid_writes_rejected_rows(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"text": "good one", "label": "general"}\n'
        '{"text": "bad label", "label": "oncology"}\n'
        "{not json}\n"
        '{"body": "no text"}\n'
        '{"text": "good two", "label": 2}\n',
        encoding="utf-8",
    )
    rejected = tmp_path / "out" / "rejected.jsonl"
    report = project.import_records(path, ImportOptions(skip_invalid=rejected))
    assert (report.n_read, report.n_inserted, report.n_rejected) == (5, 2, 3)
    assert report.rejected_path == rejected
    lines = [json.loads(x) for x in rejected.read_text(encoding="utf-8").splitlines()]
    assert [(x["line"], x["field"]) for x in lines] == [(2, "label"), (3, None), (4, "text")]
    assert lines[0]["row"] == {"text": "bad label", "label": "oncology"}
    assert lines[1]["row"] == "{not json}"
    assert "malformed JSON" in lines[1]["error"]
    assert "oncology" in lines[0]["error"]
    with project.store.read() as tx:
        assert tx.list_imports()[0]["n_rejected"] == 3
    assert sorted(finals(project)) == ["good one", "good two"]


def test_skip_invalid_with_nothing_to_reject(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ok.csv", ["text"], [["fine"]])
    rejected = tmp_path / "rejected.jsonl"
    rejected.write_text("stale\n", encoding="utf-8")
    report = project.import_records(path, ImportOptions(skip_invalid=rejected))
    assert (report.n_rejected, report.rejected_path) == (0, None)
    assert rejected.read_text(encoding="utf-8") == ""


# --------------------------------------------------------------------------- progress


def test_progress_reports_bytes_per_batch(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["text"], [[f"r{i}"] for i in range(10)])
    rec = Recorder()
    project.import_records(path, ImportOptions(batch_size=4), progress=rec)
    size = path.stat().st_size
    assert rec.events[0] == ("start", size)
    assert rec.events[-1] == ("finish", None)
    advances = [n for kind, n in rec.events if kind == "advance"]
    assert sum(advances) == size
    assert len(advances) == 3  # two full batches of 4, then the rest


def test_progress_finishes_on_error(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["text", "label"], [["x", "oops"]])
    rec = Recorder()
    with pytest.raises(InputError):
        project.import_records(path, progress=rec)
    assert rec.events[-1] == ("finish", None)


# --------------------------------------------------------------------------- both stores


def test_import_file_on_each_backend(store: Store, tmp_path: Path) -> None:
    task = Task.model_validate(
        {
            "name": "t",
            "fields": [{"name": "text"}],
            "questions": [{"name": "label", "kind": "label", "labels": ["a", "b"]}],
        }
    )
    path = write_csv(
        tmp_path / "x.csv", ["text", "label"], [["one", "a"], ["two", "2"], ["ONE", "b"]]
    )
    report = import_file(store, task, path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    assert (report.n_inserted, report.n_duplicates, report.n_labels) == (2, 1, 2)
    with store.read() as tx:
        ids = [r.id for b in tx.iter_records() for r in b]
        resps = tx.responses_for(ids)
    assert sorted(r.values["label"] for r in resps) == ["a", "b"]
    assert {r.status for r in resps} == {ResponseStatus.SUBMITTED}


# --------------------------------------------------------------------------- real data


def test_medical_abstracts_csv(project: Project) -> None:
    if not MEDICAL.is_file():
        skip_or_fail(f"{MEDICAL} is absent (see shared/data/README.md)")
    report = project.import_records(
        MEDICAL, ImportOptions(text_field="medical_abstract", label_field="condition_label")
    )
    # 2,888 rows, of which 118 repeat an earlier abstract (filed under another class)
    assert (report.n_read, report.n_inserted, report.n_duplicates, report.n_rejected) == (
        2888,
        2770,
        118,
        0,
    )
    status = project.status()
    assert status["records"] == {"total": 2770, "labeled": 2770, "annotated": 0, "pending": 0}
    assert status["labels"]["label"] == {
        "neoplasms": 616,
        "digestive": 287,
        "nervous": 366,
        "cardiovascular": 589,
        "general": 912,
    }
    first = records(project)[0]
    assert first.fields["text"].startswith("Obstructive sleep apnea following topical")
    assert first.source_row == 2
    assert first.metadata == {}


def test_labels_of_skipped_duplicates_are_counted(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "dup.csv",
        ["text", "code"],
        [["Same abstract.", "1"], ["same  ABSTRACT.", "2"], ["Other.", "3"], ["other.", ""]],
    )
    report = project.import_records(path, ImportOptions(label_field="code", batch_size=3))
    assert (report.n_inserted, report.n_duplicates, report.n_duplicate_labels) == (2, 2, 1)
