"""The ``goldsmith`` command line: parse, call :class:`Project`, turn errors into clean exits.

Command names are a contract that other tools script against: add options, never rename.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from goldsmith import cli_loop, cli_qa, cli_train, cli_weak
from goldsmith._cli_common import (
    DEBUG_ENV,
    DbOpt,
    ProjectOpt,
    clean_errors,
    csv_list,
    guard_commands,
    read_text,
    set_debug,
    within,
)
from goldsmith._cli_common import label_map as parse_label_map
from goldsmith._console import RichProgress, console, stdout
from goldsmith._lazy import lazy_module
from goldsmith.config import TEMPLATES
from goldsmith.export.options import DEFAULT_PROVENANCE, ExportOptions
from goldsmith.export.splits import parse_fractions
from goldsmith.ingest.options import AnswerFrom, ImportOptions, LabelsAs, OnConflict
from goldsmith.schema import Provenance, Role

if TYPE_CHECKING:
    from goldsmith import demo as _demo
    from goldsmith import project as _project
    from goldsmith import server as _server
    from goldsmith.server import app as _server_app
else:  # the project, the server and the demo load only for the commands that use them
    _demo = lazy_module("goldsmith.demo")
    _project = lazy_module("goldsmith.project")
    _server = lazy_module("goldsmith.server")
    _server_app = lazy_module("goldsmith.server.app")

app = typer.Typer(
    help="goldsmith: turn raw domain text into measured fine-tuning datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
guidelines_app = typer.Typer(help="Versioned Markdown annotation guidelines.", no_args_is_help=True)
app.add_typer(guidelines_app, name="guidelines")
app.add_typer(cli_weak.lf_app, name="lf")
app.add_typer(cli_weak.label_model_app, name="label-model")
user_app = typer.Typer(
    help="Users of the annotation server and their API keys.", no_args_is_help=True
)
app.add_typer(user_app, name="user")


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar=DEBUG_ENV,
            help="Show the full Python traceback of an error instead of one line.",
        ),
    ] = False,
) -> None:
    set_debug(ctx, debug)


def _command_line() -> str:
    return "goldsmith " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# --------------------------------------------------------------------------- project


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Project name; also the folder made unless --dir.")],
    template: Annotated[
        str, typer.Option(help=f"Task template: {', '.join(TEMPLATES)}.")
    ] = "classification",
    labels: Annotated[
        str | None, typer.Option(help="Comma-separated labels (classification, multilabel, ner).")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Folder to create (default: ./NAME).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create a project folder with goldsmith.toml and an empty store."""
    with clean_errors():
        root = directory or Path(name)
        with _project.Project.init(
            root, name=name, template=template, labels=csv_list(labels), db_url=db
        ) as project:
            console.print(
                f"created project [bold]{name}[/] in {project.root} "
                f"({template}; store {project.store.dialect})"
            )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="File or folder to import.")],
    project: ProjectOpt = Path("."),
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv, tsv, jsonl, json, parquet, hf, label-studio, prodigy, conll, "
            "argilla, or an SFT file: openai-chat, trl-sft-chat, trl-sft, alpaca, sharegpt "
            "(default: from the file name).",
        ),
    ] = None,
    text_field: Annotated[
        str | None, typer.Option(help="Source column that holds the text.")
    ] = None,
    label_field: Annotated[
        str | None, typer.Option(help="Source column that holds a label.")
    ] = None,
    id_field: Annotated[str | None, typer.Option(help="Source column with an external id.")] = None,
    metadata_field: Annotated[
        list[str] | None, typer.Option(help="Column kept as metadata (repeat; default: all).")
    ] = None,
    question: Annotated[
        str | None, typer.Option(help="Question the label fills (default: the first).")
    ] = None,
    labels_as: Annotated[
        LabelsAs, typer.Option(help="Store existing labels as gold, response or suggestion.")
    ] = LabelsAs.GOLD,
    label_user: Annotated[str, typer.Option(help="Annotator name for --labels-as response.")] = (
        "import"
    ),
    on_conflict: Annotated[
        OnConflict | None,
        typer.Option(
            help="With --labels-as gold, a record whose answers to one question disagree: "
            "refuse the import (error, the default), keep the first answer, or the majority "
            "(a tie goes to the first). Not for response or suggestion, which keep every answer."
        ),
    ] = None,
    answer_from: Annotated[
        AnswerFrom | None,
        typer.Option(
            help="Take the last assistant turn of the task's chat field as the question's "
            "label (stored per --labels-as); the rest stays the transcript."
        ),
    ] = None,
    label_map: Annotated[
        str | None, typer.Option(help="Raw-to-task label map, e.g. '1=neoplasms,2=digestive'.")
    ] = None,
    code_base: Annotated[
        int, typer.Option(help="Integer label codes count from this (1: code 1 = first label).")
    ] = 1,
    skip_invalid: Annotated[
        Path | None, typer.Option(help="Write invalid rows with reasons here instead of failing.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per batch.")] = 5000,
    encoding: Annotated[str, typer.Option(help="Text encoding of the file.")] = "utf-8",
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter.")] = None,
    redact: Annotated[
        str | None,
        typer.Option(
            help="Redact PII in text fields before storing: mask, hash or fake (hash and "
            "fake take their salt from GOLDSMITH_PII_SALT)."
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Import records (and any labels) from a file, all-or-nothing, skipping exact duplicates."""
    with clean_errors():
        mapping = parse_label_map(label_map)
        options = ImportOptions(
            fmt=fmt,
            text_field=text_field,
            label_field=label_field,
            id_field=id_field,
            metadata_fields=tuple(metadata_field) if metadata_field else None,
            question=question,
            labels_as=labels_as,
            label_user=label_user,
            label_map=mapping,
            code_base=code_base,
            skip_invalid=skip_invalid,
            batch_size=batch_size,
            encoding=encoding,
            delimiter=delimiter,
            redact=redact,
            on_conflict=on_conflict,
            answer_from=answer_from,
        )
        with _project.Project.open(project, db_url=db) as proj:
            report = proj.import_records(path, options, progress=RichProgress())
        console.print(
            f"imported {report.n_inserted} record(s) from {report.source} ({report.fmt}): "
            f"{report.n_read} read, {report.n_duplicates} duplicate(s) skipped"
            + (
                f" (their {report.n_duplicate_labels} label(s) not stored)"
                if report.n_duplicate_labels
                else ""
            )
            + ", "
            f"{report.n_labels} label(s) as {labels_as.value}, {report.n_rejected} rejected"
            + (f" (see {report.rejected_path})" if report.rejected_path else "")
        )
        for warning in report.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")
        if redact:
            found = ", ".join(f"{k} {n}" for k, n in sorted(report.pii.items())) or "none"
            console.print(f"PII redacted ({redact}): {found}")


@app.command()
def status(
    project: ProjectOpt = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """Records by status, final label and provenance."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        info = proj.status()
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    _print_status(info)


def _print_status(info: dict[str, Any]) -> None:
    out = stdout
    table = Table(title=f"{info['project']} ({info['store']})")
    table.add_column("records")
    table.add_column("count", justify="right")
    for key, n in info["records"].items():
        table.add_row(key, str(n))
    out.print(table)
    for question, counts in info["labels"].items():
        t = Table(title=f"final labels: {question}")
        t.add_column("value")
        t.add_column("count", justify="right")
        for value, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            t.add_row(value, str(n))
        out.print(t)
    prov = Table(title="provenance")
    prov.add_column("provenance")
    prov.add_column("records", justify="right")
    for key, n in sorted(info["provenance"].items()):
        prov.add_row(key, str(n))
    out.print(prov)
    gv = info["guideline_version"]
    out.print(f"guidelines: {'v' + str(gv) if gv else 'none'}; imports: {info['imports']}")


# --------------------------------------------------------------------------- guidelines


@guidelines_app.command("set")
def guidelines_set(
    file: Annotated[Path, typer.Argument(help="Markdown file with the guidelines.")],
    project: ProjectOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Store FILE as a new guideline version."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        version = proj.set_guidelines(read_text(file, "FILE"))
    console.print(f"guidelines are at version {version}")


@guidelines_app.command("show")
def guidelines_show(
    project: ProjectOpt = Path("."),
    version: Annotated[
        int | None, typer.Option(min=1, help="Version to show (default: latest).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Print the guidelines (Markdown) of the latest or a given version."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        v, text = proj.guidelines(version)
    console.print(f"[dim]guidelines v{v}[/]")
    typer.echo(text)


# --------------------------------------------------------------------------- model in the loop

app.registered_commands.extend(cli_loop.loop_app.registered_commands)  # embed, queue, ...
app.add_typer(cli_qa.round_app, name="round")
app.add_typer(cli_qa.qa_app, name="qa")
app.add_typer(cli_train.train_app, name="train")
app.registered_commands.extend(cli_train.eval_app.registered_commands)  # eval


# --------------------------------------------------------------------------- data hygiene

pii_app = typer.Typer(help="Personal information in the records.", no_args_is_help=True)
app.add_typer(pii_app, name="pii")


@pii_app.command("scan")
def pii_scan(
    project: ProjectOpt = Path("."),
    kinds: Annotated[
        str | None, typer.Option(help="Comma-separated kinds (default: all), e.g. EMAIL,PHONE.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """Count PII per kind in every record's text, with examples whose PII is masked."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report = proj.pii_scan(kinds=csv_list(kinds) or None)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    stdout.print(report.to_text(), highlight=False)


@app.command()
def dedup(
    project: ProjectOpt = Path("."),
    near: Annotated[
        float,
        typer.Option(
            callback=within(0.0, 1.0, low_open=True),
            help="Jaccard similarity (of character 5-grams) from which two "
            "records are near duplicates; in (0, 1].",
        ),
    ] = 0.8,
    db: DbOpt = None,
) -> None:
    """Group near-duplicate records (MinHash LSH); exports keep each group in one split."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        found = proj.dedup(near=near)
    n_groups = len(set(found.groups.values()))
    console.print(
        f"{len(found.groups)} of {len(found.record_ids)} records fall in {n_groups} "
        f"near-duplicate groups at Jaccard >= {near}"
    )


# --------------------------------------------------------------------------- users and server


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[Role, typer.Option(help="owner, reviewer or annotator.")] = Role.ANNOTATOR,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    project: ProjectOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Add a user. Prints a one-time password unless --password-stdin gives one."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        made = proj.add_user(name, role, password)
    console.print(f"added {role} {name!r}")
    if password is None:
        console.print("one-time password (shown once):")
        stdout.print(made, highlight=False)


@user_app.command("key")
def user_key(
    name: Annotated[str, typer.Argument(help="The user the key acts as.")],
    project: ProjectOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Create an API key for NAME. It is stored hashed, so this is the only time it shows."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        key = proj.create_api_key(name)
    console.print(f"API key for {name!r} (shown once; send as 'Authorization: Bearer KEY'):")
    stdout.print(key, highlight=False)


@user_app.command("list")
def user_list(project: ProjectOpt = Path("."), db: DbOpt = None) -> None:
    """List users and their roles."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        for u in proj.users():
            typer.echo(f"{u.name}\t{u.role}")


TRUSTED_PROXIES_ENV = "GOLDSMITH_TRUSTED_PROXIES"


@app.command()
def serve(
    project: ProjectOpt = Path("."),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    secure_cookies: Annotated[
        bool, typer.Option(help="Mark cookies Secure (set when served over HTTPS).")
    ] = False,
    retrain_every: Annotated[
        int,
        typer.Option(
            min=0,
            help="Retrain the model in the loop and re-rank the queue in the background after "
            "this many submitted answers (0: never).",
        ),
    ] = 0,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes (use more than 1 with PostgreSQL; see docs/deploy.md)."
        ),
    ] = 1,
    trusted_proxies: Annotated[
        str,
        typer.Option(
            envvar=TRUSTED_PROXIES_ENV,
            show_envvar=False,  # named in the help: the column would cut the long name
            help="Comma-separated addresses or networks (10.0.0.0/8) of reverse proxies whose "
            "X-Forwarded-For header names the client (for the login limit); from any other "
            f"peer the header is ignored. Env: {TRUSTED_PROXIES_ENV}.",
        ),
    ] = "",
    db: DbOpt = None,
) -> None:
    """Serve the annotation page at / and the REST API at /api/v1 (OpenAPI at /docs)."""
    proxies = tuple(p.strip() for p in trusted_proxies.split(",") if p.strip())
    settings = _server.ServerSettings(
        project_root=project,
        db_url=db,
        secure_cookies=secure_cookies,
        retrain_every=retrain_every,
        trusted_proxies=proxies,
    )
    _project.Project.open(project, db_url=db).close()  # fail fast on a bad project or store
    console.print(
        f"goldsmith serving {project.resolve()} at http://{host}:{port}/ "
        f"({workers} worker{'s' if workers > 1 else ''})"
    )
    _server_app.serve(settings, host=host, port=port, workers=workers)


# --------------------------------------------------------------------------- export


@app.command()
def export(
    project: ProjectOpt = Path("."),
    fmt: Annotated[str, typer.Option("--format", help="Export format (see docs/formats.md).")] = (
        "openai-chat"
    ),
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    split: Annotated[str, typer.Option(help="Train,validation,test fractions.")] = "1.0",
    seed: Annotated[int, typer.Option(help="Seed of the split shuffle.")] = 0,
    provenance: Annotated[
        str, typer.Option(help="Provenances to include, comma-separated.")
    ] = ",".join(p.value for p in DEFAULT_PROVENANCE),
    min_confidence: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Drop final labels below this.")
    ] = 0.0,
    question: Annotated[str | None, typer.Option(help="Question to export (default: first).")] = (
        None
    ),
    validate: Annotated[bool, typer.Option(help="Validate training files after writing.")] = True,
    max_tokens: Annotated[
        int, typer.Option(min=1, help="Token limit per example for validation.")
    ] = 16_384,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Remove files in --out that no goldsmith export wrote (else refuse)."
        ),
    ] = False,
    responses: Annotated[
        bool,
        typer.Option(
            help="label-studio, prodigy: also write each annotator's responses beside the "
            "final label (--no-responses: final labels only)."
        ),
    ] = True,
    db: DbOpt = None,
) -> None:
    """Export final labels with stratified, leak-free splits and a dataset card.

    The export owns --out: files of the previous export it does not write again (old
    splits) are removed, and a folder holding other files is refused unless --force.
    """
    with clean_errors():
        try:
            fractions = parse_fractions(split)
            provs = tuple(Provenance(p) for p in csv_list(provenance))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        options = ExportOptions(
            fmt=fmt,
            out=out,
            split=fractions,
            seed=seed,
            provenance=provs,
            min_confidence=min_confidence,
            question=question,
            validate=validate,
            max_tokens=max_tokens,
            command=_command_line(),
            force=force,
            responses=responses,
        )
        with _project.Project.open(project, db_url=db) as proj:
            report = proj.export(options, progress=RichProgress())
    for name, path in report.files.items():
        console.print(f"{name}: {report.counts.get(name, 0)} example(s) -> {path}")
    if report.responses:
        console.print(f"annotators' responses written beside the final labels: {report.responses}")
    if report.card:
        console.print(f"dataset card: {report.card}")
    for path in report.companions:
        console.print(f"also written: {path}")
    for path in report.removed:
        console.print(f"removed (not written by this export): {path}")
    if report.leakage:
        console.print(
            f"near-duplicate pairs across splits: {report.leakage.get('pairs_crossing', 0)}"
        )


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Training file to check.")],
    fmt: Annotated[str, typer.Option("--format", help="Format the file claims to be.")] = (
        "openai-chat"
    ),
    max_tokens: Annotated[int, typer.Option(min=1, help="Token limit per example.")] = 16_384,
) -> None:
    """Check a training file the way OpenAI's data-preparation guide does."""
    with clean_errors():
        n = _project.Project.validate(file, fmt, max_tokens=max_tokens)
    console.print(f"{file}: {n} example(s), valid {fmt}")


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    data: Annotated[Path, typer.Option(help="Medical abstracts CSV (medical_tc_test.csv).")] = Path(
        "../shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
    ),
    workdir: Annotated[
        Path | None, typer.Option(help="Where the demo project goes (default: a temp folder).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for gold sampling and splits.")] = 7,
) -> None:
    """Run the whole loop on real data and print where the export went."""
    with clean_errors():
        summary = _demo.run_demo(
            data, workdir=workdir, seed=seed, progress=RichProgress(), log=console.print
        )
    typer.echo(json.dumps(summary, indent=2, default=str))  # stdout: the summary, for scripts


guard_commands(app)  # every command, sub-apps' included, runs inside clean_errors


def main() -> None:
    app()
