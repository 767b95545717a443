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
from goldsmith.quality.report_data import Confusion, QAReportData

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


MANY_LABELS = 15
"""Above this many labels the charts show a selection (the :data:`TOP_N` most confused
pairs, the labels with the lowest agreement, the most frequent labels) and the full
matrices and per-label tables become sortable HTML tables."""
TOP_N = 15
"""How many label pairs or labels a chart shows when there are more than :data:`MANY_LABELS`."""

Column = list[float | None]


def _column(rows: Sequence[Any], key: str) -> Column:
    return [r.get(key) if r is not None else None for r in rows]


def _one_annotator(data: QAReportData) -> bool:
    n = data.n_annotators if data.n_annotators is not None else len(data.annotators or [])
    return n < 2 and (data.n_annotators is not None or data.annotators is not None)


def _no_responses(data: QAReportData) -> bool:
    return data.n_responses == 0 or data.n_annotators == 0


def _many(data: QAReportData) -> bool:
    return len(data.label_order()) > MANY_LABELS


def _matrix_total(conf: Confusion) -> int:
    return int(sum(sum(row) for row in conf["matrix"]))


def _empty_confusion(data: QAReportData, conf: Confusion) -> str | None:
    """Why a confusion matrix has nothing to show, or None when it has counts."""
    if _matrix_total(conf):
        return None
    if _no_responses(data):
        return "No responses were submitted in this round yet."
    if conf["kind"] == "gold":
        return (
            "No gold item was answered in this round, so there is nothing to compare with "
            "gold: import gold (--labels-as gold) or promote some, and start the round with "
            "a gold rate."
        )
    if _one_annotator(data):
        return "Only one annotator answered in this round: there is no pair to compare."
    return (
        "No record was answered by two annotators, so there is no pair to compare: raise "
        "the task's overlap to 2 or more."
    )


def _agreement_missing(data: QAReportData) -> str:
    if _no_responses(data):
        return "No agreement was measured for this round: no responses were submitted yet."
    if _one_annotator(data):
        return (
            "No agreement was measured for this round: only one annotator answered, and "
            "agreement needs items labeled by at least two annotators."
        )
    return (
        "No agreement was measured for this round: it needs items labeled by at least two "
        "annotators (a task overlap of 2 or more)."
    )


def _lowest_agreement(data: QAReportData) -> list[str]:
    """The labels whose agreement is known, lowest first (then by name), at most TOP_N."""
    by_label = data.agreement_by_label or {}
    known = [(e["value"], lab) for lab, e in by_label.items() if e.get("value") is not None]
    return [lab for _, lab in sorted(known, key=lambda vl: (vl[0], vl[1]))[:TOP_N]]


def _frequent(data: QAReportData, labels: list[str]) -> list[str]:
    """The labels with final labels, most frequent first, at most TOP_N when there are many."""
    totals = {
        lab: sum(c.get(lab, 0) for c in (data.label_distribution or {}).values()) for lab in labels
    }
    used = [lab for lab in labels if totals[lab] > 0]
    if len(labels) <= MANY_LABELS:
        return used if used else []
    return sorted(used, key=lambda lab: (-totals[lab], lab))[:TOP_N]


def _score_metric(data: QAReportData) -> str | None:
    """The gold score's name when it is not single-label accuracy ("span F1"), else None."""
    names = {str(a.get("metric")) for a in data.annotators or [] if a.get("metric")}
    names -= {"accuracy", "exact match"}
    return sorted(names)[0] if names else None


def _annotator_rows(data: QAReportData) -> list[dict[str, Any]]:
    """Each annotator with why a score is missing (``gold_why``/``ds_why``, None if known)."""
    lone = _one_annotator(data)
    out = []
    for a in data.annotators or []:
        gold_why = ds_why = None
        if a.get("gold_accuracy") is None:
            gold_why = a.get("gold_reason") or (
                "no gold items answered" if not a.get("gold_n") else "not measured"
            )
        if a.get("ds_accuracy") is None:
            ds_why = a.get("ds_reason") or (
                "only one annotator: Dawid-Skene needs two or more"
                if lone
                else "not estimated for this question"
            )
        out.append({**a, "gold_why": gold_why, "ds_why": ds_why})
    return out


def _scores_missing(rows: list[dict[str, Any]]) -> str | None:
    """Why the annotator figure is not drawn (no score known at all), or None."""
    if not rows or any(r["gold_why"] is None or r["ds_why"] is None for r in rows):
        return None
    reasons = dict.fromkeys(r[k] for r in rows for k in ("gold_why", "ds_why"))
    return "Not enough data for a chart: " + "; ".join(reasons) + "."


def _gold_missing(data: QAReportData, rows: list[dict[str, Any]]) -> str | None:
    if not rows:
        return None
    return "; ".join(dict.fromkeys(r["gold_why"] for r in rows if r["gold_why"])) or None


