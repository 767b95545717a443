"""Consensus and annotator scores for every kind of question (issue 19, items 1 and 2).

Each case is small enough to check by hand; the bench (``bench/qa_kinds.py``) measures the
same rules at scale against simulated annotators of known quality.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from goldsmith.kinds.label import LabelQuestion
from goldsmith.kinds.multilabel import MultiLabelQuestion
from goldsmith.kinds.preference import PreferenceQuestion
from goldsmith.kinds.rating import RatingQuestion
from goldsmith.kinds.span_multilabel import SpanMultiLabelQuestion
from goldsmith.kinds.spans import SpansQuestion
from goldsmith.kinds.text import TextQuestion
from goldsmith.quality.by_kind import rule_for
from goldsmith.quality.by_kind.scores import annotator_scores

LABEL = LabelQuestion(name="label", labels=("pos", "neg", "neu"))
MULTI = MultiLabelQuestion(name="codes", labels=("a", "b", "c"))
SPANS = SpansQuestion(name="ner", labels=("Disease", "Gene"), field="text")
SPAN_ML = SpanMultiLabelQuestion(name="ents", labels=("X", "Y"), field="text")
TEXT = TextQuestion(name="answer")
RATING = RatingQuestion(name="stars", min=1, max=5)
PREF = PreferenceQuestion(name="rank")


def _span(start: int, end: int, label: str = "Disease") -> dict[str, Any]:
    return {"start": start, "end": end, "label": label}


def test_every_kind_has_a_rule_and_a_score_in_the_unit_interval() -> None:
    values = {
        LABEL: ("pos", "neg"),
        MULTI: (["a"], ["a", "b"]),
        SPANS: ([_span(0, 5)], [_span(0, 5), _span(9, 12, "Gene")]),
        SPAN_ML: ([{"start": 0, "end": 3, "labels": ["X", "Y"]}], []),
        TEXT: ("take two tablets", "take three tablets"),
        RATING: (2, 5),
        PREF: ([0, 1, 2], [1, 0, 2]),
    }
    for q, (a, b) in values.items():
        rule = rule_for(q)
        assert rule.score(a, a) == 1.0, q.kind
        assert 0.0 <= rule.score(a, b) < 1.0, q.kind
        assert rule.metric


def test_multilabel_a_reliable_annotators_yes_outweighs_two_careless_nos() -> None:
    """``ann`` is right on every record; ``x`` and ``y`` answer at random. On record 0 the
    per-label model keeps ``ann``'s ``c`` though both others left it out; majority drops it."""
    rng = np.random.default_rng(0)
    truth = {i: sorted(rng.choice(["a", "b", "c"], size=rng.integers(1, 3), replace=False))
             for i in range(1, 200)}  # fmt: skip
    answers: dict[int, dict[str, Any]] = {}
    for i, true in truth.items():
        noisy = [[lab for lab in "abc" if (lab in true) != (rng.random() < 0.35)] for _ in range(2)]
        answers[i] = {"ann": true, "x": noisy[0], "y": noisy[1]}
    answers[0] = {"ann": ["a", "c"], "x": ["a"], "y": ["a"]}
    ds = rule_for(MULTI).consensus(answers)
    majority = rule_for(MULTI, method="majority").consensus(answers)
    assert ds[0].value == ["a", "c"] and not ds[0].model_proposed
    assert majority[0].value == ["a"]
    assert 0.0 < ds[0].confidence <= 1.0
    right = sum(ds[i].value == truth[i] for i in truth)
    assert right >= 0.95 * len(truth)


def test_multilabel_a_set_assembled_from_backed_labels_is_not_model_proposed() -> None:
    """Nobody gave {a, b, c}, but each label has two of three votes: the annotators' answer,
    assembled per label, and unsure (0.67 cubed), so it goes to review anyway."""
    answers = {1: {"x": ["a", "b"], "y": ["b", "c"], "z": ["a", "c"]}}
    c = rule_for(MULTI, method="majority").consensus(answers)[1]
    assert c.value == ["a", "b", "c"]
    assert not c.model_proposed
    assert c.confidence == pytest.approx((2 / 3) ** 3)


def test_model_proposed_means_a_part_nobody_gave_or_a_part_everyone_gave_dropped() -> None:
    from goldsmith.quality.by_kind.base import against_everyone

    assert against_everyone({"a", "z"}, [{"a"}, {"a", "b"}])  # z: nobody
    assert against_everyone({"b"}, [{"a"}, {"a", "b"}])  # a: everyone, dropped
    assert not against_everyone({"a", "b"}, [{"a"}, {"a", "b"}])


