"""Label Studio, Prodigy and Argilla exports: fields, annotators, predictions, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from goldsmith.errors import InputError
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.project import Project
from goldsmith.schema import Provenance, ResponseStatus, SuggestionKind

Snapshot = Callable[[Project], dict[str, Any]]


def dump(path: Path, data: Any, *, lines: bool = False) -> Path:
    if lines:
        path.write_text("".join(json.dumps(x) + "\n" for x in data), encoding="utf-8")
    else:
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def state(project: Project) -> dict[str, Any]:
    """Records by text with their final labels, responses and suggestions."""
    with project.store.read() as tx:
        recs = {r.id: r for b in tx.iter_records() for r in b}
        ids = list(recs)
        out: dict[str, Any] = {
            r.fields["text"]: {
                "id": r.external_id,
                "meta": r.metadata,
                "final": {},
                "resp": {},
                "sugg": [],
            }
            for r in recs.values()
        }
        for f in tx.final_labels_for(ids):
            out[recs[f.record_id].fields["text"]]["final"][f.question] = (f.value, f.provenance)
        for r in tx.responses_for(ids):
            out[recs[r.record_id].fields["text"]]["resp"][r.user] = (r.values, r.status)
        for s in tx.suggestions_for(ids):
            out[recs[s.record_id].fields["text"]]["sugg"].append(
                (s.question, s.value, s.agent, s.score, s.kind)
            )
    return out


# --------------------------------------------------------------------------- Label Studio


def ls_choice(label: str) -> dict[str, Any]:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }


def ls_export(tmp_path: Path) -> Path:
    return dump(
        tmp_path / "ls.json",
        [
            {
                "id": 11,
                "data": {"text": "Colon tumour.", "source": "pubmed"},
                "annotations": [
                    {"completed_by": 3, "result": [ls_choice("neoplasms")], "was_cancelled": False},
                    {
                        "completed_by": {"id": 4, "email": "ann@lab.org"},
                        "result": [ls_choice("general")],
                        "ground_truth": True,
                    },
                ],
                "predictions": [
                    {"model_version": "clf-v2", "score": 0.75, "result": [ls_choice("digestive")]}
                ],
            },
            {
                "id": 12,
                "data": {"text": "Migraine."},
                "annotations": [{"completed_by": 3, "result": [], "was_cancelled": True}],
                "predictions": [],
            },
        ],
    )


def test_label_studio_as_responses(project: Project, tmp_path: Path) -> None:
    path = ls_export(tmp_path)
    report = project.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    assert (report.fmt, report.n_inserted) == ("label-studio", 2)
    got = state(project)
    colon = got["Colon tumour."]
    assert colon["id"] == "11"
    assert colon["meta"] == {"source": "pubmed"}
    assert colon["resp"] == {
        "3": ({"label": "neoplasms"}, ResponseStatus.SUBMITTED),
        "ann@lab.org": ({"label": "general"}, ResponseStatus.SUBMITTED),
    }
    assert colon["sugg"] == [("label", "digestive", "clf-v2", 0.75, SuggestionKind.IMPORT)]
    # a cancelled annotation with no result: a discarded response (a skip) with no answer
    assert got["Migraine."]["resp"] == {"3": ({}, ResponseStatus.DISCARDED)}


def test_label_studio_as_gold_prefers_ground_truth(project: Project, tmp_path: Path) -> None:
    project.import_records(ls_export(tmp_path))
    colon = state(project)["Colon tumour."]
    assert colon["final"] == {"label": ("general", Provenance.GOLD)}
    assert colon["resp"] == {}


def test_label_studio_meta_from_goldsmith_export(project: Project, tmp_path: Path) -> None:
    task = {
        "data": {"text": "Angina."},
        "meta": {
            "year": 2003,
            "record_id": 41,
            "id": "pm-1",
            "provenance": "gold",
            "confidence": 1,
        },
        "annotations": [{"result": [ls_choice("cardiovascular")], "ground_truth": True}],
    }
    project.import_records(
        dump(tmp_path / "export.json", [task]), ImportOptions(fmt="label-studio")
    )
    got = state(project)["Angina."]
    assert (got["id"], got["meta"]) == ("pm-1", {"year": 2003})
    assert got["final"] == {"label": ("cardiovascular", Provenance.GOLD)}


def test_label_studio_ner_spans(make_project: Callable[..., Project], tmp_path: Path) -> None:
    ner = make_project("ner", ["DRUG", "DOSE"])
    result = [
        {
            "type": "labels",
            "from_name": "ents",
            "value": {"start": 5, "end": 12, "labels": ["DRUG"]},
        },
        {
            "type": "labels",
            "from_name": "ents",
            "value": {"start": 13, "end": 17, "labels": ["DOSE"]},
        },
    ]
    path = dump(
        tmp_path / "ner.json",
        [
            {
                "id": 1,
                "data": {"text": "take aspirin 10mg"},
                "annotations": [{"completed_by": 1, "result": result}],
            }
        ],
    )
    ner.import_records(path, ImportOptions(fmt="label-studio"))
    assert state(ner)["take aspirin 10mg"]["final"]["spans"][0] == [
        {"start": 5, "end": 12, "label": "DRUG"},
        {"start": 13, "end": 17, "label": "DOSE"},
    ]


def test_label_studio_bad_label_names_line_and_field(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    path = dump(
        tmp_path / "bad.json",
        [
            {"id": 1, "data": {"text": "ok"}, "annotations": []},
            {
                "id": 2,
                "data": {"text": "x"},
                "annotations": [{"completed_by": 1, "result": [ls_choice("oncology")]}],
            },
        ],
    )
    before = snapshot(project)
    with pytest.raises(InputError) as err:
        project.import_records(path)
    assert (err.value.file, err.value.field) == (str(path.resolve()), "sentiment")
    assert err.value.line == 9  # indent=1 JSON: the second task opens on line 9
    assert snapshot(project) == before


# --------------------------------------------------------------------------- Prodigy


def test_prodigy_textcat_choice_and_reject(project: Project, tmp_path: Path) -> None:
    path = dump(
        tmp_path / "prodigy.jsonl",
        [
            {
                "text": "Heart attack.",
                "label": "cardiovascular",
                "answer": "accept",
                "_annotator_id": "db-alice",
                "_input_hash": 1,
                "meta": {"src": "a"},
            },
            {
                "text": "Gut flora.",
                "options": [{"id": "digestive", "text": "Digestive"}],
                "accept": ["digestive"],
                "answer": "accept",
                "_session_id": "db-bob",
                "_input_hash": 2,
            },
            {"text": "Rejected one.", "label": "general", "answer": "reject", "_input_hash": 3},
            {"text": "Unannotated.", "label": "nervous", "_input_hash": 4},
        ],
        lines=True,
    )
    report = project.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    assert (report.fmt, report.n_inserted, report.n_labels) == ("prodigy", 4, 3)
    got = state(project)
    assert got["Heart attack."]["resp"] == {
        "db-alice": ({"label": "cardiovascular"}, ResponseStatus.SUBMITTED)
    }
    assert got["Heart attack."]["meta"] == {"src": "a"}
    assert got["Gut flora."]["resp"] == {
        "db-bob": ({"label": "digestive"}, ResponseStatus.SUBMITTED)
    }
    assert got["Rejected one."]["resp"] == {} and got["Rejected one."]["sugg"] == []
    assert got["Unannotated."]["sugg"] == [
        ("label", "nervous", "import:prodigy.jsonl", None, SuggestionKind.IMPORT)
    ]


def test_prodigy_ner_spans_as_gold(make_project: Callable[..., Project], tmp_path: Path) -> None:
    ner = make_project("ner", ["DRUG"])
    path = dump(
        tmp_path / "ner.jsonl",
        [
            {
                "text": "give aspirin",
                "tokens": [{"text": "give", "start": 0, "end": 4, "id": 0}],
                "spans": [
                    {"start": 5, "end": 12, "label": "DRUG", "token_start": 1, "token_end": 1}
                ],
                "answer": "accept",
                "_annotator_id": "x",
            }
        ],
        lines=True,
    )
    ner.import_records(path)
    got = state(ner)["give aspirin"]
    assert got["final"] == {"spans": ([{"start": 5, "end": 12, "label": "DRUG"}], Provenance.GOLD)}
    assert got["meta"] == {}


# --------------------------------------------------------------------------- Argilla


def argilla_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": "r1",
            "status": "completed",
            "_server_id": "8f3c",
            "text": "Stroke outcome.",
            "year": 2001,
            "label.responses": ["nervous", "general"],
            "label.responses.users": ["u-1", "u-2"],
            "label.responses.status": ["submitted", "draft"],
            "label.suggestion": "nervous",
            "label.suggestion.score": 0.9,
            "label.suggestion.agent": "bert-v1",
            "comment.responses": ["needs review"],
            "comment.responses.users": ["u-1"],
            "comment.responses.status": ["submitted"],
        },
        {
            "id": "r2",
            "status": "pending",
            "_server_id": "9a1d",
            "text": "Liver enzymes.",
            "year": 2002,
            "label.responses": None,
            "label.responses.users": None,
            "label.responses.status": None,
            "label.suggestion": "digestive",
            "label.suggestion.score": None,
            "label.suggestion.agent": None,
            "comment.responses": None,
            "comment.responses.users": None,
            "comment.responses.status": None,
        },
    ]


def check_argilla(project: Project, fmt: str) -> None:
    got = state(project)
    stroke = got["Stroke outcome."]
    assert stroke["id"] == "r1"
    assert stroke["meta"] == {"status": "completed", "_server_id": "8f3c", "year": 2001}
    assert stroke["resp"] == {
        "u-1": ({"label": "nervous"}, ResponseStatus.SUBMITTED),
        "u-2": ({"label": "general"}, ResponseStatus.DRAFT),
    }
    assert stroke["sugg"] == [("label", "nervous", "bert-v1", 0.9, SuggestionKind.IMPORT)]
    liver = got["Liver enzymes."]
    assert liver["resp"] == {}
    assert liver["sugg"] == [
        ("label", "digestive", f"import:argilla.{fmt}", None, SuggestionKind.IMPORT)
    ]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_argilla_flat_export(project: Project, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"argilla.{fmt}"
    if fmt == "jsonl":
        dump(path, argilla_rows(), lines=True)
    else:
        pq.write_table(pa.Table.from_pylist(argilla_rows()), path)
    report = project.import_records(path, ImportOptions(labels_as=LabelsAs.RESPONSE))
    assert (report.fmt, report.n_inserted) == ("argilla", 2)
    check_argilla(project, fmt)


def test_argilla_nested_json_as_gold(project: Project, tmp_path: Path) -> None:
    path = dump(
        tmp_path / "argilla.json",
        [
            {
                "id": "n1",
                "_server_id": "s1",
                "fields": {"text": "Arrhythmia."},
                "metadata": {"ward": "B"},
                "responses": {
                    "sentiment": [
                        {"value": "cardiovascular", "user_id": "u-9", "status": "submitted"}
                    ]
                },
                "suggestions": {"sentiment": {"value": "nervous", "score": 0.2, "agent": "m"}},
                "vectors": {},
            }
        ],
    )
    report = project.import_records(path)
    assert report.fmt == "argilla"
    got = state(project)["Arrhythmia."]
    assert got["id"] == "n1"
    assert got["meta"] == {"_server_id": "s1", "ward": "B"}
    # one file question not named like the task's: it fills the task's only label question
    assert got["final"] == {"label": ("cardiovascular", Provenance.GOLD)}
    assert got["sugg"] == [("label", "nervous", "m", 0.2, SuggestionKind.IMPORT)]


def test_argilla_bad_response_names_the_column(
    project: Project, tmp_path: Path, snapshot: Snapshot
) -> None:
    rows = argilla_rows()
    rows[1]["label.responses"] = ["oncology"]
    rows[1]["label.responses.users"] = ["u-3"]
    path = dump(tmp_path / "argilla.jsonl", rows, lines=True)
    before = snapshot(project)
    with pytest.raises(InputError) as err:
        project.import_records(path)
    assert (err.value.line, err.value.field) == (2, "label.responses")
    assert snapshot(project) == before
