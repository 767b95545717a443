"""CLI commands of weak supervision: ``lf apply|report`` and ``label-model fit``.

Registered on the main app by :mod:`goldsmith.cli`; each parses its options, calls one
:class:`~goldsmith.project.Project` method and prints what it did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from goldsmith._cli_common import DbOpt, ProjectOpt, QuestionOpt, clean_errors
from goldsmith._console import RichProgress, console, stdout
from goldsmith._lazy import lazy_module

if TYPE_CHECKING:
    from goldsmith import project as _project
else:  # the project loads only when a command runs
    _project = lazy_module("goldsmith.project")

lf_app = typer.Typer(
    help="Labeling functions: apply them and report how they do.", no_args_is_help=True
)
label_model_app = typer.Typer(help="Label models over the LFs' votes.", no_args_is_help=True)


@lf_app.command("apply")
def lf_apply(
    file: Annotated[Path, typer.Argument(help="Python file defining labeling functions.")],
    project: ProjectOpt = Path("."),
    question: QuestionOpt = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes for Python LFs (default: all CPUs).")
    ] = None,
    engine: Annotated[
        str, typer.Option(help="local, or ray (extra 'ray'): the same votes, on Ray.")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to use (default: start a local one).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Apply FILE's LFs; only new records and changed LFs are recomputed."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report = proj.apply_lfs(
            file,
            question=question,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            progress=RichProgress(),
        )
    console.print(
        f"applied {len(report.recomputed) + len(report.incremental)} LFs to question "
        f"{report.question!r} over {report.n_records} records in {report.seconds} s: "
        f"{len(report.recomputed)} recomputed, {len(report.incremental)} on new records only, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


@lf_app.command("report")
def lf_report(
    project: ProjectOpt = Path("."),
    question: QuestionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """Coverage, overlaps, conflicts, polarity and accuracy vs gold and human labels."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report = proj.lf_report(question)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    if "labels" in report:  # multi-label: one table per label
        for label, part in report["labels"].items():
            _print_lf_table(f"{report['question']!r} / {label}", report["records"], part)
        return
    _print_lf_table(repr(report["question"]), report["records"], report)


def _print_lf_table(what: str, records: int, part: dict[str, Any]) -> None:
    t = part["totals"]
    table = Table(
        title=f"labeling functions on {what}: {records} records, "
        f"coverage {_pct(t['coverage'])}, overlap {_pct(t['overlap'])}, "
        f"conflict {_pct(t['conflict'])}"
    )
    for col in ("LF", "polarity", "coverage", "overlaps", "conflicts", "acc. gold", "acc. human"):
        table.add_column(col, justify="left" if col in ("LF", "polarity") else "right")
    for s in part["lfs"]:
        table.add_row(
            s["lf"],
            ", ".join(s["polarity"]),
            _pct(s["coverage"]),
            _pct(s["overlaps"]),
            _pct(s["conflicts"]),
            f"{_pct(s['gold_accuracy'])} (n={s['gold_n']})",
            f"{_pct(s['human_accuracy'])} (n={s['human_n']})",
        )
    stdout.print(table)


@label_model_app.command("fit")
def label_model_fit(
    project: ProjectOpt = Path("."),
    model: Annotated[
        str,
        typer.Option(
            help="auto (best cross-fitted accuracy on gold), majority, dawid-skene, "
            "label-model or label-model-bayes."
        ),
    ] = "auto",
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Also store final labels (provenance weak) at this probability."
        ),
    ] = None,
    question: QuestionOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """Fit a label model; its labels become suggestions (agent label-model:NAME)."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report = proj.fit_label_model(model, question=question, threshold=threshold, seed=seed)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    if report.note:
        console.print(f"[yellow]note:[/] {report.note}")
    if report.scores:
        table = Table(title=f"cross-fitted accuracy on {report.n_gold} gold labels")
        table.add_column("model")
        table.add_column("accuracy", justify="right")
        for name, score in sorted(report.scores.items(), key=lambda kv: -kv[1]):
            table.add_row(name + (" (chosen)" if name == report.model else ""), _pct(score))
        stdout.print(table)
    console.print(
        f"{report.model}: {report.n_suggestions} suggestions from {report.n_lfs} LFs over "
        f"{report.n_records} records; {report.n_weak_labels} weak final labels"
        + (f" at p >= {report.threshold}" if report.threshold is not None else "")
    )
