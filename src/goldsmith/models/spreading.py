"""Semi-supervised labels from the unlabeled pool: label spreading over a k-NN graph.

With a few dozen human labels a classifier sees a few dozen points; the pool around them
is unlabeled but not empty. Label spreading (Zhou et al. 2004) lets each labeled record pass
its class to its nearest neighbours, and theirs, over the cosine k-nearest-neighbour graph
of the embeddings, until every reachable record carries a class distribution. The in-loop
classifier then trains on the human labels plus these spread labels as machine labels
(weighted by their confidence, never counted as human labels): see
:func:`pseudo_labels`.

The graph is built once per pool (:func:`knn_graph`, a sparse ``n × n`` matrix with ``k``
neighbours per row, from row blocks of ``block × n`` similarities, so memory stays
``O(n k)`` plus one block); each spread is a few sparse products.

>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
>>> W = knn_graph(X, n_neighbors=1)
>>> P = label_spreading(W, np.array([0, -1, 1, -1]), 2)
>>> P.argmax(axis=1).tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = ["knn_graph", "label_spreading", "pseudo_labels"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def knn_graph(X: npt.ArrayLike, *, n_neighbors: int = 10, block: int = 2048) -> sp.csr_matrix:
    """The symmetric cosine k-nearest-neighbour graph of the rows of ``X``.

    Each row keeps its ``n_neighbors`` most similar other rows, weighted by their cosine
    similarity clipped at 0; the graph is then symmetrised (``max(W, W.T)``).
    """
    Xa = np.asarray(X, dtype=np.float32)
    if Xa.ndim != 2:
        raise SchemaError(f"embeddings must be 2-D (records x dims), got shape {Xa.shape}")
    n = len(Xa)
    k = min(int(n_neighbors), n - 1)
    if k < 1:
        return sp.csr_matrix((n, n), dtype=np.float64)
    Xn = Xa / np.maximum(np.linalg.norm(Xa, axis=1, keepdims=True), np.float32(1e-12))
    rows = np.repeat(np.arange(n), k)
    cols = np.empty(n * k, dtype=np.int64)
    vals = np.empty(n * k, dtype=np.float64)
    for start in range(0, n, block):
        S = Xn[start : start + block] @ Xn.T
        idx = np.arange(len(S))
        S[idx, start + idx] = -np.inf  # no self loops
        top = np.argpartition(-S, k - 1, axis=1)[:, :k]
        cols[start * k : (start + len(S)) * k] = top.ravel()
        vals[start * k : (start + len(S)) * k] = np.take_along_axis(S, top, axis=1).ravel()
    W = sp.csr_matrix((np.clip(vals, 0.0, None), (rows, cols)), shape=(n, n))
    return W.maximum(W.T).tocsr()


def label_spreading(
    W: sp.spmatrix,
    labels: npt.ArrayLike,
    n_classes: int,
    *,
    alpha: float = 0.9,
    n_iter: int = 30,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Class distributions ``(n, k)`` spread from the labeled rows over the graph ``W``.

    Parameters
    ----------
    W : sparse (n, n)
        Non-negative symmetric affinities, e.g. :func:`knn_graph`.
    labels : array of int, shape (n,)
        Class index of each labeled row, ``-1`` for unlabeled ones.
    n_classes : int
        Number of classes ``k``.
    alpha : float
        How much a row takes from its neighbours against its own label, in (0, 1).
    n_iter : int
        Iterations of ``F <- alpha S F + (1 - alpha) Y`` with ``S = D^-1/2 W D^-1/2``.
    weights : array of float, shape (n,), optional
        Per-row strength of its own label (default 1), e.g. a class-balancing weight.

    Returns
    -------
    ndarray (n, k)
        Row-normalised class distributions; a row no label reaches is uniform.
    """
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    n = W.shape[0]
    if y.shape != (n,):
        raise SchemaError(f"labels has {len(y)} rows, the graph {n}")
    if not 0.0 < alpha < 1.0:
        raise SchemaError(f"alpha must lie in (0, 1), got {alpha}")
    if y.max(initial=-1) >= n_classes:
        raise SchemaError(f"labels must lie in -1..{n_classes - 1}")
    Y = np.zeros((n, n_classes))
    known = np.flatnonzero(y >= 0)
    strength = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    Y[known, y[known]] = strength[known]
    deg = np.asarray(W.sum(axis=1)).ravel()
    inv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-300)), 0.0)
    S = sp.diags(inv) @ W @ sp.diags(inv)
    F = Y.copy()
    for _ in range(n_iter):
        F = alpha * (S @ F) + (1.0 - alpha) * Y
    total = F.sum(axis=1, keepdims=True)
    return np.where(total > 0, F / np.where(total > 0, total, 1.0), 1.0 / n_classes)


def pseudo_labels(
    W: sp.spmatrix,
    labels: npt.ArrayLike,
    n_classes: int,
    *,
    alpha: float = 0.9,
    balance: bool = True,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Spread labels for the unlabeled rows: ``(rows, classes, confidence)``.

    ``confidence`` is the spread distribution's top probability rescaled from ``[1/k, 1]``
    to ``[0, 1]``, so a row that no label reached (uniform) gets 0 and drops out. With
    ``balance``, each labeled row's strength is inversely proportional to its class's count,
    so a majority class does not flood the graph (the same balance the classifier uses).
    """
    y = np.asarray(labels, dtype=np.int64).reshape(-1)
    weights = None
    if balance:
        counts = np.bincount(y[y >= 0], minlength=n_classes).astype(np.float64)
        per_class = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n_classes, 0.0)
        weights = np.where(y >= 0, per_class[np.clip(y, 0, None)], 0.0)
    P = label_spreading(W, y, n_classes, alpha=alpha, weights=weights)
    rows = np.flatnonzero(y < 0)
    top = P[rows].max(axis=1)
    conf = np.clip((top - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0.0, 1.0)
    keep = conf > 0
    return rows[keep], P[rows[keep]].argmax(axis=1).astype(np.int64), conf[keep]
