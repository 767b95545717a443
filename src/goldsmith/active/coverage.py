"""Typical records of uncovered regions: the coverage picks of low budgets (TypiClust).

With few labels, uncertainty is measured by a model that knows almost nothing, and k-center
picks the records farthest from everything: outliers. Hacohen et al. (2022, TypiClust) and
Yehuda et al. (2022, ProbCover) show that at low budgets coverage wins instead: label the
*typical* record of each dense region the labels do not cover yet.

:func:`typical_picks` clusters the pool's embeddings into ``n_labeled + n`` clusters
(seeded k-means on unit vectors), visits the clusters that hold the fewest labeled records,
largest first, and takes from each its most typical unlabeled record: the one with the
smallest mean cosine distance to its ``n_neighbors`` nearest neighbours in the cluster.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.concatenate([rng.normal(0, 0.1, (30, 2)) + [3, 0], rng.normal(0, 0.1, (10, 2))
...                     + [0, 3]])
>>> picks = typical_picks(X, 2, labeled=None, rng=rng)
>>> sorted(int(p) // 30 for p in picks)  # one pick in each blob
[0, 1]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from goldsmith.active.hybrid import cluster_labels
from goldsmith.errors import SchemaError

__all__ = ["typical_picks", "typicality"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

MAX_CLUSTERS = 1000
"""Clusters at most (the cost of k-means grows with them); beyond, bigger clusters."""
SAMPLE = 2000
"""Rows of a cluster scored for typicality at most (a random sample of larger ones)."""


def typicality(X: npt.ArrayLike, *, n_neighbors: int = 20) -> FloatArray:
    """``1 / (mean cosine distance to the n_neighbors nearest other rows)`` of each row."""
    Xa = _unit(np.asarray(X, dtype=np.float32))
    if len(Xa) < 2:
        return np.ones(len(Xa))
    D = 1.0 - Xa @ Xa.T
    np.fill_diagonal(D, np.inf)
    kk = min(n_neighbors, len(Xa) - 1)
    near = np.partition(D, kk - 1, axis=1)[:, :kk]
    return np.asarray(1.0 / (np.maximum(near.mean(axis=1), 0.0) + 1e-6), dtype=np.float64)


def typical_picks(
    embeddings: npt.ArrayLike,
    n: int,
    *,
    labeled: npt.NDArray[np.bool_] | None,
    rng: np.random.Generator,
    n_neighbors: int = 20,
) -> IntArray:
    """``n`` unlabeled rows: the most typical of the least-covered clusters, biggest first.

    Parameters
    ----------
    embeddings : array-like (rows, d)
        The pool's vectors.
    n : int
        How many to pick (at most the unlabeled rows).
    labeled : bool mask, optional
        Rows already labeled: they cover their clusters and are never picked.
    rng : Generator
        Seeds the clustering and the sampling of large clusters.
    n_neighbors : int
        Neighbours in the typicality score.
    """
    X = _unit(np.asarray(embeddings, dtype=np.float32))
    if X.ndim != 2:
        raise SchemaError(f"embeddings must be 2-D (records x dims), got shape {X.shape}")
    mask = np.zeros(len(X), dtype=bool) if labeled is None else np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~mask)
    n = min(int(n), free.size)
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    c = min(int(mask.sum()) + n, MAX_CLUSTERS, len(X))
    clusters = cluster_labels(X, c, rng, n_init=1)
    sizes = np.bincount(clusters, minlength=c)
    covered = np.bincount(clusters[mask], minlength=c)
    picks: list[int] = []
    taken = mask.copy()
    while len(picks) < n:
        open_rows = np.bincount(clusters[~taken], minlength=c)
        # fewest labels first, then the biggest cluster; clusters with nothing left skipped
        order = np.lexsort((-sizes, covered))
        order = order[open_rows[order] > 0]
        for cl in order[: n - len(picks)]:
            members = np.flatnonzero((clusters == cl) & ~taken)
            if members.size > SAMPLE:
                members = np.sort(rng.choice(members, size=SAMPLE, replace=False))
            best = int(members[np.argmax(typicality(X[members], n_neighbors=n_neighbors))])
            picks.append(best)
            taken[best] = True
            covered[cl] += 1
    return np.asarray(picks, dtype=np.intp)


def _unit(X: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if X.ndim != 2:
        return X
    norms = np.maximum(np.linalg.norm(X, axis=1, keepdims=True), np.float32(1e-12))
    return np.asarray(X / norms, dtype=np.float32)
