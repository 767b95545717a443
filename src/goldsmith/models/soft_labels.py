"""Machine labels as training targets: label-model posteriors in, weighted training rows out.

A label model (or an LLM) gives each record a posterior ``P(y | votes)`` over the ``k``
classes. Training an end model on only its argmax, and only where it is sure, throws most of
that away: on a 10-class label-model output a 0.7 confidence floor kept 234 of 1,368 labels
and halved the end model's accuracy. These functions keep every record and let the
posterior say how much each class counts:

* :func:`expand_soft_labels` turns each record into one training row per class, weighted by
  that class's posterior. For any learner whose loss is a sum of per-row log-losses
  (logistic regression, a softmax network) this is exactly the cross-entropy against the
  soft target, so a record the label model is unsure about pulls on every class it might
  be, in proportion.
* :func:`argmax_labels` keeps one row per record, its most probable class, weighted by that
  class's posterior (the posterior-weighted hard label).
* :func:`label_posteriors` rebuilds a posterior when only the top label and its confidence
  were stored (the store keeps a label model's suggestion and its score): the confidence on
  the label, the rest spread evenly over the other classes. For two classes this is exact.

Arrays in, arrays out; nothing here knows a store or a question.

>>> import numpy as np
>>> P = label_posteriors([0, 2], [0.8, 0.5], 3)
>>> P.round(2).tolist()
[[0.8, 0.1, 0.1], [0.25, 0.25, 0.5]]
>>> rows, y, w = expand_soft_labels([10, 11], P, [1.0, 0.5])
>>> rows.tolist(), y.tolist(), w.round(3).tolist()
([10, 10, 10, 11, 11, 11], [0, 1, 2, 0, 1, 2], [0.8, 0.1, 0.1, 0.125, 0.125, 0.25])
>>> y, w = argmax_labels(P, [1.0, 0.5])
>>> y.tolist(), w.tolist()
([0, 2], [0.8, 0.25])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["MACHINE_WEIGHT", "argmax_labels", "expand_soft_labels", "label_posteriors"]

MACHINE_WEIGHT = 0.5
"""A machine (weak or LLM) label's weight next to a human label's 1, before its confidence:
the default of ``train classifier`` and of the simulator alike."""


def label_posteriors(
    labels: npt.ArrayLike,
    confidence: npt.ArrayLike,
    n_classes: int,
    *,
    prior: npt.ArrayLike | None = None,
) -> FloatArray:
    """Posteriors ``(n, k)`` from a top label and its confidence per record.

    Parameters
    ----------
    labels : array of int, shape (n,)
        Class index of each record's stored label, in ``0..n_classes-1``.
    confidence : array of float, shape (n,)
        The probability given to that label, in ``[0, 1]``.
    n_classes : int
        Number of classes ``k`` (at least 2).
    prior : array of float, shape (k,), optional, keyword-only
        How to share ``1 - confidence`` among the other classes: in proportion to ``prior``
        (for example the class balance, when the caller knows one). Evenly when omitted.

    Returns
    -------
    ndarray of shape (n, k)
        ``confidence`` on the label and ``1 - confidence`` shared among the other classes;
        each row sums to 1. A confidence under ``1 / k`` is kept as given (after calibration it
        can mean the label is usually wrong), so the label is then not the row's maximum.

    Raises
    ------
    SchemaError
        Shapes differ, a label is out of range, or a confidence is outside ``[0, 1]``.

    Examples
    --------
    >>> label_posteriors([1], [0.9], 2).tolist()
    [[0.09999999999999998, 0.9]]
    >>> label_posteriors([0], [0.6], 3, prior=[0.5, 0.3, 0.1]).round(2).tolist()
    [[0.6, 0.3, 0.1]]
    """
    k = int(n_classes)
    if k < 2:
        raise SchemaError(f"n_classes must be at least 2, got {n_classes}")
    y = np.asarray(labels).reshape(-1)
    c = np.asarray(confidence, dtype=np.float64).reshape(-1)
    if y.shape != c.shape:
        raise SchemaError(f"labels and confidence differ in length: {y.size} vs {c.size}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= k):
        raise SchemaError(f"labels must be class indices in 0..{k - 1}; map label names first")
    if c.size and (not np.all(np.isfinite(c)) or c.min() < 0.0 or c.max() > 1.0):
        raise SchemaError("confidences must lie in [0, 1]")
    yi = y.astype(np.int64)
    if prior is None:
        out: FloatArray = np.repeat(((1.0 - c) / (k - 1))[:, None], k, axis=1)
    else:
        pi = np.asarray(prior, dtype=np.float64).reshape(-1)
        if pi.shape != (k,) or not np.all(np.isfinite(pi)) or pi.min() <= 0.0:
            raise SchemaError(f"prior must be {k} positive numbers, got {pi!r}")
        share = np.repeat(pi[None, :], y.size, axis=0)
        share[np.arange(y.size), yi] = 0.0
        out = share / share.sum(axis=1, keepdims=True) * (1.0 - c)[:, None]
    out[np.arange(y.size), yi] = c
    return out


def _check(
    posteriors: npt.ArrayLike, weights: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray]:
    P = np.asarray(posteriors, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise SchemaError(f"posteriors must be an (n, k) array with k >= 2, got shape {P.shape}")
    if P.size and (not np.all(np.isfinite(P)) or P.min() < 0.0):
        raise SchemaError("posteriors must be finite and non-negative")
    sums = P.sum(axis=1)
    if P.size and np.any(np.abs(sums - 1.0) > 1e-6):
        bad = int(np.flatnonzero(np.abs(sums - 1.0) > 1e-6)[0])
        raise SchemaError(
            f"posterior row {bad} sums to {sums[bad]:.6g}, not 1: pass probabilities "
            "(a label model's predict_proba), not scores"
        )
    n = P.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise SchemaError(f"weights must have one value per record ({n}), got {w.size}")
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0.0):
        raise SchemaError("weights must be finite and non-negative")
    return P, w


def expand_soft_labels(
    rows: npt.ArrayLike,
    posteriors: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
    *,
    min_posterior: float = 0.0,
) -> tuple[IntArray, IntArray, FloatArray]:
    """One training row per (record, class), weighted by the class's posterior.

    Fitting a weighted log-loss learner on the result minimises, per record, the
    cross-entropy against its posterior times its weight:
    ``sum_c P[i, c] * w[i] * -log q(c | x_i)``.

    Parameters
    ----------
    rows : array of int, shape (n,)
        Each record's row in the feature matrix (``X[rows[i]]`` is record ``i``'s vector).
    posteriors : array of float, shape (n, k)
        ``P(y = c | record i)``; each row sums to 1.
    weights : array of float, shape (n,), optional
        Each record's weight (its provenance weight); 1 when omitted.
    min_posterior : float, keyword-only
        Leave out (record, class) pairs whose posterior is at most this (0: only zero
        posteriors). On many classes a small floor such as 0.01 keeps the expansion near
        one or two rows per record with almost no change to the loss.

    Returns
    -------
    row_index : ndarray of int, shape (r,)
        The feature row of each training row: train on ``X[row_index]``.
    y : ndarray of int, shape (r,)
        The class of each training row.
    sample_weight : ndarray of float, shape (r,)
        ``posteriors[i, c] * weights[i]``; pairs with weight 0 are left out.

    Raises
    ------
    SchemaError
        Shapes differ, a posterior row does not sum to 1, or a weight is negative.

    Examples
    --------
    >>> import numpy as np
    >>> r, y, w = expand_soft_labels([3], np.array([[0.7, 0.3]]), [2.0])
    >>> r.tolist(), y.tolist(), w.tolist()
    ([3, 3], [0, 1], [1.4, 0.6])
    """
    P, w = _check(posteriors, weights)
    r = np.asarray(rows).reshape(-1)
    if r.shape != (P.shape[0],):
        raise SchemaError(
            f"rows must have one index per posterior row ({P.shape[0]}), got {r.size}"
        )
    if r.size and not np.issubdtype(r.dtype, np.integer):
        raise SchemaError("rows must be integer indices into the feature matrix")
    W = P * w[:, None]
    keep = (min_posterior < P) & (W > 0.0)
    i, c = np.nonzero(keep)  # row-major: a record's classes stay together, in class order
    return r[i].astype(np.int64), c.astype(np.int64), W[i, c]


def argmax_labels(
    posteriors: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> tuple[IntArray, FloatArray]:
    """Each record's most probable class, weighted by its posterior times the record's weight.

    Parameters
    ----------
    posteriors : array of float, shape (n, k)
        ``P(y = c | record i)``; each row sums to 1.
    weights : array of float, shape (n,), optional
        Each record's weight; 1 when omitted.

    Returns
    -------
    y : ndarray of int, shape (n,)
        The argmax class (the lowest index among ties).
    sample_weight : ndarray of float, shape (n,)
        ``max_c posteriors[i, c] * weights[i]``.

    Examples
    --------
    >>> y, w = argmax_labels([[0.2, 0.8], [0.6, 0.4]])
    >>> y.tolist(), w.tolist()
    ([1, 0], [0.8, 0.6])
    """
    P, w = _check(posteriors, weights)
    y = P.argmax(axis=1).astype(np.int64)
    return y, P[np.arange(P.shape[0]), y] * w
