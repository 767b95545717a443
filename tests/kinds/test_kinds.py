"""Question kinds as objects: each kind's check, JSON schema and LLM round trip, and the
``span_multilabel`` kind end to end (LLM answer, few-shot rendering, exports, training rows).

Span offsets are code points; the texts carry astral characters (emoji, mathematical
letters) so that a byte or UTF-16 offset anywhere would show.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from goldsmith import FinalLabel, Project, Provenance, Record
from goldsmith.config import template_task, write_config
from goldsmith.errors import ExportError, SchemaError
from goldsmith.export.formats import EXPORTERS
from goldsmith.export.options import ExportOptions
from goldsmith.llm.prompt import build_request
from goldsmith.llm.structured import AnswerFormat
from goldsmith.schema import (
    QUESTION_KINDS,
    FieldSpec,
    LabelQuestion,
    MultiLabelQuestion,
    PreferenceQuestion,
    Question,
    RatingQuestion,
    Settings,
    SpanMultiLabelQuestion,
    SpansQuestion,
    Task,
    TextQuestion,
    content_hash,
)
from goldsmith.train.chat import sft_rows
from goldsmith.train.data import Example

TEXT = "😀 Ana saw 𝒳-rays in Zürich; no fever."  # astral characters before every span
FIELDS: dict[str, Any] = {"text": TEXT, "candidates": ["Hi 😀", "Hello 𝒳", "Hey"]}
FINDINGS = ("finding", "negated", "historical")


def at(piece: str) -> tuple[int, int]:
    """Code-point offsets of ``piece`` in ``TEXT``."""
    start = TEXT.index(piece)
    return start, start + len(piece)


XRAYS, FEVER, ANA, ZURICH = at("𝒳-rays"), at("fever"), at("Ana"), at("Zürich")

# (question, a raw value as an annotator or importer may give it, its canonical form)
CASES: list[tuple[Question, Any, Any]] = [
    (LabelQuestion(name="label", labels=("pos", "neg")), "neg", "neg"),
    (
        MultiLabelQuestion(name="tags", labels=("a", "b", "c")),
        ["c", "a", "c"],
        ["a", "c"],
    ),
    (
        SpansQuestion(name="ents", labels=("PER", "LOC")),
        [
            {"start": ZURICH[0], "end": ZURICH[1], "label": "LOC"},
            {"start": ANA[0], "end": ANA[1], "label": "PER"},
        ],
        [
            {"start": ANA[0], "end": ANA[1], "label": "PER"},
            {"start": ZURICH[0], "end": ZURICH[1], "label": "LOC"},
        ],
    ),
    (TextQuestion(name="note"), "Grüße 😀", "Grüße 😀"),
    (RatingQuestion(name="score", min=1, max=5), "4", 4),
    (PreferenceQuestion(name="rank"), [2, 0, 1], [2, 0, 1]),
    (
        SpanMultiLabelQuestion(name="findings", labels=FINDINGS),
        [
            {"start": FEVER[0], "end": FEVER[1], "labels": ["negated", "finding", "negated"]},
            {"start": XRAYS[0], "end": XRAYS[1], "labels": ["historical", "finding"]},
        ],
        [
            {"start": XRAYS[0], "end": XRAYS[1], "labels": ["finding", "historical"]},
            {"start": FEVER[0], "end": FEVER[1], "labels": ["finding", "negated"]},
        ],
    ),
]
BAD: dict[str, Any] = {
    "label": "maybe",
    "multilabel": ["a", "z"],
    "spans": [{"start": 3, "end": 3, "label": "PER"}],
    "text": 7,
    "rating": 9,
    "preference": [1, 1],
    "span_multilabel": [{"start": 0, "end": 2, "labels": ["finding", "cough"]}],
}


def ids(case: tuple[Question, Any, Any]) -> str:
    return case[0].kind


def test_every_kind_has_a_case() -> None:
    assert sorted(q.kind for q, _, _ in CASES) == sorted(QUESTION_KINDS)
    assert sorted(BAD) == sorted(QUESTION_KINDS)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_check_gives_the_canonical_value_and_keeps_it(case: tuple[Question, Any, Any]) -> None:
    q, raw, canonical = case
    assert q.check(raw) == canonical
    assert q.check(canonical) == canonical
    assert json.loads(json.dumps(canonical)) == canonical  # values are plain JSON


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_a_bad_value_is_refused_naming_the_question(case: tuple[Question, Any, Any]) -> None:
    q = case[0]
    with pytest.raises(SchemaError, match=q.name):
        q.check(BAD[q.kind])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_empty_value_is_valid_or_none(case: tuple[Question, Any, Any]) -> None:
    """Kinds whose answer may mark nothing say so with a valid value; the others give None."""
    q = case[0]
    empty = q.empty()
    assert empty == {"multilabel": [], "spans": [], "span_multilabel": []}.get(q.kind)
    if empty is not None:
        assert q.check(empty) == empty
        assert AnswerFormat((q,)).parse(json.dumps({q.name: empty}), FIELDS) == {q.name: empty}
    assert q.empty() is not empty or empty is None  # a fresh value: callers may extend it


def _strict(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object schema inside ``schema``."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for v in schema.values():
            yield from _strict(v)
    elif isinstance(schema, list):
        for v in schema:
            yield from _strict(v)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_json_schema_round_trips_the_value(case: tuple[Question, Any, Any]) -> None:
    """The value as an LLM would answer it fits the kind's schema and parses back to itself."""
    q, _, canonical = case
    fmt = AnswerFormat((q,))
    answer = {q.name: q.to_llm(canonical, FIELDS, lambda t: t)}
    jsonschema.validate(answer, fmt.schema)
    for obj in _strict(fmt.schema):  # the subset strict structured outputs accept
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    assert fmt.parse(json.dumps(answer, ensure_ascii=False), FIELDS) == {q.name: canonical}


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_schema_refuses_a_bad_value(case: tuple[Question, Any, Any]) -> None:
    q = case[0]
    bad = {"label": "maybe", "multilabel": ["z"], "text": 7, "rating": 9, "preference": ["x"]}
    bad |= {"spans": [{"start": 0}], "span_multilabel": [{"text": "Ana", "labels": ["x"]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({q.name: bad[q.kind]}, AnswerFormat((q,)).schema)
    with pytest.raises(SchemaError, match=q.name):
        AnswerFormat((q,)).parse(json.dumps({q.name: bad[q.kind]}), FIELDS)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_each_kind_words_its_question_for_the_llm(case: tuple[Question, Any, Any]) -> None:
    q = case[0]
    line = q.describe()
    assert line.startswith(f'- "{q.name}": ') and len(line) > len(q.name) + 8
    for label in getattr(q, "labels", ()):
        assert json.dumps(label) in line


# --------------------------------------------------------------------------- span_multilabel


SML = SpanMultiLabelQuestion(name="findings", labels=FINDINGS)


def test_span_multilabel_refuses_two_spans_over_the_same_text() -> None:
    twice = [
        {"start": FEVER[0], "end": FEVER[1], "labels": ["finding"]},
        {"start": FEVER[0], "end": FEVER[1], "labels": ["negated"]},
    ]
    with pytest.raises(SchemaError, match=r"findings: two spans cover .*one span with all"):
        SML.check(twice)


@pytest.mark.parametrize(
    "span",
    [
        {"start": 0, "end": 2, "labels": []},
        {"start": 0, "end": 2, "labels": "finding"},
        {"start": 0, "end": 2, "label": "finding"},
        {"start": 2, "end": 2, "labels": ["finding"]},
        {"start": "x", "end": 2, "labels": ["finding"]},
    ],
)
def test_span_multilabel_refuses_malformed_spans(span: dict[str, Any]) -> None:
    with pytest.raises(SchemaError, match="findings"):
        SML.check([span])


def test_span_multilabel_is_a_task_question_from_toml(tmp_path: Path) -> None:
    data = template_task("t", "classification", ["x"])
    data["questions"] = [{"name": "findings", "kind": "span_multilabel", "labels": FINDINGS}]
    write_config(tmp_path, data)
    with Project.open(tmp_path) as p:
        q = p.task.question("findings")
    assert isinstance(q, SpanMultiLabelQuestion) and q.widget == "span_labels"
    data["questions"][0]["labels"] = []
    with pytest.raises(Exception, match="at least one label"):
        write_config(tmp_path, data)


def test_span_multilabel_reads_a_structured_llm_answer() -> None:
    """A real answer: offsets miscounted (UTF-16 style), one mention's labels split over two
    spans, an empty span and one whose text is not in the record."""
    task = Task(
        name="t",
        fields=(FieldSpec(name="text"),),
        questions=(SML,),
        settings=Settings(redact_before_llm=False),
    )
    req = build_request(task, "Tag findings.", Record(id=1, fields={"text": TEXT}))
    system = req.messages[0]["content"]
    assert '- "findings": a list of spans of the field "text"' in system
    assert '"labels": every one of "finding", "negated", "historical"' in system
    items = req.response_format["json_schema"]["schema"]["properties"]["findings"]["items"]
    assert items["properties"]["labels"]["items"]["enum"] == list(FINDINGS)
    utf16 = len(TEXT[: FEVER[0]].encode("utf-16-le")) // 2  # what a model may count
    assert utf16 != FEVER[0]
    content = json.dumps(
        {
            "findings": [
                {"text": "fever", "start": utf16, "end": utf16 + 5, "labels": ["negated"]},
                {"text": "𝒳-rays", "start": XRAYS[0], "end": XRAYS[1], "labels": ["finding"]},
                {"text": "fever", "start": utf16, "end": utf16 + 5, "labels": ["finding"]},
                {"text": "Ana", "start": ANA[0], "end": ANA[1], "labels": []},
                {"text": "cough", "start": 0, "end": 5, "labels": ["finding"]},
            ]
        },
        ensure_ascii=False,
    )
    value = req.answer.parse(content, req.fields)["findings"]
    assert value == [
        {"start": XRAYS[0], "end": XRAYS[1], "labels": ["finding"]},
        {"start": FEVER[0], "end": FEVER[1], "labels": ["finding", "negated"]},
    ]
    assert [TEXT[s["start"] : s["end"]] for s in value] == ["𝒳-rays", "fever"]
    with pytest.raises(SchemaError, match="findings"):
        req.answer.parse(json.dumps({"findings": [{"text": "fever", "labels": ["x"]}]}))


def test_span_multilabel_few_shot_answers_follow_redaction() -> None:
    """An example's spans point into the redacted text that is sent, not the original."""
    task = Task(name="t", fields=(FieldSpec(name="text"),), questions=(SML,))
    example = Record(id=7, fields={"text": TEXT})
    value = [{"start": XRAYS[0], "end": XRAYS[1], "labels": ["finding", "historical"]}]

    def redact(text: str) -> str:
        return text.replace("Ana", "[NAME]")

    req = build_request(
        task,
        "",
        Record(id=8, fields={"text": "x"}),
        examples=[(example, {"findings": value})],
        redact=redact,
    )
    sent_text = req.messages[1]["content"].split("\n", 1)[1]
    (span,) = json.loads(req.messages[2]["content"])["findings"]
    assert span["labels"] == ["finding", "historical"] and span["text"] == "𝒳-rays"
    assert sent_text[span["start"] : span["end"]] == "𝒳-rays"
    assert span["start"] == XRAYS[0] + len("[NAME]") - len("Ana")


# --------------------------------------------------------------------------- exports


TEXTS = [TEXT, "No 😀 cough; 𝒳 history of asthma.", "Plain text, nothing found."]
VALUES: list[list[dict[str, Any]]] = [
    [
        {"start": XRAYS[0], "end": XRAYS[1], "labels": ["finding", "historical"]},
        {"start": FEVER[0], "end": FEVER[1], "labels": ["finding", "negated"]},
    ],
    [{"start": 5, "end": 10, "labels": ["finding", "negated"]}],
    [],
]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Project, list[int]]]:
    root = tmp_path / "clinic"
    root.mkdir()
    data = template_task("clinic", "classification", ["x"])
    data["questions"] = [{"name": "findings", "kind": "span_multilabel", "labels": FINDINGS}]
    write_config(root, data)
    with Project.open(root) as p:
        records = [
            Record(fields={"text": t}, content_hash=content_hash({"text": t})) for t in TEXTS
        ]
        with p.store.write() as tx:
            rids = tx.insert_records(records)
            tx.set_final_labels(
                FinalLabel(r, "findings", v, Provenance.HUMAN)
                for r, v in zip(rids, VALUES, strict=True)
            )
        yield p, rids


def _export(p: Project, fmt: str, out: Path) -> Path:
    report = p.export(ExportOptions(fmt=fmt, out=out))
    return report.files["train"]


def _with_text(text: str, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "text": text[s["start"] : s["end"]]} for s in spans]


