"""Calibration: ECE and reliability curves by hand, and isotonic calibration lowering the
held-out ECE of an overconfident synthetic scorer and of a real classifier."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

from _ci import skip_or_fail
from goldsmith.models import calibrate as calibrate_module
from goldsmith.models.calibrate import (
    IsotonicCalibrator,
    expected_calibration_error,
    reliability_curve,
    top_label,
)
from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.embed import TfidfEmbedder

PHRASEBANK = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)


def test_ece_by_hand() -> None:
    # bin [0.8, 1.0]: conf 0.9 x4, 2 right -> gap 0.4, weight 4/5;
    # bin [0.2, 0.4): conf 0.3 x1, right -> gap 0.7, weight 1/5
    conf = [0.9, 0.9, 0.9, 0.9, 0.3]
    right = [1, 1, 0, 0, 1]
    assert expected_calibration_error(conf, right, n_bins=5) == pytest.approx(0.46)
    assert expected_calibration_error([0.7] * 10, [1] * 7 + [0] * 3) == pytest.approx(0.0)
    assert expected_calibration_error([], []) == 0.0
    assert expected_calibration_error([1.0, 1.0], [1, 1], n_bins=1) == 0.0


def test_reliability_curve_bins_and_edges() -> None:
    curve = reliability_curve([0.0, 0.05, 0.5, 1.0, 1.0], [0, 1, 1, 1, 0], n_bins=10)
    assert curve.edges.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())
    assert curve.counts.tolist() == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]  # 0.5 opens bin 5, 1.0 last
    assert curve.confidence[0] == pytest.approx(0.025) and curve.accuracy[0] == 0.5
    assert np.isnan(curve.confidence[1]) and np.isnan(curve.accuracy[1])
    assert curve.accuracy[9] == 0.5
    d = curve.to_dict()
    assert d["count"] == [2, 1, 2] and d["bin_low"] == pytest.approx([0.0, 0.5, 0.9])
    assert d["accuracy"] == [0.5, 1.0, 0.5]


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error([1.2], [1])
    with pytest.raises(ValueError, match="differ in length"):
        IsotonicCalibrator().fit([0.5, 0.6], [1])
    with pytest.raises(ValueError, match="n_bins"):
        reliability_curve([0.5], [1], n_bins=0)
    with pytest.raises(ValueError, match="not fitted"):
        IsotonicCalibrator().predict([0.5])


def test_calibrator_is_monotone_bounded_and_handles_one_outcome() -> None:
    rng = np.random.default_rng(1)
    conf = rng.uniform(0, 1, 400)
    right = rng.uniform(0, 1, 400) < conf
    cal = IsotonicCalibrator(y_min=0.05, y_max=0.95).fit(conf, right)
    grid = np.linspace(-0.5, 1.5, 50)  # outside [0, 1] is clipped, not extrapolated
    out = cal.predict(grid)
    assert (np.diff(out) >= 0).all() and out.min() >= 0.05 and out.max() <= 0.95
    assert out[0] < 0.1 and out[-1] > 0.9
    assert cal.transform(np.array([[0.2, 0.8]])).shape == (1, 2)
    always = IsotonicCalibrator().fit([0.6, 0.9, 0.99], [1, 1, 1])
    assert always.isotonic_ is None
    np.testing.assert_allclose(always.predict([0.1, 0.5]), 4 / 5)  # (3 + 1) / (3 + 2)


def test_top_label() -> None:
    conf, right = top_label([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]], [1, 1, 0])
    assert conf.tolist() == [0.8, 0.6, 0.5] and right.tolist() == [True, False, True]


def test_isotonic_fixes_an_overconfident_scorer() -> None:
    """A scorer that says p ** 0.25 when the truth is p: calibrated on one half, the other
    half's ECE falls to sampling noise."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.2, 1.0, 6000)
    right = rng.uniform(0, 1, 6000) < p
    said = p**0.25
    fit, held = slice(0, 3000), slice(3000, None)
    before = expected_calibration_error(said[held], right[held])
    cal = IsotonicCalibrator().fit(said[fit], right[fit])
    after = expected_calibration_error(cal.predict(said[held]), right[held])
    assert before > 0.15
    assert after < 0.04
    # and it recovers the truth, not just the average (a constant would also have low ECE)
    assert np.abs(cal.predict(said[held]) - p[held]).mean() < 0.05


def _phrasebank() -> tuple[list[str], np.ndarray]:
    if not PHRASEBANK.is_file():
        skip_or_fail(f"shared data not found at {PHRASEBANK}")
    pairs = [
        line.rsplit("@", 1)
        for line in PHRASEBANK.read_text(encoding="latin-1").splitlines()
        if "@" in line
    ]
    names = sorted({label for _, label in pairs})
    return [t for t, _ in pairs], np.array([names.index(label) for _, label in pairs])


def test_isotonic_lowers_held_out_ece_of_a_real_classifier() -> None:
    """An uncalibrated, weakly regularised classifier on the financial phrasebank: its
    confidences, calibrated on one split, are closer to its accuracy on another."""
    texts, y = _phrasebank()
    X = TfidfEmbedder().fit(texts).encode(texts)
    perm = np.random.default_rng(0).permutation(len(y))
    train, cal_part, held = perm[:900], perm[900:1500], perm[1500:]
    clf = LoopClassifier(C=1000.0, method="none").fit(X[train], y[train])
    conf_cal, right_cal = top_label(clf.predict_proba(X[cal_part]), y[cal_part])
    conf, right = top_label(clf.predict_proba(X[held]), y[held])
    before = expected_calibration_error(conf, right)
    calibrator = IsotonicCalibrator().fit(conf_cal, right_cal)
    after = expected_calibration_error(calibrator.predict(conf), right)
    assert right.mean() > 0.75
    assert before > 0.08
    assert after < 0.6 * before


def test_module_doctests_pass() -> None:
    assert doctest.testmod(calibrate_module).failed == 0
