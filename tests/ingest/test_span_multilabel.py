"""``span_multilabel`` answers from JSONL (the value as it is, checked by the kind) and from
Label Studio (a ``labels`` result with several labels, or several results over one region)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from goldsmith.errors import InputError
from goldsmith.ingest.options import ImportOptions
from goldsmith.ingest.pipeline import import_file, read_items
from goldsmith.schema import FieldSpec, SpanMultiLabelQuestion, SpansQuestion, Task
from goldsmith.store import Store

LABELS = ("finding", "negated", "historical")
TEXT = "No fever, old cough."
TASK = Task(
    name="notes",
    fields=(FieldSpec(name="text"),),
    questions=(SpanMultiLabelQuestion(name="mentions", labels=LABELS),),
)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def ls_region(start: int, end: int, *labels: str, name: str = "mentions") -> dict[str, Any]:
    return {
        "from_name": name,
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": list(labels)},
    }


def test_jsonl_value_is_read_as_is_and_made_canonical(tmp_path: Path) -> None:
    raw = [
        {"start": 14, "end": 19, "labels": ["historical", "finding"]},
        {"start": 3, "end": 8, "labels": ["negated", "finding", "negated"]},
    ]
    path = write_jsonl(tmp_path / "notes.jsonl", [{"text": TEXT, "mentions": raw}])
    (item,) = read_items(TASK, path, ImportOptions())
    assert [(lab.question, lab.value) for lab in item.labels] == [
        (
            "mentions",
            [
                {"start": 3, "end": 8, "labels": ["finding", "negated"]},
                {"start": 14, "end": 19, "labels": ["finding", "historical"]},
            ],
        )
    ]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([{"start": 3, "end": 80, "labels": ["finding"]}], "runs past the end of field 'text'"),
        ([{"start": 3, "end": 8, "labels": ["fever"]}], "label(s) ['fever'] not in"),
        ([{"start": 3, "end": 8, "label": "finding"}], "needs a non-empty list of labels"),
    ],
)
def test_jsonl_bad_values_name_file_line_and_field(
    tmp_path: Path, value: list[dict[str, Any]], words: str
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [{"text": TEXT, "mentions": value}])
    with pytest.raises(InputError, match=r"line 1.*mentions|mentions.*line 1") as err:
        read_items(TASK, path, ImportOptions())
    assert words in str(err.value)


def test_label_studio_regions_with_several_labels(tmp_path: Path) -> None:
    export = [
        {
            "id": 7,
            "data": {"text": TEXT},
            "annotations": [
                {
                    "completed_by": 3,
                    "result": [
                        ls_region(3, 8, "negated", "finding"),
                        ls_region(14, 19, "historical"),
                        ls_region(14, 19, "finding"),  # the same region again: labels join
                    ],
                }
            ],
        }
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        report = import_file(store, TASK, path, ImportOptions())
        assert (report.fmt, report.n_inserted) == ("label-studio", 1)
        with store.read() as tx:
            (final,) = tx.final_labels_for(list(tx.record_id_array().tolist()))
    finally:
        store.close()
    assert final.question == "mentions"
    assert final.value == [
        {"start": 3, "end": 8, "labels": ["finding", "negated"]},
        {"start": 14, "end": 19, "labels": ["finding", "historical"]},
    ]


def test_label_studio_labels_go_to_the_only_span_question_of_any_kind(tmp_path: Path) -> None:
    """A ``labels`` result under another name fills the task's one span question, whichever
    span kind it is; a spans task splits a region's labels into one span each."""
    export = [
        {
            "data": {"text": TEXT},
            "annotations": [{"result": [ls_region(3, 8, "finding", "negated", name="ner")]}],
        }
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    (item,) = read_items(TASK, path, ImportOptions())
    assert item.labels[0].value == [{"start": 3, "end": 8, "labels": ["finding", "negated"]}]
    spans_task = Task(
        name="ner",
        fields=(FieldSpec(name="text"),),
        questions=(SpansQuestion(name="entities", labels=LABELS),),
    )
    (item,) = read_items(spans_task, path, ImportOptions())
    assert item.labels[0].value == [
        {"start": 3, "end": 8, "label": "finding"},
        {"start": 3, "end": 8, "label": "negated"},
    ]


def test_label_studio_choices_for_the_span_question_are_refused_by_kind(tmp_path: Path) -> None:
    choices = {"from_name": "mentions", "type": "choices", "value": {"choices": ["finding"]}}
    export = [{"data": {"text": TEXT}, "annotations": [{"result": [choices]}]}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    with pytest.raises(
        InputError,
        match="is a span_multilabel question in the task, but the file "
        "gives it a label/multilabel answer",
    ):
        read_items(TASK, path, ImportOptions())
