"""The span annotator model (quality/by_kind/span_model.py): consensus and skill estimates for
span questions from annotators who miss entities, add false ones and move boundaries.

Before it, a span annotator's skill was their F1 against a consensus they voted in: the most
trusted annotator of a skewed team scored about 1.0 whatever their real F1 (0.083 off on
NCBI-Disease, ``bench/qa_kinds.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from goldsmith.kinds.spans import SpansQuestion
from goldsmith.quality.by_kind import rule_for
from goldsmith.quality.by_kind._binary_em import binary_em
from goldsmith.quality.by_kind.scores import annotator_scores
from goldsmith.quality.by_kind.span_model import fit_span_model

Q = SpansQuestion(name="ner", labels=("Disease", "Gene"), field="text")
Unit = tuple[int, int, str]
# per annotator: chance to drop a real span, to move one of its ends by a word, to add a
# false one-word span to a record
TEAM = {
    "ace": (0.03, 0.03, 0.01),
    "bob": (0.10, 0.10, 0.03),
    "cy": (0.20, 0.15, 0.05),
    "dee": (0.30, 0.20, 0.08),
    "eve": (0.45, 0.30, 0.15),
}


def _records(n: int, rng: np.random.Generator) -> list[tuple[list[tuple[int, int]], set[Unit]]]:
    """Texts of 12-30 words of 6 characters (offsets only) with 0-3 real entities."""
    out = []
    for _ in range(n):
        words = [(7 * k, 7 * k + 6) for k in range(int(rng.integers(12, 31)))]
        truth: set[Unit] = set()
        for k in sorted(rng.choice(len(words) // 3, size=int(rng.integers(0, 4)), replace=False)):
            a, b = 3 * int(k), 3 * int(k) + int(rng.integers(0, 2))
            truth.add((words[a][0], words[b][1], "Disease" if rng.random() < 0.7 else "Gene"))
        out.append((words, truth))
    return out


def _answer(words: list[tuple[int, int]], truth: set[Unit], who: str, rng: Any) -> set[Unit]:
    drop, shift, spurious = TEAM[who]
    starts = {s: k for k, (s, _) in enumerate(words)}
    ends = {e: k for k, (_, e) in enumerate(words)}
    out = set()
    for s, e, label in sorted(truth):  # sorted: a set of str tuples iterates by hash seed
        if rng.random() < drop:
            continue
        if rng.random() < shift:
            a, b = starts[s], ends[e]
            if rng.random() < 0.5:
                b = min(len(words) - 1, b + 1)
            else:
                a = max(0, a - 1)
            s, e = words[a][0], words[b][1]
        out.add((s, e, label))
    if rng.random() < spurious:
        k = int(rng.integers(len(words)))
        out.add((words[k][0], words[k][1], "Disease"))
    return out


def _value(units: set[Unit]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in sorted(units)]


def _micro(pred: list[set[Unit]], truth: list[set[Unit]]) -> float:
    tp = sum(len(p & t) for p, t in zip(pred, truth, strict=True))
    return 2 * tp / sum(len(p) + len(t) for p, t in zip(pred, truth, strict=True))


def _team_round(n: int, per_record: int, seed: int) -> tuple[dict[int, dict[str, Any]], list[Any]]:
    rng = np.random.default_rng(seed)
    records = _records(n, rng)
    names = list(TEAM)
    answers = {}
    for i, (words, truth) in enumerate(records):
        who = rng.choice(len(names), size=per_record, replace=False)
        answers[i] = {names[j]: _value(_answer(words, truth, names[j], rng)) for j in who}
    return answers, [truth for _, truth in records]


@pytest.fixture(scope="module")
def skewed() -> tuple[dict[int, dict[str, Any]], list[Any]]:
    return _team_round(1200, 3, seed=7)


def _true_f1(answers: dict[int, dict[str, Any]], truth: Any, name: str) -> float:
    rule = rule_for(Q)
    mine = [i for i in answers if name in answers[i]]
    return _micro([rule.units(answers[i][name]) for i in mine], [truth[i] for i in mine])


def test_skill_without_gold_is_within_005_of_each_annotators_true_span_f1(
    skewed: tuple[dict[int, dict[str, Any]], list[Any]],
) -> None:
    answers, truth = skewed
    rows = {r["name"]: r for r in annotator_scores(rule_for(Q), answers)}
    errors = {name: rows[name]["skill"] - _true_f1(answers, truth, name) for name in TEAM}
    assert max(abs(e) for e in errors.values()) <= 0.05, errors
    # the estimate keeps the team's order, from the careful to the careless
    assert sorted(TEAM, key=lambda n: -rows[n]["skill"]) == list(TEAM)
    # the vote it replaces flatters the annotator the vote trusts most
    vote = rule_for(Q, model=False)
    flattered = vote.skill(answers, vote.consensus(answers))
    assert flattered["ace"] - _true_f1(answers, truth, "ace") > 0.02


def test_model_consensus_beats_the_span_majority_and_the_weighted_vote(
    skewed: tuple[dict[int, dict[str, Any]], list[Any]],
) -> None:
    answers, truth = skewed
    scores = {}
    for name, rule in (
        ("model", rule_for(Q)),
        ("vote", rule_for(Q, model=False)),
        ("majority", rule_for(Q, weighted=False)),
    ):
        agreed = rule.consensus(answers)
        scores[name] = _micro([rule.units(agreed[i].value) for i in answers], truth)
        if name == "model":
            assert {c.method for c in agreed.values()} == {"span_model"}
    assert scores["model"] > scores["vote"] and scores["model"] > scores["majority"], scores


def test_a_lone_span_counts_by_how_rarely_its_annotator_adds_false_ones(
    skewed: tuple[dict[int, dict[str, Any]], list[Any]],
) -> None:
    """One span, marked by one of three: a majority drops it either way; the model keeps it
    from the annotator who almost never adds a span (ace) and drops it from the one who
    often does (eve), and says how sure it is."""
    answers, _ = skewed
    extra = {"start": 1000, "end": 1006, "label": "Disease"}
    answers = {
        **answers,
        9001: {"ace": [], "bob": [], "eve": [extra]},
        9002: {"ace": [extra], "bob": [], "eve": []},
    }
    agreed = rule_for(Q).consensus(answers)
    assert agreed[9001].value == []
    assert agreed[9001].support["spans"] == []  # not likely real: not listed as an entity
    assert agreed[9002].value == [extra]
    (entity,) = agreed[9002].support["spans"]
    assert entity["annotators"] == ["ace"] and 0.5 < entity["support"] < 0.99
    majority = rule_for(Q, weighted=False).consensus(answers)
    assert majority[9001].value == majority[9002].value == []


def test_an_entity_with_four_boundaries_is_disputed_and_sent_to_review(
    skewed: tuple[dict[int, dict[str, Any]], list[Any]],
) -> None:
    answers, _ = skewed
    spans = [(1000, 1013), (1007, 1020), (1000, 1020), (1007, 1013)]
    disputed = {  # four annotators, four boundaries
        name: [{"start": s, "end": e, "label": "Disease"}]
        for name, (s, e) in zip(("bob", "cy", "dee", "eve"), spans, strict=True)
    }
    c = rule_for(Q).consensus({**answers, 9004: disputed})[9004]
    assert c.value == []
    (entity,) = c.support["spans"]
    assert entity["disputed"] is True and entity["entity_support"] > 0.9
    assert c.confidence < 0.5  # below any review threshold


def test_two_annotators_per_record_keep_the_weighted_vote() -> None:
    """With two annotators per record a miss and an addition explain a lone span equally
    well: no model, the weighted vote as before."""
    answers, _ = _team_round(300, 2, seed=3)
    assert fit_span_model({i: {u: set() for u in a} for i, a in answers.items()}) is None
    agreed = rule_for(Q).consensus(answers)
    assert {c.method for c in agreed.values()} == {"span_vote"}
    vote = rule_for(Q, model=False).consensus(answers)
    assert all(agreed[i].value == vote[i].value for i in answers)


def test_weighted_rows_count_like_repeated_ones() -> None:
    rng = np.random.default_rng(0)
    marks = rng.integers(-1, 2, size=(40, 4))
    twice = np.concatenate([marks, marks[:10]])
    weights = np.array([2.0] * 10 + [1.0] * 30)
    p_rep, sens_rep, fpr_rep = binary_em(twice)
    p_w, sens_w, fpr_w = binary_em(marks, weights=weights)
    assert np.allclose(p_w, p_rep[:40]) and np.allclose(sens_w, sens_rep)
    assert np.allclose(fpr_w, fpr_rep)


def test_nested_spans_of_one_label_are_both_kept(
    skewed: tuple[dict[int, dict[str, Any]], list[Any]],
) -> None:
    """Nested spans ("breast cancer" and "cancer", both given by everyone) are two entities,
    not two rival boundaries of one (a first draft of the model left both out as disputed)."""
    answers, truth = skewed
    nested = [
        {"start": 1000, "end": 1013, "label": "Disease"},
        {"start": 1007, "end": 1013, "label": "Disease"},
    ]
    half = [nested[0]]
    answers = {
        **answers,
        9005: {"ace": nested, "bob": nested, "cy": nested},
        9006: {"bob": nested, "cy": half, "dee": nested},  # cancer: two in three
        9007: {"bob": nested, "cy": half, "dee": half},  # cancer: one in three
    }
    agreed = rule_for(Q).consensus(answers)
    assert agreed[9005].value == nested and agreed[9005].confidence == pytest.approx(1.0)
    assert [s["disputed"] for s in agreed[9005].support["spans"]] == [False, False]
    assert agreed[9006].value == nested
    assert agreed[9006].confidence == pytest.approx(2 / 3)
    assert agreed[9007].value == half
    # the skill estimate still holds with nested groups among the records
    both = {(s["start"], s["end"], s["label"]) for s in nested}
    true = {**dict(enumerate(truth)), 9005: both, 9006: both, 9007: both}
    rows = {r["name"]: r for r in annotator_scores(rule_for(Q), answers)}
    for name in TEAM:
        assert abs(rows[name]["skill"] - _true_f1(answers, true, name)) <= 0.05
