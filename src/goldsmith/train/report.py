"""Write an evaluation: ``eval-<split>.json``, a self-contained ``eval-<split>.html`` and
its figures as PNG files (a confusion matrix per model, the training loss curve).

The HTML follows the QA report's rules (:mod:`goldsmith.quality.report`): its CSS inline and
named by hash in its own Content-Security-Policy, no script, figures as data: URIs, and all
data autoescaped.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.quality import figures
from goldsmith.quality.report import report_csp, report_css
from goldsmith.train.evaluate import EvalReport

if TYPE_CHECKING:
    import jinja2
else:
    jinja2 = lazy_module("jinja2")

if TYPE_CHECKING:
    import matplotlib.backends.backend_agg as _agg
    import matplotlib.figure as _figure
else:
    _agg = lazy_module("matplotlib.backends.backend_agg")
    _figure = lazy_module("matplotlib.figure")

EXCERPT = 200
METRICS = (
    "accuracy",
    "macro_f1",
    "micro_f1",
    "exact",
    "unparsed",
    "loss",
    "perplexity",
    "preference_accuracy",
    "pairs",
)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def _excerpt(text: Any) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= EXCERPT else s[: EXCERPT - 1] + "…"


def _finite(value: Any) -> Any:
    """NaN (an undefined score) as null, so the JSON is strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def loss_curve(losses: list[dict[str, float]]) -> bytes:
    """Training loss by step."""
    fig = _figure.Figure(figsize=(7.0, 3.5), dpi=100, layout="constrained")
    _agg.FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([p["step"] for p in losses], [p["loss"] for p in losses], marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("Training loss")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def report_figures(report: EvalReport, losses: list[dict[str, float]]) -> dict[str, bytes]:
    """PNG bytes by file name: ``confusion-<model>.png`` per model with a confusion matrix
    and ``loss.png`` when training losses were recorded."""
    out: dict[str, bytes] = {}
    for name, row in report.rows.items():
        if "confusion" in row and report.labels:
            slug = "".join(c if c.isalnum() else "-" for c in name)
            out[f"confusion-{slug}.png"] = figures.confusion_matrix(
                row["confusion"],
                report.labels,
                rows="gold",
                cols=f"{name} prediction",
                title=f"{name}: gold vs predicted ({report.split})",
            )
    if losses:
        out["loss.png"] = loss_curve(losses)
    return out


def render(report: EvalReport, images: dict[str, bytes], *, title: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("goldsmith.train", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, excerpt=_excerpt)
    rows = list(report.rows.values())
    shown = [m for m in METRICS if any(m in r for r in rows)]
    uris = {n: "data:image/png;base64," + base64.b64encode(b).decode() for n, b in images.items()}
    return env.get_template("eval_report.html.j2").render(
        title=title,
        r=report,
        headline=report.headline(),
        metrics=shown,
        per_class=bool(rows) and all("per_class" in r for r in rows),
        first_row=rows[0] if rows else {},
        images=uris,
        css=report_css(),
        csp=report_csp(),
    )


def write_eval(
    report: EvalReport, out: str | Path, *, losses: list[dict[str, float]] | None = None
) -> dict[str, Path]:
    """Write the JSON, the HTML and the PNGs into ``out``; return their paths by kind."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    images = report_figures(report, losses or [])
    stem = folder / f"eval-{report.split}"
    paths = {"json": stem.with_suffix(".json"), "html": stem.with_suffix(".html")}
    paths["json"].write_text(
        json.dumps(_finite(report.as_dict()), indent=2, default=str, allow_nan=False) + "\n",
        "utf-8",
    )
    title = f"Evaluation of the {report.kind} on {report.question!r}"
    paths["html"].write_text(render(report, images, title=title), "utf-8")
    for name, data in images.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths
