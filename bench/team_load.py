"""A team on PostgreSQL: 50 annotators against 4 server workers, one worker killed mid-run.

Usage::

    python bench/team_load.py                                  # 50 clients, 4 workers, 20 s, x3
    python bench/team_load.py --seconds 10 --repeats 1 --clients 20 --kill-at 0.5

Each run gets a fresh PostgreSQL schema (created with psycopg; the store URL gets
``?options=-csearch_path%3D<schema>``, so every worker process lands in it) and a fresh
project over it: ``--records`` records, overlap 1, one key-only annotator per client. The
server is ``goldsmith serve --workers N`` when the CLI has that option, otherwise the same
thing through the library (``goldsmith.server.app.serve(settings, workers=N)``): uvicorn's
supervisor with N worker processes sharing one socket.

The load generator is this process (asyncio, one task per client, each with its own
keep-alive connection; ``RawSession`` of ``bench/server_load.py``, which spends little CPU on a
2-core machine). A client loops ``GET /api/v1/queue/next`` then
``PUT /api/v1/records/{id}/response``; a request cut off (connection reset by the kill) or
answered 5xx is retried on a new connection and never counted as acknowledged. After
``--warmup`` seconds the window of ``--seconds`` starts; at ``--kill-at`` of the window one
uvicorn worker process (a child of the supervisor, found with psutil; the one holding the
most client connections) gets SIGKILL.

At the end the database is read: every acknowledged submit (HTTP 200) must be there, no
(record, annotator) pair twice, and no record with more submitted responses than the overlap.

Printed per run and as medians over ``--repeats``: submits/s over the window (and before /
after the kill), p50/p99 of the next+submit cycle and of each request, requests cut by the
kill, then ``team_load: ours X submits/s, p99 Y ms`` and the durability check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import sqlalchemy as sa
import tomli_w
from server_load import (  # bench/ is on sys.path when this script runs
    LABELS,
    NEXT,
    PG_URL,
    SOURCE,
    RawSession,
    _dsn,
    add_records,
    free_port,
    label_for,
    postgres_problem,
    texts,
)

from goldsmith import Project, Role
from goldsmith.config import CONFIG_NAME

# --------------------------------------------------------------------------- setup


@dataclass
class Team:
    root: Path
    db_url: str
    schema: str
    keys: dict[str, str] = field(default_factory=dict)


def make_team(work: Path, pg_url: str, clients: int, records: int, base: list[str]) -> Team:
    """A fresh schema and project: ``records`` open records, one annotator per client."""
    import psycopg

    schema = f"gs_team_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    joiner = "&" if "?" in pg_url else "?"
    team = Team(work / schema, f"{pg_url}{joiner}options=-csearch_path%3D{schema}", schema)
    Project.init(team.root, name="team", labels=LABELS, db_url=team.db_url).close()
    path = team.root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"].setdefault("settings", {}).update(overlap=1)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    with Project.open(team.root) as project:
        add_records(project, base, 0, records)
        names = [f"annot{i:03d}" for i in range(clients)]
        with project.store.write() as tx:  # key-only accounts: Argon2 is not what we measure
            for name in names:
                tx.add_user(name, Role.ANNOTATOR, None)
        team.keys = {name: project.create_api_key(name) for name in names}
    return team


def drop_team(team: Team, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(_dsn(pg_url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{team.schema}" CASCADE')


# --------------------------------------------------------------------------- server


def serve_command(root: Path, port: int, workers: int) -> tuple[list[str], str]:
    """``goldsmith serve ... --workers N`` when the CLI has it, else the library's serve()."""
    exe = Path(sys.executable).with_name("goldsmith")
    if exe.exists():
        help_text = subprocess.run(
            [str(exe), "serve", "--help"], capture_output=True, text=True, check=False
        ).stdout
        if "--workers" in help_text:
            cmd = [str(exe), "serve", "-p", str(root), "--port", str(port)]
            return [*cmd, "--workers", str(workers)], "goldsmith serve --workers"
    code = (
        "import sys; from pathlib import Path; from goldsmith.server.app import serve; "
        "from goldsmith.server.settings import ServerSettings; "
        "serve(ServerSettings(project_root=Path(sys.argv[1])), port=int(sys.argv[2]), "
        "workers=int(sys.argv[3]))"
    )
    return [sys.executable, "-c", code, str(root), str(port), str(workers)], "serve(workers=N)"


def worker_pids(pid: int) -> list[int]:
    """uvicorn's worker processes: the supervisor's children, less multiprocessing's helper."""
    out = []
    for child in psutil.Process(pid).children():
        with contextlib.suppress(psutil.Error):
            if "resource_tracker" not in " ".join(child.cmdline()):
                out.append(child.pid)
    return out


