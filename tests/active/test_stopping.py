"""The stabilising-predictions stopping rule and its kappa."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from goldsmith.active.stopping import StabilizingPredictions, cohen_kappa, stop_set
from goldsmith.errors import SchemaError


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, 300)
    b = np.where(rng.random(300) < 0.7, a, rng.integers(0, 4, 300))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_edge_cases() -> None:
    assert cohen_kappa([2, 2, 2], [2, 2, 2]) == 1.0  # 0/0 in the formula: full agreement
    assert cohen_kappa([0, 0, 0], [1, 1, 1]) == 0.0
    assert cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    multi_a = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    multi_b = np.array([[1, 0], [0, 0], [1, 1], [0, 0]])
    expected = (1.0 + cohen_kappa_score(multi_a[:, 1], multi_b[:, 1])) / 2
    assert cohen_kappa(multi_a, multi_b) == pytest.approx(expected)
    with pytest.raises(SchemaError, match="differ in shape"):
        cohen_kappa([0, 1], [0, 1, 1])
    with pytest.raises(SchemaError, match="empty"):
        cohen_kappa([], [])


def _changed(base: np.ndarray, n: int) -> np.ndarray:
    out = base.copy()
    out[:n] = (out[:n] + 1) % 3
    return out


def test_fires_only_after_window_agreeing_checks_in_a_row() -> None:
    base = np.random.default_rng(0).integers(0, 3, 1000)
    rule = StabilizingPredictions(threshold=0.99, window=3)
    fired = [
        rule.update(p)
        for p in (
            _changed(base, 300),  # first check: nothing to compare
            _changed(base, 100),  # kappa well below .99
            base,  # agreeing checks from here ...
            base,
            _changed(base, 50),  # ... broken by a change
            _changed(base, 50),
            _changed(base, 50),
            _changed(base, 52),  # 3 in a row >= .99: stop
            _changed(base, 300),  # stays stopped
        )
    ]
    assert fired == [False] * 7 + [True, True]
    assert rule.stopped_
    assert len(rule.kappas_) == 8
    assert rule.streak == 0  # the last check disagreed


def test_mean_rule_averages_the_window() -> None:
    base = np.random.default_rng(1).integers(0, 3, 1000)
    consecutive = StabilizingPredictions(threshold=0.99, window=2)
    mean = StabilizingPredictions(threshold=0.99, window=2, rule="mean")
    for p in (base, base, _changed(base, 10)):  # kappas 1.0 then ~0.985: mean ~0.993
        consecutive.update(p)
        mean.update(p)
    assert mean.stopped_ and not consecutive.stopped_


def test_summary_is_json_and_state_round_trips() -> None:
    base = np.arange(40) % 4
    rule = StabilizingPredictions(threshold=0.9, window=2)
    rule.update(_changed(base, 10))
    rule.update(base)
    summary = rule.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["checks"] == 2 and summary["stop"] is False and summary["stop_set_size"] == 40
    restored = StabilizingPredictions.from_dict(json.loads(json.dumps(rule.to_dict())))
    for p in (base, base):
        assert restored.update(p) == rule.update(p)
    assert restored.summary() == rule.summary()
    assert restored.stopped_


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0.0}, {"threshold": 1.5}, {"window": 0}, {"rule": "median"}],
)
def test_bad_settings_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(SchemaError):
        StabilizingPredictions(**kwargs)  # type: ignore[arg-type]


def test_stop_set_is_seeded_sorted_and_unlabeled() -> None:
    labeled = np.arange(0, 1000, 2)
    a = stop_set(1000, size=100, labeled=labeled, rng=3)
    assert a.tolist() == stop_set(1000, size=100, labeled=labeled, rng=3).tolist()
    assert len(set(a.tolist())) == 100 and (a % 2 == 1).all()
    assert (np.diff(a) > 0).all()
    assert stop_set(10, size=100, labeled=np.ones(10, dtype=bool)).size == 0
    assert stop_set(10, size=100).size == 10
