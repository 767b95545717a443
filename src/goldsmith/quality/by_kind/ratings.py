"""Rating questions: the median, with the mean and the dispersion beside it.

The consensus is the lower median (always a rating somebody gave); ``support`` carries the
mean, the standard deviation and the range. Confidence is one minus the standard deviation
over half the scale's width (1 when everyone agrees, 0 at the widest possible split).
:meth:`RatingRule.score` is one minus the distance over the scale's width.

>>> from types import SimpleNamespace
>>> rule = RatingRule(SimpleNamespace(min=1, max=5))
>>> c = rule.consensus({1: {"a": 4, "b": 5, "c": 4}})[1]
>>> c.value, c.support["mean"], round(c.confidence, 2)
(4, 4.333, 0.76)
>>> rule.score(2, 4)
0.5
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from goldsmith.quality.by_kind.base import Answers, Consensus, KindRule, gold_first


class RatingRule(KindRule):
    metric = "closeness"

    @property
    def width(self) -> float:
        lo = getattr(self.question, "min", 1)
        hi = getattr(self.question, "max", 5)
        return float(max(hi - lo, 1))

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        out, ids = gold_first(answers, gold)
        for rid in ids:
            values = sorted(float(v) for v in answers[rid].values())
            median = statistics.median_low(values)
            spread = statistics.pstdev(values) if len(values) > 1 else 0.0
            confidence = max(0.0, 1.0 - spread / (self.width / 2))
            value = int(median) if float(median).is_integer() else median
            support = {
                "mean": round(statistics.fmean(values), 3),
                "std": round(spread, 3),
                "min": values[0],
                "max": values[-1],
            }
            out[rid] = Consensus(value, confidence, "median", support)
        return out

    def score(self, answer: Any, reference: Any) -> float:
        return max(0.0, 1.0 - abs(float(answer) - float(reference)) / self.width)
