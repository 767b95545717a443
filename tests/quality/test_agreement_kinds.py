"""Agreement asks the question kind (its ``agreement`` and ``agreement_value``), not its name:
``span_multilabel`` is measured as spans, over one ``(start, end, label)`` unit per label."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from goldsmith.config import CONFIG_NAME
from goldsmith.errors import SchemaError
from goldsmith.project import Project
from goldsmith.quality.agreement import KINDS, agreement_report, reliability_matrix, value_table
from goldsmith.schema import (
    QUESTION_KINDS,
    RatingQuestion,
    ResponseStatus,
    Role,
    SpanMultiLabelQuestion,
    SpansQuestion,
    TextQuestion,
)

LABELS = ("finding", "negated", "historical")
Q = SpanMultiLabelQuestion(name="mentions", labels=LABELS)


def span(start: int, end: int, *labels: str) -> dict[str, Any]:
    return {"start": start, "end": end, "labels": list(labels)}


# three annotators; c did not answer item 2
TRIPLES = [
    (1, "a", [span(0, 4, "finding", "negated")]),
    (1, "b", [span(0, 4, "finding")]),
    (1, "c", [span(0, 4, "negated", "finding"), span(6, 9, "historical")]),
    (2, "a", []),
    (2, "b", [span(2, 5, "historical")]),
]


def test_every_kind_of_the_task_vocabulary_has_an_agreement_measure() -> None:
    assert set(KINDS) == set(QUESTION_KINDS) and "span_multilabel" in KINDS
    for name, cls in QUESTION_KINDS.items():
        report = agreement_report([], kind=name)
        assert report["kind"] == name
        assert report["overall"], f"{name} ({cls.agreement}) reports no metric"


def test_span_multilabel_agreement_counts_each_label_of_a_span() -> None:
    report = agreement_report(TRIPLES, kind="span_multilabel", labels=list(LABELS), n_boot=200)
    assert report["kind"] == "span_multilabel"
    assert report["metric"] == "exact_f1"
    assert (report["n_annotators"], report["n_items_compared"]) == (3, 2)
    # exact F1 pooled over annotator pairs and items: 2|A&B| / (|A|+|B|), per label unit
    # item 1: a-b 2/3, a-c 4/5, b-c 2/4; item 2: a-b 0/1
    assert report["overall"]["exact_f1"]["value"] == pytest.approx(8 / 13)
    per_label = {k: v["value"] for k, v in report["per_label"].items()}
    assert per_label == pytest.approx({"finding": 1.0, "negated": 0.5, "historical": 0.0})
    pairs = {(p["a"], p["b"]): p["value"] for p in report["per_pair"]}
    assert pairs == pytest.approx({("a", "b"): 2 / 4, ("a", "c"): 4 / 5, ("b", "c"): 2 / 4})
    low, high = report["overall"]["exact_f1"]["ci"]
    assert low <= 8 / 13 <= high


def test_span_multilabel_is_measured_as_its_single_label_units() -> None:
    flat = [
        (
            i,
            a,
            [
                {"start": s["start"], "end": s["end"], "label": lab}
                for s in v
                for lab in s["labels"]
            ],
        )
        for i, a, v in TRIPLES
    ]
    ours = agreement_report(TRIPLES, kind=Q, labels=list(LABELS), n_boot=50)
    spans = agreement_report(flat, kind="spans", labels=list(LABELS), n_boot=50)
    assert ours["overall"] == spans["overall"]
    assert ours["per_label"] == spans["per_label"]


def test_a_kind_may_be_given_by_name_question_or_class() -> None:
    by_name = agreement_report(TRIPLES, kind="span_multilabel", n_boot=20)
    assert agreement_report(TRIPLES, kind=Q, n_boot=20) == by_name
    assert agreement_report(TRIPLES, kind=SpanMultiLabelQuestion, n_boot=20) == by_name
    spans = SpansQuestion(name="ner", labels=("X",))
    triples = [(1, "a", [{"start": 0, "end": 2, "label": "X"}]), (1, "b", [])]
    assert agreement_report(triples, kind=spans, n_boot=0)["kind"] == "spans"


def test_span_multilabel_errors_name_the_item_annotator_and_label() -> None:
    with pytest.raises(SchemaError, match=r"\['typo'\] not in the labels"):
        agreement_report([(1, "a", [span(0, 2, "typo")])], kind=Q, labels=list(LABELS))
    with pytest.raises(
        SchemaError, match="item 1, annotator 'a': a span needs start, end and labels"
    ):
        value_table([(1, "a", [{"start": 0, "end": 2, "label": "finding"}])], kind=Q)
    with pytest.raises(SchemaError, match="item 1, annotator 'a': span .* is empty"):
        value_table([(1, "a", [span(3, 3, "finding")])], kind=Q)
    with pytest.raises(SchemaError, match="span_multilabel responses have no reliability matrix"):
        reliability_matrix(TRIPLES, kind=Q)
    with pytest.raises(SchemaError, match="unknown question kind 'spans_multi'"):
        agreement_report([], kind="spans_multi")


def test_project_agreement_on_a_span_multilabel_question(tmp_path: Path) -> None:
    """From responses in the store to the report: the question object picks the measure and
    its labels the per-label breakdown."""
    root = tmp_path / "notes"
    Project.init(root, template="ner", labels=list(LABELS)).close()
    path = root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"]["questions"] = [
        {"name": "mentions", "kind": "span_multilabel", "labels": list(LABELS)}
    ]
    doc["task"].setdefault("settings", {})["overlap"] = 3
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    with Project.open(root) as p:
        p.add_records([{"fields": {"text": "No fever, old cough."}}, {"fields": {"text": "Rash."}}])
        for name in "abc":
            p.add_user(name, Role.ANNOTATOR)
        for item, user, value in TRIPLES:
            p.answer(user, int(item), {"mentions": value}, ResponseStatus.SUBMITTED)
        got = p.agreement(question="mentions", n_boot=50)
    assert (got["question"], got["kind"]) == ("mentions", "span_multilabel")
    assert got["agreement"]["value"] == pytest.approx(8 / 13)
    assert set(got["agreement_by_label"]) == set(LABELS)
    assert got["agreement_by_label"]["negated"]["value"] == pytest.approx(0.5)


def test_the_breakdown_categories_come_from_the_kind() -> None:
    assert RatingQuestion(name="r", min=2, max=4).categories() == [2, 3, 4]
    assert Q.categories() == list(LABELS)
    assert TextQuestion(name="t").categories() is None
    report = agreement_report(
        [(1, "a", 3), (1, "b", 3), (2, "a", 2), (2, "b", 4)],
        kind="rating",
        labels=RatingQuestion(name="r", min=2, max=4).categories(),
        n_boot=0,
    )
    assert set(report["per_label"]) == {"2", "3", "4"}
    assert report["per_label"]["3"]["metric"] == "alpha"
