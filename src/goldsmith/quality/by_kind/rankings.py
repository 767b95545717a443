"""Preference questions: Bradley-Terry over the pairs every ranking implies.

A ranking ``[2, 0, 1]`` (candidate 2 best) says 2 beats 0, 2 beats 1 and 0 beats 1. The
Bradley-Terry strengths of the candidates are fitted to all pairs of a record by the
minorisation-maximisation updates (with half a win of prior for each candidate, so a
candidate nobody preferred keeps a finite strength); the consensus orders the candidates by
strength. Its confidence is the mean, over adjacent places, of the fitted probability that
the higher one beats the lower. An order no annotator gave as a whole is ``model_proposed``.
:meth:`RankingRule.score` is the share of pairs two rankings order the same way.

>>> rule = RankingRule(None)
>>> c = rule.consensus({1: {"a": [0, 1, 2], "b": [0, 2, 1], "c": [0, 1, 2]}})[1]
>>> c.value, c.model_proposed
([0, 1, 2], False)
>>> rule.score([0, 1, 2], [2, 1, 0])
0.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.quality.by_kind.base import (
    Answers,
    Consensus,
    KindRule,
    given_by_someone,
    gold_first,
)

PRIOR = 0.5
ITERATIONS = 200


def bradley_terry(rankings: Sequence[Sequence[int]], n: int) -> npt.NDArray[np.float64]:
    """Strengths (summing to 1) of ``n`` candidates from rankings (best first)."""
    wins = np.zeros((n, n))
    for ranking in rankings:
        for a, b in combinations(ranking, 2):
            wins[a, b] += 1.0
    p = np.full(n, 1.0 / n)
    games = wins + wins.T
    total = wins.sum(axis=1) + PRIOR
    for _ in range(ITERATIONS):
        denom = (games / np.maximum(p[:, None] + p[None, :], 1e-12)).sum(axis=1) + PRIOR / p
        new = total / np.maximum(denom, 1e-12)
        new /= new.sum()
        if np.abs(new - p).max() < 1e-10:
            p = new
            break
        p = new
    return p


class RankingRule(KindRule):
    metric = "pairwise agreement"

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        out, ids = gold_first(answers, gold)
        for rid in ids:
            rankings = [list(map(int, r)) for r in answers[rid].values()]
            n = max(max(r) for r in rankings if r) + 1 if any(rankings) else 0
            if n == 0:
                out[rid] = Consensus(None, 0.0, "none")
                continue
            strength = bradley_terry(rankings, n)
            order = sorted(range(n), key=lambda i: (-strength[i], i))
            adjacent = [
                strength[a] / (strength[a] + strength[b])
                for a, b in zip(order, order[1:], strict=False)
            ]
            confidence = float(np.mean(adjacent)) if adjacent else 1.0
            out[rid] = Consensus(
                order,
                confidence,
                "bradley_terry",
                {"strength": [round(float(s), 4) for s in strength]},
                model_proposed=not given_by_someone(order, answers[rid]),
            )
        return out

    def score(self, answer: Any, reference: Any) -> float:
        where_a = {c: i for i, c in enumerate(answer or [])}
        where_b = {c: i for i, c in enumerate(reference or [])}
        shared = [c for c in where_a if c in where_b]
        pairs = list(combinations(shared, 2))
        if not pairs:
            return 1.0
        same = sum((where_a[x] < where_a[y]) == (where_b[x] < where_b[y]) for x, y in pairs)
        return same / len(pairs)
