"""The QA report's figures: pure functions from arrays to PNG bytes.

Each function draws on its own :class:`matplotlib.figure.Figure` with the Agg canvas, never
through ``pyplot``, so nothing changes matplotlib's global state. Sizes and dpi are fixed
(:data:`SIZES`, :data:`DPI`) and the PNG carries no "Software" tag, so the same input gives
the same bytes. Names and labels are user data: ``$`` is escaped so that matplotlib never
reads them as math, and long ones are shortened to :data:`MAX_TICK_CHARS` characters.

Missing values are ``nan`` (or ``None``): a missing bar or interval is simply not drawn.

Tick labels never overlap: each chart is laid out, measured (:func:`tick_overlaps`) and
refitted (:func:`fit_ticks`: upright, then turned, then smaller, then every k-th label) before
it is saved. Every chart is a :class:`Chart`: calling it gives the PNG, and its ``figure``
gives the laid-out :class:`~matplotlib.figure.Figure` to inspect.

>>> agreement_by_label(["a", "b"], [0.8, 0.6], [0.7, 0.4], [0.9, 0.75])[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, ParamSpec

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import matplotlib.axis as _axis
    import matplotlib.backends.backend_agg as _agg
    import matplotlib.figure as _figure
    import matplotlib.ticker as _ticker
    import matplotlib.transforms as _transforms
    from matplotlib.axes import Axes
    from matplotlib.axis import XAxis, YAxis
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox
else:
    _axis = lazy_module("matplotlib.axis")
    _agg = lazy_module("matplotlib.backends.backend_agg")
    _figure = lazy_module("matplotlib.figure")
    _ticker = lazy_module("matplotlib.ticker")
    _transforms = lazy_module("matplotlib.transforms")

__all__ = [
    "DPI",
    "MAX_TICK_CHARS",
    "MIN_TICK_POINTS",
    "SIZES",
    "Chart",
    "agreement_by_label",
    "annotator_accuracy",
    "confused_pairs",
    "confusion_matrix",
    "fit_ticks",
    "label_distribution",
    "round_trends",
    "tick_overlaps",
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
MIN_TICK_POINTS = 7.0
"""The smallest font size (points) :func:`fit_ticks` shrinks tick labels to before it thins them."""
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


def _shown(axis: XAxis | YAxis) -> list[Text]:
    return [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]


def _along(axis: XAxis | YAxis, box: Bbox) -> tuple[float, float]:
    """A label box's span along ``axis`` (x for the x axis, y for the y axis), in pixels."""
    return (box.x0, box.x1) if isinstance(axis, _axis.XAxis) else (box.y0, box.y1)


def _crowded(fig: Figure) -> list[tuple[XAxis | YAxis, list[tuple[str, str]], float]]:
    """Per axis of ``fig`` whose shown tick labels overlap: the overlapping pairs and how
    many times the labels' span along the axis exceeds the room between them (> 1)."""
    if not isinstance(fig.canvas, _agg.FigureCanvasAgg):  # a bare figure: measure with Agg
        _agg.FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # lays the figure out: positions and sizes are final
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = sorted(
                ((t.get_window_extent(renderer), t.get_text()) for t in _shown(axis)),
                key=lambda bt: sum(_along(axis, bt[0])),
            )
            pairs, excess = [], 1.0
            for i, (a, name_a) in enumerate(boxes):
                for b, name_b in boxes[i + 1 : i + 3]:  # labels sit in a row: neighbours
                    both = _transforms.Bbox.intersection(a, b)
                    if both is None or both.width <= 0.5 or both.height <= 0.5:
                        continue
                    pairs.append((name_a, name_b))
                    (a0, a1), (b0, b1) = _along(axis, a), _along(axis, b)
                    room = abs((b0 + b1) - (a0 + a1)) / 2
                    excess = max(excess, max(a1 - a0, b1 - b0) / max(room, 1e-6))
            if pairs:
                out.append((axis, pairs, excess))
    return out


