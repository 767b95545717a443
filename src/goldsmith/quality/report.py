"""A round's QA report as one self-contained HTML file.

The file embeds its figures as base64 PNG and its CSS in a ``<style>`` tag whose hash its own
Content-Security-Policy names, so it loads nothing, runs no script and opens from disk or a
mail attachment alike. Record text, labels and names go through Jinja2's autoescaping.

A server page can show the same report without inline CSS: ``render_report(...,
fragment=True, figure_url=...)`` gives the body only, with ``<img src>`` pointing at URLs
that serve :func:`report_figures`, styled by :func:`report_css` as a static stylesheet.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Callable, Sequence
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.quality import figures
from goldsmith.quality.compare import compare_rounds, most_confused
from goldsmith.quality.report_data import QAReportData

if TYPE_CHECKING:
    import jinja2
    from jinja2 import Environment
else:
    jinja2 = lazy_module("jinja2")

__all__ = [
    "EXCERPT_CHARS",
    "render_report",
    "report_css",
    "report_csp",
    "report_figures",
    "write_report",
]

EXCERPT_CHARS = 240
_PACKAGE = "goldsmith.quality"  # where templates/ lives (package data)


Column = list[float | None]


def _column(rows: Sequence[Any], key: str) -> Column:
    return [r.get(key) if r is not None else None for r in rows]


def _figure_plan(data: QAReportData) -> dict[str, Callable[[], bytes]]:
    """Each figure the data allows, by file name, as a call that draws it."""
    plan: dict[str, Callable[[], bytes]] = {}
    by_label = data.agreement_by_label or {}
    if by_label:
        labels = [lab for lab in data.label_order() if lab in by_label]
        ests = [by_label[lab] for lab in labels]
        plan["agreement.png"] = partial(
            figures.agreement_by_label,
            labels,
            _column(ests, "value"),
            _column(ests, "low"),
            _column(ests, "high"),
            overall=None if data.agreement is None else data.agreement.get("value"),
            metric=data.agreement_metric,
        )
    if data.annotators:
        rows = data.annotators
        plan["annotators.png"] = partial(
            figures.annotator_accuracy,
            [a["name"] for a in rows],
            *(_column(rows, k) for k in ("gold_accuracy", "gold_low", "gold_high", "ds_accuracy")),
            threshold=data.pause_threshold,
            paused=[bool(a.get("paused")) for a in rows],
        )
    for i, conf in enumerate(data.confusions or [], start=1):
        plan[f"confusion-{i}.png"] = partial(
            figures.confusion_matrix,
            conf["matrix"],
            conf["labels"],
            rows=conf.get("rows", "annotator A"),
            cols=conf.get("cols", "gold" if conf["kind"] == "gold" else "annotator B"),
            title=conf.get("title", "Confusion"),
        )
    if data.label_distribution:
        labels = data.label_order()
        counts = {
            src: [c.get(lab, 0) for lab in labels] for src, c in data.label_distribution.items()
        }
        plan["distribution.png"] = partial(figures.label_distribution, labels, counts)
    points = data.trend_points()
    if len(points) >= 2:
        series: dict[str, tuple[Column, Column, Column]] = {}
        agreement = [p.get("agreement") for p in points]
        gold = [p.get("gold_accuracy") for p in points]
        for name, per_round in ((data.agreement_metric, agreement), ("gold accuracy", gold)):
            if any(e is not None for e in per_round):
                value, low, high = (_column(per_round, k) for k in ("value", "low", "high"))
                series[name] = (value, low, high)
        plan["trends.png"] = partial(figures.round_trends, [p["round"] for p in points], series)
    return plan


def report_figures(data: QAReportData | dict[str, Any]) -> dict[str, bytes]:
    """The report's PNG figures by file name: ``agreement.png``, ``annotators.png``,
    ``confusion-1.png`` (one per matrix, in order), ``distribution.png`` and ``trends.png``,
    each only when the data has what it draws. The same names appear in the report."""
    return {name: draw() for name, draw in _figure_plan(_coerce(data)).items()}


def _images(data: QAReportData, figure_url: Callable[[str], str] | None) -> dict[str, Any]:
    """``<img>`` attributes per figure: a URL from ``figure_url`` or an embedded PNG."""
    out = {}
    for name, draw in _figure_plan(data).items():
        kind = "confusion" if name.startswith("confusion") else name.removesuffix(".png")
        width, height = figures.SIZES[kind]
        if figure_url is not None:
            src = figure_url(name)
        else:
            src = "data:image/png;base64," + base64.b64encode(draw()).decode("ascii")
        out[name] = {
            "src": src,
            "width": round(width * figures.DPI),
            "height": round(height * figures.DPI),
        }
    return out


def _coerce(data: QAReportData | dict[str, Any]) -> QAReportData:
    if isinstance(data, dict):
        return QAReportData.from_dict(data)
    data.validate()
    return data


@cache
def report_css() -> str:
    """The report's stylesheet (also fit to serve as a static file beside a fragment)."""
    return (resources.files(_PACKAGE) / "templates" / "qa_report.css").read_text("utf-8")


