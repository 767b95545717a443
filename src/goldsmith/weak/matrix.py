"""The label-matrix contract shared by labeling functions and label models.

A label matrix ``L`` has one row per record and one column per labeling function (LF).
Each entry is the class an LF voted for, an integer in ``0 .. cardinality - 1``, or
``ABSTAIN`` (``-1``) when the LF did not vote. Two encodings are accepted everywhere:

* **dense**: a 2-D integer :class:`numpy.ndarray` holding the labels, ``-1`` for abstain;
* **sparse**: a :mod:`scipy.sparse` matrix or array (CSR preferred) holding
  ``label + 1``, so the implicit zero of a sparse matrix means *abstain*. Most LFs abstain
  on most records, so this form is far smaller for large data.

:func:`check_matrix` validates either form and returns the canonical sparse form that the
label models work on. The vote helpers (:func:`one_hot`, :func:`vote_counts`) turn it into
per-record, per-class quantities with sparse matrix products, never a Python loop over
records, so they scale to millions of rows.

>>> import numpy as np
>>> L = np.array([[0, -1, 1], [-1, -1, -1], [1, 1, 0]])
>>> S = as_sparse(L)
>>> S.data.tolist()
[1, 2, 2, 2, 1]
>>> bool((as_dense(S) == L).all())
True
>>> vote_counts(L, 2).tolist()
[[1.0, 1.0], [0.0, 0.0], [1.0, 2.0]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = [
    "ABSTAIN",
    "LabelMatrix",
    "as_dense",
    "as_sparse",
    "check_matrix",
    "check_labels",
    "coverage_mask",
    "one_hot",
    "vote_counts",
]

ABSTAIN = -1
"""The value of an abstaining LF in a dense label matrix."""

LabelMatrix: TypeAlias = "npt.NDArray[np.integer[Any]] | sp.csr_matrix | sp.csr_array | Any"
"""A dense integer array (``-1`` = abstain) or a scipy sparse matrix holding ``label + 1``."""

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]


def _data_dtype(cardinality: int) -> type[np.integer[Any]]:
    """The smallest signed integer type that holds ``label + 1`` for every label."""
    if cardinality < np.iinfo(np.int8).max:
        return np.int8
    if cardinality < np.iinfo(np.int16).max:
        return np.int16
    return np.int32


def _locate(positions: npt.NDArray[np.bool_], rows: IntArray, cols: IntArray) -> str:
    first = int(np.flatnonzero(positions)[0])
    return f"record {int(rows[first])}, LF {int(cols[first])}"


def check_matrix(L: LabelMatrix, cardinality: int, *, name: str = "L") -> sp.csr_matrix:
    """Validate a label matrix and return it in canonical sparse form.

    Parameters
    ----------
    L
        Dense integer array (``-1`` = abstain) or scipy sparse matrix holding ``label + 1``.
    cardinality
        Number of classes ``k``; valid labels are ``0 .. k - 1``.
    name
        What to call the matrix in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(n, m)``, sorted int32 indices, no explicit zeros, and data holding
        ``label + 1`` in the smallest integer type that fits. The input is never modified.

    Raises
    ------
    SchemaError
        When ``L`` is not 2-D, not integer, or holds a value outside ``-1 .. k - 1`` (dense)
        or ``0 .. k`` (sparse). The message names the first bad record and LF.
    """
    if isinstance(cardinality, bool) or not isinstance(cardinality, int | np.integer):
        raise SchemaError(f"cardinality must be an integer, got {cardinality!r}")
    k = int(cardinality)
    if k < 2:
        raise SchemaError(f"cardinality must be at least 2, got {k}")
    dtype = _data_dtype(k)
    if sp.issparse(L):
        if L.ndim != 2:
            raise SchemaError(f"{name} must be 2-D (records x LFs), got shape {L.shape}")
        if not np.issubdtype(L.dtype, np.integer):
            raise SchemaError(
                f"{name} must hold integers (label + 1, 0 = abstain), got dtype {L.dtype}; "
                "convert it with .astype(int)"
            )
        S = sp.csr_matrix(L, copy=True)
        S.sum_duplicates()
        S.eliminate_zeros()
        bad = (S.data < 0) | (S.data > k)
        if bad.any():
            rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
            value = int(S.data[np.flatnonzero(bad)[0]])
            raise SchemaError(
                f"{name} holds {int(bad.sum())} value(s) outside 0..{k} (sparse matrices store "
                f"label + 1, 0 = abstain); first: {value} at "
                f"{_locate(bad, rows, S.indices.astype(np.int64))}"
            )
        S.data = S.data.astype(dtype, copy=False)
    else:
        A = np.asarray(L)
        if A.ndim != 2:
            raise SchemaError(f"{name} must be 2-D (records x LFs), got shape {A.shape}")
        if not (np.issubdtype(A.dtype, np.integer) or A.size == 0):
            raise SchemaError(
                f"{name} must hold integers (-1 = abstain), got dtype {A.dtype}; "
                "convert it with .astype(int)"
            )
        bad_mask = (A < ABSTAIN) | (k <= A)
        if bad_mask.any():
            r, c = np.nonzero(bad_mask)
            raise SchemaError(
                f"{name} holds {int(bad_mask.sum())} value(s) outside -1..{k - 1} "
                f"(-1 = abstain, classes 0..{k - 1}); first: {int(A[r[0], c[0]])} at "
                f"record {int(r[0])}, LF {int(c[0])}"
            )
        r, c = np.nonzero(A != ABSTAIN)
        S = sp.csr_matrix(((A[r, c] + 1).astype(dtype), (r, c)), shape=A.shape, dtype=dtype)
    S.indices = S.indices.astype(np.int32, copy=False)
    S.indptr = S.indptr.astype(np.int64 if S.nnz >= 2**31 else np.int32, copy=False)
    S.sort_indices()
    return S


def check_labels(y: npt.ArrayLike, cardinality: int, *, n: int | None = None) -> IntArray:
    """Validate a vector of gold labels (``0 .. k - 1``; ``-1`` marks an unlabeled record).

    Raises
    ------
    SchemaError
        On a wrong length, a non-integer type, or a value outside ``-1 .. k - 1``.
    """
    Y = np.asarray(y)
    if Y.ndim != 1:
        raise SchemaError(f"gold labels must be 1-D, got shape {Y.shape}")
    if Y.size and not np.issubdtype(Y.dtype, np.integer):
        raise SchemaError(f"gold labels must be integers, got dtype {Y.dtype}")
    if n is not None and Y.shape[0] != n:
        raise SchemaError(f"got {Y.shape[0]} gold labels for {n} records")
    bad = (Y < ABSTAIN) | (cardinality <= Y)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"gold label {int(Y[i])} of record {i} is outside 0..{cardinality - 1} (-1 = none)"
        )
    return Y.astype(np.int64, copy=False)


def as_sparse(L: LabelMatrix, cardinality: int | None = None) -> sp.csr_matrix:
    """Return ``L`` as a CSR matrix holding ``label + 1`` (0 = abstain).

    ``cardinality`` defaults to one more than the largest label present, so validation
    only checks the abstain code and the shape; pass it to check the upper bound too.
    """
    if cardinality is None:
        M: Any = L
        if sp.issparse(M):
            n_classes = int(M.max()) if M.nnz else 0  # stored label + 1
        else:
            A = np.asarray(M)
            n_classes = int(A.max()) + 1 if A.size else 0
        cardinality = max(n_classes, 2)
    return check_matrix(L, cardinality)


def as_dense(L: LabelMatrix) -> npt.NDArray[np.int64]:
    """Return ``L`` as a dense int64 array with ``-1`` for abstain.

    A dense input is returned as int64 unchanged in value; a sparse one is decoded
    (``stored - 1``). This materialises ``n x m`` integers: keep large matrices sparse.
    """
    if sp.issparse(L):
        out = np.full(L.shape, ABSTAIN, dtype=np.int64)
        C = sp.coo_matrix(L)
        out[C.row, C.col] = C.data.astype(np.int64) - 1
        return out
    return np.asarray(L).astype(np.int64, copy=False)


def one_hot(L: LabelMatrix, cardinality: int) -> sp.csr_matrix:
    """Expand ``L`` into the ``(n, m * k)`` indicator matrix of (LF, label) votes.

    Column ``j * k + c`` of row ``i`` is 1 when LF ``j`` voted class ``c`` on record ``i``.
    Every label model scores records as ``one_hot(L) @ W`` for some ``(m * k, k)`` weight
    matrix ``W``, and learns from ``one_hot(L).T @ Q`` for posteriors ``Q``: two sparse
    products, no loop over records.
    """
    S = check_matrix(L, cardinality)
    k = int(cardinality)
    n, m = S.shape
    if m * k >= 2**31:
        raise SchemaError(f"{m} LFs x {k} classes is too many columns for a label model")
    indices = S.indices.astype(np.int32) * np.int32(k) + (S.data.astype(np.int32) - 1)
    data = np.ones(S.nnz, dtype=np.float64)
    return sp.csr_matrix((data, indices, S.indptr), shape=(n, m * k))


def vote_counts(
    L: LabelMatrix, cardinality: int, *, weights: npt.ArrayLike | None = None
) -> FloatArray:
    """Per-record, per-class vote totals as a dense ``(n, k)`` float array.

    Parameters
    ----------
    L
        Label matrix (dense or sparse).
    cardinality
        Number of classes ``k``.
    weights
        Optional per-LF weights of shape ``(m,)``: each vote counts its LF's weight.
    """
    X = one_hot(L, cardinality)
    k = int(cardinality)
    m = X.shape[1] // k
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (m,):
        raise SchemaError(f"weights must have shape ({m},), got {w.shape}")
    W = np.kron(w[:, None], np.eye(k))  # row j*k + c -> w_j on column c
    return np.asarray(X @ W)


def coverage_mask(L: LabelMatrix, cardinality: int) -> npt.NDArray[np.bool_]:
    """Boolean ``(n,)`` mask of records on which at least one LF voted."""
    S = check_matrix(L, cardinality)
    return np.asarray(np.diff(S.indptr) > 0)
