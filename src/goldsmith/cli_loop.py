"""CLI commands of the model in the loop: ``embed``, ``queue``, ``prelabel``, ``simulate``.

They are registered on the main app by :mod:`goldsmith.cli`; each parses its options, calls
one :class:`~goldsmith.project.Project` method and prints what it did.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from goldsmith._cli_common import DbOpt, ProjectOpt, QuestionOpt, clean_errors, csv_list
from goldsmith._cli_common import label_map as parse_label_map
from goldsmith._console import RichProgress, console, stdout
from goldsmith._lazy import lazy_module
from goldsmith.active.scores import SHORTLIST
from goldsmith.errors import ConfigError
from goldsmith.ingest.options import ImportOptions

if TYPE_CHECKING:
    from goldsmith import project as _project
    from goldsmith.active import strategies as _strategies
    from goldsmith.llm import client as _llm_client
    from goldsmith.llm.client import LLMConfig
else:
    _strategies = lazy_module("goldsmith.active.strategies")
    _llm_client = lazy_module("goldsmith.llm.client")
    _project = lazy_module("goldsmith.project")

loop_app = typer.Typer()
"""Holds the commands; :mod:`goldsmith.cli` adds them to the main app."""


StrategyOpt = Annotated[
    str | None,
    typer.Option(
        help="Query strategy: auto (coverage, then uncertainty across clusters), random, "
        "margin, hybrid; also coverage, least-confidence, entropy, kcenter, committee, which "
        "lose to random on some sets (docs/active.md). Default: the last one used, auto at "
        "first."
    ),
]


EngineOpt = Annotated[
    str,
    typer.Option(
        help="local, or ray (extra 'ray'): the same results, as resumable Ray jobs "
        "(see docs/scale.md)."
    ),
]
RayAddressOpt = Annotated[
    str | None, typer.Option(help="Ray cluster to use, e.g. auto (default: start a local one).")
]


@loop_app.command()
def embed(
    project: ProjectOpt = Path("."),
    embedder: Annotated[
        str,
        typer.Option(
            help="tfidf (default, no files), model2vec:DIR, or sentence-transformers:DIR "
            "(extra embed). Becomes the project's embedder."
        ),
    ] = "tfidf",
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    db: DbOpt = None,
) -> None:
    """Embed every record (cached per record and model; only new records cost)."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        done = proj.embed(embedder, engine=engine, ray_address=ray_address, progress=RichProgress())
    console.print(
        f"{done.n_records} records embedded with [bold]{done.model_id}[/] "
        f"({done.n_computed} computed now, the rest cached)"
    )


def _llm_config(
    model: str | None, base_url: str | None, budget_tokens: int | None, **settings: Any
) -> LLMConfig:
    """The LLM settings of ``--with llm`` (``settings`` as :class:`LLMConfig` takes them);
    ConfigError when ``--model`` is missing."""
    if not model:
        raise ConfigError("--with llm needs --model NAME (and usually --base-url URL)")
    return _llm_client.LLMConfig(
        model=model, base_url=base_url, token_budget=budget_tokens, **settings
    )


def _print_loop(report: Any) -> None:
    console.print(
        f"classifier trained on {report.n_labeled} labels: {report.n_suggestions} suggestions "
        f"(agent classifier:{report.embedder}); {report.n_ranked} open records ordered by "
        f"[bold]{report.strategy}[/] in {report.seconds:.1f} s"
    )
    if report.kappa is not None:
        state = "stop: predictions have stabilised" if report.stop else "keep labeling"
        console.print(f"kappa with the previous model {report.kappa:.3f} ({state})")


