"""Array types and checks shared by the agreement modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def as_reliability(R: npt.ArrayLike, *, name: str = "reliability matrix") -> FloatArray:
    """``R`` as a float (n_annotators, n_items) array; ``nan`` marks a missing rating."""
    try:
        out = np.asarray(R, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"the {name} must hold numbers with nan for missing ratings; build it from "
            "(item, annotator, value) triples with reliability_matrix()"
        ) from exc
    if out.ndim != 2:
        raise SchemaError(f"the {name} must be 2-D (n_annotators, n_items), got shape {out.shape}")
    if np.isinf(out).any():
        raise SchemaError(f"the {name} holds an infinite value; use nan for missing ratings")
    return out


def as_groups(groups: npt.ArrayLike | None, n_units: int) -> IntArray:
    """Item index of each unit (column); by default each column is its own item."""
    if groups is None:
        return np.arange(n_units, dtype=np.int64)
    out = np.asarray(groups)
    if out.shape != (n_units,) or (out.size and (out.dtype.kind not in "iu" or out.min() < 0)):
        raise SchemaError(
            f"groups must give a non-negative item index for each of the {n_units} columns"
        )
    return out.astype(np.int64)


def sum_by_group(sums: FloatArray, groups: IntArray) -> FloatArray:
    """Add the rows of ``sums`` that belong to one item: (n_units, p) -> (n_items, p)."""
    n_items = int(groups.max()) + 1 if groups.size else 0
    if np.array_equal(groups, np.arange(sums.shape[0])):
        return sums
    out = np.zeros((n_items, sums.shape[1]))
    np.add.at(out, groups, sums)
    return out


def category_codes(R: FloatArray, *, n_categories: int | None = None) -> tuple[IntArray, Any]:
    """Codes 0..k-1 of the ratings in ``R`` (-1 where missing) and the k distinct values.

    With ``n_categories`` the values must already be codes ``0 .. n_categories - 1``.
    """
    present = ~np.isnan(R)
    codes = np.full(R.shape, -1, dtype=np.int64)
    if n_categories is None:
        values, inverse = np.unique(R[present], return_inverse=True)
        codes[present] = inverse
        return codes, values
    observed = R[present]
    if observed.size and (
        (observed != np.round(observed)).any()
        or observed.min() < 0
        or observed.max() >= n_categories
    ):
        raise SchemaError(
            f"with a distance matrix for {n_categories} categories, ratings must be codes "
            f"0..{n_categories - 1}"
        )
    codes[present] = observed.astype(np.int64)
    return codes, np.arange(n_categories)


def category_counts(R: npt.ArrayLike, *, n_categories: int | None = None) -> FloatArray:
    """How many annotators gave each category to each item: the (n_items, k) table.

    This is the table ``statsmodels.stats.inter_rater.fleiss_kappa`` takes. Categories are
    the distinct values of ``R`` in sorted order, or codes ``0..n_categories-1`` if given.

    >>> category_counts([[0, 1, np.nan], [0, 0, 1]])
    array([[2., 0.],
           [1., 1.],
           [0., 1.]])
    """
    matrix = as_reliability(R)
    codes, values = category_codes(matrix, n_categories=n_categories)
    k = len(values)
    n_items = matrix.shape[1]
    item = np.broadcast_to(np.arange(n_items), codes.shape)
    keep = codes >= 0
    flat = np.bincount(item[keep] * k + codes[keep], minlength=n_items * k)
    return flat.reshape(n_items, k).astype(np.float64)
