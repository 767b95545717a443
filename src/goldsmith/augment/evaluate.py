"""Does augmentation help? Train with and without the synthetic examples and compare.

For each repeat a stratified, seeded test split of the *real* records is held out (the
simulator's :func:`~goldsmith.active.simulate.holdout_split`); ``budget`` pool records are
labeled at random (nested across budgets); one model trains on them alone and one on them
plus the synthetic examples whose parent is among them. Synthetic examples are never scored
and never stand in for a test record: one whose parent is in the test split is never used.
The difference in held-out macro-F1 is paired per repeat, and its 95 % interval is a
percentile bootstrap over the repeats. A method that does not help shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.active.simulate import Classifier, default_model, holdout_split
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import sklearn.metrics as _metrics
else:
    _metrics = lazy_module("sklearn.metrics")


@dataclass(frozen=True)
class AugmentEvalRow:
    """One budget: mean macro-F1 without and with synthetic data, and their difference."""

    budget: int
    repeats: int
    synthetic_used: float  # mean synthetic examples added per repeat
    f1_real: float
    f1_augmented: float
    diff: float
    ci_low: float
    ci_high: float

    def __str__(self) -> str:
        return (
            f"{self.budget:>5} labels  +{self.synthetic_used:6.1f} syn  F1 {self.f1_real:.3f} -> "
            f"{self.f1_augmented:.3f}  diff {self.diff:+.3f} "
            f"[{self.ci_low:+.3f}, {self.ci_high:+.3f}]"
        )


def _f1(model: Classifier, X: npt.NDArray[np.float64], y: npt.NDArray[np.intp], k: int) -> float:
    pred = np.asarray(model.predict_proba(X)).argmax(axis=1)
    return float(_metrics.f1_score(y, pred, labels=np.arange(k), average="macro", zero_division=0))


def evaluate_augmentation(
    X_real: npt.ArrayLike,
    y_real: npt.ArrayLike,
    X_syn: npt.ArrayLike,
    y_syn: npt.ArrayLike,
    parent_index: npt.ArrayLike,
    *,
    budgets: Sequence[int] = (50, 100, 200),
    repeats: int = 10,
    seed: int = 0,
    test_size: float = 0.2,
    n_classes: int | None = None,
    model_factory: Callable[..., Classifier] | None = None,
    n_boot: int = 2000,
) -> list[AugmentEvalRow]:
    """Held-out macro-F1 with and without synthetic examples, per label budget.

    Parameters
    ----------
    X_real, y_real : arrays, shapes (n, d) and (n,)
        Embeddings and gold class indices of the real records.
    X_syn, y_syn : arrays, shapes (m, d) and (m,)
        Embeddings and intended class indices of the synthetic examples.
    parent_index : array of int, shape (m,)
        Row in ``X_real`` of each synthetic example's parent.
    budgets : sequence of int
        Real labels to train on.
    repeats, seed : int
        Paired repeats (splits and labeled sets differ per repeat), all derived from ``seed``.
    model_factory : callable, optional
        ``model_factory(n_classes=k)``; default the in-the-loop classifier.
    n_boot : int
        Bootstrap resamples of the per-repeat differences.

    Returns
    -------
    list of AugmentEvalRow
        One row per budget that fits in the pool.
    """
    Xr, yr = np.asarray(X_real, dtype=np.float64), np.asarray(y_real, dtype=np.intp)
    Xs, ys = np.asarray(X_syn, dtype=np.float64), np.asarray(y_syn, dtype=np.intp)
    parents = np.asarray(parent_index, dtype=np.intp)
    if len(Xr) != len(yr) or not len(Xs) == len(ys) == len(parents):
        raise SchemaError("X_real/y_real and X_syn/y_syn/parent_index must have matching lengths")
    if len(Xs) and Xs.shape[1] != Xr.shape[1]:
        raise SchemaError("real and synthetic embeddings must have the same width")
    if len(parents) and (parents.min() < 0 or parents.max() >= len(yr)):
        raise SchemaError("parent_index must point at rows of X_real")
    if repeats < 2:
        raise SchemaError("need at least 2 repeats for a confidence interval")
    k = int(n_classes or max(int(yr.max()), int(ys.max()) if len(ys) else 0) + 1)
    factory = model_factory or default_model
    diffs: dict[int, list[tuple[float, float, int]]] = {b: [] for b in budgets}
    for r in range(repeats):
        rng = np.random.default_rng([seed, r])
        pool, test = holdout_split(yr, test_size, rng)
        order = rng.permutation(pool)
        for b in budgets:
            if b > len(pool):
                continue
            labeled = order[:b]
            use = np.isin(parents, labeled) & ~np.isin(parents, test)
            base = factory(n_classes=k).fit(Xr[labeled], yr[labeled])
            aug = factory(n_classes=k).fit(
                np.vstack([Xr[labeled], Xs[use]]), np.concatenate([yr[labeled], ys[use]])
            )
            diffs[b].append(
                (_f1(base, Xr[test], yr[test], k), _f1(aug, Xr[test], yr[test], k), int(use.sum()))
            )
    rows = []
    boot = np.random.default_rng([seed, 7])
    for b in budgets:
        if not diffs[b]:
            continue
        a = np.array(diffs[b], dtype=np.float64)
        d = a[:, 1] - a[:, 0]
        means = d[boot.integers(len(d), size=(n_boot, len(d)))].mean(axis=1)
        lo, hi = np.percentile(means, [2.5, 97.5])
        rows.append(
            AugmentEvalRow(
                budget=b,
                repeats=len(d),
                synthetic_used=float(a[:, 2].mean()),
                f1_real=float(a[:, 0].mean()),
                f1_augmented=float(a[:, 1].mean()),
                diff=float(d.mean()),
                ci_low=float(lo),
                ci_high=float(hi),
            )
        )
    return rows
