"""Likely label errors: out-of-fold probabilities, then confident learning (cleanlab).

Two steps, arrays in and arrays out:

1. :func:`out_of_fold_proba` fits a classifier (by default the in-the-loop
   :class:`~goldsmith.models.classifier.LoopClassifier`) on ``n_folds - 1`` folds and
   predicts the held-out one, so no item is scored by a model that saw its own label.
2. :func:`find_issues` hands those probabilities to :func:`cleanlab.filter.find_label_issues`
   and ranks what it flags by :func:`cleanlab.rank.get_label_quality_scores`.

>>> import numpy as np
>>> labels = np.array([0, 0, 0, 1, 1, 1])
>>> P = np.array([[.9, .1], [.8, .2], [.1, .9], [.2, .8], [.1, .9], [.3, .7]])
>>> issues = find_issues(labels, P)
>>> issues.indices.tolist(), issues.suggested[issues.indices].tolist()
([2], [1])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.models.classifier import LoopClassifier

if TYPE_CHECKING:
    import cleanlab.filter as _cl_filter
    import cleanlab.rank as _cl_rank
else:
    _cl_filter = lazy_module("cleanlab.filter")
    _cl_rank = lazy_module("cleanlab.rank")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FilterBy = Literal[
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
]
RankBy = Literal["self_confidence", "normalized_margin", "confidence_weighted_entropy"]

__all__ = ["LabelIssues", "find_issues", "out_of_fold_proba", "stratified_folds"]


class ProbabilisticClassifier(Protocol):
    """What :func:`out_of_fold_proba` needs of a model: ``fit`` and ``predict_proba``."""

    def fit(self, X: Any, y: Any) -> Any: ...

    def predict_proba(self, X: Any) -> Any: ...


def stratified_folds(y: npt.ArrayLike, n_folds: int, *, seed: int = 0) -> IntArray:
    """A fold index per item: each class spread evenly over the folds, in a seeded order.

    Unlike :class:`sklearn.model_selection.StratifiedKFold` this never warns: a class with
    fewer members than folds simply lands in fewer folds.

    >>> stratified_folds([0, 0, 0, 0, 1, 1, 2], 2, seed=1).tolist()
    [0, 1, 0, 1, 1, 0, 0]
    """
    Y = np.asarray(y)
    if n_folds < 2:
        raise SchemaError(f"n_folds must be at least 2, got {n_folds}")
    perm = np.random.default_rng(seed).permutation(Y.shape[0])
    order = perm[np.argsort(Y[perm], kind="stable")]  # grouped by class, shuffled within
    folds = np.empty(Y.shape[0], dtype=np.int64)
    folds[order] = np.arange(Y.shape[0]) % n_folds  # round robin: even per class and fold
    return folds


def out_of_fold_proba(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    n_folds: int = 5,
    n_classes: int | None = None,
    model_factory: Callable[[], ProbabilisticClassifier] | None = None,
    seed: int = 0,
) -> FloatArray:
    """Held-out class probabilities for every item, by stratified ``n_folds``-fold fitting.

    Parameters
    ----------
    X
        Features ``(n, d)``, e.g. embeddings.
    y
        Given labels ``(n,)``, class indices ``0 .. k - 1``.
    n_folds
        Number of folds (at most ``n``). A class with fewer members than folds is missing from
        some training folds; the default model then gives it probability 0 there.
    n_classes
        Number of classes ``k``; defaults to the largest label + 1.
    model_factory
        Zero-argument callable returning a fresh unfitted model with ``fit`` and
        ``predict_proba``. Its columns follow its ``classes_`` when it has them (as
        scikit-learn models do), else they must be the ``k`` classes. Default:
        ``LoopClassifier(n_classes=k, random_state=seed)``.
    seed
        Seed of the fold split (and of the default model).

    Returns
    -------
    ndarray of shape (n, k)
        Rows sum to one.
    """
    Xa = np.asarray(X, dtype=np.float64)
    Y = _check_labels(y, n_classes)
    k = int(Y.max(initial=0)) + 1 if n_classes is None else n_classes
    if Xa.ndim != 2 or Xa.shape[0] != Y.shape[0]:
        raise SchemaError(f"X must be (n, d) with one row per label; got {Xa.shape}, {Y.shape}")
    if Y.shape[0] < 2:
        raise SchemaError("out-of-fold probabilities need at least 2 items")

    def default() -> ProbabilisticClassifier:
        return LoopClassifier(n_classes=k, random_state=seed)

    make = model_factory or default
    folds = stratified_folds(Y, min(n_folds, Y.shape[0]), seed=seed)
    out = np.zeros((Y.shape[0], k))
    for f in np.unique(folds):
        test = folds == f
        model = make().fit(Xa[~test], Y[~test])
        proba = np.asarray(model.predict_proba(Xa[test]), dtype=np.float64)
        cols = np.asarray(getattr(model, "classes_", np.arange(k)), dtype=np.int64)
        if proba.shape[1] != cols.size or (cols.size and cols.max() >= k):
            raise SchemaError(f"the model gave {proba.shape[1]} columns for {k} classes")
        out[np.ix_(test, cols)] = proba
    total = out.sum(axis=1, keepdims=True)
    return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / k)


@dataclass(frozen=True)
class LabelIssues:
    """Items whose given label looks wrong.

    Attributes
    ----------
    indices : (n_issues,) int
        Flagged items, most likely wrong first (lowest quality first).
    quality : (n,) float
        Label quality score of every item in ``[0, 1]``; lower = more likely wrong.
    is_issue : (n,) bool
        Whether each item is flagged.
    suggested : (n,) int
        The class the probabilities favour, a candidate correction.
    thin_classes : (n_thin,) int
        Classes given to at most ``min_examples_per_class`` items: cleanlab does not prune
        their items, so their issues may be under-flagged (it warns; we report them here).
    """

    indices: IntArray
    quality: FloatArray
    is_issue: BoolArray
    suggested: IntArray
    thin_classes: IntArray


def find_issues(
    labels: npt.ArrayLike,
    pred_probs: npt.ArrayLike,
    *,
    filter_by: FilterBy = "prune_by_noise_rate",
    rank_by: RankBy = "self_confidence",
    min_examples_per_class: int = 1,
    n_jobs: int | None = 1,
) -> LabelIssues:
    """Flag likely label errors with confident learning and rank them by label quality.

    Parameters
    ----------
    labels
        Given labels ``(n,)``, class indices ``0 .. k - 1``.
    pred_probs
        Out-of-sample probabilities ``(n, k)`` (see :func:`out_of_fold_proba`); in-sample
        probabilities have seen the labels and hide their errors.
    filter_by, min_examples_per_class
        Passed to :func:`cleanlab.filter.find_label_issues`.
    rank_by
        Score of :func:`cleanlab.rank.get_label_quality_scores` for ``quality`` and the order
        of ``indices``.
    n_jobs
        Processes cleanlab may use (1: none; ``None``: one per core).
    """
    P = np.asarray(pred_probs, dtype=np.float64)
    if P.ndim != 2:
        raise SchemaError(f"pred_probs must be (n, k), got shape {P.shape}")
    Y = _check_labels(labels, P.shape[1])
    if P.shape[0] != Y.shape[0]:
        raise SchemaError(f"got {Y.shape[0]} labels for {P.shape[0]} rows of pred_probs")
    if not np.all(np.isfinite(P)) or (P < 0).any():
        raise SchemaError("pred_probs must be finite and non-negative")
    n, k = P.shape
    suggested = np.argmax(P, axis=1).astype(np.int64) if k else np.zeros(n, dtype=np.int64)
    thin = np.flatnonzero(np.bincount(Y, minlength=k) <= min_examples_per_class)
    if n == 0 or k < 2:  # nothing to confuse a label with
        none = np.zeros(0, np.int64)
        return LabelIssues(none, np.ones(n), np.zeros(n, bool), suggested, thin.astype(np.int64))
    P = P / np.maximum(P.sum(axis=1, keepdims=True), 1e-300)
    quality = np.asarray(_cl_rank.get_label_quality_scores(Y, P, method=rank_by), dtype=np.float64)
    with warnings.catch_warnings():  # the thin classes, reported in the result instead
        warnings.filterwarnings("ignore", "May not flag all label issues", UserWarning)
        found = _cl_filter.find_label_issues(
            Y,
            P,
            filter_by=filter_by,
            min_examples_per_class=min_examples_per_class,
            n_jobs=n_jobs,
        )
    mask = np.asarray(found, dtype=bool)
    flagged = np.flatnonzero(mask)
    indices = flagged[np.argsort(quality[flagged], kind="stable")].astype(np.int64)
    return LabelIssues(indices, quality, mask, suggested, thin.astype(np.int64))


def _check_labels(labels: npt.ArrayLike, k: int | None) -> IntArray:
    Y = np.asarray(labels)
    if Y.ndim != 1 or (Y.size and not np.issubdtype(Y.dtype, np.integer)):
        raise SchemaError(f"labels must be 1-D class indices, got shape {Y.shape}, {Y.dtype}")
    if Y.size and (Y.min() < 0 or (k is not None and Y.max() >= k)):
        hi = "k - 1" if k is None else str(k - 1)
        raise SchemaError(f"labels must lie in 0..{hi}; drop unlabeled (-1) items first")
    return Y.astype(np.int64, copy=False)
