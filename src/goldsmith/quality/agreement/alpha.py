"""Krippendorff's alpha through the coincidence matrix, vectorised and resample-ready.

For a unit (item) ``u`` with ``m_u >= 2`` ratings and ``n_uc`` of them equal to ``c``,
the coincidence matrix is ``o_ck = sum_u (n_uc n_uk - [c == k] n_uc) / (m_u - 1)``; its
margins are ``n_c`` and its total ``n`` (the pairable ratings). With a squared distance
``d_ck`` (``d_cc = 0``)

    alpha = 1 - (n - 1) * sum_ck o_ck d_ck / sum_ck n_c n_k d_ck

Krippendorff (2011), *Computing Krippendorff's Alpha-Reliability*, and Hayes &
Krippendorff (2007). Units with fewer than two ratings are not pairable and drop out.

Distances: nominal ``[c != k]``; interval ``(v_c - v_k)^2``; ordinal
``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2``, which depends on the margins and so is
recomputed per bootstrap resample; or any symmetric (k, k) matrix with a zero diagonal
over the codes ``0..k-1`` (e.g. Jaccard distance between label sets, Passonneau 2006).

Alpha is undefined (``nan`` here) when the expected disagreement is zero: every
pairable rating has the same value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement._arrays import (
    FloatArray,
    as_groups,
    as_reliability,
    category_codes,
    category_counts,
    sum_by_group,
)
from goldsmith.quality.agreement.bootstrap import ItemStatistic

Level = Literal["nominal", "ordinal", "interval"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval")
_TOL = 1e-10  # relative: an expected disagreement below this share of its scale is zero
ItemFinish = Callable[[FloatArray], FloatArray]


def alpha_from_totals(n: FloatArray, observed: FloatArray, expected: FloatArray) -> FloatArray:
    """``1 - (n - 1) observed / expected`` per row, ``nan`` where ``expected`` is zero.

    ``n`` pairable ratings, ``observed = sum o_ck d_ck``, ``expected = sum n_c n_k d_ck``.
    """
    scale = np.maximum(n * n, 1.0)
    ok = expected > _TOL * scale
    out = np.full(n.shape, np.nan)
    np.divide((n - 1) * observed, expected, out=out, where=ok)
    return np.where(ok, 1.0 - out, np.nan)


def _pairable(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ratings per unit (0 where fewer than two) and ``m_u - 1`` safe for division."""
    m = counts.sum(axis=1)
    m = np.where(m >= 2, m, 0.0)
    return m, np.where(m >= 2, m - 1, 1.0)


def _nominal(counts: FloatArray) -> tuple[FloatArray, ItemFinish]:
    m, denom = _pairable(counts)
    counts = counts * (m > 0)[:, None]
    diagonal = (counts * (counts - 1)).sum(axis=1) / denom  # sum_c o_cc of the unit

    def finish(t: FloatArray) -> FloatArray:
        n = t[:, 0]
        margins = t[:, 2:]
        return alpha_from_totals(n, n - t[:, 1], n * n - (margins * margins).sum(axis=1))

    return np.column_stack([m, diagonal, counts]), finish


def _matrix(counts: FloatArray, distance: FloatArray) -> tuple[FloatArray, ItemFinish]:
    m, denom = _pairable(counts)
    counts = counts * (m > 0)[:, None]
    observed = np.einsum("uc,ck,uk->u", counts, distance, counts) / denom

    def finish(t: FloatArray) -> FloatArray:
        margins = t[:, 2:]
        expected = np.einsum("bc,ck,bk->b", margins, distance, margins)
        return alpha_from_totals(t[:, 0], t[:, 1], expected)

    return np.column_stack([m, observed, counts]), finish


def _ordinal(counts: FloatArray) -> tuple[FloatArray, ItemFinish]:
    m, denom = _pairable(counts)
    counts = counts * (m > 0)[:, None]
    k = counts.shape[1]
    coincidences = counts[:, :, None] * counts[:, None, :]
    coincidences[:, np.arange(k), np.arange(k)] -= counts
    coincidences /= denom[:, None, None]
    idx = np.arange(k)
    low, high = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)

    def finish(t: FloatArray) -> FloatArray:
        margins = t[:, :k]
        cum = np.cumsum(margins, axis=1)
        between = cum[:, high] - cum[:, low] + margins[:, low]
        distance = (between - (margins[:, :, None] + margins[:, None, :]) / 2) ** 2
        observed = (t[:, k:].reshape(len(t), k, k) * distance).sum(axis=(1, 2))
        expected = np.einsum("bc,bck,bk->b", margins, distance, margins)
        return alpha_from_totals(margins.sum(axis=1), observed, expected)

    return np.column_stack([counts, coincidences.reshape(len(counts), k * k)]), finish


