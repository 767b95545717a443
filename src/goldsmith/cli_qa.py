"""CLI commands of quality assurance: ``round start|close`` and ``qa agreement|issues|report``.

Registered on the main app by :mod:`goldsmith.cli`; each parses, calls one
:class:`~goldsmith.project.Project` method and prints what it did.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from goldsmith._cli_common import DbOpt, ProjectOpt, clean_errors, read_text, within
from goldsmith._console import console, stdout
from goldsmith._lazy import lazy_module
from goldsmith.errors import ConfigError

if TYPE_CHECKING:
    from goldsmith import project as _project
    from goldsmith.llm import client as _llm_client
else:
    _project = lazy_module("goldsmith.project")
    _llm_client = lazy_module("goldsmith.llm.client")

round_app = typer.Typer(
    help="Rounds: a guideline version, a batch, its responses and its QA report.",
    no_args_is_help=True,
)
qa_app = typer.Typer(
    help="Quality: agreement, label issues and the QA report.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@round_app.command("start")
def round_start(
    project: ProjectOpt = Path("."),
    size: Annotated[int, typer.Option(min=1, help="Records in the round's batch.")] = 300,
    gold_rate: Annotated[
        float,
        typer.Option(
            callback=within(0.0, 1.0, high_open=True),
            help="Share of served records that are hidden gold checks; in [0, 1).",
        ),
    ] = 0.05,
    guidelines: Annotated[
        Path | None, typer.Option(help="Markdown guidelines for this round (a new version).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Open the next round: its guidelines, its batch at the front of the queue, gold checks."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        text = read_text(guidelines, "--guidelines") if guidelines else None
        info = proj.start_round(size=size, gold_rate=gold_rate, guidelines=text)
    console.print(
        f"round {info['number']} open: {info['size']} records, guidelines "
        f"v{info['guideline_version']}, {info['honeypots']} gold records mixed in at "
        f"{gold_rate:.0%}"
    )


@round_app.command("close")
def round_close(
    project: ProjectOpt = Path("."),
    method: Annotated[
        str, typer.Option(help="Consensus: dawid-skene (quality-weighted) or majority.")
    ] = "dawid-skene",
    judge_model: Annotated[
        str | None,
        typer.Option(
            help="An OpenAI-compatible model that picks the best of differing free-text "
            "answers (otherwise the most central answer is the consensus)."
        ),
    ] = None,
    judge_base_url: Annotated[
        str | None, typer.Option(help="The judge's endpoint, e.g. http://127.0.0.1:8080/v1.")
    ] = None,
    judge_budget: Annotated[
        int | None, typer.Option(min=0, help="Tokens the judge may spend; then the medoid.")
    ] = None,
    rubric: Annotated[
        str | None,
        typer.Option(help="What makes the best answer (a file path or the text itself)."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Close the open round: consensus final labels, review items, the frozen report."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        judge = None
        if judge_model:
            judge = _llm_client.LLMConfig(
                model=judge_model, base_url=judge_base_url, token_budget=judge_budget
            )
        elif judge_base_url or judge_budget is not None or rubric:
            raise ConfigError("--judge-base-url, --judge-budget and --rubric need --judge-model")
        if rubric and Path(rubric).is_file():
            rubric = read_text(Path(rubric), "--rubric")
        done = proj.close_round(method=method, judge=judge, rubric=rubric)  # type: ignore[arg-type]
    left = done.get("unanswered", 0)
    console.print(
        f"round {done['round']} closed: {done['final_labels']} final labels resolved, "
        f"{done['reviews']} items sent to review"
        + (f", {left} records nobody answered left open in the queue" if left else "")
        + f"; report in {done['report']}"
    )
    calls = done.get("judge")
    if calls:
        console.print(
            f"judge: {calls['answered']} of {calls['asked']} free-text records chosen by the "
            f"LLM, {calls['fallback']} left to the most central answer"
        )


@qa_app.command("agreement")
def qa_agreement(
    project: ProjectOpt = Path("."),
    round_: Annotated[
        int | None, typer.Option("--round", min=1, help="Round (default: latest).")
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="Question (default: the first); any kind.")
    ] = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Agreement per label and per annotator pair, with 95 % bootstrap intervals."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report = proj.agreement(question=question, number=round_)
    keys = [
        *("round", "question", "kind", "agreement_metric", "agreement"),
        *("agreement_by_label", "pairwise", "agreement_all", "agreement_notes"),
    ]
    data = {k: report.get(k) for k in keys}
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    overall = data["agreement"] or {}
    console.print(
        f"{data['agreement_metric'] or 'agreement'}: {_est(overall)} "
        f"on {overall.get('n', 0)} items" + (f" (round {data['round']})" if data["round"] else "")
    )
    table = Table(title="per label")
    table.add_column("label")
    table.add_column("agreement (95 % CI)", justify="right")
    for label, est in (data["agreement_by_label"] or {}).items():
        table.add_row(label, _est(est))
    stdout.print(table)
    pairs = Table(title="per annotator pair")
    for col in ("a", "b", "agreement", "items"):
        pairs.add_column(col)
    for p in data["pairwise"] or []:
        pairs.add_row(p["a"], p["b"], _est(p), str(p.get("n", "")))
    stdout.print(pairs)


def _est(est: dict[str, Any]) -> str:
    value = est.get("value")
    if value is None:
        return "n/a"
    low, high = est.get("low"), est.get("high")
    ci = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{value:.3f}{ci}"


@qa_app.command("issues")
def qa_issues(
    project: ProjectOpt = Path("."),
    limit: Annotated[
        int, typer.Option(min=1, help="At most this many, most suspicious first.")
    ] = 100,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Suspected label errors (cleanlab on out-of-fold probabilities), sent to review."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        found = proj.label_issues(limit=limit)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table(title=f"{len(found)} suspected label errors, sent to the review queue")
    for col in ("rank", "record", "given", "suggested", "quality"):
        table.add_column(col)
    for item in found[:20]:
        d = item["detail"]
        table.add_row(
            str(d["rank"]), str(item["record_id"]), d["given"], d["proposed"], f"{d['quality']:.3f}"
        )
    stdout.print(table)


@qa_app.command("report")
def qa_report(
    project: ProjectOpt = Path("."),
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("qa.html"),
    round_: Annotated[
        int | None, typer.Option("--round", min=1, help="Round (default: latest).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Write one self-contained HTML QA report with plots."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        path = proj.write_qa_report(out, number=round_)
    console.print(f"QA report written to {path}")
