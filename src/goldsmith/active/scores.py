"""Informativeness scores: arrays of probabilities in, one score per record out.

Every function returns a float array with one entry per row, where **higher means more
informative** (more worth a human label), so that every score-based strategy picks the
largest scores. They are vectorised over all rows and never sort a whole row: the margin uses
:func:`numpy.partition`, which keeps 1M × 10 under 0.1 s.

>>> import numpy as np
>>> P = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.6, 0.3, 0.1]])
>>> margin_scores(P).round(2).tolist()
[-0.85, -0.05, -0.3]
>>> int(np.argmax(entropy_scores(P)))
1
>>> C = np.array([[[0.9, 0.1], [0.5, 0.5]], [[0.8, 0.2], [0.1, 0.9]]])  # 2 members, 2 rows
>>> vote_entropy(C).round(3).tolist()
[0.0, 0.693]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "SHORTLIST",
    "FloatArray",
    "binary_view",
    "entropy_scores",
    "least_confidence_scores",
    "margin_scores",
    "mean_kl_to_consensus",
    "rank_chunks",
    "vote_entropy",
]

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]

_EPS = 1e-12

SHORTLIST = 100_000
"""Open records a retrain orders at most (see :mod:`goldsmith.active.loop`)."""


def least_confidence_scores(proba: FloatArray) -> FloatArray:
    """``1 - max_k p``: high when even the most likely class is unlikely."""
    return np.asarray(1.0 - proba.max(axis=1))


def margin_scores(proba: FloatArray) -> FloatArray:
    """``-(p_top1 - p_top2)``: high when the two most likely classes are close.

    A single-column matrix has no second class; its margin is taken as ``p`` itself.
    """
    k = proba.shape[1]
    if k == 1:
        return np.asarray(-proba[:, 0])
    top = np.partition(proba, k - 2, axis=1)  # the last two columns are the two largest
    return np.asarray(top[:, -2] - top[:, -1])


def entropy_scores(proba: FloatArray) -> FloatArray:
    """Shannon entropy ``-sum_k p log p`` (nats) of each row."""
    p = np.clip(proba, _EPS, 1.0)
    return np.asarray((proba * -np.log(p)).sum(axis=1))


def vote_entropy(committee: FloatArray) -> FloatArray:
    """Entropy of the members' hard votes, per record (Dagan & Engelson 1995).

    Parameters
    ----------
    committee : ndarray, shape (m, n, k)
        Probabilities from ``m`` members for ``n`` records over ``k`` classes.
    """
    m, n, k = committee.shape
    votes = committee.argmax(axis=2)  # (m, n)
    counts = np.zeros((n, k))
    rows = np.broadcast_to(np.arange(n), (m, n))
    np.add.at(counts, (rows.ravel(), votes.ravel()), 1.0)
    frac = counts / m
    return np.asarray((frac * -np.log(np.clip(frac, _EPS, 1.0))).sum(axis=1))


def mean_kl_to_consensus(committee: FloatArray) -> FloatArray:
    """Mean over members of ``KL(p_member || p_consensus)`` (McCallum & Nigam 1998).

    The consensus is the members' mean distribution. The score is 0 when all members agree
    and at most ``log m``.
    """
    p = np.clip(committee, 0.0, 1.0)
    consensus = p.mean(axis=0, keepdims=True)
    ratio = np.log(np.clip(p, _EPS, 1.0)) - np.log(np.clip(consensus, _EPS, 1.0))
    return np.asarray((p * ratio).sum(axis=2).mean(axis=0))


def binary_view(proba: FloatArray) -> FloatArray:
    """Multi-label probabilities as the two-class matrix of each record's most unsure label.

    For independent per-label probabilities ``(n, k)``, the label whose probability is nearest
    0.5 decides; the result ``(n, 2)`` is ``[p, 1 - p]`` for it, so margin, entropy and least
    confidence all rank records by their most uncertain label.
    """
    idx = np.abs(proba - 0.5).argmin(axis=1)
    p = proba[np.arange(len(proba)), idx]
    return np.stack([p, 1.0 - p], axis=1)


def rank_chunks(
    chunks: Iterable[tuple[npt.NDArray[np.int64], FloatArray]],
) -> npt.NDArray[np.int64]:
    """Record ids ordered by score, highest first, from ``(ids, scores)`` chunks.

    The chunks are consumed one at a time and only their ids (int64) and scores (float32)
    are kept, so ranking ``n`` records holds about ``20 n`` bytes (with the sort) whatever
    the chunks carried: the way to rank millions of records without their probability
    matrix. Ties keep chunk order; a NaN score ranks last.

    >>> chunks = [(np.array([1, 2]), np.array([0.1, 0.9])), (np.array([3]), np.array([0.5]))]
    >>> rank_chunks(chunks).tolist()
    [2, 3, 1]
    """
    ids: list[npt.NDArray[np.int64]] = []
    scores: list[npt.NDArray[np.float32]] = []
    for chunk_ids, chunk_scores in chunks:
        ids.append(np.asarray(chunk_ids, dtype=np.int64))
        scores.append(np.asarray(chunk_scores, dtype=np.float32))
    if not ids:
        return np.zeros(0, dtype=np.int64)
    all_scores = np.concatenate(scores)
    del scores
    all_scores = np.where(np.isnan(all_scores), -np.inf, all_scores)
    order = np.argsort(-all_scores, kind="stable")
    del all_scores
    return np.concatenate(ids)[order]