def tick_overlaps(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of neighbouring tick labels of ``fig`` whose drawn boxes overlap (more than
    half a pixel each way), on any of its axes; empty when every label can be read. A
    figure without a canvas gets an Agg one to be measured with.

    Boxes are upright rectangles around the text, exact for labels at 0 or 90 degrees, the
    only angles these charts use.
    """
    return [pair for _, pairs, _ in _crowded(fig) for pair in pairs]


def _refit(axis: XAxis | YAxis, excess: float) -> None:
    """One step towards labels that fit, ``excess`` being how many times too long they are
    for their room: turn upright x labels, else shrink, else show every k-th."""
    labels = _shown(axis)
    if isinstance(axis, _axis.XAxis) and labels and labels[0].get_rotation() == 0:
        axis.set_tick_params(labelrotation=90)
        for t in axis.get_ticklabels():
            t.set_horizontalalignment("center")
        return
    size = min(float(t.get_fontsize()) for t in labels)  # points, once set
    if size > MIN_TICK_POINTS:
        axis.set_tick_params(labelsize=max(MIN_TICK_POINTS, size / excess - 0.25))
        return
    ticks = axis.get_ticklabels()
    every = len(ticks) // max(len(labels), 1) * max(2, math.ceil(excess + 0.1))
    for i, t in enumerate(ticks):
        t.set_visible(i % every == 0)


def fit_ticks(fig: Figure, *, max_steps: int = 8) -> Figure:
    """Refit the tick labels of ``fig`` until none overlap (:func:`tick_overlaps`): x labels
    first turn from upright to vertical, then labels shrink, to :data:`MIN_TICK_POINTS` at
    least, and only then is every k-th label shown. Returns ``fig``."""
    for _ in range(max_steps):
        crowded = _crowded(fig)
        if not crowded:
            return fig
        for axis, _pairs, excess in crowded:
            _refit(axis, excess)
    return fig


P = ParamSpec("P")


class Chart(Generic[P]):
    """A chart function: calling it gives the PNG bytes; :meth:`figure` gives the laid-out
    figure (tick labels fitted by :func:`fit_ticks`) for a caller that inspects it."""

    def __init__(self, draw: Callable[P, Figure]) -> None:
        self._draw = draw
        functools.update_wrapper(self, draw)

    def figure(self, *args: P.args, **kwargs: P.kwargs) -> Figure:
        """The chart as a laid-out :class:`~matplotlib.figure.Figure`."""
        return fit_ticks(self._draw(*args, **kwargs))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> bytes:
        return _png(self.figure(*args, **kwargs))


def _category_ticks(ax: Axes, ticks: Sequence[str]) -> None:
    """Category names (already :func:`_text`-safe) under the bars, upright; :func:`fit_ticks`
    turns or thins them when they would overlap."""
    ax.set_xticks(np.arange(len(ticks)), list(ticks), rotation=0, ha="center")


def _unit_ylim(ax: Axes, *arrays: FloatArray) -> None:
    """A y range from 0 (or below, for chance-corrected scores) to just above 1."""
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays] + [np.zeros(1), np.ones(1)])
    low, high = float(finite.min()), float(finite.max())
    ax.set_ylim(low - 0.05 if low < 0 else 0.0, high + 0.05)


@Chart
def agreement_by_label(
    labels: Sequence[str],
    values: Values,
    lows: Values,
    highs: Values,
    *,
    overall: float | None = None,
    metric: str = "agreement",
    title: str | None = None,
) -> Figure:
    """Bars of agreement per label with 95 % confidence intervals, and the overall value;
    ``title`` replaces "METRIC per label (95 % CI)" (say when the bars are a selection)."""
    n = len(labels)
    vals, lo, hi = (
        _floats(v, n, k) for v, k in ((values, "values"), (lows, "lows"), (highs, "highs"))
    )
    fig, ax = _axes("agreement", _text(title or f"{metric} per label (95 % CI)", 80))
    x = np.arange(n, dtype=np.float64)
    _bars(ax, x, vals, lo, hi, color="#4c78a8", width=0.6)
    if overall is not None and np.isfinite(overall):
        ax.axhline(
            overall, color="#e45756", linestyle="--", linewidth=1, label=f"overall {overall:.2f}"
        )
    _legend(fig, ax)
    _category_ticks(ax, [_text(lab) for lab in labels])
    _unit_ylim(ax, vals, lo, hi)
    ax.set_ylabel(_text(metric.split(" (")[0]))  # the title has the rest
    ax.grid(True, axis="y", alpha=0.3)
    return fig


@Chart
def confusion_matrix(
    matrix: npt.ArrayLike,
    labels: Sequence[str],
    *,
    rows: str = "annotator A",
    cols: str = "annotator B",
    title: str = "Confusion",
) -> Figure:
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
    ax.set_xticks(np.arange(k), ticks, rotation=0, ha="center", fontsize=small)
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
    return fig


@Chart
def confused_pairs(
    pairs: Sequence[tuple[str, str]],
    shares: Values,
    *,
    title: str = "Most confused label pairs",
) -> Figure:
    """Horizontal bars, one per label pair ``(a, b)``: the share of compared items on which
    ``a`` and ``b`` were confused (both directions), most confused on top. Drawn at the
    size of :func:`confusion_matrix`, whose place it takes when there are too many labels
    for a readable matrix."""
    n = len(pairs)
    vals = _floats(shares, n, "shares")
    fig, ax = _axes("confusion", "")
    fig.suptitle(_text(title, 60))  # over the whole figure: the pair names take half of it
    y = np.arange(n, dtype=np.float64)
    ax.barh(y, np.nan_to_num(vals), height=0.6, color="#4c78a8")
    side = MAX_TICK_CHARS - 4  # two names on one line
    ax.set_yticks(y, [f"{_text(a, side)} ↔ {_text(b, side)}" for a, b in pairs])
    ax.invert_yaxis()  # the most confused first, at the top
    ax.xaxis.set_major_formatter(_ticker.PercentFormatter(xmax=1.0, decimals=1))
    ax.set_xlabel("share of compared items")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


@Chart
def annotator_accuracy(
    names: Sequence[str],
    gold: Values,
    gold_lows: Values,
    gold_highs: Values,
    estimated: Values,
    *,
    threshold: float | None = None,
    paused: Sequence[bool] | None = None,
    metric: str | None = None,
) -> Figure:
    """Per annotator, accuracy on gold (with its Wilson 95 % CI) beside the Dawid-Skene
    estimate; a dashed line marks the pause threshold and paused names say so. With
    ``metric`` (a kind's gold score, "span F1"), the gold score and the skill estimate over
    all work."""
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
    fig, ax = _axes("annotators", "Annotator scores" if metric else "Annotator accuracy")
    x = np.arange(n, dtype=np.float64)
    gold_label = f"gold {_text(metric, 40)} (95 % CI)" if metric else "gold (Wilson 95 % CI)"
    _bars(ax, x - 0.2, acc, lo, hi, width=0.4, color="#4c78a8", label=gold_label)
    skill = "skill over all work" if metric else "Dawid-Skene estimate"
    _bars(ax, x + 0.2, ds, width=0.4, color="#f58518", label=skill)
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
    ax.set_ylabel(_text(metric, 40) if metric else "accuracy")
    ax.grid(True, axis="y", alpha=0.3)
    _legend(fig, ax)
    return fig


@Chart
def label_distribution(
    labels: Sequence[str], counts: Mapping[str, Values], *, title: str | None = None
) -> Figure:
    """Final labels, one bar per label, stacked by provenance (``counts[provenance][i]`` is
    the number of records whose final label ``labels[i]`` came from that provenance)."""
    n = len(labels)
    fig, ax = _axes("distribution", _text(title or "Final labels by provenance", 80))
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
    return fig


@Chart
def round_trends(
    rounds: Sequence[int],
    series: Mapping[str, tuple[Values, Values, Values]],
) -> Figure:
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
    return fig
