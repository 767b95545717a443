"""Dawid-Skene on sparse, abstaining labeling-function matrices (WRENCH) and small cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _ci import skip_or_fail
from goldsmith.errors import SchemaError
from goldsmith.weak.label_models import DawidSkene, MajorityVote

WRENCH = Path(__file__).resolve().parents[3] / "shared/data/weak_supervision/wrench"


def load(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    path = WRENCH / dataset / f"{split}.json"
    if not path.is_file():
        skip_or_fail(f"WRENCH data not found at {path}")
    records = json.loads(path.read_text()).values()
    L = np.array([r["weak_labels"] for r in records], dtype=np.int64)
    y = np.array([r["label"] for r in records], dtype=np.int64)
    return L, y


def spam_f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = int(((pred == 1) & (y == 1)).sum())
    return 2 * tp / (int((pred == 1).sum()) + int((y == 1).sum())) if tp else 0.0


@pytest.mark.parametrize(("dataset", "k"), [("youtube", 2), ("trec", 6)])
def test_matches_majority_vote_on_wrench_accuracy(dataset: str, k: int) -> None:
    """Fitted on train without gold, scored on test, under both tie/no-vote policies."""
    L, _ = load(dataset, "train")
    Lt, yt = load(dataset, "test")
    ds, mv = DawidSkene(k).fit(L), MajorityVote(k).fit(L)
    assert ds.one_coin_.all()  # every WRENCH LF votes a single class
    for policy in ("random", "abstain"):
        ours = float((ds.predict(Lt, tie_break=policy) == yt).mean())
        base = float((mv.predict(Lt, tie_break=policy) == yt).mean())
        assert ours >= base, (policy, ours, base)


def test_sms_spam_f1_on_covered_records() -> None:
    """sms: where an LF votes, DS finds the spam at least as well as majority vote.

    With ``tie_break="abstain"`` (no vote = not spam) the 60 % of records without a vote
    cannot help either model; under ``"random"`` majority vote flips a coin there.
    """
    L, _ = load("sms", "train")
    Lt, yt = load("sms", "test")
    ds, mv = DawidSkene(2).fit(L), MajorityVote(2).fit(L)
    ours = spam_f1(yt, ds.predict(Lt, tie_break="abstain"))
    base = spam_f1(yt, mv.predict(Lt, tie_break="abstain"))
    assert ours >= base > 0


def test_unipolar_lfs_are_informative() -> None:
    """Each LF votes one class only; the classic full model could not tell them apart."""
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    L = np.full((n, 6), -1)
    for j in range(6):
        c, prec = j % 2, [0.95, 0.9, 0.85, 0.8, 0.7, 0.75][j]
        fires = rng.random(n) < 0.3
        right = (y == c) & fires
        wrong = (y != c) & fires & (rng.random(n) < (1 - prec) / prec)
        L[right | wrong, j] = c
    covered = (L >= 0).any(axis=1)
    mv = MajorityVote(2).fit(L).predict(L, tie_break="abstain")
    ds = DawidSkene(2).fit(L)
    full = DawidSkene(2, confusion="full").fit(L)
    acc = float((ds.predict(L)[covered] == y[covered]).mean())
    assert acc >= float((mv[covered] == y[covered]).mean())
    assert acc > float((full.predict(L)[covered] == y[covered]).mean()) + 0.1
    assert ds.accuracies_[:4].min() > 0.7


def test_abstains_are_missing_and_fit_is_deterministic() -> None:
    L = np.array([[0, -1, 0], [1, 1, -1], [0, 0, 1], [-1, 1, 1], [-1, -1, -1]] * 20)
    a = DawidSkene(2).fit(L)
    b = DawidSkene(2).fit(L)
    assert np.array_equal(a.predict_proba(L), b.predict_proba(L))
    assert np.array_equal(a.predict(L), b.predict(L))
    P = a.predict_proba(L)
    assert P.shape == (100, 2) and np.allclose(P.sum(axis=1), 1.0)
    assert np.allclose(P[4], a.class_balance_)  # no vote: the class balance
    assert a.predict(L, tie_break="abstain")[4] == -1
    # adding an LF that always abstains changes nothing
    wider = np.column_stack([L, np.full(len(L), -1)])
    c = DawidSkene(2).fit(wider)
    assert np.allclose(c.predict_proba(wider), P)
    assert a.confusion_.shape == (3, 2, 2) and a.abstain_rates_.shape == (3, 2)


def test_full_confusion_for_lfs_that_vote_every_class() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 600)
    L = np.where(rng.random((600, 4)) < 0.8, y[:, None], rng.integers(0, 3, (600, 4)))
    model = DawidSkene(3).fit(L)
    assert not model.one_coin_.any()
    assert float((model.predict(L) == y).mean()) > 0.9
    with pytest.raises(SchemaError, match="confusion must be"):
        DawidSkene(3, confusion="two-coin")  # type: ignore[arg-type]