def test_spans_overlap_matching_picks_the_majority_boundary_and_reports_support() -> None:
    text = "🧬 BRCA1 and breast cancer"  # an astral character first: offsets are code points
    cancer = text.index("breast cancer")
    gene = text.index("BRCA1")
    answers = {
        7: {
            "ann": [_span(cancer, cancer + 13), _span(gene, gene + 5, "Gene")],
            "ben": [_span(cancer, cancer + 13)],
            "cat": [_span(cancer + 7, cancer + 13)],  # only "cancer"
        }
    }
    c = rule_for(SPANS, weighted=False).consensus(answers)[7]
    assert c.value == [_span(cancer, cancer + 13)]  # the gene: one of three, left out
    (entity,) = c.support["spans"]
    assert entity["annotators"] == ["ann", "ben", "cat"]
    assert entity["support"] == pytest.approx(2 / 3, abs=1e-4)
    assert entity["entity_support"] == 1.0
    assert c.model_proposed is False  # "ben" gave exactly this set
    # confidence: 2/3 for the cancer span times 2/3 for leaving the gene out
    assert c.confidence == pytest.approx(4 / 9)


def test_spans_disputed_boundaries_stay_out_and_lower_the_confidence() -> None:
    answers = {1: {"a": [_span(0, 6)], "b": [_span(0, 9)], "c": [_span(3, 9)]}}
    c = rule_for(SPANS, weighted=False).consensus(answers)[1]
    assert c.value == []
    assert c.support["spans"][0]["disputed"] is True
    assert c.confidence == pytest.approx(1 / 3)  # below 0.7: the record goes to review
    assert c.model_proposed is False  # no span that everyone gave was dropped


def test_span_multilabel_units_vote_per_label() -> None:
    answers = {
        1: {
            "a": [{"start": 0, "end": 3, "labels": ["X", "Y"]}],
            "b": [{"start": 0, "end": 3, "labels": ["X"]}],
            "c": [{"start": 0, "end": 3, "labels": ["X"]}],
        }
    }
    c = rule_for(SPAN_ML, weighted=False).consensus(answers)[1]
    assert c.value == [{"start": 0, "end": 3, "labels": ["X"]}]


def test_text_consensus_is_the_most_central_answer_or_the_judges_pick() -> None:
    answers = {
        1: {
            "a": "Take 5 mg twice daily with food.",
            "b": "take 5 mg twice a day with food",
            "c": "Stop the drug.",
        }
    }
    c = rule_for(TEXT).consensus(answers)[1]
    assert c.value == "Take 5 mg twice daily with food."
    assert c.method == "medoid" and not c.model_proposed
    judged = rule_for(TEXT, judge=lambda texts, rid: texts.index("Stop the drug.")).consensus(
        answers
    )[1]
    assert judged.value == "Stop the drug." and judged.method == "llm_judge"


def test_rating_consensus_is_a_given_median_with_dispersion() -> None:
    c = rule_for(RATING).consensus({1: {"a": 1, "b": 4, "c": 5, "d": 5}})[1]
    assert c.value == 4  # the lower median: a rating somebody gave
    assert c.support["mean"] == 3.75
    assert c.support["std"] == pytest.approx(1.639, abs=1e-3)
    assert 0.0 < c.confidence < 0.25


def test_preference_consensus_by_bradley_terry() -> None:
    answers = {1: {"a": [2, 0, 1], "b": [2, 1, 0], "c": [0, 2, 1]}}
    c = rule_for(PREF).consensus(answers)[1]
    assert c.value[0] == 2  # preferred by two of three, second to nobody's top otherwise
    assert sorted(c.value) == [0, 1, 2]
    assert 0.5 < c.confidence < 1.0
    assert rule_for(PREF).score([0, 1, 2], [0, 2, 1]) == pytest.approx(2 / 3)


def test_gold_and_no_answers_short_cut_the_consensus() -> None:
    rule = rule_for(MULTI)
    got = rule.consensus({1: {"a": ["a"]}, 2: {}}, gold={1: ["b"]})
    assert got[1].value == ["b"] and got[1].method == "gold"
    assert got[2].value is None and got[2].method == "none"


# --------------------------------------------------------------------------- scores


def test_scores_are_never_nan_and_say_why_when_missing() -> None:
    rows = annotator_scores(rule_for(SPANS), {1: {"solo": [_span(0, 4)]}})
    (row,) = rows
    assert row["gold_score"] is None and row["gold_reason"] == "answered no gold record"
    assert row["skill"] is None
    assert row["skill_reason"] == "only one annotator: nobody to compare with"
    for value in row.values():
        assert not (isinstance(value, float) and math.isnan(value))


