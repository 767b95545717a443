"""Each coefficient against its reference implementation on random data (hypothesis).

Tolerance: 1e-9 relative (and absolute, for values near 0). Alpha can be far below 0 on
tiny samples, so a purely absolute bound would be meaningless there; both implementations
compute the same sums in a different order, so they agree to ~1e-15 in practice.
"""

from __future__ import annotations

import warnings
from typing import Any

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement import (
    alpha_statistic,
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
)

TOL: dict[str, Any] = {"rel": 1e-9, "abs": 1e-9}
SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def reliability(draw: st.DrawFn, *, missing: bool = True, values: int = 4) -> np.ndarray:
    n_annotators = draw(st.integers(2, 6))
    n_items = draw(st.integers(1, 25))
    cells = n_annotators * n_items
    codes = draw(st.lists(st.integers(0, values - 1), min_size=cells, max_size=cells))
    R = np.array(codes, dtype=float).reshape(n_annotators, n_items)
    if missing:
        mask = draw(st.lists(st.booleans(), min_size=cells, max_size=cells))
        R[np.array(mask).reshape(R.shape)] = np.nan
    return R


def _reference(fn: Any, *args: Any, **kwargs: Any) -> float:
    """The reference value, nan where the reference refuses or divides by zero."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return float(fn(*args, **kwargs))
        except (ValueError, ZeroDivisionError):
            return float("nan")


@SETTINGS
@given(R=reliability(), level=st.sampled_from(["nominal", "ordinal", "interval"]))
def test_alpha_matches_krippendorff(R: np.ndarray, level: str) -> None:
    expected = _reference(krippendorff.alpha, R, level_of_measurement=level)
    if np.isnan(expected):
        with pytest.raises(SchemaError, match="alpha is undefined"):
            krippendorff_alpha(R, level=level)
    else:
        assert krippendorff_alpha(R, level=level) == pytest.approx(expected, **TOL)


@SETTINGS
@given(
    R=reliability(values=40).map(lambda r: r / 4 - 3),  # quarter steps, some negative
    level=st.sampled_from(["interval", "ordinal"]),
)
def test_alpha_on_non_integer_values(R: np.ndarray, level: str) -> None:
    expected = _reference(krippendorff.alpha, R, level_of_measurement=level)
    if not np.isnan(expected):
        assert krippendorff_alpha(R, level=level) == pytest.approx(expected, **TOL)


@SETTINGS
@given(R=reliability(values=5), data=st.data())
def test_alpha_with_a_distance_matrix_matches_a_callable_metric(
    R: np.ndarray, data: st.DataObject
) -> None:
    k = 5
    upper = data.draw(st.lists(st.integers(1, 9), min_size=k * k, max_size=k * k))
    D = np.triu(np.array(upper, dtype=float).reshape(k, k) / 9, 1)
    D = D + D.T

    def metric(v1: Any, v2: Any, i1: Any, i2: Any, n_v: Any, dtype: Any = float) -> Any:
        return D[v1.astype(int), v2.astype(int)]

    expected = _reference(
        krippendorff.alpha, R, value_domain=np.arange(k), level_of_measurement=metric
    )
    if not np.isnan(expected):
        assert alpha_statistic(R, level=D).value() == pytest.approx(expected, **TOL)


@SETTINGS
@given(R=reliability(missing=False))
def test_fleiss_matches_statsmodels(R: np.ndarray) -> None:
    table, _ = aggregate_raters(R.T.astype(int))
    expected = _reference(sm_fleiss_kappa, table, method="fleiss")
    if np.isnan(expected) or R.shape[0] < 2:
        with pytest.raises(SchemaError, match="Fleiss' kappa is undefined"):
            fleiss_kappa(R)
    else:
        assert fleiss_kappa(R) == pytest.approx(expected, **TOL)
        assert np.array_equal(category_counts(R), table[:, table.sum(axis=0) > 0])


@SETTINGS
@given(R=reliability())
def test_cohen_matches_scikit_learn_on_shared_items(R: np.ndarray) -> None:
    a, b = R[0], R[1]
    shared = ~np.isnan(a) & ~np.isnan(b)
    expected = _reference(cohen_kappa_score, a[shared], b[shared]) if shared.any() else float("nan")
    if np.isnan(expected):
        with pytest.raises(SchemaError, match="Cohen's kappa is undefined"):
            cohen_kappa(a, b)
    else:
        assert cohen_kappa(a, b) == pytest.approx(expected, **TOL)


@SETTINGS
@given(
    R=reliability(),
    level=st.sampled_from(["nominal", "ordinal", "interval"]),
    seed=st.integers(0, 9),
)
def test_a_resample_by_weights_equals_alpha_of_the_resampled_matrix(
    R: np.ndarray, level: str, seed: int
) -> None:
    """The bootstrap shortcut (weights @ per-item sums) is the real statistic of a resample."""
    idx = np.random.default_rng(seed).integers(0, R.shape[1], R.shape[1])
    weights = np.bincount(idx, minlength=R.shape[1]).astype(float)[None, :]
    stat = alpha_statistic(R, level=level)
    expected = _reference(krippendorff.alpha, R[:, idx], level_of_measurement=level)
    got = stat.finish(weights @ stat.sums)[0]
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, **TOL)


def test_krippendorffs_published_example() -> None:
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', section C."""
    nan = np.nan
    R = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    assert krippendorff_alpha(R, level="nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(R, level="ordinal") == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(R, level="interval") == pytest.approx(0.849, abs=5e-4)
