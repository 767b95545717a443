"""Row mapping: fields, ids, metadata and label resolution (names, label_map, codes)."""

from __future__ import annotations

from typing import Any

import pytest

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.mapping import LabelResolver, RowMapper
from goldsmith.ingest.options import ImportOptions
from goldsmith.schema import (
    LabelQuestion,
    MultiLabelQuestion,
    RatingQuestion,
    SpansQuestion,
    Task,
)

LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")
Q = LabelQuestion(name="label", labels=LABELS)


def resolver(q: Any = Q, label_map: dict[str, str] | None = None, base: int = 1) -> LabelResolver:
    return LabelResolver(q, label_map=label_map or {}, code_base=base)


def task(**extra: Any) -> Task:
    data: dict[str, Any] = {
        "name": "t",
        "fields": [{"name": "text"}],
        "questions": [{"name": "label", "kind": "label", "labels": list(LABELS)}],
    }
    data.update(extra)
    return Task.model_validate(data)


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("nervous", "nervous"),
        (" nervous ", "nervous"),
        ("1", "neoplasms"),
        (5, "general"),
        (3.0, "nervous"),
        ("neo", "neoplasms"),  # label_map
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_label_names_map_and_codes(raw: Any, expected: str | None) -> None:
    assert resolver(label_map={"neo": "neoplasms"}).value(raw) == expected


def test_code_base_zero_and_out_of_range_codes() -> None:
    assert resolver(base=0).value("0") == "neoplasms"
    assert resolver(base=0).value(4) == "general"
    with pytest.raises(SchemaError, match=r"code 6 is outside 1\.\.5"):
        resolver().value("6")
    with pytest.raises(SchemaError, match="'cancer' is not one of"):
        resolver().value("cancer")


def test_label_map_wins_over_codes_and_must_target_a_label() -> None:
    assert resolver(label_map={"2": "general"}).value("2") == "general"
    with pytest.raises(SchemaError, match="not a label of question 'label'"):
        resolver(label_map={"x": "oncology"})


@pytest.mark.parametrize(
    "raw",
    [
        ["general", "neoplasms"],
        '["general", "neoplasms"]',
        "general, neoplasms",
        "general;neoplasms",
        "5;1",
    ],
)
def test_multilabel_forms(raw: Any) -> None:
    q = MultiLabelQuestion(name="labels", labels=LABELS)
    assert resolver(q).value(raw) == ["neoplasms", "general"]  # canonical: task order


def test_spans_from_json_and_list_with_label_map() -> None:
    q = SpansQuestion(name="spans", labels=("DRUG", "DOSE"))
    r = resolver(q, label_map={"MED": "DRUG"})
    assert r.value(
        '[{"start": 5, "end": 9, "label": "DOSE"}, {"start": 0, "end": 3, "label": "MED"}]'
    ) == [
        {"start": 0, "end": 3, "label": "DRUG"},
        {"start": 5, "end": 9, "label": "DOSE"},
    ]
    with pytest.raises(SchemaError, match="empty or negative"):
        r.value([{"start": 4, "end": 4, "label": "DRUG"}])
    with pytest.raises(SchemaError, match="malformed JSON"):
        r.value("[{start: 1}")


def test_rating_accepts_integral_floats() -> None:
    assert resolver(RatingQuestion(name="r")).value(4.0) == 4
    with pytest.raises(SchemaError, match="outside"):
        resolver(RatingQuestion(name="r")).value("9")


# --------------------------------------------------------------------------- rows


def test_row_mapper_text_field_id_metadata_and_label() -> None:
    m = RowMapper(task(), ImportOptions(text_field="abstract", label_field="code"), "f.csv")
    item = m(2, {"abstract": "Some text", "code": "2", "id": "A7", "year": "1990"})
    assert item.fields == {"text": "Some text"}
    assert item.external_id == "A7"
    assert item.metadata == {"year": "1990"}
    assert [(lab.question, lab.value) for lab in item.labels] == [("label", "digestive")]


def test_row_mapper_metadata_fields_and_auto_label_column() -> None:
    opts = ImportOptions(id_field="key", metadata_fields=("year",))
    m = RowMapper(task(), opts, "f.csv")
    item = m(2, {"text": "x", "label": "general", "key": 7.0, "year": 1990, "junk": "j"})
    assert item.external_id == "7"
    assert item.metadata == {"year": 1990}
    assert item.labels[0].value == "general"


