"""Each export owns its output folder: no stale split files, no silent mixing with other files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldsmith import ExportError, ExportOptions
from goldsmith.cli import app
from goldsmith.export.folder import MANIFEST

Seed = Callable[..., Any]  # conftest's seeded(template, n) -> Seeded
SPLIT3 = (0.8, 0.1, 0.1)


def _names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_a_one_way_export_removes_the_old_splits(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=30)
    out = tmp_path / "out"
    s.project.export(ExportOptions(fmt="openai-chat", out=out, split=SPLIT3))
    assert _names(out) == [MANIFEST, "README.md", "test.jsonl", "train.jsonl", "validation.jsonl"]
    report = s.project.export(ExportOptions(fmt="openai-chat", out=out))
    assert _names(out) == [MANIFEST, "README.md", "train.jsonl"]
    assert report.removed == [out / "test.jsonl", out / "validation.jsonl"]
    assert len((out / "train.jsonl").read_text(encoding="utf-8").splitlines()) == 30
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"] == ["README.md", "train.jsonl"]
    assert manifest["format"] == "openai-chat"


def test_another_format_replaces_the_previous_files(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("ner", n=6)
    out = tmp_path / "out"
    s.project.export(ExportOptions(fmt="label-studio", out=out))
    assert "label_config.xml" in _names(out)
    report = s.project.export(ExportOptions(fmt="conll", out=out))
    assert _names(out) == [MANIFEST, "README.md", "train.conll"]
    assert {p.name for p in report.removed} == {"label_config.xml", "train.json"}


def test_a_folder_with_other_files_is_refused_untouched(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "train.jsonl").write_text("an older file, not from a goldsmith export\n")
    with pytest.raises(ExportError) as caught:
        s.project.export(ExportOptions(fmt="openai-chat", out=out))
    message = str(caught.value)
    assert "notes.txt" in message and "train.jsonl" in message and "--force" in message
    assert _names(out) == ["notes.txt", "train.jsonl"]  # nothing written, nothing removed
    assert (out / "train.jsonl").read_text().startswith("an older file")


def test_force_removes_the_other_files(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    report = s.project.export(ExportOptions(fmt="openai-chat", out=out, force=True))
    assert _names(out) == [MANIFEST, "README.md", "train.jsonl"]
    assert report.removed == [out / "notes.txt"]


def test_a_folder_with_sub_folders_is_refused_even_with_force(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    out = tmp_path / "out"
    (out / "images").mkdir(parents=True)
    with pytest.raises(ExportError, match="images"):
        s.project.export(ExportOptions(fmt="openai-chat", out=out, force=True))
    assert _names(out) == ["images"]


def test_an_export_that_fails_keeps_the_previous_one(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    out = tmp_path / "out"
    s.project.export(ExportOptions(fmt="csv", out=out, split=(0.5, 0.5)))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ExportError, match="no record"):
        s.project.export(ExportOptions(fmt="csv", out=out, min_confidence=1.5))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_leftover_partial_files_are_cleaned(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    out = tmp_path / "out"
    out.mkdir()
    (out / "test.jsonl.partial").write_text("{")  # an export killed while writing
    report = s.project.export(ExportOptions(fmt="openai-chat", out=out))
    assert report.removed == [out / "test.jsonl.partial"]
    assert _names(out) == [MANIFEST, "README.md", "train.jsonl"]


def _flat(output: str) -> str:
    """CLI output without the console's line wrapping."""
    return output.replace("\n", "")


def test_the_cli_says_what_it_removed_and_refuses_cleanly(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=30)
    root, out = str(s.project.root), tmp_path / "out"
    runner = CliRunner()
    args = ["export", "-p", root, "--out", str(out)]
    first = runner.invoke(app, [*args, "--split", "0.8,0.1,0.1"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "--split", "1.0"])
    assert second.exit_code == 0, second.output
    said = _flat(second.output)
    assert f"removed (not written by this export): {out / 'validation.jsonl'}" in said
    assert f"removed (not written by this export): {out / 'test.jsonl'}" in said
    (out / "mine.csv").write_text("a,b\n")
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0
    said = _flat(refused.output)
    assert "mine.csv" in said and "--force" in said and "Traceback" not in said
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "mine.csv").exists() and "mine.csv" in _flat(forced.output)


def test_force_never_clears_a_project_folder(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=10)
    root = s.project.root
    before = sorted(p.name for p in root.iterdir() if p.is_file())
    with pytest.raises(ExportError, match="goldsmith project"):
        s.project.export(ExportOptions(fmt="openai-chat", out=root, force=True))
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == before