def test_gold_span_score_is_micro_f1_with_a_bootstrap_interval() -> None:
    gold = {i: [_span(0, 4), _span(10, 14, "Gene")] for i in range(1, 21)}
    answers = {i: {"ann": gold[i] if i <= 15 else [_span(0, 4)], "ben": gold[i]} for i in gold}
    rows = {r["name"]: r for r in annotator_scores(rule_for(SPANS), answers, gold=gold)}
    # ann: 35 of 40 gold spans found, no false ones: F1 = 70 / 75
    assert rows["ann"]["gold_score"] == pytest.approx(70 / 75)
    assert rows["ann"]["gold_low"] < rows["ann"]["gold_score"] < rows["ann"]["gold_high"]
    assert rows["ben"]["gold_score"] == 1.0
    assert rows["ben"]["gold_low"] == rows["ben"]["gold_high"] == 1.0
    assert rows["ann"]["metric"] == "span F1"


def test_exact_match_scores_get_a_wilson_interval() -> None:
    gold = {i: "pos" for i in range(10)}
    answers = {i: {"a": "pos" if i < 8 else "neg", "b": "pos"} for i in gold}
    row = annotator_scores(rule_for(LABEL), answers, gold=gold)[0]
    assert row["gold_score"] == 0.8
    assert (round(row["gold_low"], 3), round(row["gold_high"], 3)) == (0.49, 0.943)


def test_an_llm_judge_picks_through_the_openai_protocol_with_cache_and_budget(
    tmp_path: Any,
) -> None:
    import json

    from goldsmith.llm.client import LLMClient, LLMConfig
    from goldsmith.quality.by_kind.judge import LLMJudge
    from goldsmith.schema import Record, Task
    from openai_server import OpenAIServer, Reply

    seen: list[dict[str, Any]] = []

    def policy(body: dict[str, Any], _i: int) -> Reply:
        seen.append(body)
        user = body["messages"][-1]["content"]
        best = "2" if "twice daily with food" in user.split("2.")[-1] else "1"
        return Reply(json.dumps({"best": best}))

    task = Task.model_validate(
        {
            "name": "sft",
            "fields": [{"name": "prompt", "kind": "text"}],
            "questions": [{"name": "answer", "kind": "text"}],
            "settings": {"redact_before_llm": False},
        }
    )
    records = {1: Record(id=1, fields={"prompt": "Dose of drug X? 💊"})}
    answers = {1: {"a": "Stop it.", "b": "Take 5 mg twice daily with food.", "c": "Stop it now."}}
    with OpenAIServer(policy) as server:
        config = LLMConfig(model="test-model", base_url=server.url, api_key="k", confidence="none")
        with LLMClient(config, cache=tmp_path / "cache.db") as client:
            judge = LLMJudge(client, task, records)
            rule = rule_for(TEXT, judge=judge)
            medoid = rule_for(TEXT).consensus(answers)[1]
            judged = rule.consensus(answers)[1]
            again = rule.consensus(answers)[1]  # from the cache: no second call
    assert medoid.value in ("Stop it.", "Stop it now.")  # the two similar ones
    assert judged.value == "Take 5 mg twice daily with food." and judged.method == "llm_judge"
    assert again.value == judged.value
    assert len(seen) == 1
    assert "Dose of drug X? 💊" in seen[0]["messages"][-1]["content"]
    assert judge.calls.asked == 2 and judge.calls.answered == 2


def test_a_spent_budget_leaves_the_medoid(tmp_path: Any) -> None:
    from goldsmith.llm.client import LLMClient, LLMConfig, TokenBudget
    from goldsmith.quality.by_kind.judge import LLMJudge
    from goldsmith.schema import Record, Task

    task = Task.model_validate(
        {
            "name": "sft",
            "fields": [{"name": "prompt", "kind": "text"}],
            "questions": [{"name": "answer", "kind": "text"}],
            "settings": {"redact_before_llm": False},
        }
    )
    spent = TokenBudget(10)
    spent.spend(10)
    config = LLMConfig(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")
    with LLMClient(config) as client:
        judge = LLMJudge(client, task, {1: Record(id=1, fields={"prompt": "q"})}, budget=spent)
        c = rule_for(TEXT, judge=judge).consensus({1: {"a": "x y", "b": "x y z", "c": "q"}})[1]
    assert c.method == "medoid" and judge.calls.fallback == 1
