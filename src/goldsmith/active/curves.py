"""Learning curves from a simulation: summary metrics, a CSV and a PNG plot.

The plot draws on a :class:`matplotlib.figure.Figure` with the Agg canvas directly, never
through ``pyplot``, so importing or plotting changes no global matplotlib state.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import matplotlib.backends.backend_agg as _agg
    import matplotlib.figure as _figure
    import scipy.stats as _stats
else:
    _agg = lazy_module("matplotlib.backends.backend_agg")
    _figure = lazy_module("matplotlib.figure")
    _stats = lazy_module("scipy.stats")

__all__ = ["CSV_COLUMNS", "CurvePoint", "SimulationResult"]

CSV_COLUMNS = ("strategy", "repeat", "n_labels", "macro_f1")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CurvePoint:
    """Macro-F1 on the test split after ``n_labels`` human labels, in one repeat."""

    strategy: str
    repeat: int
    n_labels: int
    macro_f1: float


@dataclass
class SimulationResult:
    """The rows of a simulation and what they were measured against.

    Attributes
    ----------
    rows : list of CurvePoint
        One per (strategy, repeat, step).
    full_f1 : list of float
        Per repeat, the macro-F1 of the model trained on every pool label (gold only).
    pool_size, test_size : int
        Records the annotator could label, and records held out for evaluation.
    settings : dict
        The simulation's parameters, for the record.
    """

    rows: list[CurvePoint]
    full_f1: list[float]
    pool_size: int
    test_size: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def strategies(self) -> list[str]:
        """Strategy names in the order they were run."""
        return list(dict.fromkeys(r.strategy for r in self.rows))

    def curve(self, strategy: str) -> tuple[IntArray, FloatArray, FloatArray]:
        """``(n_labels, mean macro-F1, std)`` over repeats, at each label count."""
        pts = [r for r in self.rows if r.strategy == strategy]
        if not pts:
            raise SchemaError(f"no rows for strategy {strategy!r}; have {self.strategies}")
        xs = np.array(sorted({p.n_labels for p in pts}), dtype=np.int64)
        by_x: dict[int, list[float]] = {int(x): [] for x in xs}
        for p in pts:
            by_x[p.n_labels].append(p.macro_f1)
        mean = np.array([np.mean(by_x[int(x)]) for x in xs])
        std = np.array([np.std(by_x[int(x)]) for x in xs])
        return xs, mean, std

    def interval(self, strategy: str, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        """``(low, high)`` of the mean curve's ``level`` confidence interval at each label
        count: Student's t over the repeats (zero width with a single repeat)."""
        xs, mean, std = self.curve(strategy)
        r = len(self.full_f1)
        if r < 2:
            return mean, mean
        half = float(_stats.t.ppf(0.5 + level / 2, r - 1)) * std * np.sqrt(r / (r - 1)) / np.sqrt(r)
        return mean - half, mean + half

    def repeat_aulcs(self, strategy: str) -> FloatArray:
        """The AULC of each repeat's own curve."""
        out = []
        for rep in sorted({p.repeat for p in self.rows if p.strategy == strategy}):
            pts = sorted(
                (p.n_labels, p.macro_f1)
                for p in self.rows
                if p.strategy == strategy and p.repeat == rep
            )
            xs = np.array([p[0] for p in pts], dtype=np.float64)
            ys = np.array([p[1] for p in pts])
            out.append(_area(xs, ys))
        return np.array(out)

    def aulc(self, strategy: str) -> float:
        """Area under the mean learning curve, divided by its width: the mean macro-F1
        over the labeling budget (trapezoids; a single point gives that point)."""
        xs, mean, _ = self.curve(strategy)
        return _area(xs.astype(np.float64), mean)

    def versus(self, strategy: str, baseline: str = "random") -> dict[str, Any]:
        """``strategy`` against ``baseline`` on the same repeats: the AULC ratio's 95 %
        interval (t over the paired per-repeat ratios), the smallest difference of the mean
        curves over the budgets both have, and whether it is ever more than one standard
        deviation (of the paired differences) below."""
        mine, base = self.repeat_aulcs(strategy), self.repeat_aulcs(baseline)
        ratios = mine / np.maximum(base, 1e-12)
        r = len(ratios)
        half = 0.0
        if r > 1:
            half = float(_stats.t.ppf(0.975, r - 1)) * float(np.std(ratios, ddof=1)) / np.sqrt(r)
        xs, m1, _ = self.curve(strategy)
        xb, m0, _ = self.curve(baseline)
        common = np.intersect1d(xs, xb)
        d = m1[np.isin(xs, common)] - m0[np.isin(xb, common)]
        sd = self._paired_std(strategy, baseline, common)
        return {
            "aulc_ratio_ci": [float(ratios.mean() - half), float(ratios.mean() + half)],
            "min_diff": float(d.min()) if d.size else None,
            "min_diff_at": int(common[int(np.argmin(d))]) if d.size else None,
            "below_by_more_than_one_std": bool((d < -sd).any()) if d.size else False,
        }

    def _paired_std(self, a: str, b: str, xs: IntArray) -> FloatArray:
        """Per label count, the std over repeats of ``a``'s F1 minus ``b``'s."""
        by: dict[tuple[str, int, int], float] = {
            (p.strategy, p.repeat, p.n_labels): p.macro_f1 for p in self.rows
        }
        reps = sorted({p.repeat for p in self.rows})
        out = []
        for x in xs:
            diffs = [
                by[(a, r, int(x))] - by[(b, r, int(x))]
                for r in reps
                if (a, r, int(x)) in by and (b, r, int(x)) in by
            ]
            out.append(float(np.std(diffs)) if diffs else 0.0)
        return np.array(out)

    def labels_to_reach(self, strategy: str, fraction: float = 0.95) -> int | None:
        """Fewest labels at which the mean curve reaches ``fraction`` of the full-pool F1."""
        xs, mean, _ = self.curve(strategy)
        hit = np.flatnonzero(mean >= fraction * float(np.mean(self.full_f1)))
        return int(xs[hit[0]]) if hit.size else None

    def summary(self, *, baseline: str = "random", fraction: float = 0.95) -> dict[str, Any]:
        """Per strategy: AULC, its ratio to ``baseline``'s, labels (and share of the pool) to
        reach ``fraction`` of the full-pool macro-F1, and the last point's macro-F1."""
        base = self.aulc(baseline) if baseline in self.strategies else None
        out: dict[str, Any] = {
            "full_f1": float(np.mean(self.full_f1)),
            "target_f1": fraction * float(np.mean(self.full_f1)),
            "pool_size": self.pool_size,
            "test_size": self.test_size,
            "repeats": len(self.full_f1),
            "strategies": {},
        }
        for name in self.strategies:
            a = self.aulc(name)
            need = self.labels_to_reach(name, fraction)
            paired = self.versus(name, baseline) if base and name != baseline else {}
            out["strategies"][name] = {
                "aulc": a,
                f"aulc_vs_{baseline}": None if not base else a / base,
                f"aulc_vs_{baseline}_ci": paired.get("aulc_ratio_ci"),
                f"min_diff_vs_{baseline}": paired.get("min_diff"),
                f"min_diff_vs_{baseline}_at": paired.get("min_diff_at"),
                f"below_{baseline}_by_more_than_one_std": paired.get("below_by_more_than_one_std"),
                "labels_to_target": need,
                "share_of_pool": None if need is None else need / self.pool_size,
                "final_f1": float(self.curve(name)[1][-1]),
            }
        return out

    def write_csv(self, path: str | Path) -> Path:
        """Write ``strategy,repeat,n_labels,macro_f1`` rows to ``path``; returns it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in self.rows:
                writer.writerow([r.strategy, r.repeat, r.n_labels, f"{r.macro_f1:.6f}"])
        return path

    def plot(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write a PNG: mean macro-F1 per strategy with its 95 % interval over the repeats,
        the full-pool F1 and 95 % of it."""
        fig = _figure.Figure(figsize=(7.0, 4.5), dpi=110)
        _agg.FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for name in self.strategies:
            xs, mean, _ = self.curve(name)
            band_low, band_high = self.interval(name)
            (line,) = ax.plot(xs, mean, label=name, linewidth=1.8)
            ax.fill_between(xs, band_low, band_high, color=line.get_color(), alpha=0.15)
        full = float(np.mean(self.full_f1))
        ax.axhline(full, color="black", linestyle="--", linewidth=1, label="all pool labels")
        ax.axhline(0.95 * full, color="grey", linestyle=":", linewidth=1, label="95 % of that")
        low, high = ax.get_ylim()
        ax.set_ylim(max(0.0, low), max(high, full * 1.03))  # keep the reference lines in view
        ax.set_xlabel("human labels")
        ax.set_ylabel("macro-F1 (test split)")
        repeats = len(self.full_f1)
        ax.set_title(title or f"Learning curves (mean and 95 % CI over {repeats} repeats)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
        return path


def _area(xs: FloatArray, ys: FloatArray) -> float:
    """Trapezoid area under ``ys`` over ``xs``, divided by the width (one point: itself)."""
    if xs.size < 2:
        return float(ys[0])
    return float(((ys[1:] + ys[:-1]) / 2 * np.diff(xs)).sum()) / float(xs[-1] - xs[0])
