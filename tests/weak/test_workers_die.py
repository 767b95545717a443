"""Issue 18, item 10: ``kill -9`` of ``goldsmith lf apply`` must not leave its pool workers
running (they held ``goldsmith.db`` and the deleted WAL open). A real CLI process, a real
pool, a real SIGKILL; the workers are found through ``/proc``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from goldsmith.project import Project

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="finds the pool workers through Linux's /proc"
)

RECORDS = 6_000  # above apply.INLINE_BELOW, so the Python LF runs in the pool
LF_FILE = """
import time
from goldsmith.weak import ABSTAIN, labeling_function

@labeling_function()
def slow(record):
    time.sleep(0.004)  # 6000 records over 2 workers: about 12 s, far longer than the test
    return "a" if "even" in record.text else ABSTAIN
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:  # the task ended while we looked
            continue
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    with Project.init(root, labels=["a", "b"]) as proj:
        proj.add_records(
            {"fields": {"text": f"record {i} {'even' if i % 2 else 'odd'}"}} for i in range(RECORDS)
        )
    (tmp_path / "lfs.py").write_text(LF_FILE, encoding="utf-8")
    return root


def test_kill_9_of_lf_apply_takes_its_workers_down(project: Path) -> None:
    command = "from goldsmith.cli import main; main()"
    lfs = str(project.parent / "lfs.py")
    parent = subprocess.Popen(
        [sys.executable, "-c", command, "lf", "apply", lfs, "-p", str(project), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the workers are ours to clean up, whatever happens
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and parent.poll() is None and time.monotonic() < deadline:
            workers = _children(parent.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, f"no pool workers seen (rc {parent.poll()})"
        time.sleep(0.5)  # the workers are inside their first batch
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = sorted(w for w in workers if _alive(w))
        assert not left, f"pool workers {left} outlived their killed parent"
    finally:
        for pid in workers:  # only the processes this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stderr is not None:
            parent.stderr.close()
