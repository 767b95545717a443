"""Consensus: majority vote (ties, vote shares), Dawid-Skene (quality-weighted), overrides."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from goldsmith.errors import SchemaError
from goldsmith.quality import resolve as resolve_module
from goldsmith.quality.resolve import dawid_skene, majority


def test_module_doctests_pass() -> None:
    assert doctest.testmod(resolve_module).failed == 0


TIED = np.array([[0, 1, -1], [2, 1, -1], [1, 1, 0], [-1, -1, -1]])


def test_majority_vote_share_and_abstain_on_ties() -> None:
    r = majority(TIED, n_classes=3)
    assert r.label.tolist() == [-1, -1, 1, -1]
    assert r.method.tolist() == ["tie", "tie", "majority", "none"]
    np.testing.assert_allclose(r.confidence, [0.5, 0.5, 2 / 3, 0.0])


def test_majority_ties_lowest_and_random() -> None:
    assert majority(TIED, ties="lowest").label.tolist() == [0, 1, 1, -1]
    R = np.tile([[0, 1]], (400, 1))
    a = majority(R, ties="random", seed=4).label
    assert set(a.tolist()) == {0, 1} and 150 < (a == 0).sum() < 250
    assert (majority(R, ties="random", seed=4).label == a).all()  # seeded
    assert set(majority(R, ties="random").method.tolist()) == {"majority"}


def test_min_votes() -> None:
    r = majority([[0, -1, -1], [1, 1, -1]], min_votes=2)
    assert r.label.tolist() == [-1, 1] and r.method.tolist() == ["none", "majority"]
    assert r.confidence.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("resolve", [majority, dawid_skene])
def test_overrides_win_over_votes_gold_and_missing_responses(resolve: object) -> None:
    R = np.array([[0, 0, 0], [1, 1, 1], [0, 1, -1], [-1, -1, -1], [1, 1, 0]] * 3)
    gold = np.array([-1, 0, -1, -1, 1] * 3)
    over = np.array([1, 0, 2, 2, -1] * 3)
    r = resolve(R, n_classes=3, gold=gold, overrides=over)  # type: ignore[operator]
    assert r.label.tolist()[:5] == [1, 0, 2, 2, 1]
    assert r.method.tolist()[:5] == ["override"] * 4 + ["gold"]
    assert (r.confidence[:5] == 1.0).all()


def test_dawid_skene_trusts_the_reliable_annotator() -> None:
    """One careful annotator against two careless ones who err the same way."""
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 3, n)
    acc = np.array([0.95, 0.6, 0.6])
    wrong = (y[:, None] + 1) % 3  # errors concentrated: always the next class
    R = np.where(rng.random((n, 3)) < acc, y[:, None], wrong)
    mv = majority(R, ties="random")
    ds = dawid_skene(R)
    assert (ds.label == y).mean() > (mv.label == y).mean() + 0.05
    assert (ds.method == "dawid_skene").all()
    assert ((ds.confidence > 1 / 3) & (ds.confidence <= 1.0)).all()
    # Where the two careless annotators outvote the careful one, the vote is mostly wrong;
    # DS knows the direction of their errors and gets these items right.
    split = (R[:, 1] == R[:, 2]) & (R[:, 0] != R[:, 1])
    assert split.sum() > 50 and (mv.label[split] == y[split]).mean() < 0.3
    assert (ds.label[split] == y[split]).mean() > 0.97


def test_dawid_skene_ties_follow_the_policy() -> None:
    R = np.array([[0, 1], [1, 0]] * 50)  # two symmetric annotators: every item is a tie
    assert set(dawid_skene(R).method.tolist()) == {"tie"}
    assert (dawid_skene(R).label == -1).all()
    assert dawid_skene(R, ties="lowest").label.tolist() == [0, 0] * 50


def test_one_annotator_and_one_class() -> None:
    R = np.array([[2], [0], [-1]])
    for resolve in (majority, dawid_skene):
        r = resolve(R, n_classes=3)
        assert r.label.tolist() == [2, 0, -1]
        assert r.method.tolist()[2] == "none"
    assert majority(R).confidence.tolist()[:2] == [1.0, 1.0]
    one = np.zeros((5, 2), dtype=np.int64)
    for resolve in (majority, dawid_skene):
        r = resolve(one)
        assert r.label.tolist() == [0] * 5 and np.allclose(r.confidence, 1.0)


def test_no_items() -> None:
    r = dawid_skene(np.zeros((0, 3), dtype=np.int64), n_classes=2)
    assert r.label.shape == r.confidence.shape == r.method.shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ties": "first"}, "ties must be"),
        ({"overrides": [0, 1]}, "overrides must be 3"),
        ({"overrides": [0, 1, 7]}, "overrides must lie"),
        ({"gold": [0, 1]}, "gold must be 3"),
    ],
)
def test_bad_options(kwargs: dict[str, object], match: str) -> None:
    for resolve in (majority, dawid_skene):
        with pytest.raises(SchemaError, match=match):
            resolve([[0, 1], [1, 1], [0, 0]], **kwargs)  # type: ignore[arg-type]