@loop_app.command()
def queue(
    project: ProjectOpt = Path("."),
    strategy: StrategyOpt = None,
    question: QuestionOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    shortlist: Annotated[
        int,
        typer.Option(
            min=1,
            help="Open records the strategy orders at most; the rest follow by id until "
            "the next retrain.",
        ),
    ] = SHORTLIST,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    db: DbOpt = None,
) -> None:
    """Retrain the model in the loop and set the order in which `next` serves records."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        warn_caveats([strategy] if strategy else [])
        report = proj.retrain(
            strategy=strategy,
            question=question,
            seed=seed,
            shortlist=shortlist,
            engine=engine,
            ray_address=ray_address,
            progress=RichProgress(),
        )
    _print_loop(report)


@loop_app.command()
def prelabel(
    project: ProjectOpt = Path("."),
    with_: Annotated[
        str,
        typer.Option(
            "--with",
            help="classifier: the calibrated in-the-loop classifier (also orders the queue); "
            "llm: an OpenAI-compatible endpoint with structured output.",
        ),
    ] = "classifier",
    base_url: Annotated[
        str | None, typer.Option(help="LLM endpoint, e.g. http://127.0.0.1:8080/v1.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="LLM model name.")] = None,
    budget_tokens: Annotated[
        int | None,
        typer.Option(min=0, help="Stop sending once this many tokens were paid for."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=0, help="At most this many records.")] = None,
    threshold: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Calibrated confidence from which an LLM answer is final."
        ),
    ] = 0.9,
    calibrate_on: Annotated[
        int, typer.Option(min=0, help="Gold records the LLM also labels, to calibrate.")
    ] = 200,
    shots: Annotated[
        int, typer.Option(min=0, help="Few-shot examples (most similar labeled).")
    ] = 4,
    concurrency: Annotated[int, typer.Option(min=1, help="LLM requests in flight.")] = 4,
    response_format: Annotated[
        str,
        typer.Option(help="json_schema (OpenAI) or json_object (llama.cpp's schema form)."),
    ] = "json_schema",
    question: QuestionOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    db: DbOpt = None,
) -> None:
    """Prelabel records; suggestions carry a calibrated confidence and their agent.

    The LLM's API key comes from GOLDSMITH_LLM_API_KEY (or OPENAI_API_KEY) and is never
    printed.
    """
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        if with_ == "classifier":
            report = proj.retrain(
                question=question,
                seed=seed,
                engine=engine,
                ray_address=ray_address,
                progress=RichProgress(),
            )
            _print_loop(report)
            return
        if with_ != "llm":
            raise ConfigError(f"--with must be classifier or llm, got {with_!r}")
        config = _llm_config(
            model,
            base_url,
            budget_tokens,
            concurrency=concurrency,
            response_format=response_format,
        )
        llm = proj.prelabel_llm(
            config,
            question=question,
            limit=limit,
            calibrate_on=calibrate_on,
            shots=shots,
            threshold=threshold,
            seed=seed,
            engine=engine,
            ray_address=ray_address,
            progress=RichProgress(),
        )
    console.print(
        f"{llm.model}: {llm.n_ok} answered, {llm.n_failed} failed, "
        f"{llm.n_not_sent} not sent; {llm.tokens} tokens paid"
        + (f"; stopped: {llm.stopped}" if llm.stopped else "")
    )
    if llm.ece_raw is not None:
        console.print(
            f"calibrated on {llm.n_calibration} gold answers (accuracy "
            f"{llm.gold_accuracy:.3f}): ECE {llm.ece_raw:.3f} raw -> "
            f"{llm.ece_calibrated:.3f} calibrated (held out)"
        )
    console.print(
        f"{llm.n_final} answers at or above {threshold} became final labels (llm); "
        f"{llm.n_to_humans} go to humans first"
    )


@loop_app.command()
def simulate(
    project: ProjectOpt = Path("."),
    strategies: Annotated[
        str, typer.Option(help="Comma-separated strategies; random is the baseline.")
    ] = "random,auto",
    seed_size: Annotated[int, typer.Option(min=1, help="First random labels.")] = 20,
    step: Annotated[int, typer.Option(min=1, help="Labels per query.")] = 20,
    budget: Annotated[int, typer.Option(min=1, help="Human labels in all, seed included.")] = 500,
    repeats: Annotated[
        int, typer.Option(min=1, help="Repeats (seed sets; splits without --test-file).")
    ] = 5,
    out: Annotated[Path, typer.Option(help="Folder for curves.csv and curves.png.")] = Path(
        "curves"
    ),
    test_file: Annotated[
        Path | None,
        typer.Option(
            help="Labeled records outside the project to score every curve on (read, never "
            "stored); without it each repeat holds out 20 % of the labeled records."
        ),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Format of --test-file (as for import).")
    ] = None,
    text_field: Annotated[
        str | None, typer.Option(help="Column of --test-file that holds the text.")
    ] = None,
    label_field: Annotated[
        str | None, typer.Option(help="Column of --test-file that holds the label.")
    ] = None,
    label_map: Annotated[
        str | None, typer.Option(help="Raw-to-task label map of --test-file, e.g. '1=a,2=b'.")
    ] = None,
    code_base: Annotated[
        int, typer.Option(help="Integer label codes of --test-file count from this.")
    ] = 1,
    encoding: Annotated[str, typer.Option(help="Text encoding of --test-file.")] = "utf-8",
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter of --test-file.")] = None,
    with_weak: Annotated[
        bool,
        typer.Option(
            help="Add weak labels: the label model is fitted inside the simulation on the LF "
            "votes, with only the labels revealed so far as its dev set."
        ),
    ] = False,
    with_llm: Annotated[
        bool, typer.Option(help="Add the LLM's suggestions, weighted by their confidence.")
    ] = False,
    semi_supervised: Annotated[
        bool,
        typer.Option(help="Add labels spread over the embeddings' k-NN graph (never counted)."),
    ] = False,
    learner: Annotated[
        str,
        typer.Option(
            help="logistic (the in-loop classifier) or setfit (fine-tunes all-MiniLM-L6-v2 "
            "at every checkpoint; extra 'train'; minutes per checkpoint on a CPU)."
        ),
    ] = "logistic",
    question: QuestionOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    db: DbOpt = None,
) -> None:
    """Replay the labeled records as the annotator and draw learning curves per strategy."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        warn_caveats(csv_list(strategies))
        test_options = ImportOptions(
            fmt=fmt,
            text_field=text_field,
            label_field=label_field,
            question=question,
            label_map=parse_label_map(label_map),
            code_base=code_base,
            encoding=encoding,
            delimiter=delimiter,
        )
        summary = proj.simulate(
            out,
            strategies=tuple(csv_list(strategies)),
            seed_size=seed_size,
            step=step,
            budget=budget,
            repeats=repeats,
            with_weak=with_weak,
            with_llm=with_llm,
            semi_supervised=semi_supervised,
            test_file=test_file,
            test_options=test_options,
            question=question,
            seed=seed,
            learner=learner,
            progress=RichProgress(),
        )
    print_curves(summary, out / "curves.png")


