"""Classification scores from label lists: accuracy, macro-F1, per-class scores, confusions.

Plain numpy, so the numbers are easy to check by hand; ``tests/train/test_metrics.py`` checks
them against scikit-learn. A prediction outside the label set (an unparseable generation)
counts as wrong for its true class and as nobody's prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from goldsmith.errors import ArgumentError

UNPARSED = None  # a prediction that could not be read as a label


def classification_scores(
    truth: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> dict[str, Any]:
    """Scores of single-label predictions against the truth.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1``, ``weighted_f1``, ``unparsed`` (predictions not in
        ``labels``), ``per_class`` (``{label: {precision, recall, f1, support}}``) and
        ``confusion`` (rows: true label, columns: predicted label, in ``labels`` order).

    Examples
    --------
    >>> s = classification_scores(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(s["macro_f1"], 4), s["confusion"]
    (0.6667, [[1, 1], [0, 1]])
    """
    if len(truth) != len(predicted):
        raise ArgumentError(f"{len(truth)} true labels but {len(predicted)} predictions")
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k), dtype=np.int64)
    unparsed = 0
    correct = 0
    for t, p in zip(truth, predicted, strict=True):
        correct += int(t == p)
        if p not in index:
            unparsed += 1
            continue
        if t in index:
            confusion[index[t], index[p]] += 1
    support = np.array([sum(1 for t in truth if t == label) for label in labels])
    tp = np.diag(confusion)
    predicted_n = confusion.sum(axis=0)
    precision = np.divide(tp, predicted_n, out=np.zeros(k), where=predicted_n > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    present = support > 0
    n = len(truth)
    return {
        "n": n,
        "accuracy": correct / n if n else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float((f1 * support).sum() / support.sum()) if support.sum() else 0.0,
        "unparsed": unparsed,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": confusion.tolist(),
    }


def multilabel_scores(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str] | None], labels: Sequence[str]
) -> dict[str, Any]:
    """Per-label F1 of label sets, their macro average, micro-F1 and exact-set accuracy.

    Examples
    --------
    >>> s = multilabel_scores([["a"], ["a", "b"]], [["a"], ["a"]], ["a", "b"])
    >>> s["exact"], round(s["micro_f1"], 4)
    (0.5, 0.8)
    """
    n, k = len(truth), len(labels)
    t = np.zeros((n, k), dtype=bool)
    p = np.zeros((n, k), dtype=bool)
    for i, (ts, ps) in enumerate(zip(truth, predicted, strict=True)):
        t[i] = [label in ts for label in labels]
        p[i] = [ps is not None and label in ps for label in labels]
    tp = (t & p).sum(axis=0)
    fp = (~t & p).sum(axis=0)
    fn = (t & ~p).sum(axis=0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    micro = 2 * tp.sum() / max(1, 2 * tp.sum() + fp.sum() + fn.sum())
    return {
        "n": n,
        "exact": float((t == p).all(axis=1).mean()) if n else 0.0,
        "macro_f1": float(f1.mean()) if k else 0.0,
        "micro_f1": float(micro),
        "unparsed": sum(1 for x in predicted if x is None),
        "per_class": {
            label: {"f1": float(f1[j]), "support": int(t[:, j].sum())}
            for j, label in enumerate(labels)
        },
    }
