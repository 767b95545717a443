"""The QA report's figures: pure functions from arrays to PNG bytes.

Each function draws on its own :class:`matplotlib.figure.Figure` with the Agg canvas, never
through ``pyplot``, so nothing changes matplotlib's global state. Sizes and dpi are fixed
(:data:`SIZES`, :data:`DPI`) and the PNG carries no "Software" tag, so the same input gives
the same bytes. Names and labels are user data: ``$`` is escaped so that matplotlib never
reads them as math, and long ones are shortened to :data:`MAX_TICK_CHARS` characters.

Missing values are ``nan`` (or ``None``): a missing bar or interval is simply not drawn.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import matplotlib.backends.backend_agg as _agg
    import matplotlib.figure as _figure
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
else:
    _agg = lazy_module("matplotlib.backends.backend_agg")
    _figure = lazy_module("matplotlib.figure")

__all__ = [
    "DPI",
    "MAX_TICK_CHARS",
    "SIZES",
    "agreement_by_label",
    "annotator_accuracy",
    "confusion_matrix",
    "label_distribution",
    "round_trends",
]

DPI = 100
#: Figure size in inches, per figure kind; the PNG is ``SIZES[kind] * DPI`` pixels.
SIZES: dict[str, tuple[float, float]] = {
    "agreement": (7.0, 4.0),
    "annotators": (7.0, 4.0),
    "confusion": (6.0, 5.0),
    "distribution": (7.0, 4.0),
    "trends": (7.0, 4.0),
}
MAX_TICK_CHARS = 24
_ANNOTATE_CELLS_UP_TO = 15  # write counts into confusion cells up to this many labels

Values = Sequence[float | None] | npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def _floats(values: Values, n: int, name: str) -> FloatArray:
    """``values`` as a float array of length ``n``, with ``None`` as ``nan``."""
    arr = np.array([np.nan if v is None else v for v in np.asarray(values, dtype=object)])
    arr = arr.astype(np.float64).reshape(-1)
    if arr.size != n:
        raise SchemaError(f"{name} has {arr.size} values for {n} bars; give one per bar")
    return arr


def _text(value: object, limit: int = MAX_TICK_CHARS) -> str:
    """A user-given name, safe for matplotlib text: shortened, and ``$`` not read as math."""
    s = " ".join(str(value).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("$", r"\$")


def _bars(
    ax: Axes,
    x: FloatArray,
    vals: FloatArray,
    lows: FloatArray | None = None,
    highs: FloatArray | None = None,
    **style: object,
) -> None:
    """Bars with asymmetric interval whiskers where both ends are known; a missing value
    draws "n/a" instead of a bar that would read as zero."""
    known = np.isfinite(vals)
    ax.bar(x[known], vals[known], **style)  # type: ignore[arg-type]
    for xi in x[~known]:
        ax.text(xi, 0.01, "n/a", ha="center", va="bottom", fontsize="small", color="grey")
    if lows is None or highs is None:
        return
    whisker = known & np.isfinite(lows) & np.isfinite(highs)
    below = np.clip(vals[whisker] - lows[whisker], 0.0, None)
    above = np.clip(highs[whisker] - vals[whisker], 0.0, None)
    ax.errorbar(
        x[whisker],
        vals[whisker],
        yerr=np.vstack([below, above]),
        fmt="none",
        ecolor="black",
        capsize=3,
        linewidth=1,
    )


def _legend(fig: Figure, ax: Axes) -> None:
    """A legend under the plot, where it never hides a bar."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")


def _axes(kind: str, title: str) -> tuple[Figure, Axes]:
    fig = _figure.Figure(figsize=SIZES[kind], dpi=DPI, layout="constrained")
    _agg.FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _category_ticks(ax: Axes, ticks: Sequence[str]) -> None:
    """Category names (already :func:`_text`-safe) under the bars, turned and smaller when
    there are many."""
    many = len(ticks) > 6 or sum(len(t) for t in ticks) > 60  # or they would overlap
    ax.set_xticks(
        np.arange(len(ticks)),
        list(ticks),
        rotation=90 if len(ticks) > 12 else 40 if many else 0,
        ha="right" if many and len(ticks) <= 12 else "center",
        fontsize="small" if len(ticks) > 12 else "medium",
    )


