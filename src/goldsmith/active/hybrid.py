"""Uncertainty within clusters, in the style of cluster-margin (Citovsky et al. 2021).

Take the ``oversample × n`` most uncertain unlabeled rows (smallest margin), cluster their
embeddings (seeded :class:`~sklearn.cluster.MiniBatchKMeans`), then walk the clusters
round-robin, smallest cluster first, taking each cluster's most uncertain row not yet taken.
A batch so spreads over the regions where the model is unsure instead of piling into one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.active.base import FloatArray, IntArray, Pool, QueryStrategy
from goldsmith.active.scores import margin_scores
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import sklearn.cluster as _cluster
    import sklearn.exceptions as _sk_errors
else:
    _cluster = lazy_module("sklearn.cluster")
    _sk_errors = lazy_module("sklearn.exceptions")

__all__ = ["HybridStrategy", "cluster_labels", "round_robin"]


def round_robin(clusters: npt.NDArray[np.integer], scores: FloatArray) -> IntArray:
    """Positions ordered round-robin across clusters, best score first within each.

    Round ``r`` takes the ``r``-th best row of every cluster that still has one; clusters are
    visited smallest first (ties by cluster id).

    >>> round_robin(np.array([0, 0, 0, 1, 1, 2]), np.array([3.0, 2, 1, 5, 4, 0])).tolist()
    [5, 3, 0, 4, 1, 2]
    """
    labels = np.asarray(clusters, dtype=np.intp)
    if labels.size == 0:
        return np.empty(0, dtype=np.intp)
    by_cluster = np.lexsort((-scores, labels))  # cluster, then best score first
    sorted_labels = labels[by_cluster]
    sizes = np.bincount(labels)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    within = np.arange(labels.size) - starts[sorted_labels]
    visit = np.empty(sizes.size, dtype=np.intp)
    visit[np.argsort(sizes, kind="stable")] = np.arange(sizes.size)
    order: npt.NDArray[np.intp] = by_cluster[np.lexsort((visit[sorted_labels], within))]
    return order.astype(np.intp)


class HybridStrategy(QueryStrategy):
    """Most uncertain rows, spread round-robin over clusters of their embeddings.

    Parameters
    ----------
    n_clusters : int, optional
        Clusters per query. Default: the batch size ``n`` (one row per cluster in the first
        round) up to ``max_clusters``; in :meth:`rank` without ``n``, 50.
    max_clusters : int
        Cap on the default number of clusters, for large ``n`` (e.g. ordering a whole queue).
    oversample : int
        Candidates per pick: the ``oversample × n`` most uncertain rows are clustered.
    uncertainty : callable
        Score of each row from ``proba`` (higher = more uncertain); default the margin.
    """

    needs = frozenset({"proba", "embeddings"})
    description = "most uncertain rows, round-robin across embedding clusters"

    def __init__(
        self,
        *,
        name: str = "hybrid",
        n_clusters: int | None = None,
        max_clusters: int = 100,
        oversample: int = 10,
        uncertainty: Callable[[FloatArray], FloatArray] = margin_scores,
    ) -> None:
        if oversample < 1 or (n_clusters is not None and n_clusters < 1):
            raise SchemaError("hybrid needs oversample >= 1 and n_clusters >= 1")
        self.name = name
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.oversample = oversample
        self.uncertainty = uncertainty

    def shortlist_scores(self, pool: Pool, rng: np.random.Generator) -> FloatArray:
        """The uncertainty: the candidates :meth:`order` clusters are the most uncertain."""
        assert pool.proba is not None
        return np.asarray(self.uncertainty(pool.proba), dtype=np.float64)

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        assert pool.proba is not None and pool.embeddings is not None
        unl = pool.unlabeled
        u = np.asarray(self.uncertainty(pool.proba[unl]), dtype=np.float64)
        by_u = np.argsort(-u, kind="stable")
        m = unl.size if n is None else min(unl.size, n * self.oversample)
        cand, rest = by_u[:m], by_u[m:]
        c = self.n_clusters or min(n if n is not None else 50, self.max_clusters)
        clusters = cluster_labels(pool.embeddings[unl[cand]], min(c, m), rng)
        head = cand[round_robin(clusters, u[cand])]
        return np.asarray(unl[np.concatenate([head, rest])], dtype=np.intp)


def cluster_labels(
    X: npt.NDArray[np.floating], c: int, rng: np.random.Generator, *, n_init: int = 3
) -> IntArray:
    """Seeded MiniBatchKMeans labels of the rows of ``X`` (all 0 when ``c < 2``)."""
    if c < 2:
        return np.zeros(len(X), dtype=np.intp)
    km = _cluster.MiniBatchKMeans(
        n_clusters=c,
        random_state=int(rng.integers(2**31 - 1)),
        n_init=n_init,
        batch_size=max(1024, 3 * c),
    )
    with warnings.catch_warnings():  # duplicate rows leave clusters empty: harmless here
        warnings.simplefilter("ignore", _sk_errors.ConvergenceWarning)
        return np.asarray(km.fit_predict(np.asarray(X, dtype=np.float32)), dtype=np.intp)
