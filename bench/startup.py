"""CLI start-up time and memory against the bare import of the CLI's own base libraries.

Usage::

    .venv/bin/python bench/startup.py                       # 9 repeats of each command
    .venv/bin/python bench/startup.py --repeats 15 --work /tmp/goldsmith-startup
    git archive HEAD src | tar -x -C /tmp/prev              # another version's code:
    .venv/bin/python bench/startup.py --src /tmp/prev/src --only help,status

Anchor: ``python -c "import typer, rich, sqlalchemy, pydantic, numpy"``, the libraries any
command needs before it does anything. Each repeat runs the anchor and our command one after
the other in fresh processes (the order alternates between repeats, so a noisy neighbour
hits both alike); the printed values are medians.

Measured:

* ``help``: ``goldsmith --help``; targets: at most 1.5x the anchor's time and a peak RSS of
  at most 120 MB;
* ``status``: ``goldsmith status -p P`` on a 100k-record project (short texts, built once
  with the library into ``--work`` and reused); target: at most 2x the anchor's time.

Peak RSS is the child's ``ru_maxrss`` read by ``/usr/bin/time -f %M`` when present, else by
``os.wait4``. Prints ``name: ours X, anchor Y, ratio Z`` lines and whether each target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ANCHOR = [sys.executable, "-c", "import typer, rich, sqlalchemy, pydantic, numpy"]
GOLDSMITH = Path(sys.executable).parent / "goldsmith"
TIME = shutil.which("time", path="/usr/bin")
RECORDS = 100_000
HELP_RATIO, HELP_RSS_MB, STATUS_RATIO = 1.5, 120.0, 2.0
ENV = dict(os.environ)  # --src puts another version's code first on PYTHONPATH (both commands)


def _command(*args: str) -> list[str]:
    if GOLDSMITH.exists():
        return [str(GOLDSMITH), *args]
    return [sys.executable, "-c", "from goldsmith.cli import main; main()", *args]


def run_once(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one fresh process running
    ``cmd``; fails on a non-zero exit."""
    if TIME:
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
            start = time.perf_counter()
            done = subprocess.run(
                [TIME, "-f", "%M %U %S", "-o", out.name, *cmd],
                capture_output=True,
                check=False,
                env=ENV,
            )
            seconds = time.perf_counter() - start
            text = Path(out.name).read_text().strip()
        kb, user, system = (float(v) for v in text.splitlines()[-1].split())
        code = done.returncode
        err = done.stderr
    else:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        err = proc.stderr.read() if proc.stderr else b""
        code = os.waitstatus_to_exitcode(status)
        kb, user, system = float(usage.ru_maxrss), usage.ru_utime, usage.ru_stime
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {code}:\n{err.decode(errors='replace')}")
    return seconds, kb / 1024, user + system


def build_project(work: Path, records: int) -> Path:
    """A classification project with ``records`` short texts in ``work`` (reused when there)."""
    root = work / f"p{records}"
    marker = root / ".built"
    if marker.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    from goldsmith import ImportOptions, Project

    work.mkdir(parents=True, exist_ok=True)
    data = work / f"texts{records}.jsonl"
    words = ("fever", "cough", "scan", "dose", "tumour", "nerve", "heart", "gut", "rash", "pain")
    with data.open("w", encoding="utf-8") as f:
        for i in range(records):
            text = f"record {i}: {words[i % 10]} and {words[(i // 10) % 10]} seen on day {i % 97}"
            f.write(json.dumps({"text": text}) + "\n")
    start = time.perf_counter()
    with Project.init(root, name="startup", labels=["yes", "no"]) as project:
        report = project.import_records(data, ImportOptions(text_field="text"))
    print(f"built {root}: {report.n_inserted:,} records in {time.perf_counter() - start:.0f} s")
    data.unlink()
    marker.write_text("ok\n")
    return root


def measure(name: str, cmd: list[str], repeats: int) -> tuple[float, float, float, float]:
    """Median wall seconds and MB of ``cmd`` and of the anchor, runs alternating; the CPU
    seconds are printed too (less sensitive to a busy machine than wall time)."""
    run_once(cmd)  # warm the file cache for both before timing
    run_once(ANCHOR)
    ours: list[tuple[float, float, float]] = []
    anchor: list[tuple[float, float, float]] = []
    for i in range(repeats):
        pair = (cmd, ours), (ANCHOR, anchor)
        for command, into in pair if i % 2 == 0 else pair[::-1]:
            into.append(run_once(command))
    med = statistics.median
    result = (
        med(s for s, _, _ in ours),
        med(m for _, m, _ in ours),
        med(s for s, _, _ in anchor),
        med(m for _, m, _ in anchor),
    )
    s, mb, a_s, a_mb = result
    cpu, a_cpu = med(c for _, _, c in ours), med(c for _, _, c in anchor)
    print(f"{name}: ours {s:.3f} s, anchor {a_s:.3f} s, ratio {s / a_s:.2f}")
    print(f"{name}_cpu: ours {cpu:.3f} s, anchor {a_cpu:.3f} s, ratio {cpu / a_cpu:.2f}")
    print(f"{name}_peak_rss: ours {mb:.0f} MB, anchor {a_mb:.0f} MB, ratio {mb / a_mb:.2f}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs of each command (>= 7)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/goldsmith-startup-bench"))
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--only", default="help,status", help="commands to measure")
    parser.add_argument("--src", type=Path, help="run the goldsmith in this src folder instead")
    args = parser.parse_args()
    project = build_project(args.work, args.records)
    if args.src:
        ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(args.src), ENV.get("PYTHONPATH")]))
    started = time.perf_counter()
    only = set(args.only.split(","))
    if "help" in only:
        s, mb, a_s, _ = measure("help", _command("--help"), args.repeats)
        ok = s / a_s <= HELP_RATIO
        print(f"target help <= {HELP_RATIO}x anchor: {'met' if ok else 'NOT met'} ({s / a_s:.2f}x)")
        ok = mb <= HELP_RSS_MB
        print(
            f"target help peak RSS <= {HELP_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'} ({mb:.0f})"
        )
    if "status" in only:
        s, _, a_s, _ = measure("status", _command("status", "-p", str(project)), args.repeats)
        ok = s / a_s <= STATUS_RATIO
        verdict = "met" if ok else "NOT met"
        print(f"target status <= {STATUS_RATIO}x anchor: {verdict} ({s / a_s:.2f}x)")
    print(f"({args.repeats} repeats, medians; {time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
