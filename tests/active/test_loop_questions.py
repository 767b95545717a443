"""The model in the loop takes the questions whose value is a choice of labels for the whole
record (the kind's ``one_label`` / ``many_labels``, not spans), and reads their targets."""

from __future__ import annotations

import pytest

from goldsmith.errors import SchemaError
from goldsmith.labels import loop_question, target_array
from goldsmith.schema import (
    FieldSpec,
    LabelQuestion,
    MultiLabelQuestion,
    PreferenceQuestion,
    SpanMultiLabelQuestion,
    SpansQuestion,
    Task,
)

LABELS = ("a", "b", "c")
TASK = Task(
    name="t",
    fields=(FieldSpec(name="text"), FieldSpec(name="candidates")),
    questions=(
        LabelQuestion(name="one", labels=LABELS),
        MultiLabelQuestion(name="many", labels=LABELS),
        SpansQuestion(name="ner", labels=LABELS),
        SpanMultiLabelQuestion(name="roles", labels=LABELS),
        PreferenceQuestion(name="best"),
    ),
)


def test_loop_takes_label_and_multilabel_questions() -> None:
    one, many = loop_question(TASK, "one"), loop_question(TASK, "many")
    assert (one.many_labels, many.many_labels) == (False, True)
    assert loop_question(TASK, None) is one
    assert target_array([2, 0], len(one.labels), one.many_labels).tolist() == [2, 0]
    Y = target_array([{0, 2}, set()], len(many.labels), many.many_labels)
    assert Y.tolist() == [[1, 0, 1], [0, 0, 0]]


@pytest.mark.parametrize(
    ("name", "kind"), [("ner", "spans"), ("roles", "span_multilabel"), ("best", "preference")]
)
def test_loop_refuses_other_kinds_naming_them(name: str, kind: str) -> None:
    with pytest.raises(SchemaError, match=f"{name!r} is a {kind} question; the model in the loop"):
        loop_question(TASK, name)
