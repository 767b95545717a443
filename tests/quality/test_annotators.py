"""Annotator quality: gold accuracy with Wilson intervals, Dawid-Skene confusions, pausing;
a simulated team labelling the financial phrasebank (all-agree) with known error rates."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from _ci import skip_or_fail
from goldsmith.errors import SchemaError
from goldsmith.quality import annotators as annotators_module
from goldsmith.quality.annotators import (
    annotator_confusions,
    gold_accuracy,
    paused,
    response_matrix,
    wilson_interval,
)
from goldsmith.quality.resolve import dawid_skene, majority

PHRASEBANK = (
    Path(__file__).resolve().parents[3]
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)
CLASSES = ["negative", "neutral", "positive"]
ACCURACIES = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
# Errors concentrated on label pairs: rows true class, columns the wrong answer.
NEUTRAL_POSITIVE = np.array([[0, 0.8, 0.2], [0.1, 0, 0.9], [0.1, 0.9, 0]])
NEGATIVE_NEUTRAL = np.array([[0, 0.9, 0.1], [0.8, 0, 0.2], [0.2, 0.8, 0]])


@pytest.fixture(scope="module")
def phrasebank_labels() -> np.ndarray:
    if not PHRASEBANK.is_file():
        skip_or_fail(f"financial phrasebank not found at {PHRASEBANK}")
    lines = PHRASEBANK.read_text(encoding="latin-1").splitlines()
    return np.array([CLASSES.index(ln.rsplit("@", 1)[1].strip()) for ln in lines if "@" in ln])


def simulate_team(
    y: np.ndarray, *, overlap: int = 3, gold_frac: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Responses (3 annotators per item, every one on the gold items), gold, true confusion."""
    rng = np.random.default_rng(seed)
    n, m, k = y.size, ACCURACIES.size, 3
    errors = np.stack([NEUTRAL_POSITIVE] * 3 + [NEGATIVE_NEUTRAL] * 2)
    confusion = errors * (1 - ACCURACIES)[:, None, None] + ACCURACIES[:, None, None] * np.eye(k)
    assigned = np.zeros((n, m), dtype=bool)
    assigned[np.arange(n)[:, None], np.argsort(rng.random((n, m)), axis=1)[:, :overlap]] = True
    gold_items = rng.choice(n, size=round(gold_frac * n), replace=False)
    assigned[gold_items] = True
    cdf = np.cumsum(confusion[:, y, :], axis=2).transpose(1, 0, 2)
    answer = np.minimum((rng.random((n, m, 1)) > cdf).sum(axis=2), k - 1)
    gold = np.full(n, -1)
    gold[gold_items] = y[gold_items]
    return np.where(assigned, answer, -1), gold, confusion


def test_module_doctests_pass() -> None:
    assert doctest.testmod(annotators_module).failed == 0


# -- response matrix ----------------------------------------------------------------------


def test_response_matrix_from_triples() -> None:
    R = response_matrix([2, 0, 1], [1, 0, 1], [0, 2, 1], n_items=4, n_annotators=3)
    assert R.tolist() == [[2, -1, -1], [-1, 1, -1], [-1, 0, -1], [-1, -1, -1]]
    assert response_matrix([], [], []).shape == (0, 0)


def test_response_matrix_rejects_a_pair_answered_twice() -> None:
    with pytest.raises(SchemaError, match="annotator 1 answered item 0 more than once"):
        response_matrix([0, 0], [1, 1], [0, 1])


@pytest.mark.parametrize(
    "args",
    [([0, 1], [0], [1, 1]), ([0], [0], [-2]), ([0.5], [0], [1]), ([5], [0], [1])],
)
def test_response_matrix_rejects_bad_triples(args: tuple[list[float], ...]) -> None:
    with pytest.raises(SchemaError):
        response_matrix(*args, n_items=3)


# -- gold accuracy ------------------------------------------------------------------------