def test_row_mapper_missing_and_null_text_name_line_and_field() -> None:
    m = RowMapper(task(), ImportOptions(text_field="abstract"), "f.csv")
    with pytest.raises(InputError) as err:
        m(2, {"body": "x"})
    assert (err.value.file, err.value.line, err.value.field) == ("f.csv", 2, "abstract")
    assert "no column 'abstract'" in str(err.value)
    for blank in ("", "  "):  # an empty text is refused, naming line and column
        with pytest.raises(InputError, match="the text is empty") as err:
            m(3, {"abstract": blank})
        assert (err.value.line, err.value.field) == (3, "abstract")
    assert m.fields(3, {"abstract": ""}) == {"text": ""}  # fields alone (add_records) keep it
    with pytest.raises(InputError) as err:
        m(9, {"abstract": None})
    assert (err.value.line, err.value.field) == (9, "abstract")
    assert "is null" in err.value.reason
    with pytest.raises(InputError, match="is missing") as err:
        m(10, {"other": "x"})
    assert (err.value.line, err.value.field) == (10, "abstract")


def test_goldsmith_export_columns_are_read_back() -> None:
    m = RowMapper(task(), ImportOptions(), "train.csv")
    row = {
        "id": "17",
        "external_id": "pm-9",
        "text": "t",
        "label": "nervous",
        "provenance": "gold",
        "confidence": "1.0",
        "metadata": '{"year": 1999, "src": "pubmed"}',
    }
    item = m(2, row)
    assert item.external_id == "pm-9"
    assert item.metadata == {"year": 1999, "src": "pubmed"}
    assert item.labels[0].value == "nervous"
    assert m(3, {**row, "external_id": ""}).external_id is None


def test_plain_id_column_is_the_external_id_and_others_stay_metadata() -> None:
    item = RowMapper(task(), ImportOptions(), "f.csv")(
        2, {"id": "a", "text": "t", "provenance": "web", "metadata": '{"x": 1}'}
    )
    assert item.external_id == "a"
    assert item.metadata == {"provenance": "web", "metadata": '{"x": 1}'}


def test_row_mapper_bad_label_names_the_label_column() -> None:
    m = RowMapper(task(), ImportOptions(label_field="y"), "f.csv")
    with pytest.raises(InputError) as err:
        m(4, {"text": "x", "y": "oncology"})
    assert (err.value.line, err.value.field) == (4, "y")


def test_chat_fields_from_list_or_json() -> None:
    t = Task.model_validate(
        {
            "name": "chat",
            "fields": [{"name": "messages", "kind": "chat"}],
            "questions": [{"name": "response", "kind": "text"}],
        }
    )
    m = RowMapper(t, ImportOptions(), "f.jsonl")
    chat = [{"role": "user", "content": "hi", "extra": 1}]
    assert m(1, {"messages": chat}).fields == {"messages": [{"role": "user", "content": "hi"}]}
    item = m(2, {"messages": '[{"role": "user", "content": "yo"}]', "response": "hey"})
    assert item.fields["messages"] == [{"role": "user", "content": "yo"}]
    assert item.labels[0].value == "hey"
    with pytest.raises(InputError, match="string role and content") as err:
        m(3, {"messages": [{"role": "user"}]})
    assert (err.value.line, err.value.field) == (3, "messages")


def test_preference_candidates_field_accepts_json_list() -> None:
    t = Task.model_validate(
        {
            "name": "pref",
            "fields": [{"name": "prompt"}, {"name": "candidates"}],
            "questions": [{"name": "preference", "kind": "preference"}],
        }
    )
    item = RowMapper(t, ImportOptions(), "f.csv")(
        2, {"prompt": "p", "candidates": '["a", "b"]', "preference": "[1, 0]"}
    )
    assert item.fields == {"prompt": "p", "candidates": ["a", "b"]}
    assert item.labels[0].value == [1, 0]


def test_span_past_end_of_text_is_rejected() -> None:
    t = Task.model_validate(
        {
            "name": "ner",
            "fields": [{"name": "text"}],
            "questions": [{"name": "spans", "kind": "spans", "labels": ["DRUG"]}],
        }
    )
    m = RowMapper(t, ImportOptions(), "f.jsonl")
    ok = m(1, {"text": "aspirin", "spans": [{"start": 0, "end": 7, "label": "DRUG"}]})
    assert ok.labels[0].value == [{"start": 0, "end": 7, "label": "DRUG"}]
    with pytest.raises(InputError, match="runs past the end") as err:
        m(2, {"text": "aspirin", "spans": [{"start": 0, "end": 8, "label": "DRUG"}]})
    assert (err.value.line, err.value.field) == (2, "spans")
