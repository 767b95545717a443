"""Scores of every annotator pair on every item they share, pooled or per pair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.quality.agreement._arrays import FloatArray, IntArray
from goldsmith.quality.agreement.bootstrap import ItemStatistic

PairScore = Callable[[Any, Any], tuple[float, float]]
"""Maps two annotators' values of one item to (numerator, denominator) contributions."""


@dataclass(frozen=True, slots=True)
class PairScores:
    """One row per (item, annotator pair) that both answered."""

    item: IntArray
    first: IntArray
    second: IntArray
    num: FloatArray
    den: FloatArray
    n_items: int


def pair_scores(values: npt.NDArray[np.object_], score: PairScore) -> PairScores:
    """Score every pair of annotators on every item both answered (None = no answer)."""
    rows: list[tuple[int, int, int, float, float]] = []
    for i in range(values.shape[1]):
        raters = [a for a in range(values.shape[0]) if values[a, i] is not None]
        for a, b in combinations(raters, 2):
            rows.append((i, a, b, *score(values[a, i], values[b, i])))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return PairScores(
        np.array(cols[0], dtype=np.int64),
        np.array(cols[1], dtype=np.int64),
        np.array(cols[2], dtype=np.int64),
        np.array(cols[3], dtype=np.float64),
        np.array(cols[4], dtype=np.float64),
        values.shape[1],
    )


def _ratio(t: FloatArray) -> FloatArray:
    out = np.full(t.shape[0], np.nan)
    np.divide(t[:, 0], t[:, 1], out=out, where=t[:, 1] > 0)
    return out


def pooled(scores: PairScores) -> ItemStatistic:
    """``sum num / sum den`` over all pairs and items, as a per-item statistic."""
    sums = np.zeros((scores.n_items, 2))
    np.add.at(sums[:, 0], scores.item, scores.num)
    np.add.at(sums[:, 1], scores.item, scores.den)
    return ItemStatistic(sums, _ratio)


def by_pair(scores: PairScores) -> dict[tuple[int, int], tuple[float | None, int]]:
    """``(sum num / sum den or None, n shared items)`` per annotator pair (row indices)."""
    out: dict[tuple[int, int], tuple[float | None, int]] = {}
    keys = np.column_stack([scores.first, scores.second])
    for a, b in sorted({(int(x), int(y)) for x, y in keys}):
        rows = (scores.first == a) & (scores.second == b)
        den = float(scores.den[rows].sum())
        out[a, b] = (float(scores.num[rows].sum()) / den if den > 0 else None, int(rows.sum()))
    return out