def _interval(R: FloatArray) -> tuple[FloatArray, ItemFinish]:
    present = ~np.isnan(R)
    m = present.sum(axis=0).astype(np.float64)
    pairable = m >= 2
    values = R[:, pairable][present[:, pairable]]
    # shift by a data value near the mean: exact for integer ratings, stable for floats
    centre = values[np.argmin(np.abs(values - values.mean()))] if values.size else 0.0
    x = np.where(present & pairable[None, :], R - centre, 0.0)
    m = np.where(pairable, m, 0.0)
    denom = np.where(pairable, m - 1, 1.0)
    s1 = x.sum(axis=0)
    mean = np.divide(s1, m, out=np.zeros_like(s1), where=pairable)
    spread = np.where(present & pairable[None, :], (x - mean) ** 2, 0.0).sum(axis=0)
    observed = 2 * m * spread / denom  # sum_{c,k} o_ck (v_c - v_k)^2 of the unit

    def finish(t: FloatArray) -> FloatArray:
        n, total, squares = t[:, 0], t[:, 2], t[:, 3]
        expected = 2 * (n * squares - total * total)
        scale = np.maximum(n * squares, 1.0)
        expected = np.where(expected > _TOL * scale, expected, 0.0)
        return alpha_from_totals(n, t[:, 1], expected)

    return np.column_stack([m, observed, s1, (x * x).sum(axis=0)]), finish


def alpha_statistic(
    R: npt.ArrayLike,
    *,
    level: Level | npt.ArrayLike = "nominal",
    groups: npt.ArrayLike | None = None,
) -> ItemStatistic:
    """Krippendorff's alpha of ``R`` as an :class:`ItemStatistic` (for bootstrap intervals).

    Parameters
    ----------
    R
        (n_annotators, n_units) ratings, ``nan`` where missing. Nominal and ordinal levels
        use the sorted distinct values as categories; interval uses the values.
    level
        ``"nominal"``, ``"ordinal"``, ``"interval"``, or a (k, k) distance matrix over
        codes ``0..k-1`` held in ``R``.
    groups
        Item index of each unit, when several units belong to one item (the candidate
        pairs of a ranking): per-unit sums are added per item, so a bootstrap resamples
        whole items.
    """
    matrix = as_reliability(R)
    item_of = as_groups(groups, matrix.shape[1])
    if isinstance(level, str):
        if level not in LEVELS:
            raise SchemaError(f"unknown level {level!r}; use one of {list(LEVELS)} or a matrix")
        if level == "interval":
            sums, finish = _interval(matrix)
        else:
            counts = category_counts(matrix)
            sums, finish = _nominal(counts) if level == "nominal" else _ordinal(counts)
    else:
        distance = np.asarray(level, dtype=np.float64)
        k = distance.shape[0] if distance.ndim == 2 else -1
        if (
            distance.shape != (k, k)
            or not np.allclose(distance, distance.T)
            or np.diag(distance).any()
            or (distance < 0).any()
        ):
            raise SchemaError(
                "a distance matrix must be square, symmetric, >= 0, 0 on the diagonal"
            )
        category_codes(matrix, n_categories=k)  # checks the codes
        sums, finish = _matrix(category_counts(matrix, n_categories=k), distance)
    return ItemStatistic(sum_by_group(sums, item_of), finish)


def alpha_problem(R: npt.ArrayLike) -> str | None:
    """Why alpha (or kappa) cannot be computed on ``R``, or None when it can."""
    matrix = as_reliability(R)
    present = ~np.isnan(matrix)
    if matrix.shape[1] == 0 or not present.any():
        return "there are no ratings"
    if (present.any(axis=1)).sum() < 2:
        return "only one annotator has rated; agreement needs two"
    pairable = present.sum(axis=0) >= 2
    if not pairable.any():
        return "no item has ratings from two annotators; raise the overlap of the task"
    values = np.unique(matrix[:, pairable][present[:, pairable]])
    if values.size < 2:
        return (
            "every rating of the shared items has the same value; chance agreement is then "
            "total, so a chance-corrected coefficient is undefined"
        )
    return None


def krippendorff_alpha(
    R: npt.ArrayLike,
    *,
    level: Level | npt.ArrayLike = "nominal",
    groups: npt.ArrayLike | None = None,
) -> float:
    """Krippendorff's alpha of the (n_annotators, n_items) matrix ``R``, missing = ``nan``.

    See the module docstring for the formula and :func:`alpha_statistic` for the
    parameters. Matches ``krippendorff.alpha(R, level_of_measurement=level)``.

    Raises
    ------
    SchemaError
        When no item has two ratings, or every pairable rating has the same value.

    >>> round(krippendorff_alpha([[1, 2, 3, 3], [1, 2, 3, 1]]), 4)
    0.6667
    """
    problem = alpha_problem(R)
    if problem is not None:
        raise SchemaError(f"Krippendorff's alpha is undefined: {problem}")
    return alpha_statistic(R, level=level, groups=groups).value()
