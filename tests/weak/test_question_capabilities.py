"""Which questions weak supervision takes is asked of the kind (``one_label``,
``many_labels``, ``marks_spans``), not its name: a new kind is refused with a clear message
until it declares what it is."""

from __future__ import annotations

import pytest

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import choice, span_choice
from goldsmith.quality.collect import label_question as consensus_question
from goldsmith.schema import (
    QUESTION_KINDS,
    FieldSpec,
    LabelQuestion,
    MultiLabelQuestion,
    Question,
    RatingQuestion,
    SpanMultiLabelQuestion,
    SpansQuestion,
    Task,
    TextQuestion,
)
from goldsmith.weak.lf import keyword_lf
from goldsmith.weak.run import label_question, weak_question
from goldsmith.weak.span_lfs import gazetteer_lf

LABELS = ("POS", "NEG")
QUESTIONS: dict[str, Question] = {
    "label": LabelQuestion(name="label", labels=LABELS),
    "multilabel": MultiLabelQuestion(name="multilabel", labels=LABELS),
    "spans": SpansQuestion(name="spans", labels=LABELS),
    "span_multilabel": SpanMultiLabelQuestion(name="span_multilabel", labels=LABELS),
    "text": TextQuestion(name="text"),
    "rating": RatingQuestion(name="rating"),
}
TASK = Task(name="t", fields=(FieldSpec(name="text"),), questions=tuple(QUESTIONS.values()))


def test_capabilities_of_each_kind() -> None:
    table = {
        name: (cls.one_label, cls.many_labels, cls.marks_spans)
        for name, cls in QUESTION_KINDS.items()
    }
    assert table == {
        "label": (True, False, False),
        "multilabel": (False, True, False),
        "spans": (True, False, True),
        "span_multilabel": (False, True, True),
        "text": (False, False, False),
        "rating": (False, False, False),
        "preference": (False, False, False),
    }
    record_one = {n for n, q in QUESTIONS.items() if choice(q)}
    record_any = {n for n, q in QUESTIONS.items() if choice(q, many=None)}
    spans_one = {n for n, q in QUESTIONS.items() if span_choice(q)}
    spans_any = {n for n, q in QUESTIONS.items() if span_choice(q, many=None)}
    assert record_one == {"label"}
    assert record_any == {"label", "multilabel"}
    assert spans_one == {"spans"}
    assert spans_any == {"spans", "span_multilabel"}


@pytest.mark.parametrize("name", ["label", "multilabel", "spans"])
def test_weak_supervision_takes_label_multilabel_and_spans(name: str) -> None:
    assert weak_question(TASK, name) is QUESTIONS[name]


@pytest.mark.parametrize("name", ["span_multilabel", "text", "rating"])
def test_weak_supervision_refuses_the_others_naming_them(name: str) -> None:
    with pytest.raises(SchemaError, match=f"{name!r} is {name!r}"):
        weak_question(TASK, name)


def test_lf_kind_must_fit_the_question() -> None:
    votes = keyword_lf("POS", ["good"])
    tags = gazetteer_lf("POS", ["good"])
    assert weak_question(TASK, "spans", [tags]) is QUESTIONS["spans"]
    with pytest.raises(SchemaError, match="is a spans question: use regex_span_lf"):
        weak_question(TASK, "spans", [votes])
    with pytest.raises(SchemaError, match="emits spans, for a spans question"):
        weak_question(TASK, "multilabel", [tags])


@pytest.mark.parametrize("name", ["multilabel", "spans", "span_multilabel", "text"])
def test_label_models_and_consensus_need_one_label_per_record(name: str) -> None:
    with pytest.raises(SchemaError, match="needs a single-label question"):
        label_question(TASK, name)
    with pytest.raises(SchemaError, match="consensus, annotator scores"):
        consensus_question(TASK, name)
    assert label_question(TASK, "label") is consensus_question(TASK, "label")
