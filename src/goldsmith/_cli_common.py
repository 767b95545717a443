"""What the CLI's command modules share: the common options and the error boundary.

Every command of the app runs inside :func:`clean_errors` (:func:`guard_commands` wraps them
all), so no Python traceback reaches a user unless they ask for it with ``--debug``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from goldsmith._console import console
from goldsmith.errors import GoldsmithError

DEBUG_ENV = "GOLDSMITH_DEBUG"
_debug: ContextVar[bool | None] = ContextVar("goldsmith_debug", default=None)

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


def set_debug(ctx: typer.Context, enabled: bool) -> None:
    """Remember ``--debug`` until the invocation of ``ctx`` ends (the app's callback)."""
    _debug.set(enabled)
    ctx.call_on_close(lambda: _debug.set(None))


def debug_enabled() -> bool:
    """True under ``goldsmith --debug`` or ``GOLDSMITH_DEBUG=1``: errors keep their traceback."""
    flag = _debug.get()
    if flag is not None:
        return flag
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _say(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True, markup=True)


def _validation_message(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or 'value'}: {err['msg']}"
        for err in exc.errors()[:5]
    )
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return f"invalid {exc.title}: {problems}{more}; fix these values and try again"


@contextmanager
def clean_errors() -> Iterator[None]:
    """Turn every error into one red line on stderr and exit 1, without a traceback.

    goldsmith's own errors show their message; a pydantic ``ValidationError`` names each bad
    field; anything else (a bug, or an error a library raised) shows its type and message and
    points to ``--debug``, which re-raises with the full traceback. Ctrl-C exits 130.
    ``typer.Exit`` and click's usage errors pass through: click prints those itself.
    """
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):  # click prints these itself
        raise
    except KeyboardInterrupt as exc:
        if debug_enabled():
            raise
        console.print("[yellow]interrupted[/]", highlight=False)
        raise typer.Exit(130) from exc
    except GoldsmithError as exc:
        if debug_enabled():
            raise
        _say(escape(str(exc)))
        raise typer.Exit(1) from exc
    except ValidationError as exc:
        if debug_enabled():
            raise
        _say(escape(_validation_message(exc)))
        raise typer.Exit(1) from exc
    except Exception as exc:
        if debug_enabled():
            raise
        _say(escape(f"{type(exc).__name__}: {exc}"))
        console.print("run with `goldsmith --debug ...` for the traceback", highlight=False)
        raise typer.Exit(1) from exc


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run inside :func:`clean_errors`; typer still sees ``fn``'s signature."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with clean_errors():
            return fn(*args, **kwargs)

    guarded._goldsmith_guarded = True  # type: ignore[attr-defined]
    return guarded


def guard_commands(app: typer.Typer) -> None:
    """Run every command of ``app`` and of its sub-apps inside :func:`clean_errors`."""
    for command in app.registered_commands:
        if command.callback is not None and not hasattr(command.callback, "_goldsmith_guarded"):
            command.callback = guard(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            guard_commands(group.typer_instance)


def within(
    low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> Callable[[float | None], float | None]:
    """An option callback that keeps a number in a range whose ends may be open.

    Typer's ``min=``/``max=`` only give closed ranges; ``--near`` must lie in (0, 1].
    """
    lo, hi = ("(" if low_open else "["), (")" if high_open else "]")

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (above and below):
            if high == math.inf:
                least = "greater than" if low_open else "at least"
                raise typer.BadParameter(f"{value} is not {least} {low}")
            raise typer.BadParameter(f"{value} is not in {lo}{low}, {high}{hi}")
        return value

    return check


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``, or a usage error naming ``what`` and the file."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise typer.BadParameter(f"cannot read {path}: {reason}", param_hint=what) from exc


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