def warn_caveats(names: list[str]) -> None:
    """Warn about strategies measured to lose to random (not offered by default)."""
    for name in names:
        caveat = _strategies.get_strategy(name).caveat
        if caveat:
            console.print(f"[yellow]note:[/] {name} is not offered by default: {caveat}")


def print_curves(summary: dict[str, Any], png: Path) -> None:
    """The summary of a simulation as a table (also used by the demo)."""
    table = Table(
        title=f"learning curves ({png}); macro-F1 on {summary.get('test', 'the test split')}"
    )
    for col in ("strategy", "AULC", "vs random (95 % CI)", "min diff", "labels to 95 %"):
        table.add_column(col, justify="right" if col != "strategy" else "left")
    for name, row in summary["strategies"].items():
        ratio = row.get("aulc_vs_random")
        low, high = row.get("aulc_vs_random_ci") or (None, None)
        ci = "" if low is None else f" ({low:.3f}-{high:.3f})"
        diff = row.get("min_diff_vs_random")
        table.add_row(
            name,
            f"{row['aulc']:.3f}",
            "" if ratio is None else f"{ratio:.3f}{ci}",
            "" if diff is None or name == "random" else f"{diff:+.3f}",
            str(row.get("labels_to_target") or "not reached"),
        )
    stdout.print(table)


@loop_app.command()
def augment(
    project: ProjectOpt = Path("."),
    method: Annotated[
        str,
        typer.Option(help="template or entity-swap (rules), paraphrase or counterfactual (LLM)."),
    ] = "template",
    per_record: Annotated[int, typer.Option(min=1, help="Outputs per labeled record.")] = 2,
    with_: Annotated[
        str | None, typer.Option("--with", help="llm: generate through an LLM endpoint.")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="LLM endpoint.")] = None,
    model: Annotated[str | None, typer.Option(help="LLM model name.")] = None,
    budget_tokens: Annotated[int | None, typer.Option(min=0, help="LLM token budget.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=0, help="At most this many parent records.")
    ] = None,
    lfs: Annotated[
        Path | None,
        typer.Option(
            help="The project's LF file (already applied): the label model joins the "
            "label-consistency filter."
        ),
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option(help="Measure held-out macro-F1 with and without the synthetic records."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    db: DbOpt = None,
) -> None:
    """Synthetic examples from the labeled records, filtered and marked synthetic."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        if evaluate:
            rows = proj.evaluate_augmentation(seed=seed)
            table = Table(title="held-out macro-F1, with minus without synthetic records")
            for col in ("labels", "without", "with", "difference (95 % CI)"):
                table.add_column(col, justify="right")
            for r in rows:
                table.add_row(
                    str(r.budget),
                    f"{r.f1_real:.3f}",
                    f"{r.f1_augmented:.3f}",
                    f"{r.diff:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]",
                )
            stdout.print(table)
            return
        llm = None
        if with_ == "llm":
            llm = _llm_config(model, base_url, budget_tokens, confidence="none")
        elif with_ is not None:
            raise ConfigError(f"--with must be llm, got {with_!r}")
        report = proj.augment(
            method,
            per_record=per_record,
            llm=llm,
            limit=limit,
            seed=seed,
            lfs=lfs,
            progress=RichProgress(),
        )
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(report.rejected.items())) or "none"
    console.print(
        f"{report.method}: {report.n_generated} generated from {report.n_parents} labeled "
        f"records, {report.n_kept} kept as synthetic (rejected: {rejected})"
        + (f"; {report.tokens} tokens" if report.tokens else "")
        + (f"; stopped: {report.stopped}" if report.stopped else "")
    )