def _unit_ylim(ax: Axes, *arrays: FloatArray) -> None:
    """A y range from 0 (or below, for chance-corrected scores) to just above 1."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.zeros(1), np.ones(1)])
    low, high = float(finite.min()), float(finite.max())
    ax.set_ylim(low - 0.05 if low < 0 else 0.0, high + 0.05)


def agreement_by_label(
    labels: Sequence[str],
    values: Values,
    lows: Values,
    highs: Values,
    *,
    overall: float | None = None,
    metric: str = "agreement",
) -> bytes:
    """Bars of agreement per label with 95 % confidence intervals, and the overall value.

    >>> agreement_by_label(["a", "b"], [0.8, 0.6], [0.7, 0.4], [0.9, 0.75])[:4]
    b'\\x89PNG'
    """
    n = len(labels)
    vals, lo, hi = (
        _floats(v, n, k) for v, k in ((values, "values"), (lows, "lows"), (highs, "highs"))
    )
    fig, ax = _axes("agreement", f"{_text(metric)} per label (95 % CI)")
    x = np.arange(n, dtype=np.float64)
    _bars(ax, x, vals, lo, hi, color="#4c78a8", width=0.6)
    if overall is not None and np.isfinite(overall):
        ax.axhline(
            overall, color="#e45756", linestyle="--", linewidth=1, label=f"overall {overall:.2f}"
        )
    _legend(fig, ax)
    _category_ticks(ax, [_text(lab) for lab in labels])
    _unit_ylim(ax, vals, lo, hi)
    ax.set_ylabel(_text(metric))
    ax.grid(True, axis="y", alpha=0.3)
    return _png(fig)


def confusion_matrix(
    matrix: npt.ArrayLike,
    labels: Sequence[str],
    *,
    rows: str = "annotator A",
    cols: str = "annotator B",
    title: str = "Confusion",
) -> bytes:
    """A square confusion matrix: counts written in the cells, colours normalised per row.

    ``matrix[i][j]`` counts items that ``rows`` labeled ``labels[i]`` and ``cols`` labeled
    ``labels[j]``. Row-normalised colours make a rare label's confusions as visible as a
    common one's.
    """
    m = np.asarray(matrix, dtype=np.float64)
    k = len(labels)
    if m.shape != (k, k):
        raise SchemaError(f"confusion matrix has shape {m.shape}, expected ({k}, {k}) for labels")
    totals = m.sum(axis=1, keepdims=True)
    share = np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)
    fig, ax = _axes("confusion", _text(title, 60))
    image = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    fig.colorbar(image, ax=ax, label="share of row")
    ticks = [_text(lab) for lab in labels]
    small = "small" if k > 8 else "medium"
    ax.set_xticks(
        np.arange(k),
        ticks,
        rotation=90 if k > 12 else 40 if k > 4 else 0,
        ha="center" if k > 12 or k <= 4 else "right",
        fontsize=small,
    )
    ax.set_yticks(np.arange(k), ticks, fontsize=small)
    ax.set_xlabel(_text(cols))
    ax.set_ylabel(_text(rows))
    if k <= _ANNOTATE_CELLS_UP_TO:
        for i, j in np.ndindex(k, k):
            ax.text(
                j,
                i,
                f"{int(m[i, j])}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if share[i, j] > 0.6 else "black",
            )
    return _png(fig)


def annotator_accuracy(
    names: Sequence[str],
    gold: Values,
    gold_lows: Values,
    gold_highs: Values,
    estimated: Values,
    *,
    threshold: float | None = None,
    paused: Sequence[bool] | None = None,
) -> bytes:
    """Per annotator, accuracy on gold (with its Wilson 95 % CI) beside the Dawid-Skene
    estimate; a dashed line marks the pause threshold and paused names say so."""
    n = len(names)
    acc, lo, hi, ds = (
        _floats(v, n, k)
        for v, k in (
            (gold, "gold"),
            (gold_lows, "gold_lows"),
            (gold_highs, "gold_highs"),
            (estimated, "estimated"),
        )
    )
    flags = [False] * n if paused is None else [bool(p) for p in paused]
    if len(flags) != n:
        raise SchemaError(f"paused has {len(flags)} flags for {n} annotators; give one each")
    fig, ax = _axes("annotators", "Annotator accuracy")
    x = np.arange(n, dtype=np.float64)
    _bars(ax, x - 0.2, acc, lo, hi, width=0.4, color="#4c78a8", label="gold (Wilson 95 % CI)")
    _bars(ax, x + 0.2, ds, width=0.4, color="#f58518", label="Dawid-Skene estimate")
    if threshold is not None:
        ax.axhline(
            threshold,
            color="#e45756",
            linestyle="--",
            linewidth=1.2,
            label=f"pause threshold {threshold:.2f}",
        )
    ticks = [_text(a) + (" (paused)" if p else "") for a, p in zip(names, flags, strict=True)]
    _category_ticks(ax, ticks)
    _unit_ylim(ax, acc, lo, hi, ds)
    ax.set_ylabel("accuracy")
    ax.grid(True, axis="y", alpha=0.3)
    _legend(fig, ax)
    return _png(fig)


def label_distribution(labels: Sequence[str], counts: Mapping[str, Values]) -> bytes:
    """Final labels, one bar per label, stacked by provenance (``counts[provenance][i]`` is
    the number of records whose final label ``labels[i]`` came from that provenance)."""
    n = len(labels)
    fig, ax = _axes("distribution", "Final labels by provenance")
    x = np.arange(n, dtype=np.float64)
    bottom = np.zeros(n)
    for source, values in counts.items():
        heights = np.nan_to_num(_floats(values, n, f"counts[{source!r}]"))
        ax.bar(x, heights, bottom=bottom, width=0.6, label=_text(source))
        bottom += heights
    _category_ticks(ax, [_text(lab) for lab in labels])
    ax.set_ylabel("records")
    ax.grid(True, axis="y", alpha=0.3)
    _legend(fig, ax)
    return _png(fig)


def round_trends(
    rounds: Sequence[int],
    series: Mapping[str, tuple[Values, Values, Values]],
) -> bytes:
    """Lines across rounds, one per series (``name -> (values, lows, highs)``), with the
    95 % interval as a band; a missing point breaks the line."""
    n = len(rounds)
    fig, ax = _axes("trends", "Across rounds (95 % CI bands)")
    x = np.asarray(rounds, dtype=np.float64)
    arrays: list[FloatArray] = []
    for name, (values, lows, highs) in series.items():
        vals, lo, hi = (
            _floats(v, n, f"{name} {k}")
            for v, k in ((values, "values"), (lows, "lows"), (highs, "highs"))
        )
        (line,) = ax.plot(x, vals, marker="o", linewidth=1.8, label=_text(name))
        band = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x, lo, hi, where=band, color=line.get_color(), alpha=0.15, linewidth=0)
        arrays += [vals, lo, hi]
    ax.set_xticks(x, [str(r) for r in rounds])
    ax.set_xlabel("round")
    _unit_ylim(ax, *arrays)
    ax.grid(True, alpha=0.3)
    _legend(fig, ax)
    return _png(fig)