def test_span_multilabel_exports_to_chat_jsonl(project: Any, tmp_path: Path) -> None:
    p, _ = project
    lines = _export(p, "openai-chat", tmp_path / "o").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 3
    system = rows[0]["messages"][0]["content"]
    assert system.startswith("Extract every mention of: finding, negated, historical, each")
    for row, text, value in zip(rows, TEXTS, VALUES, strict=True):
        user, answer = row["messages"][1]["content"], row["messages"][2]["content"]
        assert user == text
        assert json.loads(answer) == _with_text(text, value)
    assert "𝒳-rays" in lines[0]  # ensure_ascii=False: the text is written as it is


def test_span_multilabel_exports_the_value_as_is_to_csv(project: Any, tmp_path: Path) -> None:
    p, _ = project
    with _export(p, "csv", tmp_path / "c").open(encoding="utf-8", newline="") as f:
        cells = [json.loads(row["findings"]) for row in csv.DictReader(f)]
    assert cells == VALUES


def test_span_multilabel_exports_to_label_studio(project: Any, tmp_path: Path) -> None:
    p, rids = project
    tasks = json.loads(_export(p, "label-studio", tmp_path / "ls").read_text(encoding="utf-8"))
    assert [t["meta"]["record_id"] for t in tasks] == rids
    for task, text, value in zip(tasks, TEXTS, VALUES, strict=True):
        (annotation,) = task["annotations"]
        result = annotation["result"]
        assert [(r["from_name"], r["to_name"], r["type"]) for r in result] == [
            ("findings", "text", "labels")
        ] * len(value)
        # Label Studio counts UTF-16 code units
        u16 = [len(text[:i].encode("utf-16-le")) // 2 for i in range(len(text) + 1)]
        assert [r["value"] for r in result] == [
            {
                "start": u16[s["start"]],
                "end": u16[s["end"]],
                "text": text[s["start"] : s["end"]],
                "labels": s["labels"],
            }
            for s in value
        ]
    assert tasks[0]["annotations"][0]["result"][0]["value"]["text"] == "𝒳-rays"


@pytest.mark.parametrize("fmt", ["prodigy", "conll", "openai-dpo"])
def test_formats_without_the_capability_refuse_it(project: Any, tmp_path: Path, fmt: str) -> None:
    p, _ = project
    fitting = EXPORTERS.fitting(SML)
    assert fmt not in fitting and {"openai-chat", "label-studio", "csv"} <= set(fitting)
    with pytest.raises(ExportError, match=f"format {fmt!r} does not fit question 'findings'"):
        p.export(ExportOptions(fmt=fmt, out=tmp_path / fmt))


def test_span_multilabel_training_rows_carry_the_spans(project: Any) -> None:
    p, rids = project
    with p.store.read() as tx:
        records = tx.get_records(rids)
    examples = [
        Example(r, v, Provenance.HUMAN, 1.0, 1.0) for r, v in zip(records, VALUES, strict=True)
    ]
    rows = sft_rows(p.task, SML, examples)
    assert [json.loads(r["completion"][0]["content"]) for r in rows] == [
        _with_text(t, v) for t, v in zip(TEXTS, VALUES, strict=True)
    ]
    outside = [{"start": 0, "end": 99, "labels": ["finding"]}]
    bad = Example(records[2], outside, Provenance.HUMAN, 1.0, 1.0)
    with pytest.raises(ExportError, match="lies outside field 'text'"):
        sft_rows(p.task, SML, [bad])
