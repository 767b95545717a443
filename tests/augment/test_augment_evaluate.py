"""The with/without evaluation: synthetic examples never reach the test split; CIs come out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from goldsmith.augment import evaluate_augmentation
from goldsmith.errors import SchemaError
from goldsmith.models.classifier import LoopClassifier

SYN_MARK = 1000.0  # synthetic rows carry this in their last column


class Spy:
    """The in-the-loop classifier, logging what it is fitted on and asked about."""

    log: list[tuple[str, np.ndarray[Any, Any]]] = []

    def __init__(self, *, n_classes: int) -> None:
        self.model = LoopClassifier(n_classes=n_classes)

    def fit(self, X: Any, y: Any) -> Spy:
        Spy.log.append(("fit", np.asarray(X)))
        self.model.fit(np.asarray(X)[:, :-1], y)
        return self

    def predict_proba(self, X: Any) -> Any:
        Spy.log.append(("predict", np.asarray(X)))
        return self.model.predict_proba(np.asarray(X)[:, :-1])


def data(seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], 60)
    X = rng.normal(size=(180, 4)) + 1.5 * np.eye(3, 4)[y]
    X = np.hstack([X, np.arange(180)[:, None].astype(float)])  # the last column: row id
    parents = np.repeat(np.arange(180), 2)
    Xs = X[parents] + rng.normal(scale=0.3, size=(360, 5))
    Xs[:, -1] = SYN_MARK + parents
    return X, y, Xs, y[parents], parents


def test_synthetic_never_in_test_and_only_from_labeled_parents() -> None:
    X, y, Xs, ys, parents = data()
    Spy.log = []
    rows = evaluate_augmentation(
        X, y, Xs, ys, parents, budgets=(30, 60), repeats=3, model_factory=Spy
    )
    assert [r.budget for r in rows] == [30, 60]
    fits = [x for kind, x in Spy.log if kind == "fit"]
    predicts = [x for kind, x in Spy.log if kind == "predict"]
    for x in predicts:
        assert (x[:, -1] < SYN_MARK).all()  # never a synthetic row scored
    for base, aug in zip(fits[::2], fits[1::2], strict=True):
        real_ids = set(base[:, -1].astype(int))
        syn = aug[aug[:, -1] >= SYN_MARK]
        assert len(syn) == 2 * len(real_ids)  # both children of every labeled parent
        assert set((syn[:, -1] - SYN_MARK).astype(int)) == real_ids
    for x, fit in zip(predicts[::2], fits[::2], strict=True):
        assert not set(x[:, -1].astype(int)) & set(fit[:, -1].astype(int))


def test_reports_a_ci_and_an_honest_null() -> None:
    X, y, Xs, ys, parents = data(1)
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 3, size=len(ys))  # labels that carry no signal: must not help
    rows = evaluate_augmentation(
        X[:, :-1], y, Xs[:, :-1], noise, parents, budgets=(30,), repeats=6, seed=2
    )
    (row,) = rows
    assert row.ci_low <= row.diff <= row.ci_high
    assert row.ci_low < 0.0  # label noise cannot be shown to help
    assert row.synthetic_used == 60 and "diff" in str(row)
    with pytest.raises(SchemaError, match="repeats"):
        evaluate_augmentation(X, y, Xs, ys, parents, repeats=1)