def connections(pid: int, port: int) -> int:
    """Client connections a worker holds open (how the kernel spread them over workers)."""
    with contextlib.suppress(psutil.Error):
        conns = psutil.Process(pid).net_connections(kind="tcp")
        return sum(1 for c in conns if c.laddr and c.laddr.port == port and c.raddr)
    return 0


@contextlib.contextmanager
def team_server(cmd: list[str], port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            with contextlib.suppress(OSError):
                ready = asyncio.run(_probe(port)) and len(worker_pids(proc.pid)) == workers
                if ready:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in 90 s")
            time.sleep(0.2)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _probe(port: int) -> bool:
    session = RawSession(port, None)
    try:
        status, _ = await session.call("GET", "/api/v1/me")
        return status == 401
    finally:
        await session.close()


# --------------------------------------------------------------------------- clients


@dataclass
class Samples:
    cycles: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    nexts: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)
    acked: list[tuple[int | str, str]] = field(default_factory=list)  # every 200 submit
    errors: Counter[str] = field(default_factory=Counter)
    dry: int = 0


async def annotator(
    port: int, user: str, key: str, samples: Samples, t_measure: float, t_end: float
) -> None:
    clock = time.perf_counter
    session = RawSession(port, key)
    item: dict[str, Any] | None = None
    while (t0 := clock()) < t_end:
        try:
            status, data = await session.call("GET", NEXT)
            t1 = clock()
            if status != 200:
                samples.errors[f"next {status}"] += 1
                await asyncio.sleep(0.01)
                continue
            item = json.loads(data)["item"]
            if item is None:
                samples.dry += 1
                await asyncio.sleep(0.05)
                continue
            rid = item["record"]["id"]  # an annotator's opaque handle (an id before issue 19)
            body = json.dumps({"values": {"label": label_for(rid)}}).encode()
            status, _ = await session.call("PUT", f"/api/v1/records/{rid}/response", body)
            t2 = clock()
        except (OSError, EOFError, ValueError, RuntimeError, asyncio.IncompleteReadError) as exc:
            samples.errors[type(exc).__name__] += 1  # cut by the kill: reconnect, go on
            await session.close()
            await asyncio.sleep(0.02)
            continue
        if status != 200:
            samples.errors[f"submit {status}"] += 1
            continue
        samples.acked.append((rid, user))
        if t0 >= t_measure:
            samples.cycles.append((t0, t2 - t0))
            samples.nexts.append(t1 - t0)
            samples.submits.append(t2 - t1)
    await session.close()


async def drive(
    port: int,
    keys: dict[str, str],
    args: argparse.Namespace,
    kill: Any,
) -> tuple[Samples, float, float, float]:
    samples = Samples()
    now = time.perf_counter()
    t_measure = now + args.warmup
    t_end = t_measure + args.seconds
    t_kill = t_measure + args.kill_at * args.seconds
    tasks = [
        asyncio.create_task(annotator(port, user, key, samples, t_measure, t_end))
        for user, key in keys.items()
    ]
    await asyncio.sleep(max(0.0, t_kill - time.perf_counter()))
    kill()
    await asyncio.gather(*tasks)
    return samples, t_measure, t_kill, t_end


# --------------------------------------------------------------------------- one run


def durability(team: Team, acked: list[tuple[int | str, str]]) -> dict[str, int]:
    """Compare the acknowledged submits with what the database holds (each annotator's
    record handles turned back into record ids)."""
    with Project.open(team.root) as project:
        handles = {user: project.record_handles(user) for user in {u for _, u in acked}}
    pairs = [
        (name if isinstance(name, int) else handles[user].record_id(name) or 0, user)
        for name, user in acked
    ]
    engine = sa.create_engine(team.db_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT record_id, \"user\" FROM responses WHERE status = 'submitted'")
            ).all()
            over = conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT record_id FROM responses WHERE status = "
                    "'submitted' GROUP BY record_id HAVING count(*) > 1) AS o"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    stored = Counter((int(r), str(u)) for r, u in rows)
    acks = Counter(pairs)
    return {
        "acked": sum(acks.values()),
        "stored": len(rows),
        "lost": sum(1 for pair in acks if pair not in stored),
        "acked_twice": sum(1 for n in acks.values() if n > 1),
        "duplicated": sum(1 for n in stored.values() if n > 1),
        "over_overlap": int(over),
    }