def report_csp(*, img_src: str = "data:") -> str:
    """The Content-Security-Policy the standalone report declares: nothing but its own
    ``<style>`` (by hash) and images from ``img_src``."""
    digest = base64.b64encode(hashlib.sha256(report_css().encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; img-src {img_src}; style-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:+.{digits}f}"


def _ci(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"[{_num(low)}, {_num(high)}]"


def _pct(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def _pp(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:+.1f} pp"


def _opt(value: object) -> object:
    return "—" if value is None else value


def _excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@cache
def _env() -> Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(_PACKAGE, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, signed=_signed, pct=_pct, pp=_pp, opt=_opt, excerpt=_excerpt)
    env.globals.update(ci=_ci)
    return env


def render_report(
    data: QAReportData | dict[str, Any],
    *,
    title: str = "QA report",
    fragment: bool = False,
    figure_url: Callable[[str], str] | None = None,
) -> str:
    """The QA report as HTML: a standalone document with embedded figures, or with
    ``fragment=True`` only its body (no ``<style>``) for a page with its own stylesheet.

    ``figure_url`` maps a figure's file name (a key of :func:`report_figures`) to the URL
    that serves it; without it the figures are embedded as ``data:`` URIs.
    """
    data = _coerce(data)
    labels = data.label_order()
    kinds = [
        k for k in ("annotators", "gold") if any(c["kind"] == k for c in data.confusions or [])
    ]
    distribution = data.label_distribution or {}
    by_label = data.agreement_by_label or {}
    n_issues = data.label_issues_total
    if n_issues is None and data.label_issues is not None:
        n_issues = len(data.label_issues)
    context = {
        "title": title,
        "d": data,
        "labels": labels,
        "images": _images(data, figure_url),
        "by_label": [(lab, by_label[lab]) for lab in labels if lab in by_label],
        "pairwise": sorted(
            data.pairwise or [],
            key=lambda p: (p.get("value") is None, p.get("value"), p["a"], p["b"]),
        ),
        "paused": [a["name"] for a in data.annotators or [] if a.get("paused")],
        "gold": data.overall_gold_accuracy(),
        "top_pairs": [
            (
                kind,
                [
                    (a, b, share)
                    for (a, b), share in most_confused(data.confusions or [], kind=kind)
                ],
            )
            for kind in kinds
        ],
        "label_totals": {lab: sum(c.get(lab, 0) for c in distribution.values()) for lab in labels},
        "n_issues": n_issues,
        "comparison": None if data.previous is None else compare_rounds(data, data.previous),
        "trend_points": data.trend_points(),
        "fragment": fragment,
        "csp": report_csp(),
        "css": report_css(),
    }
    return _env().get_template("qa_report.html.j2").render(context)


def write_report(
    path: str | Path, data: QAReportData | dict[str, Any], *, title: str = "QA report"
) -> Path:
    """Write the standalone report to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data, title=title), encoding="utf-8")
    return path
