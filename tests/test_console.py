"""The CLI's progress bar (goldsmith._console.RichProgress) on a terminal and off one."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from goldsmith._console import RichProgress
bar = RichProgress()
for step in ("embedding", "training", "scoring"):
    bar.start(step, 5)
    bar.advance(5)
    bar.finish()
print("done")
"""


def test_progress_prints_nothing_when_stderr_is_not_a_terminal() -> None:
    """Piped into a log, each finished bar left a blank line (the demo showed runs of them)."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout == "done\n"
    assert run.stderr == ""


def test_progress_draws_a_bar_on_a_terminal() -> None:
    """On a terminal the bar shows (rich is told it is one, as a pty would)."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"FORCE_COLOR": "1", "TERM": "xterm", "COLUMNS": "100", "PATH": ""},
    )
    assert "embedding" in run.stderr and "5/5" in run.stderr