def measure(args: argparse.Namespace, work: Path, base: list[str]) -> dict[str, Any]:
    t_setup = time.perf_counter()
    team = make_team(work, args.pg_url, args.clients, args.records, base)
    setup_s = time.perf_counter() - t_setup
    try:
        port = free_port()
        cmd, how = serve_command(team.root, port, args.workers)
        killed: dict[str, Any] = {}
        with team_server(cmd, port, args.workers) as proc:

            def kill() -> None:
                held = {pid: connections(pid, port) for pid in worker_pids(proc.pid)}
                killed["spread"] = sorted(held.values(), reverse=True)
                if args.kill_at < 1 and held:
                    victim = max(held, key=held.__getitem__)  # the busiest: it cuts the most
                    os.kill(victim, signal.SIGKILL)
                    killed["pid"] = victim

            samples, t_measure, t_kill, t_end = asyncio.run(drive(port, team.keys, args, kill))
            time.sleep(1.0)  # let the supervisor notice the dead worker
            alive_after = len(worker_pids(proc.pid))
        check = durability(team, samples.acked)
    finally:
        drop_team(team, args.pg_url)

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q)) * 1000 if values else float("nan")

    before = sum(1 for t, _ in samples.cycles if t < t_kill)
    after = len(samples.cycles) - before
    return {
        "how": how,
        "setup_s": setup_s,
        "rate": len(samples.cycles) / args.seconds,
        "rate_before": before / max(1e-9, t_kill - t_measure),
        "rate_after": after / max(1e-9, t_end - t_kill),
        "cycle_p50": pct([d for _, d in samples.cycles], 50),
        "cycle_p99": pct([d for _, d in samples.cycles], 99),
        "next_p99": pct(samples.nexts, 99),
        "submit_p99": pct(samples.submits, 99),
        "cut": sum(samples.errors.values()),
        "error_kinds": dict(samples.errors),
        "dry": samples.dry,
        "killed": killed.get("pid"),
        "spread": killed.get("spread"),
        "workers_after": alive_after,
        **check,
    }


KEYS = (
    "rate",
    "rate_before",
    "rate_after",
    "cycle_p50",
    "cycle_p99",
    "next_p99",
    "submit_p99",
    "cut",
    "acked",
    "stored",
    "lost",
    "duplicated",
    "over_overlap",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--records", type=int, default=20_000, help="queue size per run")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="SIGKILL one worker at this share of the "
        "window (1 or more: no kill)"
    )  # fmt: skip
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args(argv)
    problem = postgres_problem(args.pg_url)
    if problem:
        print(f"team_load: PostgreSQL at {args.pg_url} is unreachable: {problem}")
        return 2
    base = texts(args.source)
    work = Path(tempfile.mkdtemp(prefix="gs_team_"))
    runs: list[dict[str, Any]] = []
    failed = False
    try:
        for i in range(args.repeats):
            run = measure(args, work, base)
            runs.append(run)
            ok = run["lost"] == 0 and run["duplicated"] == 0 and run["over_overlap"] == 0
            failed |= not ok
            print(
                f"run {i + 1}/{args.repeats} ({run['how']}, setup {run['setup_s']:.1f} s): "
                f"{run['rate']:.0f} submits/s ({run['rate_before']:.0f} before the kill, "
                f"{run['rate_after']:.0f} after), cycle p50 {run['cycle_p50']:.1f} ms "
                f"p99 {run['cycle_p99']:.1f} ms (next p99 {run['next_p99']:.1f}, submit p99 "
                f"{run['submit_p99']:.1f}); connections per worker at the kill {run['spread']}, "
                f"killed worker {run['killed']} (the busiest), "
                f"{run['workers_after']} worker(s) alive after; {run['cut']} request(s) cut "
                f"{run['error_kinds']}; acknowledged {run['acked']}, stored {run['stored']}, "
                f"lost {run['lost']}, duplicated {run['duplicated']}, over overlap "
                f"{run['over_overlap']}, dry {run['dry']} -> {'OK' if ok else 'FAILED'}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(float(r[k]) for r in runs) for k in KEYS}
    print(
        f"\nmedians of {len(runs)} run(s), {args.clients} annotators, {args.workers} workers, "
        f"{args.seconds:g} s window, PostgreSQL:"
    )
    print(
        f"team_load: ours {med['rate']:.0f} submits/s (before kill {med['rate_before']:.0f}, "
        f"after {med['rate_after']:.0f}), p99 {med['cycle_p99']:.1f} ms per next+submit "
        f"(p50 {med['cycle_p50']:.1f}; next p99 {med['next_p99']:.1f}, submit p99 "
        f"{med['submit_p99']:.1f})"
    )
    print(
        f"team_load durability: every acknowledged submit stored: "
        f"{'yes' if all(r['lost'] == 0 for r in runs) else 'NO'}; duplicated: "
        f"{sum(r['duplicated'] for r in runs)}; over overlap: "
        f"{sum(r['over_overlap'] for r in runs)} (all runs)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
