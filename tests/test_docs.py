"""The docs cover what a user can set or pick.

- docs/cli.md is generated from --help and must match the CLI as it stands (`make docs`).
- Every task setting (``Settings`` and its ``Keymap``) is in the ``goldsmith.toml`` example of
  docs/guide.md, and that example is a valid task whose keys are the defaults.
- Every import and export format in the registries has a row in docs/formats.md, and every
  row names a registered format.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from goldsmith.export.formats import default_registry
from goldsmith.ingest.formats import default_formats
from goldsmith.schema import Keymap, Settings, Task

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs/guide.md"
FORMATS = ROOT / "docs/formats.md"


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


# --------------------------------------------------------------------------- task settings


def settings_example(text: str) -> str:
    """The one fenced ``toml`` block of ``text`` that holds ``[task.settings]``."""
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[task.settings]" in b]
    assert len(blocks) == 1, (
        f"docs/guide.md needs one toml example with [task.settings], not {len(blocks)}"
    )
    return blocks[0]


def table_keys(toml_text: str, table: str) -> dict[str, str]:
    """Key -> its line, for the keys of ``[table]`` (commented-out ``# key = ...`` included)."""
    keys: dict[str, str] = {}
    inside = False
    for line in toml_text.splitlines():
        header = re.match(r"\s*\[+([^\]]+)\]+", line)
        if header:
            inside = header.group(1).strip() == table
            continue
        key = re.match(r"\s*#?\s*([A-Za-z_]\w*)\s*=", line)
        if inside and key:
            keys[key.group(1)] = line
    return keys


def undocumented_settings(toml_text: str) -> list[str]:
    """Fields of :class:`Settings` and :class:`Keymap` the example does not show."""
    settings = table_keys(toml_text, "task.settings")
    keys = table_keys(toml_text, "task.settings.keys")
    tables = set(re.findall(r"^\s*\[([^\]]+)\]", toml_text, re.M))
    missing = [
        f"task.settings.{name}"
        for name in Settings.model_fields
        if name not in settings and f"task.settings.{name}" not in tables
    ]
    missing += [f"task.settings.keys.{name}" for name in Keymap.model_fields if name not in keys]
    # a setting line says what it does
    missing += [
        f"task.settings.{k} (no # comment)" for k, line in settings.items() if "#" not in line
    ]
    return missing


def test_every_task_setting_is_documented() -> None:
    example = settings_example(GUIDE.read_text(encoding="utf-8"))
    missing = undocumented_settings(example)
    assert missing == [], f"add these to the goldsmith.toml example in docs/guide.md: {missing}"
    task = Task.model_validate(tomllib.loads(example)["task"])
    assert task.settings.keys == Keymap(), (
        "docs/guide.md says its [task.settings.keys] are the defaults"
    )


def test_an_undocumented_setting_is_caught() -> None:
    example = settings_example(GUIDE.read_text(encoding="utf-8"))
    without = "\n".join(ln for ln in example.splitlines() if not ln.startswith("lease_seconds"))
    assert undocumented_settings(without) == ["task.settings.lease_seconds"]
    no_keys = example.replace("[task.settings.keys]", "[task.elsewhere]")
    assert "task.settings.keys" in undocumented_settings(no_keys)


# --------------------------------------------------------------------------- formats


def documented_formats(text: str, heading: str) -> set[str]:
    """The backquoted names in the first column of the table under ``## {heading}``."""
    section = text.split(f"\n## {heading}", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            names.update(re.findall(r"`([^`]+)`", cells[1]))
    return names


def test_every_export_format_is_documented() -> None:
    documented = documented_formats(FORMATS.read_text(encoding="utf-8"), "Export")
    registered = set(default_registry().names())
    assert sorted(registered - documented) == [], "add a row to the Export table of docs/formats.md"
    assert sorted(documented - registered) == [], (
        "docs/formats.md lists export formats that do not exist"
    )


def test_every_import_format_is_documented() -> None:
    documented = documented_formats(FORMATS.read_text(encoding="utf-8"), "Import")
    registered = set(default_formats())
    assert sorted(registered - documented) == [], "add a row to the Import table of docs/formats.md"
    assert sorted(documented - registered) == [], (
        "docs/formats.md lists import formats that do not exist"
    )


def test_an_undocumented_format_is_caught() -> None:
    text = FORMATS.read_text(encoding="utf-8")
    without = "\n".join(ln for ln in text.splitlines() if not ln.startswith("| `trl-kto` |"))
    assert documented_formats(text, "Export") - documented_formats(without, "Export") == {"trl-kto"}
