"""Skip here, fail under CI: the one way a test steps aside when something it needs is missing.

A laptop may lack an optional extra, the shared data sets or the local PostgreSQL, and its
tests then skip with the reason. CI (``CI=true``, see ``.ci/run``) installs and starts all of
them, so there the same absence is a failure that names what is missing: a skip never hides
a broken CI machine.

Skips for a reason that also holds in CI (no GPU there) stay plain ``pytest.skip`` or
``skipif`` and say so next to them.

This lives in its own module rather than in ``conftest.py`` because pytest drops the
``conftest`` module from ``sys.modules`` for each directory's ``conftest.py``, so ``from
conftest import ...`` in a test file would import whichever ``conftest.py`` came last.
``pythonpath = ["tests"]`` in ``pyproject.toml`` makes ``import _ci`` work from every test.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

__all__ = ["import_or_skip", "in_ci", "skip_or_fail"]


def in_ci() -> bool:
    """Whether the run is CI's: ``CI`` is set to ``1``, ``true`` or ``yes`` (any case).

    Returns
    -------
    bool
        True under CI, where every test must run.
    """
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the current test (or module) with ``reason``; under ``CI=true`` fail with it.

    Parameters
    ----------
    reason : str
        What is missing and how to get it, e.g. ``"ray is not installed: pip install
        'goldsmith[ray]'"``.

    Raises
    ------
    pytest.skip.Exception
        Off CI.
    pytest.fail.Exception
        Under CI, where the test must run: the message is ``reason`` and says so.
    """
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run, so this is a failure)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def import_or_skip(name: str, *, install: str) -> ModuleType:
    """Import the module ``name``, or :func:`skip_or_fail` saying how to install it.

    Parameters
    ----------
    name : str
        The module to import, e.g. ``"torch"``.
    install : str
        How to get it, e.g. ``"pip install 'goldsmith[train]'"``.

    Returns
    -------
    ModuleType
        The imported module.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        skip_or_fail(f"{name} is not importable ({exc}): {install}")
