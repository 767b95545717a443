"""Calibration of confidences: an isotonic calibrator, ECE and reliability-curve data.

A confidence is calibrated when, of the answers given with confidence ``c``, a fraction ``c``
is right. Raw LLM confidences and an uncalibrated classifier's top probabilities usually are
not. :class:`IsotonicCalibrator` learns a monotone map from raw confidence to the observed
rate of correct answers on labeled examples; :func:`expected_calibration_error` and
:func:`reliability_curve` measure the gap.

>>> import numpy as np
>>> conf = np.array([0.9, 0.9, 0.9, 0.9, 0.6, 0.6])
>>> right = np.array([1, 1, 0, 0, 1, 0])
>>> round(expected_calibration_error(conf, right, n_bins=10), 3)
0.3
>>> cal = IsotonicCalibrator().fit(conf, right)
>>> round(expected_calibration_error(cal.predict(conf), right, n_bins=10), 3)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import ArgumentError, NotFittedError

if TYPE_CHECKING:
    import sklearn.isotonic as _isotonic
    from sklearn.isotonic import IsotonicRegression
else:
    _isotonic = lazy_module("sklearn.isotonic")

FloatArray = npt.NDArray[np.float64]


def _pair(confidence: npt.ArrayLike, correct: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    ok = np.asarray(correct, dtype=np.float64).reshape(-1)
    if conf.shape != ok.shape:
        raise ArgumentError(f"confidence and correct differ in length: {len(conf)} vs {len(ok)}")
    if conf.size and (np.isnan(conf).any() or conf.min() < 0 or conf.max() > 1):
        raise ArgumentError("confidences must lie in [0, 1]")
    return conf, ok


class IsotonicCalibrator:
    """A monotone map from raw confidence to the probability of being correct.

    Parameters
    ----------
    y_min, y_max : float
        Bounds of the calibrated output (e.g. ``0.01, 0.99`` to never claim certainty).

    Attributes
    ----------
    isotonic_ : IsotonicRegression or None
        The fitted map; None when the data had a single outcome or a single confidence.
    constant_ : float
        Laplace-smoothed accuracy ``(right + 1) / (n + 2)``, the output when there is no map.
    """

    def __init__(self, *, y_min: float = 0.0, y_max: float = 1.0) -> None:
        self.y_min = y_min
        self.y_max = y_max

    def fit(self, confidence: npt.ArrayLike, correct: npt.ArrayLike) -> IsotonicCalibrator:
        """Learn the map from raw ``confidence`` (n,) and ``correct`` (n,) 0/1 outcomes."""
        conf, ok = _pair(confidence, correct)
        self.constant_ = float(np.clip((ok.sum() + 1) / (len(ok) + 2), self.y_min, self.y_max))
        self.isotonic_: IsotonicRegression | None = None
        if len(np.unique(ok)) > 1 and len(np.unique(conf)) > 1:
            iso = _isotonic.IsotonicRegression(
                y_min=self.y_min, y_max=self.y_max, out_of_bounds="clip"
            )
            self.isotonic_ = iso.fit(conf, ok)
        return self

    def predict(self, confidence: npt.ArrayLike) -> FloatArray:
        """Calibrated probabilities of being correct, same shape as ``confidence``."""
        if not hasattr(self, "constant_"):
            raise NotFittedError("this IsotonicCalibrator is not fitted yet; call fit() first")
        conf = np.asarray(confidence, dtype=np.float64)
        if self.isotonic_ is None:
            return np.full(conf.shape, self.constant_)
        out = self.isotonic_.predict(conf.reshape(-1))
        return np.asarray(out, dtype=np.float64).reshape(conf.shape)

    transform = predict


def top_label(
    proba: npt.ArrayLike, labels: npt.ArrayLike
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Confidence and correctness of the top class of each row of ``proba`` (n, k) against
    true class indices ``labels`` (n,): the input of calibration for a classifier."""
    p = np.asarray(proba, dtype=np.float64)
    y = np.asarray(labels).reshape(-1)
    return p.max(axis=1), p.argmax(axis=1) == y


@dataclass(frozen=True, slots=True)
class ReliabilityCurve:
    """Per confidence bin: edges (n_bins + 1), counts, mean confidence and accuracy (NaN
    where a bin is empty). Plot ``accuracy`` against ``confidence``; the diagonal is perfect.
    """

    edges: FloatArray
    counts: npt.NDArray[np.int64]
    confidence: FloatArray
    accuracy: FloatArray

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean gap |accuracy - confidence|."""
        full = self.counts > 0
        if not full.any():
            return 0.0
        gap = np.abs(self.accuracy[full] - self.confidence[full])
        return float((gap * self.counts[full]).sum() / self.counts.sum())

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        """JSON-ready lists of the filled bins (empty bins are left out)."""
        full = self.counts > 0
        return {
            "bin_low": self.edges[:-1][full].tolist(),
            "bin_high": self.edges[1:][full].tolist(),
            "count": self.counts[full].tolist(),
            "confidence": self.confidence[full].tolist(),
            "accuracy": self.accuracy[full].tolist(),
        }


def reliability_curve(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, *, n_bins: int = 15
) -> ReliabilityCurve:
    """Bin ``confidence`` into ``n_bins`` equal-width bins over [0, 1] (1.0 falls in the last)
    and give each bin's count, mean confidence and fraction correct."""
    if n_bins < 1:
        raise ArgumentError("n_bins must be at least 1")
    conf, ok = _pair(confidence, correct)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / counts
        accuracy = np.bincount(bins, weights=ok, minlength=n_bins) / counts
    return ReliabilityCurve(
        edges.astype(np.float64), counts, mean_conf.astype(np.float64), accuracy.astype(np.float64)
    )


def expected_calibration_error(
    confidence: npt.ArrayLike, correct: npt.ArrayLike, *, n_bins: int = 15
) -> float:
    """Expected calibration error over ``n_bins`` equal-width bins (0 is perfect)."""
    return reliability_curve(confidence, correct, n_bins=n_bins).ece
