"""No traceback ever reaches a user: every CLI command, driven with bad arguments.

The commands are enumerated from the Typer app (sub-apps included), so a new command is
covered as soon as it exists: with a missing project, an empty folder and a plain file as
its project, with each input file missing, and with each number out of its range. Every
run must exit non-zero, raise nothing out of the CLI, print no traceback, and name the
problem.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from goldsmith._cli_common import clean_errors, guard_commands
from goldsmith.cli import app
from goldsmith.errors import ConfigError

# Path options a command reads (a missing one is an error) or writes (it is created).
INPUT_PATH_OPTIONS = {"--test-file", "--lfs", "--data", "--guidelines", "--model", "--base-model"}
OUTPUT_PATH_OPTIONS = {"--project", "--dir", "--skip-invalid", "--out", "--workdir"}
# Numbers whose range an option callback checks (typer's min=/max= give closed ranges only).
OPEN_RANGES = {
    "--near": ["1.5", "0"],
    "--gold-rate": ["1", "-0.1"],
    "--test-fraction": ["0", "1"],
    "--epochs": ["0"],
    "--lr": ["0"],
}
ANY_NUMBER = {"--seed", "--code-base"}  # every integer is a valid value
# Commands with no project, input file or number get their bad arguments here.
EXTRA_CASES = {
    ("init",): [["x", "--template", "no-such-template"]],
}


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from _commands(sub, (*path, name))
    else:
        yield path, cmd


COMMANDS = dict(_commands(typer.main.get_command(app)))


def _name(param: Any) -> str:
    return str(param.opts[0]) if param.opts else str(param.name)


def _is_path(param: Any) -> bool:
    return "Path" in str(param.type_descriptor.annotation)


def _is_number(param: Any) -> bool:
    return param.type_descriptor.annotation in (int, float) and not param.is_flag


def _has_project(cmd: Any) -> bool:
    return any(_name(p) == "--project" for p in cmd.params)


def _args(path: tuple[str, ...], cmd: Any, files: Path, override: dict[str, str]) -> list[str]:
    """The command line of ``override`` plus every other required parameter filled in."""
    args = list(path)
    for p in cmd.params:
        name = _name(p)
        value = override.get(name, str(files / "exists.txt") if _is_path(p) else "x")
        if name in override or p.required:
            args += [value] if p.param_type_name == "argument" else [name, value]
    return args


def _flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


def _check(result: Any, *needles: str) -> str:
    """Exit non-zero, nothing raised out of the CLI, no traceback, and a named problem."""
    text = _flat(result.output)
    assert result.exit_code != 0, text
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__} escaped the CLI: {result.exception}"
    )
    assert "Traceback" not in result.output, result.output
    assert any(n in text for n in needles), f"none of {needles} in: {text}"
    return text


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    (root / "exists.txt").write_text("not a project, not a model\n", encoding="utf-8")
    (root / "empty").mkdir()
    return root


@pytest.fixture(scope="module")
def project(runner: CliRunner, files: Path) -> Path:
    """A real project with 60 gold-labelled records."""
    root = files / "proj"
    data = files / "data.csv"
    rows = [f'{i % 2 + 1},"Record {i} about topic {i % 2}, with some words."' for i in range(60)]
    data.write_text("label,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for args in (
        ["init", "proj", "--labels", "a,b", "--dir", str(root)],
        ["import", str(data), "-p", str(root), "--text-field", "text", "--label-field", "label"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return root


def test_the_app_has_commands_and_sub_apps() -> None:
    assert {("dedup",), ("guidelines", "set"), ("train", "sft"), ("qa", "report")} <= set(COMMANDS)


def test_every_command_runs_inside_clean_errors() -> None:
    def callbacks(typer_app: typer.Typer) -> Iterator[Any]:
        for command in typer_app.registered_commands:
            yield command.callback
        for group in typer_app.registered_groups:
            assert group.typer_instance is not None
            yield from callbacks(group.typer_instance)

    found = list(callbacks(app))
    assert len(found) == len(COMMANDS)
    assert [f.__name__ for f in found if not getattr(f, "_goldsmith_guarded", False)] == []


def test_every_parameter_is_classified() -> None:
    """A new path or number option must say whether it is read and what range it has."""
    unknown = []
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            name = _name(p)
            optional_path = _is_path(p) and p.param_type_name == "option" and not p.required
            if optional_path and name not in INPUT_PATH_OPTIONS | OUTPUT_PATH_OPTIONS:
                unknown.append(f"{' '.join(path)} {name}: input or output path?")
            ranged = p.min is not None or p.max is not None or name in OPEN_RANGES
            if _is_number(p) and not ranged and name not in ANY_NUMBER:
                unknown.append(f"{' '.join(path)} {name}: give it min=/max=")
    assert unknown == []


def test_every_command_gets_bad_arguments() -> None:
    bare = [
        " ".join(path)
        for path, cmd in COMMANDS.items()
        if not _has_project(cmd)
        and not any(_is_number(p) or _is_input(p) for p in cmd.params)
        and path not in EXTRA_CASES
    ]
    assert bare == []


def _is_input(param: Any) -> bool:
    if not _is_path(param):
        return False
    return param.required or _name(param) in INPUT_PATH_OPTIONS


PROJECT_CASES = [
    (path, kind) for path, cmd in COMMANDS.items() if _has_project(cmd)
    for kind in ("missing", "empty", "file")
]  # fmt: skip


def _id(value: Any) -> str:
    return "-".join(value) if isinstance(value, tuple) else str(value)


@pytest.mark.parametrize(("path", "kind"), PROJECT_CASES, ids=_id)
def test_a_wrong_project_is_one_clean_line(
    runner: CliRunner, files: Path, path: tuple[str, ...], kind: str
) -> None:
    where = {
        "missing": files / "no" / "such-project",
        "empty": files / "empty",
        "file": files / "exists.txt",
    }[kind]
    args = _args(path, COMMANDS[path], files, {"--project": str(where)})
    text = _check(runner.invoke(app, args), str(where))
    assert "goldsmith project" in text or "goldsmith.toml" in text


INPUT_CASES = [
    (path, _name(p)) for path, cmd in COMMANDS.items() for p in cmd.params if _is_input(p)
]


@pytest.mark.parametrize(("path", "param"), INPUT_CASES, ids=_id)
def test_a_missing_input_file_is_named(
    runner: CliRunner, files: Path, project: Path, path: tuple[str, ...], param: str
) -> None:
    missing = files / "missing-input.file"
    override = {param: str(missing)}
    if _has_project(COMMANDS[path]):
        override["--project"] = str(project)
    args = _args(path, COMMANDS[path], files, override)
    _check(runner.invoke(app, args), "missing-input.file", "pip install")


def _out_of_range(param: Any) -> list[str]:
    name = _name(param)
    if name in OPEN_RANGES:
        return OPEN_RANGES[name]
    bad = []
    if param.min is not None:
        bad.append(str(param.min - 1))
    if param.max is not None:
        bad.append(str(param.max + 1))
    return bad


RANGE_CASES = [
    (path, _name(p), value)
    for path, cmd in COMMANDS.items()
    for p in cmd.params
    if _is_number(p)
    for value in _out_of_range(p)
]


@pytest.mark.parametrize(("path", "param", "value"), RANGE_CASES, ids=_id)
def test_an_out_of_range_number_is_a_usage_error(
    runner: CliRunner, files: Path, path: tuple[str, ...], param: str, value: str
) -> None:
    override = {param: value}
    if _has_project(COMMANDS[path]):
        override["--project"] = str(files / "no" / "such-project")
    result = runner.invoke(app, _args(path, COMMANDS[path], files, override))
    text = _check(result, f"Invalid value for '{param}'")
    assert result.exit_code == 2, text  # a usage error: caught before any work


@pytest.mark.parametrize(
    ("path", "args"), [(p, a) for p, cases in EXTRA_CASES.items() for a in cases], ids=_id
)
def test_extra_cases(
    runner: CliRunner, tmp_path: Path, path: tuple[str, ...], args: list[str]
) -> None:
    result = runner.invoke(app, [*path, *args, "--dir", str(tmp_path / "new")])
    _check(result, "no-such-template")


def test_an_invalid_setting_names_the_field(runner: CliRunner, project: Path) -> None:
    args = ["prelabel", "-p", str(project), "--with", "llm", "--model", "m"]
    result = runner.invoke(app, [*args, "--response-format", "bogus"])
    text = _check(result, "response_format")
    assert "json_schema" in text


def test_unexpected_errors_are_one_line_and_debug_shows_them(runner: CliRunner) -> None:
    """A bug or a library's own error: its type and message, and a pointer to --debug."""
    demo = typer.Typer()

    @demo.command()
    def boom() -> None:
        {}["no-such-key"]  # noqa: B018 - a real KeyError, as a bug would raise

    @demo.command()
    def interrupted() -> None:
        raise KeyboardInterrupt

    guard_commands(demo)
    text = _check(runner.invoke(demo, ["boom"]), "KeyError: 'no-such-key'")
    assert "--debug" in text
    result = runner.invoke(demo, ["interrupted"])
    assert result.exit_code == 130 and "interrupted" in result.output
    result = runner.invoke(demo, ["boom"], env={"GOLDSMITH_DEBUG": "1"})
    assert isinstance(result.exception, KeyError)


def test_debug_reraises_with_the_traceback(runner: CliRunner, files: Path) -> None:
    where = str(files / "no" / "such-project")
    result = runner.invoke(app, ["--debug", "status", "-p", where])
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(app, ["status", "-p", where], env={"GOLDSMITH_DEBUG": "1"})
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(app, ["status", "-p", where])  # the flag does not stick
    _check(result, where)


def test_clean_errors_lets_exits_through() -> None:
    with pytest.raises(typer.Exit) as info, clean_errors():
        raise typer.Exit(3)
    assert info.value.exit_code == 3


def _goldsmith(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from goldsmith.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_dedup_near_out_of_range_in_a_real_process(project: Path) -> None:
    """The issue's example: `goldsmith dedup --near 1.5` printed a Python traceback."""
    done = _goldsmith("dedup", "-p", str(project), "--near", "1.5")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert "--near" in output and "1.5" in output


def test_debug_in_a_real_process(files: Path) -> None:
    where = str(files / "no" / "such-project")
    done = _goldsmith("status", "-p", where)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    done = _goldsmith("--debug", "status", "-p", where)
    assert done.returncode == 1 and "Traceback" in done.stderr and "ConfigError" in done.stderr
