"""Consensus labels from several responses per item: majority vote or Dawid-Skene.

Both take a response matrix ``R`` ``(n_items, n_annotators)`` with ``-1`` = no response (see
:mod:`goldsmith.quality.annotators`) and return a :class:`Resolution`: a label, a confidence
and the method that decided, per item, computed for all items at once.

Precedence, per item: a reviewer's **override** always wins (confidence 1); then a **gold**
label (confidence 1); then the consensus. An item with fewer than ``min_votes`` responses
gets no label (``-1``, method ``"none"``).

Ties (several classes share the top vote count, or the top posterior within ``1e-9``):

* ``ties="abstain"`` (default): no label (``-1``, method ``"tie"``), so a person decides;
* ``ties="lowest"``: the lowest class index among the tied ones;
* ``ties="random"``: a uniformly random one among the tied ones (seeded).

>>> R = [[0, 0, 1], [1, 0, -1], [2, 2, 2]]
>>> r = majority(R)
>>> r.label.tolist(), r.confidence.round(2).tolist(), r.method.tolist()
([0, -1, 2], [0.67, 0.5, 1.0], ['majority', 'tie', 'majority'])
>>> majority(R, ties="lowest", overrides=[-1, -1, 1]).label.tolist()
[0, 0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.quality.annotators import annotator_confusions, check_responses

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
Ties = Literal["abstain", "lowest", "random"]

TIE_TOLERANCE = 1e-9

__all__ = ["Resolution", "dawid_skene", "majority"]


@dataclass(frozen=True)
class Resolution:
    """Consensus per item.

    Attributes
    ----------
    label : (n_items,) int
        The resolved class, ``-1`` where none (tie under ``ties="abstain"``, too few votes).
    confidence : (n_items,) float
        Majority: the winner's share of the votes (the tied share on a tie). Dawid-Skene: the
        posterior probability of the label (its top posterior on a tie). 1 for overrides and
        gold, 0 where there are fewer than ``min_votes`` responses.
    method : (n_items,) str
        ``"override"``, ``"gold"``, ``"majority"``, ``"dawid_skene"``, ``"tie"`` or ``"none"``.
    """

    label: IntArray
    confidence: FloatArray
    method: StrArray


def majority(
    responses: npt.ArrayLike,
    *,
    n_classes: int | None = None,
    ties: Ties = "abstain",
    min_votes: int = 1,
    gold: npt.ArrayLike | None = None,
    overrides: npt.ArrayLike | None = None,
    seed: int = 0,
) -> Resolution:
    """Majority vote per item; ``confidence`` is the winner's share of the votes.

    Parameters
    ----------
    responses
        Response matrix ``(n_items, n_annotators)``, ``-1`` = no response.
    n_classes
        Number of classes; defaults to the largest label seen + 1.
    ties
        ``"abstain"``, ``"lowest"`` or ``"random"`` (see the module docstring).
    min_votes
        Items with fewer responses get no label.
    gold, overrides
        Label per item (``-1`` = none) that replaces the vote (see the module docstring).
    seed
        Seed of ``ties="random"``.
    """
    R, G, k = check_responses(responses, gold, n_classes=n_classes)
    ovr = _overrides(overrides, R.shape[0], k)
    V = np.zeros((R.shape[0], k))
    rows, cols = np.nonzero(R >= 0)
    np.add.at(V, (rows, R[rows, cols]), 1.0)
    total = V.sum(axis=1)
    share = V / np.maximum(total, 1.0)[:, None]
    return _decide(share, total, "majority", G, ovr, ties=ties, min_votes=min_votes, seed=seed)


def dawid_skene(
    responses: npt.ArrayLike,
    *,
    n_classes: int | None = None,
    ties: Ties = "abstain",
    min_votes: int = 1,
    gold: npt.ArrayLike | None = None,
    overrides: npt.ArrayLike | None = None,
    seed: int = 0,
    max_iter: int = 200,
) -> Resolution:
    """Quality-weighted consensus: the Dawid-Skene posterior over the annotators' answers.

    Each annotator's confusion matrix is estimated from all items (gold items as known
    truth, see :func:`~goldsmith.quality.annotators.annotator_confusions`), so a reliable
    annotator outweighs two careless ones. ``confidence`` is the posterior of the label.
    Parameters as in :func:`majority`; ``max_iter`` bounds the EM iterations.
    """
    R, G, k = check_responses(responses, gold, n_classes=n_classes)
    ovr = _overrides(overrides, R.shape[0], k)
    fit = annotator_confusions(R, gold=G, n_classes=k, seed=seed, max_iter=max_iter)
    total = (R >= 0).sum(axis=1).astype(np.float64)
    return _decide(
        fit.posteriors, total, "dawid_skene", G, ovr, ties=ties, min_votes=min_votes, seed=seed
    )


def _overrides(overrides: npt.ArrayLike | None, n: int, k: int) -> IntArray:
    if overrides is None:
        return np.full(n, -1, dtype=np.int64)
    ovr = np.asarray(overrides)
    if ovr.shape != (n,) or (ovr.size and not np.issubdtype(ovr.dtype, np.integer)):
        raise SchemaError(f"overrides must be {n} label indices (-1 = no override)")
    if ((ovr < -1) | (ovr >= k)).any():
        raise SchemaError(f"overrides must lie in -1..{k - 1}; pass n_classes if needed")
    return ovr.astype(np.int64, copy=False)


def _decide(
    score: FloatArray,
    total: FloatArray,
    method: str,
    gold: IntArray,
    overrides: IntArray,
    *,
    ties: Ties,
    min_votes: int,
    seed: int,
) -> Resolution:
    """Labels from per-class scores under the tie, vote, gold and override rules."""
    if ties not in ("abstain", "lowest", "random"):
        raise SchemaError(f"ties must be 'abstain', 'lowest' or 'random', got {ties!r}")
    n = score.shape[0]
    top = score.max(axis=1, initial=0.0)
    tied = score >= top[:, None] - TIE_TOLERANCE
    is_tie = tied.sum(axis=1) > 1
    if ties == "random":
        keys = np.where(tied, np.random.default_rng(seed).random(score.shape), -1.0)
        label = np.argmax(keys, axis=1).astype(np.int64)
    else:
        label = np.argmax(tied, axis=1).astype(np.int64)  # lowest tied index
    conf = top.astype(np.float64)
    kind = np.full(n, method, dtype="<U11")
    if ties == "abstain":
        label[is_tie] = -1
        kind[is_tie] = "tie"
    few = total < max(min_votes, 1)
    label[few], conf[few], kind[few] = -1, 0.0, "none"
    for fixed, name in ((gold, "gold"), (overrides, "override")):  # later wins
        on = fixed >= 0
        label[on], conf[on], kind[on] = fixed[on], 1.0, name
    return Resolution(label=label, confidence=conf, method=kind)
