"""Greedy k-center (the core-set of Sener & Savarese 2018) on embeddings.

Each step picks the record farthest from every center so far (the labeled records and the
picks), then lowers each record's distance-to-nearest-center with one matrix-vector product
against the new center. Work per pick is one pass over the float32 embeddings; memory is the
embeddings plus a few vectors of length ``n``: never an ``n × n`` matrix. The first distances
to the labeled set come from row blocks of ``chunk_rows × n_labeled``.

Squared euclidean distances use ``|x|^2 - 2 x.c + |c|^2``; ``metric="cosine"`` normalises
the rows first (on unit vectors euclidean order is cosine order).

>>> import numpy as np
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [0.0, 0.2]])
>>> greedy_k_center(X, 1, labeled=np.array([True, False, False, False])).tolist()
[2]
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError

__all__ = ["Metric", "greedy_k_center", "k_center_order"]

Metric: TypeAlias = Literal["euclidean", "cosine"]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
F32: TypeAlias = npt.NDArray[np.float32]


def _prepare(embeddings: npt.ArrayLike, metric: Metric) -> tuple[F32, F32]:
    X = np.ascontiguousarray(embeddings, dtype=np.float32)
    if X.ndim != 2:
        raise SchemaError(f"embeddings must be 2-D (records x dims), got shape {X.shape}")
    if metric == "cosine":
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        X = X / np.maximum(norms, np.float32(1e-12))
    elif metric != "euclidean":
        raise SchemaError(f"metric must be 'euclidean' or 'cosine', got {metric!r}")
    return X, np.einsum("ij,ij->i", X, X)


def _initial_distances(X: F32, sq: F32, labeled: BoolArray, chunk_rows: int) -> F32:
    """Squared distance of every row to its nearest labeled row (``inf`` if none)."""
    mind = np.full(len(X), np.inf, dtype=np.float32)
    centers = np.flatnonzero(labeled)
    if centers.size == 0:
        return mind
    for start in range(0, centers.size, chunk_rows):  # bound the block to chunk_rows²
        C = X[centers[start : start + chunk_rows]]
        csq = sq[centers[start : start + chunk_rows]]
        for r in range(0, len(X), chunk_rows):
            block = X[r : r + chunk_rows] @ C.T
            block *= -2.0
            block += sq[r : r + chunk_rows, None]
            block += csq[None, :]
            np.minimum(mind[r : r + chunk_rows], block.min(axis=1), out=mind[r : r + chunk_rows])
    return mind


def _greedy(X: F32, sq: F32, labeled: BoolArray, n: int, chunk_rows: int) -> tuple[IntArray, F32]:
    mind = _initial_distances(X, sq, labeled, chunk_rows)
    mind[labeled] = -np.inf
    picks = np.empty(n, dtype=np.intp)
    buf = np.empty(len(X), dtype=np.float32)
    for t in range(n):
        if t == 0 and not labeled.any():  # no center yet: start from the most central row
            i = int(np.argmin(sq - 2.0 * (X @ X.mean(axis=0))))
        else:
            i = int(np.argmax(mind))
        picks[t] = i
        np.matmul(X, X[i], out=buf)
        buf *= -2.0
        buf += sq
        buf += sq[i]
        np.minimum(mind, buf, out=mind)
        mind[i] = -np.inf
    return picks, mind


def _mask(labeled: npt.ArrayLike | None, n_rows: int) -> BoolArray:
    if labeled is None:
        return np.zeros(n_rows, dtype=bool)
    arr = np.asarray(labeled)
    if arr.dtype == bool:
        if arr.shape != (n_rows,):
            raise SchemaError(f"labeled mask has shape {arr.shape}, expected ({n_rows},)")
        return arr.copy()
    mask = np.zeros(n_rows, dtype=bool)
    mask[arr.astype(np.intp)] = True
    return mask


def greedy_k_center(
    embeddings: npt.ArrayLike,
    n: int,
    *,
    labeled: npt.ArrayLike | None = None,
    metric: Metric = "euclidean",
    chunk_rows: int = 4096,
) -> IntArray:
    """Pick ``n`` unlabeled rows by greedy k-center, in the order they were picked.

    Parameters
    ----------
    embeddings : array-like, shape (n_rows, d)
        One vector per record; converted to float32.
    n : int
        How many rows to pick (at most the number of unlabeled rows).
    labeled : bool mask or int indices, optional
        Rows already labeled: they are the first centers and are never picked. With none,
        the first pick is the row nearest the mean.
    metric : {"euclidean", "cosine"}
        Distance between embeddings.
    chunk_rows : int
        Block size of the initial labeled-distance computation.

    Returns
    -------
    ndarray of int
        Row indices, the farthest-first order.
    """
    X, sq = _prepare(embeddings, metric)
    mask = _mask(labeled, len(X))
    n = min(int(n), int(len(X) - mask.sum()))
    return _greedy(X, sq, mask, max(n, 0), chunk_rows)[0]


def k_center_order(
    embeddings: npt.ArrayLike,
    *,
    labeled: npt.ArrayLike | None = None,
    head: int = 256,
    metric: Metric = "euclidean",
    chunk_rows: int = 4096,
) -> IntArray:
    """Every unlabeled row, ordered: ``head`` greedy k-center picks, then the rest by distance.

    The full greedy order costs one pass over the data per row; past ``head`` the remaining
    rows follow in decreasing distance to their nearest center (labeled rows and the head).
    """
    X, sq = _prepare(embeddings, metric)
    mask = _mask(labeled, len(X))
    n_free = int(len(X) - mask.sum())
    picks, mind = _greedy(X, sq, mask, min(head, n_free), chunk_rows)
    rest = np.flatnonzero(mind > -np.inf)  # unlabeled and not picked
    rest = rest[np.argsort(-mind[rest], kind="stable")]
    return np.concatenate([picks, rest]).astype(np.intp)
