"""``--model auto``: pick the label model that labels a gold set best.

Every candidate is scored by K-fold cross-fitting on the gold (dev) set: for each fold it is
fitted on the unlabeled matrix plus the other folds of the gold set and scored on the held
out fold, so a model that learns from gold is never scored on gold it has seen. The winner
is then refitted on the unlabeled matrix and the whole gold set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from goldsmith.errors import RegistryError, SchemaError
from goldsmith.weak.label_models._base import BaseLabelModel, IntArray, TieBreak
from goldsmith.weak.label_models.dawid_skene import DawidSkene
from goldsmith.weak.label_models.label_model import LabelModel
from goldsmith.weak.label_models.majority import MajorityVote
from goldsmith.weak.matrix import LabelMatrix, check_labels, check_matrix

ModelFactory = Callable[[int, int], BaseLabelModel]
"""Builds an unfitted model from ``(cardinality, seed)``."""

Metric = Callable[[IntArray, IntArray], float]
"""Scores predictions against gold: ``metric(y_true, y_pred)``, higher is better."""


def _majority(k: int, seed: int) -> BaseLabelModel:
    return MajorityVote(k, seed=seed)


def _dawid_skene(k: int, seed: int) -> BaseLabelModel:
    return DawidSkene(k, seed=seed)


def _label_model(k: int, seed: int) -> BaseLabelModel:
    return LabelModel(k, seed=seed)


def _label_model_bayes(k: int, seed: int) -> BaseLabelModel:
    return LabelModel(k, seed=seed, decoding="bayes")


CANDIDATES: Mapping[str, ModelFactory] = {
    "majority": _majority,
    "dawid-skene": _dawid_skene,
    "label-model": _label_model,
    "label-model-bayes": _label_model_bayes,
}
"""The built-in candidates of ``--model auto``, by name (also the names ``--model`` takes)."""


def accuracy(y_true: IntArray, y_pred: IntArray) -> float:
    """Fraction of records whose prediction equals the gold label."""
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


@dataclass(frozen=True)
class Selection:
    """The outcome of :func:`select_model`."""

    name: str
    """Name of the winning candidate."""
    model: BaseLabelModel
    """The winner, refitted on ``L_train`` and the whole gold set."""
    scores: dict[str, float] = field(default_factory=dict)
    """Cross-fitted metric of every candidate on the gold set."""


def make_model(name: str, cardinality: int, *, seed: int = 0) -> BaseLabelModel:
    """Build the built-in candidate called ``name``.

    Raises
    ------
    RegistryError
        For an unknown name; the message lists the known ones.
    """
    try:
        factory = CANDIDATES[name]
    except KeyError:
        known = ", ".join(sorted(CANDIDATES))
        raise RegistryError(f"unknown label model {name!r}; known: {known}, auto") from None
    return factory(cardinality, seed)


def select_model(
    L_train: LabelMatrix,
    L_dev: LabelMatrix,
    y_dev: npt.ArrayLike,
    *,
    cardinality: int,
    candidates: Mapping[str, ModelFactory] | None = None,
    metric: Metric = accuracy,
    n_folds: int = 5,
    tie_break: TieBreak = "random",
    seed: int = 0,
) -> Selection:
    """Pick the candidate with the best cross-fitted ``metric`` on the gold set.

    Parameters
    ----------
    L_train
        Label matrix of the unlabeled records.
    L_dev, y_dev
        Label matrix and gold classes of the labeled records (``-1`` = unknown, dropped).
    cardinality
        Number of classes ``k``.
    candidates
        Name to factory; defaults to :data:`CANDIDATES`. Ties go to the earlier candidate.
    metric
        ``metric(y_true, y_pred)``; accuracy by default.
    n_folds
        Folds of the gold set (at most its size).
    tie_break, seed
        Passed to ``predict``; ``seed`` also seeds the models and the folds.
    """
    S_train = check_matrix(L_train, cardinality)
    S_dev = check_matrix(L_dev, cardinality, name="L_dev")
    y = check_labels(y_dev, cardinality, n=S_dev.shape[0])
    keep = np.flatnonzero(y >= 0)
    if keep.size < 2:
        raise SchemaError("select_model needs at least 2 gold labels in y_dev")
    S_dev, y = S_dev[keep], y[keep]
    pool = dict(CANDIDATES if candidates is None else candidates)
    if not pool:
        raise SchemaError("select_model needs at least one candidate")
    folds = np.array_split(np.random.default_rng(seed).permutation(y.size), min(n_folds, y.size))
    scores: dict[str, float] = {}
    for name, factory in pool.items():
        pred = np.empty(y.size, dtype=np.int64)
        for held in folds:
            train = np.setdiff1d(np.arange(y.size), held)
            model = factory(cardinality, seed)
            model.fit(S_train, L_dev=S_dev[train], Y_dev=y[train])  # type: ignore[attr-defined]
            pred[held] = model.predict(S_dev[held], tie_break=tie_break, seed=seed)
        scores[name] = metric(y, pred)
    best = max(pool, key=lambda name: (scores[name], -list(pool).index(name)))
    winner = pool[best](cardinality, seed)
    winner.fit(S_train, L_dev=S_dev, Y_dev=y)  # type: ignore[attr-defined]
    return Selection(name=best, model=winner, scores=scores)
