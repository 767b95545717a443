"""Diagnostics of labeling functions from the label matrix, vectorised over sparse ``L``.

Per LF: coverage (share of records it votes on), overlaps (share where it and another LF
vote), conflicts (share where another LF votes a different label), polarity (the labels it
emits), and empirical accuracy against known labels (gold, and separately human labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")


@dataclass(slots=True)
class LFStats:
    lf: str
    polarity: list[str]
    coverage: float
    overlaps: float
    conflicts: float
    n_votes: int
    gold_n: int  # votes on records with a gold label
    gold_accuracy: float | None
    human_n: int
    human_accuracy: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _accuracy(
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    votes: npt.NDArray[np.int64],
    y: npt.NDArray[np.int64] | None,
    m: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Per LF: votes on records with a known label, and the share of those that are right."""
    if y is None:
        return np.zeros(m, dtype=np.int64), np.full(m, np.nan)
    known = y[rows] >= 0
    n = np.bincount(cols[known], minlength=m)
    right = np.bincount(cols[known], weights=(votes[known] == y[rows][known]), minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n, np.where(n > 0, right / np.maximum(n, 1), np.nan)


def lf_summary(
    L: sp.csr_matrix,
    lfs: list[str],
    labels: list[str],
    *,
    gold: npt.NDArray[np.int64] | None = None,
    human: npt.NDArray[np.int64] | None = None,
) -> list[LFStats]:
    """Diagnostics of each column of ``L`` (entries ``label + 1``; 0 = abstain).

    ``gold`` and ``human`` hold the known label index of each row, or -1.
    """
    n, m = L.shape
    L = sp.csr_matrix(L)
    L.eliminate_zeros()
    per_row = np.diff(L.indptr)
    conflict = np.zeros(n, dtype=bool)
    if L.nnz:
        nonempty = per_row > 0
        starts = L.indptr[:-1][nonempty]
        low = np.minimum.reduceat(L.data, starts)
        high = np.maximum.reduceat(L.data, starts)
        conflict[nonempty] = low != high
    # one entry per vote: its row, column (LF) and label index; no sparse format conversions
    rows = np.repeat(np.arange(n, dtype=np.int64), per_row)
    cols = L.indices.astype(np.int64)
    votes = L.data.astype(np.int64) - 1
    coverage = np.bincount(cols, minlength=m)
    overlaps = np.bincount(cols, weights=(per_row >= 2)[rows], minlength=m)
    conflicts = np.bincount(cols, weights=conflict[rows], minlength=m)
    k = len(labels)
    emitted = np.bincount(cols * k + votes, minlength=m * k).reshape(m, k) > 0
    gold_n, gold_acc = _accuracy(rows, cols, votes, gold, m)
    human_n, human_acc = _accuracy(rows, cols, votes, human, m)
    denominator = max(n, 1)
    out = []
    for j, name in enumerate(lfs):
        out.append(
            LFStats(
                lf=name,
                polarity=[labels[int(c)] for c in np.flatnonzero(emitted[j])],
                coverage=round(float(coverage[j]) / denominator, 4),
                overlaps=round(float(overlaps[j]) / denominator, 4),
                conflicts=round(float(conflicts[j]) / denominator, 4),
                n_votes=int(coverage[j]),
                gold_n=int(gold_n[j]),
                gold_accuracy=None if np.isnan(gold_acc[j]) else round(float(gold_acc[j]), 4),
                human_n=int(human_n[j]),
                human_accuracy=None if np.isnan(human_acc[j]) else round(float(human_acc[j]), 4),
            )
        )
    return out


def totals(L: sp.csr_matrix) -> dict[str, float]:
    """Coverage, overlap and conflict of the LF set as a whole (shares of records)."""
    n = max(L.shape[0], 1)
    L = sp.csr_matrix(L)
    L.eliminate_zeros()
    per_row = np.diff(L.indptr)
    conflicted = 0
    if L.nnz:
        starts = L.indptr[:-1][per_row > 0]
        conflicted = int(
            (np.minimum.reduceat(L.data, starts) != np.maximum.reduceat(L.data, starts)).sum()
        )
    return {
        "coverage": round(float((per_row > 0).sum()) / n, 4),
        "overlap": round(float((per_row >= 2).sum()) / n, 4),
        "conflict": round(conflicted / n, 4),
    }
