"""Every ``>>>`` example in ``src/goldsmith`` runs, one test per module so a failure names it.

The modules are found by their source text (a ``>>>`` anywhere in the file), so only those
are imported, and a module whose ``>>>`` is somewhere :class:`doctest.DocTestFinder` does not
look (a nested function, a plain string) fails instead of being silently left out. A module
or an example that needs a missing optional extra skips here and fails under ``CI=true``
(:func:`_ci.skip_or_fail`); any other import error fails.

Each module's examples run on a fresh copy of the module's globals, as ``python -m doctest``
does, with ``ELLIPSIS`` (pytest's default for doctests).
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path
from types import ModuleType, TracebackType

import pytest

import goldsmith
from _ci import skip_or_fail

PACKAGE = Path(goldsmith.__file__).parent

# Top-level modules of the optional extras (pyproject.toml) -> the extra that installs them.
OPTIONAL: dict[str, str] = {
    "psycopg": "postgres",
    "sentence_transformers": "embed",
    "torch": "train",
    "transformers": "train",
    "peft": "train",
    "trl": "train",
    "accelerate": "train",
    "datasets": "train",
    "gguf": "train",
    "ray": "ray",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules_with_examples() -> list[str]:
    """Dotted names of the modules under ``src/goldsmith`` whose source holds ``>>>``."""
    return sorted(
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if ">>>" in path.read_text(encoding="utf-8")
    )


MODULES = modules_with_examples()


def _missing_extra(exc: BaseException) -> str | None:
    """The ``pip install`` hint when ``exc`` is a missing optional extra, else None."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    extra = OPTIONAL.get(top)
    return None if extra is None else f"{top} is not installed: pip install 'goldsmith[{extra}]'"


class _Runner(doctest.DocTestRunner):
    """A runner that also remembers an example's missing optional extra."""

    missing: str | None = None

    def report_unexpected_exception(
        self,
        out: doctest._Out,
        test: doctest.DocTest,
        example: doctest.Example,
        exc_info: tuple[type[BaseException], BaseException, TracebackType],
    ) -> None:
        self.missing = self.missing or _missing_extra(exc_info[1])
        super().report_unexpected_exception(out, test, example, exc_info)


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        hint = _missing_extra(exc)
        if hint is None:
            raise
        skip_or_fail(f"{name}: {hint}")


def test_modules_are_found() -> None:
    # the walk sees the package: a broken walk would pass with nothing to run
    assert len(MODULES) >= 50, MODULES
    assert "goldsmith.ingest.formats" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str) -> None:
    module = _import(name)
    tests = [t for t in doctest.DocTestFinder().find(module, name) if t.examples]
    assert tests, (
        f"{name} holds '>>>' but no docstring example is found: doctest does not look in"
        " nested functions or plain strings, so move the example into a docstring"
    )
    runner = _Runner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    for test in tests:
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    if result.failed and runner.missing is not None:
        skip_or_fail(f"{name}: an example needs {runner.missing}")
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples of {name} fail:\n" + report.getvalue()
    )
