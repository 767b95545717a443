"""Calibrate a label model's confidences on gold, without scoring it on its own gold.

A label model's top probability is often far from how often its label is right (the pooled
product of experts is overconfident wherever several correlated LFs agree). When a project
has some gold, :func:`calibrate_on_gold` learns a monotone map from the model's confidence to
its observed accuracy. The gold records also train the label model (semi-supervised EM), so
their confidences are taken *out of fold*: the gold is split in ``n_folds``, and each fold
is scored by a model fitted with the other folds' gold only.

>>> import numpy as np
>>> from goldsmith.weak.label_models import LabelModel
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 400)
>>> L = np.where(rng.random((400, 3)) < 0.75, y[:, None], 1 - y[:, None])
>>> cal = calibrate_on_gold(lambda: LabelModel(2), L[:300], L[300:], y[300:])
>>> cal is not None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.models.calibrate import IsotonicCalibrator
from goldsmith.weak.matrix import LabelMatrix

MIN_GOLD = 30
"""Fewer gold records than this give no calibration (an isotonic map on so few is noise)."""


def out_of_fold_confidence(
    make_model: Callable[[], Any],
    L: LabelMatrix,
    L_dev: LabelMatrix,
    y_dev: npt.ArrayLike,
    *,
    n_folds: int = 3,
    seed: int = 0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Top-label confidence and correctness of each gold record, from a model that did not
    see its gold.

    Parameters
    ----------
    make_model
        Returns a fresh, unfitted label model (``fit(L, L_dev=, Y_dev=)``, ``predict_proba``).
    L
        Label matrix of the records without gold.
    L_dev, y_dev
        Label matrix and gold class indices of the gold records.
    n_folds
        Folds of the gold (at least 2).
    seed
        Seed of the fold assignment.
    """
    y = np.asarray(y_dev, dtype=np.int64).reshape(-1)
    n = y.size
    folds = np.random.default_rng(seed).permutation(n) % max(2, n_folds)
    conf = np.zeros(n)
    right = np.zeros(n, dtype=bool)
    for f in np.unique(folds):
        out, rest = np.flatnonzero(folds == f), np.flatnonzero(folds != f)
        model = make_model().fit(L, L_dev=L_dev[rest], Y_dev=y[rest])
        proba = np.asarray(model.predict_proba(L_dev[out]))
        conf[out] = proba.max(axis=1)
        right[out] = proba.argmax(axis=1) == y[out]
    return conf, right


def calibrate_on_gold(
    make_model: Callable[[], Any],
    L: LabelMatrix,
    L_dev: LabelMatrix,
    y_dev: npt.ArrayLike,
    *,
    n_folds: int = 3,
    seed: int = 0,
    min_gold: int = MIN_GOLD,
) -> IsotonicCalibrator | None:
    """An isotonic map from the label model's top confidence to its accuracy on gold.

    Returns None when there are fewer than ``min_gold`` gold records, or when the model was
    right (or wrong) on all of them: there is then nothing to map, and a constant would erase
    the order of the confidences. See :func:`out_of_fold_confidence` for the parameters.
    """
    y = np.asarray(y_dev, dtype=np.int64).reshape(-1)
    if y.size < min_gold:
        return None
    conf, right = out_of_fold_confidence(make_model, L, L_dev, y, n_folds=n_folds, seed=seed)
    cal = IsotonicCalibrator().fit(conf, right)
    return cal if cal.isotonic_ is not None else None


def apply_calibration(
    calibrator: IsotonicCalibrator | None, confidence: npt.ArrayLike, n_classes: int
) -> npt.NDArray[np.float64]:
    """Calibrated top-label confidences, kept in ``[1 / k, 1]`` so that the stored label stays
    the most probable one; ``confidence`` unchanged when ``calibrator`` is None.

    >>> apply_calibration(None, [0.9], 2).tolist()
    [0.9]
    """
    conf = np.asarray(confidence, dtype=np.float64)
    if calibrator is None:
        return conf
    return np.clip(calibrator.predict(conf), 1.0 / n_classes, 1.0)
