"""Comparing a round's QA numbers with the previous round's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from goldsmith.quality.report_data import Confusion, Estimate, QAReportData

__all__ = [
    "TOP_CONFUSED_PAIRS",
    "Change",
    "RoundComparison",
    "compare_rounds",
    "confused_pairs",
    "most_confused",
]

TOP_CONFUSED_PAIRS = 5


@dataclass(frozen=True)
class Change:
    """One number in this round and the previous one."""

    name: str
    current: float | None
    previous: float | None
    higher_is_better: bool = True

    @property
    def delta(self) -> float | None:
        """``current - previous``, or None when either is missing."""
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        """``"better"``, ``"worse"``, ``"same"`` or ``"unknown"``."""
        d = self.delta
        if d is None or math.isnan(d):
            return "unknown"
        if abs(d) < 1e-12:
            return "same"
        return "better" if (d > 0) == self.higher_is_better else "worse"


@dataclass(frozen=True)
class RoundComparison:
    """How this round differs from the previous one."""

    previous_round: int | None
    agreement: Change | None
    gold_accuracy: Change | None
    by_label: list[Change]
    annotators: list[Change]
    confused_pairs: list[Change]


def _value(est: Estimate | None) -> float | None:
    return None if est is None else est.get("value")


def confused_pairs(confusions: Sequence[Confusion], *, kind: str) -> dict[tuple[str, str], float]:
    """Per unordered label pair, the share of compared items on which the two were confused,
    pooled over the matrices of ``kind``. Pairs never confused are left out.

    >>> confused_pairs([{"kind": "gold", "labels": ["a", "b"], "matrix": [[6, 1], [3, 0]]}],
    ...                kind="gold")
    {('a', 'b'): 0.4}
    """
    counts: dict[tuple[str, str], float] = {}
    total = 0.0
    for conf in confusions:
        if conf["kind"] != kind:
            continue
        m = np.asarray(conf["matrix"], dtype=np.float64)
        total += float(m.sum())
        for i, j in zip(*np.nonzero(m), strict=True):
            if i != j:
                a, b = sorted((conf["labels"][i], conf["labels"][j]))
                counts[(a, b)] = counts.get((a, b), 0.0) + float(m[i, j])
    return {pair: c / total for pair, c in sorted(counts.items())} if total else {}


def most_confused(
    confusions: Sequence[Confusion], *, kind: str, top: int = TOP_CONFUSED_PAIRS
) -> list[tuple[tuple[str, str], float]]:
    """The ``top`` pairs of :func:`confused_pairs`, most confused first."""
    rates = confused_pairs(confusions, kind=kind)
    return sorted(rates.items(), key=lambda item: (-item[1], item[0]))[:top]


def _pair_changes(cur: QAReportData, prev: QAReportData, top: int) -> list[Change]:
    """The most-confused pairs of either round whose confusion rate changed."""
    kinds = [
        k
        for k in ("annotators", "gold")
        if any(c["kind"] == k for c in cur.confusions or [])
        and any(c["kind"] == k for c in prev.confusions or [])
    ]
    if not kinds:
        return []
    now = confused_pairs(cur.confusions or [], kind=kinds[0])
    then = confused_pairs(prev.confusions or [], kind=kinds[0])
    tops = most_confused(cur.confusions or [], kind=kinds[0], top=top) + most_confused(
        prev.confusions or [], kind=kinds[0], top=top
    )
    pairs = dict.fromkeys(pair for pair, _ in tops)
    changes = [
        Change(f"{a} ↔ {b}", now.get((a, b), 0.0), then.get((a, b), 0.0), higher_is_better=False)
        for a, b in pairs
    ]
    changes = [c for c in changes if c.direction != "same"]
    return sorted(changes, key=lambda c: (-abs(c.delta or 0.0), c.name))


def compare_rounds(
    current: QAReportData, previous: QAReportData, *, top: int = TOP_CONFUSED_PAIRS
) -> RoundComparison:
    """Deltas from ``previous`` to ``current``: overall agreement and gold accuracy, agreement
    per label and gold accuracy per annotator (those in both rounds), and the ``top``
    most-confused label pairs of either round whose confusion rate changed (biggest first)."""

    def change(name: str, a: Estimate | None, b: Estimate | None) -> Change | None:
        return None if a is None and b is None else Change(name, _value(a), _value(b))

    by_label_now, by_label_then = (
        current.agreement_by_label or {},
        previous.agreement_by_label or {},
    )
    acc_then = {a["name"]: a.get("gold_accuracy") for a in previous.annotators or []}
    return RoundComparison(
        previous_round=previous.round,
        agreement=change(current.agreement_metric, current.agreement, previous.agreement),
        gold_accuracy=change(
            "gold accuracy", current.overall_gold_accuracy(), previous.overall_gold_accuracy()
        ),
        by_label=[
            Change(label, _value(est), _value(by_label_then[label]))
            for label, est in by_label_now.items()
            if label in by_label_then
        ],
        annotators=[
            Change(a["name"], a.get("gold_accuracy"), acc_then[a["name"]])
            for a in current.annotators or []
            if a["name"] in acc_then
        ],
        confused_pairs=_pair_changes(current, previous, top),
    )
