"""The CLI contract, driven through Typer's runner: the commands of the README tour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from goldsmith.cli import app

LABELS = "neoplasms,digestive,nervous,cardiovascular,general"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def _csv(path: Path, n: int = 100) -> Path:
    lines = ["condition_label,medical_abstract"]
    for i in range(n):
        lines.append(f'{i % 5 + 1},"Abstract number {i} about condition {i % 5}, with ""quotes""."')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _invoke(runner: CliRunner, args: list[str], code: int = 0) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    return result.output


def test_readme_tour(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = _csv(tmp_path / "abstracts.csv")
    out = _invoke(runner, ["init", "clin", "--template", "classification", "--labels", LABELS])
    assert "created project" in out
    _invoke(
        runner,
        [
            "import",
            str(data),
            "-p",
            "clin",
            "--text-field",
            "medical_abstract",
            "--label-field",
            "condition_label",
            "--labels-as",
            "gold",
        ],
    )
    status = json.loads(_invoke(runner, ["status", "-p", "clin", "--json"]))
    assert status["records"]["total"] == 100
    assert status["records"]["labeled"] == 100
    assert status["provenance"] == {"gold": 100}
    assert status["labels"]["label"]["neoplasms"] == 20
    table = _invoke(runner, ["status", "-p", "clin"])
    assert "neoplasms" in table and "gold" in table
    _invoke(
        runner,
        [
            "export",
            "-p",
            "clin",
            "--format",
            "openai-chat",
            "--out",
            "out/",
            "--split",
            "0.8,0.1,0.1",
            "--seed",
            "7",
        ],
    )
    lines = (tmp_path / "out" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 80  # 20 per label: 16/2/2
    first = json.loads(lines[0])
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert (tmp_path / "out" / "README.md").is_file()
    out = _invoke(runner, ["validate", "out/train.jsonl", "--format", "openai-chat"])
    assert "80 example(s)" in out


def test_guidelines_commands(runner: CliRunner, tmp_path: Path) -> None:
    proj = tmp_path / "p"
    _invoke(runner, ["init", "p", "--dir", str(proj), "--labels", "a,b"])
    g = tmp_path / "g.md"
    g.write_text("# Rules\nBe kind.\n")
    assert "version 1" in _invoke(runner, ["guidelines", "set", str(g), "-p", str(proj)])
    g.write_text("# Rules\nBe kinder.\n")
    assert "version 2" in _invoke(runner, ["guidelines", "set", str(g), "-p", str(proj)])
    assert "Be kind." in _invoke(runner, ["guidelines", "show", "-p", str(proj), "--version", "1"])
    assert "Be kinder." in _invoke(runner, ["guidelines", "show", "-p", str(proj)])
    out = _invoke(runner, ["guidelines", "show", "-p", str(proj), "--version", "9"], code=1)
    assert "no guideline version 9" in out


def test_errors_are_one_clean_line(runner: CliRunner, tmp_path: Path) -> None:
    out = _invoke(runner, ["status", "-p", str(tmp_path)], code=1)
    assert "not a goldsmith project" in out and "Traceback" not in out
    proj = tmp_path / "p"
    _invoke(runner, ["init", "p", "--dir", str(proj), "--labels", "a,b"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine", "label": "a"}\n{"text": "broken"\n', encoding="utf-8")
    out = _invoke(runner, ["import", str(bad), "-p", str(proj), "--label-field", "label"], code=1)
    assert "bad.jsonl" in out and "line 2" in out
    status = json.loads(_invoke(runner, ["status", "-p", str(proj), "--json"]))
    assert status["records"]["total"] == 0  # all-or-nothing
    out = _invoke(runner, ["export", "-p", str(proj), "--split", "0.5,0.2"], code=2)
    assert "sum to 1" in out


def test_validate_reports_problems(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "train.jsonl"
    f.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    out = _invoke(runner, ["validate", str(f), "--format", "openai-chat"], code=1)
    assert "line 1" in out


def test_label_map_pairs_must_have_both_sides(runner: CliRunner, tmp_path: Path) -> None:
    proj = tmp_path / "p"
    _invoke(runner, ["init", "p", "--dir", str(proj), "--labels", "neoplasms,digestive"])
    data = _csv(tmp_path / "a.csv", n=4)
    out = _invoke(
        runner,
        [
            "import",
            str(data),
            "-p",
            str(proj),
            "--text-field",
            "medical_abstract",
            "--label-field",
            "condition_label",
            "--label-map",
            "1=neoplasms,2",
        ],
        code=2,
    )
    assert "is not RAW=LABEL" in out
    _invoke(
        runner,
        [
            "import",
            str(data),
            "-p",
            str(proj),
            "--text-field",
            "medical_abstract",
            "--label-field",
            "condition_label",
            "--label-map",
            "1=digestive,2=neoplasms",
            "--code-base",
            "3",
        ],
    )
    # 1 and 2 go through the map; codes 3 and 4 count from --code-base 3
    status = json.loads(_invoke(runner, ["status", "-p", str(proj), "--json"]))
    assert status["labels"]["label"] == {"digestive": 2, "neoplasms": 2}


def test_user_add_key_and_list(runner: CliRunner, tmp_path: Path) -> None:
    proj = tmp_path / "clin"
    _invoke(runner, ["init", "clin", "--dir", str(proj), "--labels", "a,b"])
    out = _invoke(runner, ["user", "add", "alice", "--role", "annotator", "-p", str(proj)])
    password = out.strip().splitlines()[-1]
    assert len(password) >= 16
    result = runner.invoke(
        app,
        ["user", "add", "rita", "--role", "reviewer", "--password-stdin", "-p", str(proj)],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    key = _invoke(runner, ["user", "key", "alice", "-p", str(proj)]).strip().splitlines()[-1]
    assert key.startswith("gsk_")
    listing = _invoke(runner, ["user", "list", "-p", str(proj)])
    assert "alice\tannotator" in listing and "rita\treviewer" in listing

    from goldsmith import Project

    with Project.open(proj) as p:
        assert p.check_password("alice", password).name == "alice"
        assert p.check_password("rita", "correct horse battery").role == "reviewer"
        assert p.user_for_key(key).name == "alice"
    again = _invoke(runner, ["user", "add", "alice", "-p", str(proj)], code=1)
    assert "already exists" in again
    bad = _invoke(runner, ["user", "add", "bob", "--role", "admin", "-p", str(proj)], code=2)
    assert "admin" in bad
    _invoke(runner, ["user", "key", "nobody", "-p", str(proj)], code=1)
