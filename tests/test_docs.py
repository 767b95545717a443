"""docs/cli.md is generated from --help and must match the CLI as it stands (`make docs`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts/gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc(gen: ModuleType) -> str:
    path: Path = gen.DOC
    assert path.is_file(), "docs/cli.md is missing: run `make docs`"
    return path.read_text(encoding="utf-8")


def test_every_command_is_documented(gen: ModuleType, doc: str) -> None:
    paths = gen.command_paths()
    assert {"init", "import", "status", "export", "validate", "demo"} <= {p[0] for p in paths if p}
    assert ("guidelines", "set") in paths
    missing = [" ".join(p) or "(root)" for p in paths if gen.heading(p) not in doc.splitlines()]
    assert missing == [], f"commands missing from docs/cli.md: {missing}; run `make docs`"


def test_cli_reference_is_current(gen: ModuleType, doc: str) -> None:
    assert doc == gen.render(), "docs/cli.md differs from the CLI's --help: run `make docs`"
