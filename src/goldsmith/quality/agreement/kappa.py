"""Cohen's and Fleiss' kappa, observed agreement and per-category agreement.

All take the (n_annotators, n_items) reliability matrix ``R`` (``nan`` = missing) and
treat its distinct values as nominal categories. The ``*_statistic`` functions return an
:class:`ItemStatistic` for bootstrap intervals; the others return a float.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement._arrays import FloatArray, as_reliability, category_counts
from goldsmith.quality.agreement.alpha import alpha_from_totals, alpha_problem
from goldsmith.quality.agreement.bootstrap import ItemStatistic

_TOL = 1e-12


def _kappa(observed: FloatArray, chance: FloatArray) -> FloatArray:
    """``(p_o - p_e) / (1 - p_e)``, ``nan`` where chance agreement is total."""
    ok = chance < 1 - _TOL
    out = np.full(observed.shape, np.nan)
    np.divide(observed - chance, 1 - chance, out=out, where=ok)
    return out


def _pair_shares(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per item: share of agreeing rater pairs ``P_i`` and 1 for items with >= 2 ratings."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    agreeing = (counts * (counts - 1)).sum(axis=1)
    share = np.divide(agreeing, m * (m - 1), out=np.zeros_like(m), where=pairable)
    return share, pairable.astype(np.float64)


def _pair(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    try:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SchemaError("Cohen's kappa takes numeric ratings with nan for missing") from exc
    if x.ndim != 1 or x.shape != y.shape:
        raise SchemaError(
            f"Cohen's kappa takes two 1-D rating vectors of one length, got {x.shape}, {y.shape}"
        )
    return as_reliability(np.vstack([x, y]))


def cohen_statistic(a: npt.ArrayLike, b: npt.ArrayLike) -> ItemStatistic:
    """Cohen's kappa of two annotators (rows of ``R``) on the items both rated.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of shared items on which
    they agree and ``p_e = sum_c p_ac p_bc`` from each one's label shares (Cohen 1960).
    """
    pair = _pair(a, b)
    shared = np.isnan(pair).sum(axis=0) == 0
    values = np.unique(pair[:, shared])
    k = values.size
    first = np.equal.outer(pair[0], values) & shared[:, None]
    second = np.equal.outer(pair[1], values) & shared[:, None]
    agree = (first & second).any(axis=1)

    def finish(t: FloatArray) -> FloatArray:
        n = t[:, 0]
        safe = np.maximum(n, 1.0)
        chance = (t[:, 2 : 2 + k] * t[:, 2 + k :]).sum(axis=1) / (safe * safe)
        return np.where(n > 0, _kappa(t[:, 1] / safe, chance), np.nan)

    columns = np.column_stack([shared, agree, first, second])
    return ItemStatistic(columns.astype(np.float64), finish)


def cohen_kappa(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cohen's kappa of two rating vectors on the items both rated (``nan`` = missing).

    Matches ``sklearn.metrics.cohen_kappa_score`` on the shared items.

    Raises
    ------
    SchemaError
        When they share no item, or both used one and the same label throughout.

    >>> round(cohen_kappa([0, 1, 2, 2, np.nan], [0, 1, 2, 1, 1]), 4)
    0.6364
    """
    pair = _pair(a, b)
    shared = ~np.isnan(pair).any(axis=0)
    problem = alpha_problem(pair[:, shared]) if shared.any() else "they share no item"
    if problem is not None:
        raise SchemaError(f"Cohen's kappa is undefined: {problem}")
    return cohen_statistic(pair[0], pair[1]).value()