def _matrix_rows(conf: Confusion) -> list[dict[str, Any]]:
    """A confusion matrix as table rows: the label, its row total, the share on the diagonal
    and the counts, one per column label."""
    out = []
    for i, (label, counts) in enumerate(zip(conf["labels"], conf["matrix"], strict=True)):
        total = int(sum(counts))
        out.append(
            {
                "label": label,
                "total": total,
                "same": counts[i] / total if total else None,
                "counts": [int(c) for c in counts],
            }
        )
    return out


def _span_rows(data: QAReportData) -> dict[str, Any] | None:
    """The span types table: annotator columns (first seen order), whether any type has an
    agreement or recall, and one row per type (agreement as an estimate whatever its form)."""
    if data.span_types is None:
        return None
    types = data.span_types
    names = list(
        dict.fromkeys(
            n for t in types for n in (*(t.get("precision") or {}), *(t.get("recall") or {}))
        )
    )
    rows = []
    for t in types:
        agreement = t.get("agreement")
        est = {"value": agreement} if isinstance(agreement, int | float) else agreement
        precision, recall = t.get("precision") or {}, t.get("recall") or {}
        rows.append(
            {
                "label": t["label"],
                "support": t.get("support"),
                "agreement": est,
                "precision": [precision.get(n) for n in names],
                "recall": [recall.get(n) for n in names],
            }
        )
    return {
        "annotators": names,
        "rows": rows,
        "agreement": any(t.get("agreement") is not None for t in types),
        "recall": any(t.get("recall") for t in types),
    }


def _figure_plan(data: QAReportData) -> dict[str, Callable[[], bytes]]:
    """Each figure the data has something to draw for, by file name, as a call that draws
    it; with more than :data:`MANY_LABELS` labels, a selection of at most :data:`TOP_N`."""
    plan: dict[str, Callable[[], bytes]] = {}
    many = _many(data)
    by_label = data.agreement_by_label or {}
    if many:
        labels = _lowest_agreement(data)
    else:
        labels = [lab for lab in data.label_order() if lab in by_label]
    if any(by_label[lab].get("value") is not None for lab in labels):
        ests = [by_label[lab] for lab in labels]
        title = None
        if many:
            title = (
                f"The {len(labels)} labels with the lowest {data.agreement_metric} "
                f"(of {len(by_label)})"
            )
        plan["agreement.png"] = partial(
            figures.agreement_by_label,
            labels,
            _column(ests, "value"),
            _column(ests, "low"),
            _column(ests, "high"),
            overall=None if data.agreement is None else data.agreement.get("value"),
            metric=data.agreement_metric,
            title=title,
        )
    rows = data.annotators or []
    if any(a.get(k) is not None for a in rows for k in ("gold_accuracy", "ds_accuracy")):
        plan["annotators.png"] = partial(
            figures.annotator_accuracy,
            [a["name"] for a in rows],
            *(_column(rows, k) for k in ("gold_accuracy", "gold_low", "gold_high", "ds_accuracy")),
            threshold=data.pause_threshold,
            paused=[bool(a.get("paused")) for a in rows],
            metric=_score_metric(data),
        )
    for i, conf in enumerate(data.confusions or [], start=1):
        if _empty_confusion(data, conf) is not None:
            continue
        title = conf.get("title", "Confusion")
        if len(conf["labels"]) > MANY_LABELS:
            top = most_confused([conf], kind=conf["kind"], top=TOP_N)
            if top:
                plan[f"confusion-{i}.png"] = partial(
                    figures.confused_pairs,
                    [pair for pair, _ in top],
                    [share for _, share in top],
                    title=f"The {len(top)} most confused label pairs",
                )
            continue
        plan[f"confusion-{i}.png"] = partial(
            figures.confusion_matrix,
            conf["matrix"],
            conf["labels"],
            rows=conf.get("rows", "annotator A"),
            cols=conf.get("cols", "gold" if conf["kind"] == "gold" else "annotator B"),
            title=title,
        )
    shown = _frequent(data, data.label_order())
    if shown:
        counts = {
            src: [c.get(lab, 0) for lab in shown]
            for src, c in (data.label_distribution or {}).items()
        }
        title = f"The {len(shown)} most frequent final labels by provenance" if many else None
        plan["distribution.png"] = partial(figures.label_distribution, shown, counts, title=title)
    points = data.trend_points()
    series: dict[str, tuple[Column, Column, Column]] = {}
    agreement = [p.get("agreement") for p in points]
    gold = [p.get("gold_accuracy") for p in points]
    for name, per_round in ((data.agreement_metric, agreement), ("gold accuracy", gold)):
        if any(e is not None and e.get("value") is not None for e in per_round):
            value, low, high = (_column(per_round, k) for k in ("value", "low", "high"))
            series[name] = (value, low, high)
    if len(points) >= 2 and series:
        plan["trends.png"] = partial(figures.round_trends, [p["round"] for p in points], series)
    return plan


