"""``_ci.skip_or_fail``: a skip here is a failure under ``CI=true``.

Each case runs a small test file in a fresh pytest, once with ``CI=true`` and once without,
and reads its outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

IN_TEST = """
from _ci import skip_or_fail

def test_needs_something():
    skip_or_fail("the frobnicator is missing: pip install frob")
"""

AT_MODULE_LEVEL = """
from _ci import import_or_skip

frob = import_or_skip("goldsmith_no_such_module", install="pip install frob")

def test_uses_it():
    assert frob
"""


def _pytest(tmp_path: Path, source: str, *, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # not the repo's config
    (tmp_path / "test_case.py").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", "test_case.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ci", ["true", "YES"])
def test_fails_under_ci(tmp_path: Path, ci: str) -> None:
    done = _pytest(tmp_path, IN_TEST, ci=ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "the frobnicator is missing: pip install frob" in done.stdout
    assert "CI=true: this test must run" in done.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_skips_off_ci(tmp_path: Path, ci: str | None) -> None:
    done = _pytest(tmp_path, IN_TEST, ci=ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "the frobnicator is missing: pip install frob" in done.stdout


def test_module_level_import_fails_collection_under_ci(tmp_path: Path) -> None:
    done = _pytest(tmp_path, AT_MODULE_LEVEL, ci="true")
    assert done.returncode != 0, done.stdout + done.stderr
    assert "1 error" in done.stdout
    assert "goldsmith_no_such_module is not importable" in done.stdout
    assert "pip install frob" in done.stdout


def test_module_level_import_skips_the_module_off_ci(tmp_path: Path) -> None:
    done = _pytest(tmp_path, AT_MODULE_LEVEL, ci=None)
    assert done.returncode == 5, done.stdout + done.stderr  # 5: the only module was skipped
    assert "1 skipped" in done.stdout
    assert "goldsmith_no_such_module is not importable" in done.stdout
