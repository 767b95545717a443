"""Annotator quality from arrays: accuracy on gold items, Dawid-Skene confusions, pausing.

Responses are a **response matrix** ``R`` of shape ``(n_items, n_annotators)``: ``R[i, j]``
is the label index annotator ``j`` gave item ``i``, or ``-1`` where they gave none (the
label-matrix contract of :mod:`goldsmith.weak.matrix`, annotators as sources).
:func:`response_matrix` builds it from ``(item, annotator, label)`` triples. Gold labels are
a vector of length ``n_items`` with ``-1`` on items that are not gold.

>>> R = response_matrix([0, 0, 1, 1, 2], [0, 1, 0, 1, 1], [1, 1, 0, 1, 0])
>>> R.tolist()
[[1, 1], [0, 1], [-1, 0]]
>>> g = gold_accuracy(R, [1, 0, -1])
>>> g.n_answered.tolist(), g.accuracy.tolist()
([2, 2], [1.0, 0.5])
>>> paused(R, [1, 0, -1], threshold=0.8, min_gold=2).tolist()
[False, True]
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.weak.label_models import DawidSkene

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "AnnotatorConfusions",
    "GoldAccuracy",
    "annotator_confusions",
    "check_responses",
    "gold_accuracy",
    "paused",
    "response_matrix",
    "wilson_interval",
]


def response_matrix(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    labels: npt.ArrayLike,
    *,
    n_items: int | None = None,
    n_annotators: int | None = None,
) -> IntArray:
    """The ``(n_items, n_annotators)`` response matrix of ``(item, annotator, label)`` triples.

    Items and annotators are 0-based indices; the shape defaults to the largest index + 1.
    A pair given twice is an error (resolve edits before calling: keep the latest response).
    """
    cols = [np.asarray(a) for a in (items, annotators, labels)]
    if any(c.ndim != 1 for c in cols) or len({c.size for c in cols}) != 1:
        raise SchemaError("items, annotators and labels must be 1-D arrays of the same length")
    if any(c.size and not np.issubdtype(c.dtype, np.integer) for c in cols):
        raise SchemaError("items, annotators and labels must be integer indices")
    i, j, y = (c.astype(np.int64) for c in cols)
    if i.size and (i.min() < 0 or j.min() < 0 or y.min() < 0):
        raise SchemaError("item, annotator and label indices must be >= 0")
    n = int(i.max()) + 1 if n_items is None and i.size else n_items or 0
    m = int(j.max()) + 1 if n_annotators is None and j.size else n_annotators or 0
    if i.size and (i.max() >= n or j.max() >= m):
        raise SchemaError(f"an index is outside the shape ({n} items, {m} annotators)")
    flat = i * m + j
    uniq, counts = np.unique(flat, return_counts=True)
    if (counts > 1).any():
        first = int(uniq[np.argmax(counts > 1)])
        raise SchemaError(
            f"annotator {first % m} answered item {first // m} more than once; "
            "keep one response per (item, annotator)"
        )
    R = np.full(n * m, -1, dtype=np.int64)
    R[flat] = y
    return R.reshape(n, m)


def check_responses(
    responses: npt.ArrayLike, gold: npt.ArrayLike | None = None, *, n_classes: int | None = None
) -> tuple[IntArray, IntArray, int]:
    """Validate a response matrix and gold vector; returns them and the number of classes.

    ``n_classes`` defaults to the largest label seen + 1 (at least 1). ``gold=None`` gives
    a vector of ``-1`` (no gold item).
    """
    R = np.asarray(responses)
    if R.ndim != 2:
        raise SchemaError(f"responses must be 2-D (items x annotators), got shape {R.shape}")
    if R.size and not np.issubdtype(R.dtype, np.integer):
        raise SchemaError(f"responses must hold label indices (-1 = none), got {R.dtype}")
    R = R.astype(np.int64, copy=False)
    G = np.full(R.shape[0], -1, dtype=np.int64) if gold is None else np.asarray(gold)
    if G.shape != (R.shape[0],) or (G.size and not np.issubdtype(G.dtype, np.integer)):
        raise SchemaError(f"gold must be {R.shape[0]} label indices (-1 = not gold)")
    G = G.astype(np.int64, copy=False)
    seen = max(int(R.max(initial=-1)), int(G.max(initial=-1))) + 1
    k = max(seen, 1) if n_classes is None else int(n_classes)
    if k < 1:
        raise SchemaError(f"n_classes must be at least 1, got {n_classes}")
    for name, A in (("responses", R), ("gold", G)):
        bad = (A < -1) | (k <= A)
        if bad.any():
            where = np.argwhere(bad)[0].tolist()
            raise SchemaError(
                f"{name} hold {int(A[tuple(where)])} at {where}, outside -1..{k - 1} "
                "(-1 = none); pass n_classes if a class is missing"
            )
    return R, G, k


# -- gold ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldAccuracy:
    """Per-annotator accuracy on gold items; every field has one entry per annotator.

    ``accuracy`` is ``nan`` and the interval ``[0, 1]`` for an annotator with no gold answer.
    """

    n_answered: IntArray
    n_correct: IntArray
    accuracy: FloatArray
    low: FloatArray
    high: FloatArray


def wilson_interval(
    n_correct: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of a binomial proportion, elementwise; ``[0, 1]`` where n = 0.

    >>> lo, hi = wilson_interval([8], [10])
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.49, 0.943)
    """
    if not 0 < confidence < 1:
        raise SchemaError(f"confidence must be in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    c = np.asarray(n_correct, dtype=np.float64)
    t = np.asarray(n, dtype=np.float64)
    safe = np.maximum(t, 1.0)
    p = c / safe
    den = 1 + z * z / safe
    centre = (p + z * z / (2 * safe)) / den
    half = z / den * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe))
    low = np.where((t > 0) & (c > 0), np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where((t > 0) & (c < t), np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def gold_accuracy(
    responses: npt.ArrayLike, gold: npt.ArrayLike, *, confidence: float = 0.95
) -> GoldAccuracy:
    """Each annotator's accuracy on the gold items they answered, with a Wilson interval.

    Parameters
    ----------
    responses
        Response matrix ``(n_items, n_annotators)``, ``-1`` = no response.
    gold
        Gold label per item, ``-1`` on items that are not gold.
    confidence
        Coverage of the interval (0.95: a 95 % Wilson score interval).
    """
    R, G, _ = check_responses(responses, gold)
    answered = (R >= 0) & (G >= 0)[:, None]
    n = answered.sum(axis=0).astype(np.int64)
    correct = (answered & (G[:, None] == R)).sum(axis=0).astype(np.int64)
    low, high = wilson_interval(correct, n, confidence=confidence)
    acc = np.where(n > 0, correct / np.maximum(n, 1), np.nan)
    return GoldAccuracy(n_answered=n, n_correct=correct, accuracy=acc, low=low, high=high)


def paused(
    responses: npt.ArrayLike,
    gold: npt.ArrayLike,
    *,
    threshold: float = 0.7,
    min_gold: int = 10,
    judge_by: Literal["estimate", "upper"] = "estimate",
    confidence: float = 0.95,
) -> BoolArray:
    """Which annotators to pause: gold accuracy below ``threshold`` after ``min_gold`` answers.

    ``judge_by="estimate"`` compares the observed accuracy; ``"upper"`` pauses only when the
    upper end of the Wilson interval is below ``threshold`` (confidently below: fewer false
    alarms on a handful of gold answers). Annotators with fewer than ``min_gold`` gold
    answers are never paused.
    """
    if judge_by not in ("estimate", "upper"):
        raise SchemaError(f"judge_by must be 'estimate' or 'upper', got {judge_by!r}")
    g = gold_accuracy(responses, gold, confidence=confidence)
    score = g.accuracy if judge_by == "estimate" else g.high
    out: BoolArray = (g.n_answered >= max(min_gold, 1)) & (score < threshold)
    return out


# -- Dawid-Skene --------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatorConfusions:
    """Dawid-Skene estimate of every annotator's quality over all their work.

    Attributes
    ----------
    accuracy : (n_annotators,)
        Expected share of an annotator's responses that are right, under the posteriors of
        the items they answered (gold items count with their known label); ``nan`` for an
        annotator with no *compared* response (below), whose accuracy nothing can check.
    confusion : (n_annotators, k, k)
        ``confusion[j, y, l] = P(annotator j answers l | true class y)``, the fitted model's
        (Dirichlet-smoothed) matrix.
    counts : (n_annotators, k, k)
        Expected number of times annotator ``j`` answered ``l`` on an item of class ``y``.
    n_responses : (n_annotators,)
    n_compared : (n_annotators,)
        Responses on items that are gold or that another annotator also answered.
    posteriors : (n_items, k)
        ``P(true class | responses)``; one-hot on gold items, the class balance on items
        with no response.
    class_balance : (k,)
    """

    accuracy: FloatArray
    confusion: FloatArray
    counts: FloatArray
    n_responses: IntArray
    n_compared: IntArray
    posteriors: FloatArray
    class_balance: FloatArray


def annotator_confusions(
    responses: npt.ArrayLike,
    *,
    gold: npt.ArrayLike | None = None,
    n_classes: int | None = None,
    seed: int = 0,
    max_iter: int = 200,
) -> AnnotatorConfusions:
    """Fit Dawid-Skene with annotators as sources; gold items enter as known truth.

    Gold items are left out of the unsupervised part and passed as the dev set
    (``L_dev``/``Y_dev``) of :class:`~goldsmith.weak.label_models.DawidSkene`, so they count
    in every M-step with their known class, one item each. EM starts from the majority vote,
    so when most annotators systematically swap two classes a small gold set (10 % in our
    test) does not pull it out of that solution; 20 % does. :func:`gold_accuracy` and
    :func:`paused` catch such annotators from the gold items alone.

    Parameters
    ----------
    responses
        Response matrix ``(n_items, n_annotators)``, ``-1`` = no response.
    gold
        Gold label per item (``-1`` = not gold), or ``None``.
    n_classes
        Number of classes ``k``; defaults to the largest label seen + 1.
    seed, max_iter
        Passed to :class:`~goldsmith.weak.label_models.DawidSkene`.
    """
    R, G, k = check_responses(responses, gold, n_classes=n_classes)
    n, m = R.shape
    answered = R >= 0
    n_resp = answered.sum(axis=0).astype(np.int64)
    checked = (answered.sum(axis=1) > 1) | (G >= 0)
    n_compared = (answered & checked[:, None]).sum(axis=0).astype(np.int64)
    if k == 1:  # one class: every answer is right
        ones = np.ones((m, 1, 1))
        return AnnotatorConfusions(
            accuracy=np.where(n_resp > 0, 1.0, np.nan),
            confusion=ones,
            counts=n_resp[:, None, None].astype(np.float64),
            n_responses=n_resp,
            n_compared=n_compared,
            posteriors=np.ones((n, 1)),
            class_balance=np.ones(1),
        )
    is_gold = G >= 0
    model = DawidSkene(k, seed=seed, max_iter=max_iter)
    model.fit(R[~is_gold], L_dev=R[is_gold], Y_dev=G[is_gold])
    Q = model.predict_proba(R)
    Q[is_gold] = np.eye(k)[G[is_gold]]
    # Expected (annotator, true class, answer) counts over every response.
    rows, cols = np.nonzero(answered)
    flat = np.zeros((m * k, k))
    np.add.at(flat, cols * k + R[rows, cols], Q[rows])
    counts = np.ascontiguousarray(flat.reshape(m, k, k).transpose(0, 2, 1))  # (j, y, l)
    right = np.einsum("jyy->j", counts)
    acc = np.where(n_compared > 0, right / np.maximum(n_resp, 1), np.nan)
    return AnnotatorConfusions(
        accuracy=acc,
        confusion=model.confusion_.copy(),
        counts=counts,
        n_responses=n_resp,
        n_compared=n_compared,
        posteriors=Q,
        class_balance=model.class_balance_.copy(),
    )