def test_gold_accuracy_counts_and_wilson_interval_match_statsmodels() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 200)
    R = np.where(rng.random((200, 4)) < [0.9, 0.7, 0.5, 0.3], y[:, None], (y[:, None] + 1) % 3)
    R[rng.random((200, 4)) < 0.3] = -1
    gold = np.where(rng.random(200) < 0.25, y, -1)
    g = gold_accuracy(R, gold)
    on_gold = (R >= 0) & (gold >= 0)[:, None]
    assert g.n_answered.tolist() == on_gold.sum(axis=0).tolist()
    assert g.n_correct.tolist() == (on_gold & (gold[:, None] == R)).sum(axis=0).tolist()
    low, high = proportion_confint(g.n_correct, g.n_answered, alpha=0.05, method="wilson")
    np.testing.assert_allclose(g.low, low, atol=1e-9)
    np.testing.assert_allclose(g.high, high, atol=1e-9)
    assert (g.low <= g.accuracy).all() and (g.accuracy <= g.high).all()


def test_no_gold_answer_gives_nan_and_the_whole_interval() -> None:
    g = gold_accuracy([[0, -1], [1, 1]], [0, -1])
    assert g.n_answered.tolist() == [1, 0]
    assert g.accuracy[0] == 1.0 and np.isnan(g.accuracy[1])
    assert (g.low[1], g.high[1]) == (0.0, 1.0)
    assert np.isnan(gold_accuracy([[0, 1]], None).accuracy).all()  # type: ignore[arg-type]


def test_wilson_interval_edges() -> None:
    low, high = wilson_interval([0, 10], [10, 10])
    assert low[0] == 0.0 and 0.2 < high[0] < 0.35
    assert 0.65 < low[1] < 0.8 and high[1] == 1.0
    with pytest.raises(SchemaError, match="confidence"):
        wilson_interval([1], [2], confidence=1.5)


# -- pausing ------------------------------------------------------------------------------


def test_paused_waits_for_min_gold_answers() -> None:
    gold = np.array([0] * 20)
    R = np.zeros((20, 3), dtype=np.int64)
    R[:, 1] = 1  # annotator 1 always wrong
    R[5:, 2] = -1  # annotator 2 answered five gold items, all right...
    R[:5, 2] = 1  # ... all wrong, in fact
    assert paused(R, gold, threshold=0.8, min_gold=10).tolist() == [False, True, False]
    assert paused(R, gold, threshold=0.8, min_gold=5).tolist() == [False, True, True]


def test_paused_upper_bound_rule_is_more_lenient() -> None:
    gold = np.zeros(12, dtype=np.int64)
    R = np.zeros((12, 1), dtype=np.int64)
    R[:4] = 1  # 8 / 12 right: below 0.8, but not confidently
    assert paused(R, gold, threshold=0.8, min_gold=10).tolist() == [True]
    assert paused(R, gold, threshold=0.8, min_gold=10, judge_by="upper").tolist() == [False]
    with pytest.raises(SchemaError, match="judge_by"):
        paused(R, gold, judge_by="median")  # type: ignore[arg-type]


# -- Dawid-Skene ---------------------------------------------------------------------------


def test_simulated_team_on_phrasebank_labels(phrasebank_labels: np.ndarray) -> None:
    """|estimate - true| <= 0.05 for every annotator; DS consensus beats majority vote."""
    y = phrasebank_labels
    R, gold, confusion = simulate_team(y, seed=0)
    true = np.array([(R[R[:, j] >= 0, j] == y[R[:, j] >= 0]).mean() for j in range(5)])
    ds = annotator_confusions(R, gold=gold, n_classes=3)
    assert np.abs(ds.accuracy - true).max() <= 0.05, (ds.accuracy, true)
    assert np.abs(ds.confusion - confusion).max() <= 0.1
    # The concentrated errors are found: each row's largest off-diagonal cell is the true one.
    off = ~np.eye(3, dtype=bool)
    for j in (2, 3, 4):
        assert (np.argmax(np.where(off, ds.confusion[j], -1), axis=1)).tolist() == (
            np.argmax(np.where(off, confusion[j], -1), axis=1)
        ).tolist()
    g = gold_accuracy(R, gold)
    assert (g.n_answered == (gold >= 0).sum()).all()
    assert ((g.low <= true) & (true <= g.high)).sum() >= 4  # 95 % intervals
    assert np.abs(g.accuracy - true).max() <= 0.1
    rest = gold < 0
    mv = majority(R, n_classes=3, ties="random")
    dsr = dawid_skene(R, n_classes=3, gold=gold)
    mv_acc = (mv.label[rest] == y[rest]).mean()
    ds_acc = (dsr.label[rest] == y[rest]).mean()
    assert ds_acc > mv_acc + 0.01, (ds_acc, mv_acc)
    assert (dsr.label[~rest] == y[~rest]).all() and set(dsr.method[~rest]) == {"gold"}


