"""``coverage`` and the default strategy ``auto``: coverage while labels are few, then
uncertainty with diversity.

* ``coverage`` labels the typical record of each region the labels do not cover yet
  (:func:`~goldsmith.active.coverage.typical_picks`): the low-budget regime, where a model
  trained on a handful of labels cannot yet say what it does not know.
* ``auto`` is budget-aware. Of each batch it takes a share by coverage that falls linearly
  from all of it (no labels) to none at ``per_class`` labels per class, and the rest as
  ``hybrid`` does: the most uncertain records under the balanced decision rule, spread
  round-robin over embedding clusters.

The hand-off (``per_class=10``) was set on development splits of the medical abstracts and
the financial phrasebank (other seeds than the benchmark's test split), never on a test set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from goldsmith.active.base import IntArray, Pool, QueryStrategy
from goldsmith.active.coverage import typical_picks
from goldsmith.active.hybrid import HybridStrategy
from goldsmith.errors import SchemaError

__all__ = ["AutoStrategy", "CoverageStrategy"]

BATCH = 100
"""Head length ordered when no batch size is given (the queue's retrain batch)."""


def _head(pool: Pool, n: int, rng: np.random.Generator) -> IntArray:
    assert pool.embeddings is not None
    return typical_picks(pool.embeddings, n, labeled=pool.labeled, rng=rng)


def _rest(pool: Pool, head: IntArray, rng: np.random.Generator) -> IntArray:
    taken = np.zeros(pool.n_rows, dtype=bool)
    taken[head] = True
    if pool.labeled is not None:
        taken |= pool.labeled
    return rng.permutation(np.flatnonzero(~taken)).astype(np.intp)


class CoverageStrategy(QueryStrategy):
    """Typical records of the least-covered clusters of the embeddings (TypiClust-style);
    past the batch, the other records in random order."""

    name = "coverage"
    needs = frozenset({"embeddings"})
    description = "typical records of uncovered embedding regions (low budgets)"
    caveat = (
        "more than one std below random at some budgets past the first hundred labels on the "
        "all-agree phrasebank and the medical abstracts (AULC 0.997x and 0.995x random's, "
        "bench/RESULTS.md); auto uses it only while labels are few"
    )

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        head = _head(pool, n or BATCH, rng)
        return np.concatenate([head, _rest(pool, head, rng)]).astype(np.intp)

    def pick(self, pool: Pool, n: int, *, rng: np.random.Generator) -> IntArray:
        return _head(pool, n, rng)


class AutoStrategy(QueryStrategy):
    """Coverage while labels are few, handing over to uncertainty with diversity.

    Parameters
    ----------
    per_class : float
        Labels per class at which coverage's share of a batch reaches 0.
    """

    name = "auto"
    needs = frozenset({"proba", "embeddings"})
    description = "coverage while labels are few, then uncertainty across clusters (default)"

    def __init__(self, *, per_class: float = 10.0) -> None:
        if per_class <= 0:
            raise SchemaError(f"per_class must be > 0, got {per_class}")
        self.per_class = per_class
        self.hybrid = HybridStrategy()

    def coverage_share(self, pool: Pool) -> float:
        """Share of the next batch picked by coverage."""
        assert pool.proba is not None
        n_labeled = pool.n_rows - pool.n_unlabeled
        return float(np.clip(1.0 - n_labeled / (self.per_class * pool.proba.shape[1]), 0, 1))

    def shortlist_scores(self, pool: Pool, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        """The uncertainty (as ``hybrid``): a large queue is shortlisted by it."""
        return np.asarray(self.hybrid.shortlist_scores(pool, rng), dtype=np.float64)

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        batch = n or BATCH
        m = min(int(round(self.coverage_share(pool) * batch)), pool.n_unlabeled)
        head = _head(pool, m, rng) if m else np.empty(0, dtype=np.intp)
        if head.size == pool.n_unlabeled:
            return head
        labeled = np.zeros(pool.n_rows, dtype=bool)
        if pool.labeled is not None:
            labeled |= pool.labeled
        labeled[head] = True
        rest = Pool(pool.n_rows, labeled, pool.proba, pool.embeddings, pool.committee)
        tail = self.hybrid.order(rest, n=max(batch - m, 1), rng=rng)
        return np.concatenate([head, tail]).astype(np.intp)
