"""Annotators beside a 1M-row import: submit latency while ``goldsmith import`` runs next to
``serve``, on SQLite and PostgreSQL, against the previous version (issue 18, item 11).

Usage::

    python bench/import_beside_serve.py                      # 1M rows, both backends
    python bench/import_beside_serve.py --rows 200000 --backends sqlite --repeats 3

The anchor is the previous version of goldsmith (``--baseline``, a git revision; default the
commit before the chunked import), checked out in a temporary git worktree and run from its
own ``src`` through ``PYTHONPATH``. Each (backend, version) runs in its own child process of
this script, with that version's code everywhere: setup, server and importer.

A run: a fresh project (SQLite file, or a fresh PostgreSQL schema) with ``--open`` open
records and ``--clients`` key-only annotators at overlap 1, each submitting ``--rate`` times a
second on a fixed schedule (latency counted from the scheduled time: a stall delays, and
counts, every submit due meanwhile).

* ``alone``: ``goldsmith import FILE --label-field label`` of ``--rows`` JSON lines (real
  medical-abstract text cut to 240 characters, a unique suffix, a gold label), timed on its
  own: rows/s.
* ``beside``: the server (uvicorn, one process) starts and the clients submit on keep-alive
  connections; after a 3 s warm-up the same import starts as a
  separate process. Submit latencies (``PUT .../response?next=true``, the page's Enter) are
  kept while the import runs; a failed submit (a 5xx after SQLite's 30 s busy timeout)
  counts. At the end the store is read: every acknowledged submit (HTTP 200) must be
  stored, and the import's records must all be there.

Printed: a table per run, then the medians over ``--repeats`` and the ratios of this version
against the previous one (rows/s alone; submit p99 beside).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = REPO.parent / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LABELS = ("neoplasms", "digestive", "nervous", "cardiovascular", "general")


def label_for(name: int | str) -> str:
    """A label for a record as the API names it: an id, or (for annotators, since issue 19)
    an opaque handle; any label will do for a latency test."""
    return LABELS[zlib.crc32(str(name).encode()) % len(LABELS)]


CLI = "from goldsmith.cli import main; main()"
DEFAULT_BASELINE = "a5fd832"  # the last commit before imports were chunked


# --------------------------------------------------------------------------- parent


def write_rows(path: Path, n: int) -> None:
    with SOURCE.open(newline="", encoding="utf-8") as f:
        base = [row["medical_abstract"][:240] for row in csv.DictReader(f)]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            row = {"text": f"{base[i % len(base)]} [r{i}]", "label": LABELS[i % 5]}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def worktree(rev: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(where), rev],
        check=True,
        capture_output=True,
    )
    return where / "src"


def run_child(src: Path, backend: str, mode: str, rows: Path, args: argparse.Namespace) -> Any:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{HERE}"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", backend, "--mode", mode]
    cmd += ["--file", str(rows), "--clients", str(args.clients), "--open", str(args.open)]
    cmd += ["--rate", str(args.rate)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {backend}/{mode} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parent(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="gs-import-serve-") as tmp:
        work = Path(tmp)
        rows = work / "rows.jsonl"
        write_rows(rows, args.rows)
        versions = {"previous": worktree(args.baseline, work / "baseline"), "this": REPO / "src"}
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"{args.rows} rows; previous = {args.baseline}, this = {head} (+ working tree)")
        results: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        try:
            for rep in range(args.repeats):
                for backend in args.backends.split(","):
                    for mode in ("alone", "beside"):
                        for name, src in versions.items():  # side by side, alternating
                            out = run_child(src, backend, mode, rows, args)
                            results.setdefault((backend, mode, name), []).append(out)
                            print(f"[{rep + 1}] {backend:8} {mode:6} {name:8} {_line(out)}")
                            sys.stdout.flush()
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "baseline")],
                check=False, capture_output=True,
            )  # fmt: skip
        summary(results, args.backends.split(","))
    return 0


def _line(out: dict[str, Any]) -> str:
    text = f"import {out['seconds']:.1f} s = {out['rows_per_s']:,.0f} rows/s"
    if "p50_ms" in out:
        text += (
            f"; submits during import {out['acked']} ({out['errors']} failed), "
            f"p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms, max {out['max_ms']:.0f} ms; "
            f"stored {out['stored']}/{out['acked_total']} acked; records {out['records']}"
        )
    return text


def summary(results: dict[tuple[str, str, str], list[dict[str, Any]]], backends: list[str]) -> None:
    def med(key: tuple[str, str, str], field: str) -> float:
        return statistics.median(r[field] for r in results[key])

    print("\nmedians:")
    print(
        "| backend | version | import alone rows/s | import beside serve rows/s "
        "| submits during import | submit p50 ms | submit p99 ms | max ms | acked stored |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for backend in backends:
        for name in ("previous", "this"):
            alone, beside = (backend, "alone", name), (backend, "beside", name)
            stored = all(r["stored"] == r["acked_total"] for r in results[beside])
            print(
                f"| {backend} | {name} | {med(alone, 'rows_per_s'):,.0f} "
                f"| {med(beside, 'rows_per_s'):,.0f} | {med(beside, 'acked'):.0f} "
                f"| {med(beside, 'p50_ms'):.1f} | {med(beside, 'p99_ms'):.1f} "
                f"| {med(beside, 'max_ms'):.0f} | {'all' if stored else 'LOST SOME'} |"
            )
    for backend in backends:
        speed = med((backend, "alone", "this"), "rows_per_s") / med(
            (backend, "alone", "previous"), "rows_per_s"
        )
        p99 = med((backend, "beside", "this"), "p99_ms")
        before = med((backend, "beside", "previous"), "p99_ms")
        print(
            f"import_beside_serve {backend}: import rows/s this/previous {speed:.2f}x; "
            f"submit p99 during the import {p99:.0f} ms (previous {before:.0f} ms, "
            f"{before / p99:.0f}x lower); target p99 < 1000 ms: "
            f"{'met' if p99 < 1000 else 'MISSED'}"
        )


# --------------------------------------------------------------------------- child


def make_project(work: Path, backend: str, n_open: int, clients: int) -> tuple[Path, str | None]:
    from goldsmith import Project, Role

    db_url, schema = None, None
    if backend == "postgres":
        import psycopg

        schema = f"gs_imp_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        db_url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    root = work / "project"
    Project.init(root, name="bench", labels=list(LABELS), db_url=db_url).close()
    with Project.open(root) as project:
        project.add_records(
            {"fields": {"text": f"Open record {i} for the annotators."}} for i in range(n_open)
        )
        keys = []
        with project.store.write() as tx:  # key-only accounts: Argon2 is not what we measure
            for i in range(clients):
                tx.add_user(f"annot{i}", Role.ANNOTATOR, None)
        keys = [project.create_api_key(f"annot{i}") for i in range(clients)]
    (work / "keys.json").write_text(json.dumps(keys))
    return root, schema


def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def start_import(root: Path, rows: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", CLI, "import", str(rows), "-p", str(root)]
    return subprocess.Popen(
        [*cmd, "--label-field", "label"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def finish_import(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"the import failed: {err.decode()[-2000:]}")


@contextlib.contextmanager
def serving(root: Path, port: int) -> Any:
    from server_load import Target, server

    with server(Target("goldsmith", root), port) as proc:
        yield proc


async def annotate(
    port: int,
    keys: list[str],
    rate: float,
    state: dict[str, Any],
    lat: list[float],
    acked: list[int],
) -> None:
    """Each client submits on a fixed schedule (``rate`` a second), the page's way: one
    ``PUT .../response?next=true`` answers and brings the next record. A submit's latency
    runs from its scheduled time, so a request stuck behind a lock also delays, and counts,
    every submit that should have been sent meanwhile (no coordinated omission)."""
    from server_load import NEXT, RawSession

    async def one(i: int, key: str) -> None:
        session = RawSession(port, key)
        clock = time.perf_counter
        due = clock() + i / (rate * len(keys))  # clients spread over the interval
        item = None
        while not state["stop"]:
            try:
                if item is None:
                    status, data = await session.call("GET", NEXT)
                    item = json.loads(data)["item"] if status == 200 else None
                    if item is None:
                        await asyncio.sleep(0.05)
                        due = clock()
                        continue
                await asyncio.sleep(max(0.0, due - clock()))
                rid = item["record"]["id"]
                body = json.dumps({"values": {"label": label_for(rid)}}).encode()
                during = state["importing"]
                path = f"/api/v1/records/{rid}/response?next=true"
                status, data = await session.call("PUT", path, body)
                took = clock() - due
                due += 1.0 / rate
            except (OSError, EOFError, ValueError, RuntimeError, asyncio.IncompleteReadError):
                state["errors"] += 1
                await session.close()
                item = None
                continue
            if status != 200:
                state["errors"] += during
                item = None
                continue
            acked.append(rid)
            item = json.loads(data)["next"]
            if during:
                lat.append(took)
        await session.close()

    state["errors"] = 0
    await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))


def child(args: argparse.Namespace) -> int:
    from server_load import free_port

    from goldsmith import Project

    rows = Path(args.file)
    n_rows = sum(1 for _ in rows.open(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="gs-imp-child-") as tmp:
        work = Path(tmp)
        root, schema = make_project(work, args.child, args.open, args.clients)
        try:
            out: dict[str, Any] = {}
            if args.mode == "alone":
                t0 = time.perf_counter()
                finish_import(start_import(root, rows))
                out["seconds"] = time.perf_counter() - t0
            else:
                keys = json.loads((work / "keys.json").read_text())
                port = free_port()
                lat: list[float] = []
                acked: list[int] = []
                state: dict[str, Any] = {"stop": False, "importing": False}

                async def scenario() -> None:
                    load = asyncio.create_task(annotate(port, keys, args.rate, state, lat, acked))
                    await asyncio.sleep(3.0)
                    t0 = time.perf_counter()
                    proc = start_import(root, rows)
                    state["importing"] = True
                    while proc.poll() is None:
                        await asyncio.sleep(0.1)
                    out["seconds"] = time.perf_counter() - t0
                    state["importing"] = False
                    await asyncio.sleep(1.0)
                    state["stop"] = True
                    await load
                    finish_import(proc)

                with serving(root, port):
                    asyncio.run(scenario())
                ms = sorted(x * 1000 for x in lat)
                out.update(
                    acked=len(ms),
                    errors=state["errors"],
                    p50_ms=statistics.median(ms) if ms else float("nan"),
                    p99_ms=ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else float("nan"),
                    max_ms=ms[-1] if ms else float("nan"),
                    acked_total=len(acked),
                )
                with Project.open(root) as project:
                    out["stored"] = len(project.responses(status=_submitted(), limit=10**7))
            with Project.open(root) as project:
                out["records"] = project.status()["records"]["total"]
            if out["records"] != n_rows + args.open:
                raise SystemExit(f"expected {n_rows + args.open} records, found {out['records']}")
            out["rows_per_s"] = n_rows / out["seconds"]
        finally:
            drop_schema(schema)
    print(json.dumps(out))
    return 0


def _submitted() -> Any:
    from goldsmith.schema import ResponseStatus

    return ResponseStatus.SUBMITTED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--open", type=int, default=20_000, help="open records to annotate")
    parser.add_argument("--rate", type=float, default=5.0, help="submits a second per client")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