def test_gold_enters_as_known_truth() -> None:
    """Two annotators who swap the classes outvote a good one, unless enough gold says no."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 600)
    good = np.where(rng.random(600) < 0.9, y, 1 - y)
    swappers = np.where(rng.random((600, 2)) < 0.85, 1 - y[:, None], y[:, None])
    R = np.column_stack([good, swappers])
    blind = annotator_confusions(R)
    assert blind.accuracy[0] < 0.5 < blind.accuracy[1:].min()  # fooled without gold
    gold = np.where(rng.random(600) < 0.25, y, -1)
    told = annotator_confusions(R, gold=gold)
    assert abs(told.accuracy[0] - 0.9) < 0.05 and told.accuracy[1:].max() < 0.25
    assert (told.posteriors[gold >= 0].argmax(axis=1) == y[gold >= 0]).all()
    # A thin gold set cannot outvote them in EM, but gold accuracy alone pauses them.
    thin = np.where(np.arange(600) % 10 == 0, y, -1)
    assert paused(R, thin, threshold=0.7, min_gold=20).tolist() == [False, True, True]


def test_one_annotator_with_and_without_gold() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 400)
    R = np.where(rng.random(400) < 0.8, y, (y + 1) % 3)[:, None]
    assert np.isnan(annotator_confusions(R).accuracy).all()  # nothing to compare with
    gold = np.where(np.arange(400) < 100, y, -1)
    est = annotator_confusions(R, gold=gold).accuracy[0]
    assert abs(est - (R[:, 0] == y).mean()) < 0.06


def test_annotator_without_responses_and_one_class() -> None:
    R = np.array([[0, 0, -1], [1, 1, -1], [1, 0, -1]])
    res = annotator_confusions(R)
    assert res.n_responses.tolist() == [3, 3, 0] and np.isnan(res.accuracy[2])
    assert res.confusion.shape == (3, 2, 2) and res.posteriors.shape == (3, 2)
    np.testing.assert_allclose(res.counts.sum(axis=(1, 2)), [3, 3, 0])
    one = annotator_confusions(np.zeros((4, 2), dtype=np.int64))
    assert one.accuracy.tolist() == [1.0, 1.0] and one.posteriors.shape == (4, 1)


def test_every_item_gold_and_no_items() -> None:
    R = np.array([[0, 1], [1, 1], [0, 0]])
    res = annotator_confusions(R, gold=[0, 1, 0])
    np.testing.assert_allclose(res.accuracy, [1.0, 2 / 3], atol=1e-9)
    empty = annotator_confusions(np.zeros((0, 2), dtype=np.int64), n_classes=2)
    assert empty.posteriors.shape == (0, 2) and np.isnan(empty.accuracy).all()


@pytest.mark.parametrize(
    ("responses", "gold", "match"),
    [
        ([0, 1], None, "2-D"),
        ([[0.5, 1]], None, "label indices"),
        ([[0, 3]], None, "outside -1..2"),
        ([[0, 1]], [0, 1], "gold must be 1"),
        ([[0, 1]], [-3], "outside"),
    ],
)
def test_bad_inputs_say_what_is_wrong(responses: object, gold: object, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        annotator_confusions(responses, gold=gold, n_classes=3)  # type: ignore[arg-type]