def figure_titles(data: QAReportData | dict[str, Any]) -> dict[str, str]:
    """A title for each figure :func:`report_figures` may draw, by file name, saying what it
    shows: with more than :data:`MANY_LABELS` labels, a selection ("the labels with the
    lowest agreement"), not the whole."""
    d = _coerce(data)
    many = _many(d)
    metric = d.agreement_metric or "agreement"
    score = _score_metric(d) or "accuracy"
    titles = {
        "agreement.png": f"The labels with the lowest {metric}" if many else f"{metric} by label",
        "annotators.png": f"Annotator {score} (gold and estimated)",
        "distribution.png": "The most frequent final labels" if many else "Label distribution",
        "trends.png": "Trends across rounds",
    }
    for i, conf in enumerate(d.confusions or [], start=1):
        sub = conf.get("title") or f"{i}"
        if len(conf.get("labels") or ()) > MANY_LABELS:
            titles[f"confusion-{i}.png"] = f"The most confused label pairs: {sub}"
        else:
            titles[f"confusion-{i}.png"] = f"Confusion matrix: {sub}"
    return {name: title[:1].upper() + title[1:] for name, title in titles.items()}


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
    """The data checked, with NaN turned into None wherever it is (see ``from_dict``)."""
    return QAReportData.from_dict(data if isinstance(data, dict) else data.to_dict())


@cache
def report_css() -> str:
    """The report's stylesheet (also fit to serve as a static file beside a fragment)."""
    return (resources.files(_PACKAGE) / "templates" / "qa_report.css").read_text("utf-8")


@cache
def report_js() -> str:
    """The script that sorts a report's ``table.sortable`` by a click on a column header
    (also fit to serve as a static file beside a fragment)."""
    return (resources.files(_PACKAGE) / "templates" / "qa_report.js").read_text("utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def report_csp(*, img_src: str = "data:", script: bool = False) -> str:
    """The Content-Security-Policy the standalone report declares: nothing but its own
    ``<style>`` (by hash), images from ``img_src`` and, with ``script``, its own table-sorting
    ``<script>`` (by hash; only reports with more than :data:`MANY_LABELS` labels have one)."""
    scripts = f"script-src 'sha256-{_sha256(report_js())}'; " if script else ""
    return (
        f"default-src 'none'; img-src {img_src}; style-src 'sha256-{_sha256(report_css())}'; "
        f"{scripts}base-uri 'none'; form-action 'none'"
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
    many = len(labels) > MANY_LABELS
    kinds = [
        k for k in ("annotators", "gold") if any(c["kind"] == k for c in data.confusions or [])
    ]
    distribution = data.label_distribution or {}
    by_label = data.agreement_by_label or {}
    n_issues = data.label_issues_total
    if n_issues is None and data.label_issues is not None:
        n_issues = len(data.label_issues)
    gold = data.overall_gold_accuracy()
    rows = _annotator_rows(data)
    script = many and not fragment
    context = {
        "title": title,
        "d": data,
        "labels": labels,
        "many": many,
        "top_n": TOP_N,
        "images": _images(data, figure_url),
        "by_label": [(lab, by_label[lab]) for lab in labels if lab in by_label],
        "agreement_missing": _agreement_missing(data),
        "pairwise": sorted(
            data.pairwise or [],
            key=lambda p: (p.get("value") is None, p.get("value"), p["a"], p["b"]),
        ),
        "annotator_rows": rows,
        "score_metric": _score_metric(data),
        "scores_missing": _scores_missing(rows),
        "paused": [a["name"] for a in data.annotators or [] if a.get("paused")],
        "gold": gold,
        "gold_missing": None if gold is not None else _gold_missing(data, rows),
        "confusions": [
            (conf, _empty_confusion(data, conf), _matrix_rows(conf) if many else None)
            for conf in data.confusions or []
        ],
        "top_pairs": [
            (
                kind,
                [
                    (a, b, share)
                    for (a, b), share in most_confused(
                        data.confusions or [], kind=kind, top=TOP_N if many else 5
                    )
                ],
            )
            for kind in kinds
        ],
        "label_totals": {lab: sum(c.get(lab, 0) for c in distribution.values()) for lab in labels},
        "distribution_shown": len(_frequent(data, labels)),
        "span_types": _span_rows(data),
        "n_issues": n_issues,
        "comparison": None if data.previous is None else compare_rounds(data, data.previous),
        "trend_points": data.trend_points(),
        "fragment": fragment,
        "script": script,
        "csp": report_csp(script=script),
        "css": report_css(),
        "js": report_js() if script else "",
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
