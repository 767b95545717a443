"""What the CLI's command modules share: the common options and the error boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from goldsmith._console import console
from goldsmith.errors import GoldsmithError

ProjectOpt = Annotated[
    Path, typer.Option("--project", "-p", help="Project folder.", show_default=True)
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL, e.g. postgresql+psycopg://user@host/db (default: SQLite "
        "file in the project; env GOLDSMITH_DB).",
    ),
]


@contextmanager
def clean_errors() -> Iterator[None]:
    """Show goldsmith's own errors as one red line and exit 1, without a traceback."""
    try:
        yield
    except GoldsmithError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def csv_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


QuestionOpt = Annotated[
    str | None, typer.Option(help="Question the LFs label (default: the first).")
]


def label_map(spec: str | None) -> dict[str, str]:
    """``'1=neoplasms,2=digestive'`` as a raw-to-task label map."""
    mapping = {}
    for pair in csv_list(spec):
        raw, eq, label = (part.strip() for part in pair.partition("="))
        if not (eq and raw and label):
            raise typer.BadParameter(
                f"--label-map: {pair!r} is not RAW=LABEL", param_hint="--label-map"
            )
        mapping[raw] = label
    return mapping
