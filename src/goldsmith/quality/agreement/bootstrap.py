"""Item bootstrap for agreement statistics: resample items, never single ratings.

Every statistic in this package is a function of sums over items,
``value = finish(S.sum(axis=0))`` with ``S`` of shape (n_items, p). A bootstrap
resample is a vector of item weights ``w`` (how often each item was drawn), and its
value is ``finish(w @ S)``. One matrix product gives all resamples of all statistics,
and the per-item work (coincidence matrices, span matches, ...) is done once.

The interval is the percentile interval of Efron & Tibshirani (1993), *An Introduction
to the Bootstrap*, ch. 13. Ratings of one item stay together, so the interval reflects
the sampling of items, which is what a reliability estimate generalises over
(Hayes & Krippendorff 2007 resample the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement._arrays import FloatArray

_CELLS = 1 << 22  # floats per bootstrap block: bounds memory for large item sets


@dataclass(frozen=True, slots=True)
class ItemStatistic:
    """A statistic computed from per-item sums.

    Attributes
    ----------
    sums
        (n_items, p) per-item sufficient statistics.
    finish
        Maps totals of shape (B, p) to B values, ``nan`` where the statistic is undefined.
    """

    sums: FloatArray
    finish: Callable[[FloatArray], FloatArray]

    @property
    def n_items(self) -> int:
        """How many items the per-item sums cover."""
        return int(self.sums.shape[0])

    def value(self) -> float:
        """The statistic on all items (``nan`` when undefined)."""
        return float(self.finish(self.sums.sum(axis=0)[None, :])[0])


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its bootstrap interval, JSON-ready through :meth:`to_dict`.

    ``value`` is None when the statistic is undefined, and ``reason`` says why. ``n`` is
    the count behind it (items compared, ratings of a label). ``undefined_resamples``
    counts resamples where it was undefined; they are left out of the interval.
    """

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None
    n: int | None = None
    undefined_resamples: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: ``{"value", "ci": [low, high] | None, "reason", "n", ...}``."""
        return {
            "value": self.value,
            "ci": None if self.ci is None else [self.ci[0], self.ci[1]],
            "reason": self.reason,
            "n": self.n,
            "undefined_resamples": self.undefined_resamples,
        }


def _weight_blocks(n_items: int, width: int, *, n_boot: int, seed: int) -> Iterator[FloatArray]:
    """Item counts of ``n_boot`` resamples with replacement, in blocks of rows."""
    rng = np.random.default_rng(seed)
    block = max(1, min(n_boot, _CELLS // max(n_items, width, 1)))
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        draws = rng.integers(0, n_items, size=(b, n_items))
        draws += n_items * np.arange(b)[:, None]
        counts = np.bincount(draws.ravel(), minlength=b * n_items)
        yield counts.reshape(b, n_items).astype(np.float64)


def bootstrap(stats: Sequence[ItemStatistic], *, n_boot: int = 1000, seed: int = 0) -> FloatArray:
    """Values of each statistic on ``n_boot`` item resamples, shape (len(stats), n_boot).

    All statistics see the same resamples, so their intervals are comparable. ``nan``
    marks a resample where a statistic is undefined (say, every drawn item got one label).

    >>> stat = ItemStatistic(np.array([[1.0], [0.0], [1.0]]), lambda t: t[:, 0] / 3)
    >>> bootstrap([stat], n_boot=4, seed=0).shape
    (1, 4)
    """
    if n_boot < 1:
        raise SchemaError(f"n_boot must be at least 1, got {n_boot}")
    if not stats:
        return np.empty((0, n_boot))
    n_items = stats[0].n_items
    if n_items == 0 or any(s.n_items != n_items for s in stats):
        raise SchemaError("bootstrap needs statistics over the same, non-empty set of items")
    edges = np.cumsum([0] + [s.sums.shape[1] for s in stats])
    table = np.hstack([s.sums for s in stats])
    out = np.empty((len(stats), n_boot))
    done = 0
    for weights in _weight_blocks(n_items, table.shape[1], n_boot=n_boot, seed=seed):
        totals = weights @ table
        rows = slice(done, done + weights.shape[0])
        for j, stat in enumerate(stats):
            out[j, rows] = stat.finish(totals[:, edges[j] : edges[j + 1]])
        done += weights.shape[0]
    return out


def percentile_ci(samples: FloatArray, *, confidence: float = 0.95) -> tuple[float, float] | None:
    """The percentile interval of the defined (non-nan) bootstrap values, or None if none are.

    >>> percentile_ci(np.arange(101.0), confidence=0.5)
    (25.0, 75.0)
    """
    if not 0 < confidence < 1:
        raise SchemaError(f"confidence must be in (0, 1), got {confidence}")
    defined = samples[~np.isnan(samples)]
    if defined.size == 0:
        return None
    tail = 50 * (1 - confidence)
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)


def estimate(
    stats: Mapping[str, ItemStatistic],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Estimate]:
    """Point estimates and percentile intervals of several statistics on shared resamples.

    ``n_boot=0`` skips the bootstrap (``ci`` is None). An undefined point estimate gives
    ``Estimate(None, reason=...)``; callers that know the cause replace the reason.
    """
    names = list(stats)
    values = {name: stats[name].value() for name in names}
    defined = [name for name in names if not np.isnan(values[name])]
    out = {
        name: Estimate(None, reason="undefined on these data")
        for name in names
        if np.isnan(values[name])
    }
    samples = (
        bootstrap([stats[n] for n in defined], n_boot=n_boot, seed=seed)
        if n_boot > 0 and defined
        else None
    )
    for j, name in enumerate(defined):
        if samples is None:
            out[name] = Estimate(values[name])
            continue
        row = samples[j]
        out[name] = Estimate(
            values[name],
            percentile_ci(row, confidence=confidence),
            undefined_resamples=int(np.isnan(row).sum()),
        )
    return {name: out[name] for name in names}