def fleiss_statistic(R: npt.ArrayLike) -> ItemStatistic:
    """Fleiss' kappa (Fleiss 1971) as an :class:`ItemStatistic`.

    ``kappa = (P_bar - P_e) / (1 - P_e)``: ``P_i = sum_c n_ic (n_ic - 1) / (m_i (m_i - 1))``
    is the share of agreeing rater pairs on item ``i``, ``P_bar`` its mean over items with
    ``m_i >= 2`` ratings, and ``P_e = sum_c p_c^2`` with ``p_c`` the share of all their
    ratings in category ``c``. With the same number of ratings per item this is exactly
    ``statsmodels.stats.inter_rater.fleiss_kappa(table, method="fleiss")``; with unequal
    numbers it is the usual generalisation (items weigh equally; ``p_c`` pools ratings).
    Items with one rating drop out.
    """
    counts = category_counts(as_reliability(R))
    share, pairable = _pair_shares(counts)

    def finish(t: FloatArray) -> FloatArray:
        margins = t[:, 2:]
        total = margins.sum(axis=1)
        ok = t[:, 1] > 0
        mean = np.divide(t[:, 0], t[:, 1], out=np.zeros_like(total), where=ok)
        p = np.divide(margins, total[:, None], out=np.zeros_like(margins), where=ok[:, None])
        return np.where(ok, _kappa(mean, (p * p).sum(axis=1)), np.nan)

    return ItemStatistic(np.column_stack([share, pairable, counts * pairable[:, None]]), finish)


def fleiss_kappa(R: npt.ArrayLike) -> float:
    """Fleiss' kappa of the (n_annotators, n_items) matrix ``R``; see :func:`fleiss_statistic`.

    Raises
    ------
    SchemaError
        When no item has two ratings, or every pairable rating has the same value.

    >>> round(fleiss_kappa([[0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 1, 1]]), 4)
    0.3333
    """
    problem = alpha_problem(R)
    if problem is not None:
        raise SchemaError(f"Fleiss' kappa is undefined: {problem}")
    return fleiss_statistic(R).value()


def agreement_statistic(R: npt.ArrayLike) -> ItemStatistic:
    """Observed agreement: mean over items (with >= 2 ratings) of the share of rater pairs
    that agree, Fleiss' ``P_bar``. Not chance-corrected; 1.0 is full agreement."""
    share, pairable = _pair_shares(category_counts(as_reliability(R)))

    def finish(t: FloatArray) -> FloatArray:
        out = np.full(t.shape[0], np.nan)
        np.divide(t[:, 0], t[:, 1], out=out, where=t[:, 1] > 0)
        return out

    return ItemStatistic(np.column_stack([share, pairable]), finish)


def percent_agreement(R: npt.ArrayLike) -> float:
    """Observed agreement of ``R`` (see :func:`agreement_statistic`); ``nan`` without overlap.

    >>> round(percent_agreement([[0, 1, 1], [0, 1, 0], [0, np.nan, 1]]), 4)
    0.7778
    """
    return agreement_statistic(R).value()


def category_statistics(R: npt.ArrayLike) -> list[tuple[ItemStatistic, ItemStatistic]]:
    """Per category ``c`` (sorted distinct values of ``R``): one-vs-rest alpha and specific
    agreement.

    One-vs-rest alpha is nominal alpha with ``c`` against all other values merged; it is
    undefined for a category used in no or in every pairable rating. Specific agreement
    ``o_cc / n_c`` is the chance that, given one rating ``c`` on an item, another rating of
    that item is ``c`` too (Uebersax 1982's proportion of specific agreement, from the
    coincidence matrix).
    """
    counts = category_counts(as_reliability(R))
    m = counts.sum(axis=1)
    pairable = m >= 2
    denom = np.where(pairable, m - 1, 1.0)
    m = np.where(pairable, m, 0.0)
    counts = counts * pairable[:, None]
    rest = m[:, None] - counts
    same = counts * (counts - 1) / denom[:, None]
    other = rest * (rest - 1) / denom[:, None]

    def alpha_finish(t: FloatArray) -> FloatArray:
        n, c = t[:, 0], t[:, 2]
        return alpha_from_totals(n, n - t[:, 1], n * n - c * c - (n - c) ** 2)

    def specific_finish(t: FloatArray) -> FloatArray:
        out = np.full(t.shape[0], np.nan)
        np.divide(t[:, 0], t[:, 1], out=out, where=t[:, 1] > 0)
        return out

    out = []
    for j in range(counts.shape[1]):
        one_vs_rest = np.column_stack([m, same[:, j] + other[:, j], counts[:, j]])
        specific = np.column_stack([same[:, j], counts[:, j]])
        out.append(
            (ItemStatistic(one_vs_rest, alpha_finish), ItemStatistic(specific, specific_finish))
        )
    return out
