"""A team on PostgreSQL: many connections lease and submit at once, and the queue stays right.

The invariants, read back from the database after each run:

* no record is ever leased to more distinct annotators than ``overlap`` (nobody skips and no
  lease expires here, so every annotator who gets a record submits it);
* every acknowledged submit is stored, exactly once per (record, annotator), and every record
  ends with exactly ``overlap`` submitted responses;
* a transaction that holds a record does not hold up other annotators (``SKIP LOCKED``).

Each annotator thread opens its own :class:`Project`, hence its own connection pool, so the
transactions really run side by side; the last test runs ``serve(..., workers=4)`` (four
uvicorn processes) and kills one of them with SIGKILL halfway.

These tests catch a broken lock. Tried by hand on ``QueueTx._lease_open_pg``: with no row lock
(the candidate select without ``FOR UPDATE``, the lease written unconditionally) the two
``test_threads_never_over_assign`` runs and ``test_one_annotator_in_many_tabs`` fail every
time, records handed to up to 12 annotators at overlap 1; with ``FOR UPDATE SKIP LOCKED`` but
no re-check (the lease written unconditionally) both ``test_threads_never_over_assign`` runs
still fail every time (a record handed to two annotators at overlap 1, the second submit
refused with a conflict): the stale snapshot described in ``goldsmith.store.queue``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
import sqlalchemy as sa
import tomli_w

from goldsmith import Project, Role
from goldsmith.config import CONFIG_NAME

pytestmark = pytest.mark.postgres

LABELS = ["cardio", "onco", "neuro"]


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def team(pg_url: Any, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``team(records=N, overlap=K, users=[...])``: a project on a fresh PostgreSQL schema.

    The schema is confined through the URL (``options=-csearch_path=...``), so every process
    that opens the project, server workers included, lands in it; it is dropped afterwards.
    """
    made: list[str] = []

    def _make(*, records: int, overlap: int, users: list[str]) -> Path:
        schema = f"{pg_url.schema}_team{len(made)}"
        with psycopg.connect(_dsn(pg_url.url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        made.append(schema)
        joiner = "&" if "?" in pg_url.url else "?"
        url = f"{pg_url.url}{joiner}options=-csearch_path%3D{schema}"
        root = tmp_path / f"team{len(made)}"
        Project.init(root, template="classification", labels=LABELS, db_url=url).close()
        path = root / CONFIG_NAME
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        doc["task"].setdefault("settings", {}).update(overlap=overlap, lease_seconds=3600)
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        with Project.open(root) as proj:
            with proj.store.write() as tx:  # key-only accounts: no Argon2 cost
                for name in users:
                    tx.add_user(name, Role.ANNOTATOR, None)
            proj.add_records([{"fields": {"text": f"record {i}"}} for i in range(records)])
        return root

    yield _make
    with psycopg.connect(_dsn(pg_url.url), autocommit=True) as conn:
        for schema in made:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def query(root: Path, sql: str) -> list[Any]:
    with Project.open(root) as proj, proj.store.read() as tx:
        return list(tx._conn.execute(sa.text(sql)))


class Log:
    """What the annotators were told: leases handed out, submits acknowledged, failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.leased: dict[int, set[str]] = defaultdict(set)
        self.acked: Counter[tuple[int, str]] = Counter()
        self.problems: list[str] = []

    def lease(self, rid: int, user: str) -> None:
        with self.lock:
            self.leased[rid].add(user)

    def ack(self, rid: int, user: str) -> None:
        with self.lock:
            self.acked[(rid, user)] += 1

    def fail(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def run_threads(workers: list[threading.Thread], timeout: float = 240) -> None:
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout)
    assert not any(t.is_alive() for t in workers), f"annotators still running after {timeout} s"


def check_database(root: Path, log: Log, *, records: int, overlap: int) -> None:
    """The invariants, read from the database itself."""
    over = {rid: sorted(users) for rid, users in log.leased.items() if len(users) > overlap}
    assert not over, f"records leased to more than {overlap} annotators: {over}"
    rows = query(root, 'SELECT record_id, "user", status FROM responses')
    pairs = Counter((int(r), str(u)) for r, u, _ in rows)
    assert [p for p, n in pairs.items() if n > 1] == []  # no duplicated response
    assert {s for _, _, s in rows} == {"submitted"}
    stored = set(pairs)
    lost = set(log.acked) - stored
    assert not lost, f"acknowledged submits missing from the database: {sorted(lost)[:10]}"
    per_record = Counter(int(r) for r, _, _ in rows)
    assert len(per_record) == records and set(per_record.values()) == {overlap}
    counts = query(root, "SELECT n_submitted, queue_done FROM records")
    assert all(n == overlap and done for n, done in counts)
    assert query(root, "SELECT count(*) FROM leases")[0][0] == 0


# --------------------------------------------------------------------------- store level


@pytest.mark.parametrize("overlap", [1, 2])
def test_threads_never_over_assign(team: Callable[..., Path], overlap: int) -> None:
    """Twelve annotators, each on its own connection pool, race for a short queue.

    Half use ``next`` then ``submit``; half ``submit`` with the next lease in the same
    transaction (the record lock is held while the next candidate is chosen).
    """
    users = [f"ann{i:02d}" for i in range(12)]
    records = 90
    root = team(records=records, overlap=overlap, users=users)
    log = Log()
    start = threading.Barrier(len(users))

    def annotate(index: int, user: str) -> None:
        combined = index % 2 == 1
        try:
            with Project.open(root) as proj:
                start.wait()
                item = proj.next_item(user)
                while item is not None:
                    rid = int(item.record.id or 0)
                    log.lease(rid, user)
                    values = {"label": LABELS[rid % 3]}
                    if combined:
                        _, item = proj.answer_and_next(user, rid, values, assigned_only=True)
                    else:
                        proj.answer(user, rid, values, assigned_only=True)
                        item = None
                    log.ack(rid, user)
                    if not combined or item is None:
                        item = proj.next_item(user)
        except Exception as exc:  # a conflict here means the record was over-assigned
            log.fail(f"{user}: {type(exc).__name__}: {exc}")

    run_threads([threading.Thread(target=annotate, args=(i, u)) for i, u in enumerate(users)])
    assert not log.problems, "\n".join(log.problems[:10])
    check_database(root, log, records=records, overlap=overlap)
    assert sum(log.acked.values()) == records * overlap


def test_one_annotator_in_many_tabs(team: Callable[..., Path]) -> None:
    """Three annotators with four threads each: each annotator holds one lease at a time,
    answers once per record, and their concurrent requests never deadlock."""
    users = ["amy", "ben", "cat"]
    records, overlap = 30, 2
    root = team(records=records, overlap=overlap, users=users)
    log = Log()
    done = threading.Event()
    doubles: list[Any] = []

    def watch() -> None:  # each statement reads one consistent snapshot of the leases
        with Project.open(root) as proj:
            while not done.is_set():
                with proj.store.read() as tx:
                    rows = tx._conn.execute(
                        sa.text(
                            'SELECT "user", count(*) FROM leases WHERE expires_at > :now '
                            'GROUP BY "user" HAVING count(*) > 1'
                        ),
                        {"now": time.time()},
                    )
                    doubles.extend(rows)

    def tab(user: str) -> None:
        try:
            with Project.open(root) as proj:
                while (item := proj.next_item(user)) is not None:
                    rid = int(item.record.id or 0)
                    log.lease(rid, user)
                    proj.answer(user, rid, {"label": LABELS[rid % 3]}, assigned_only=True)
                    log.ack(rid, user)
        except Exception as exc:  # a deadlock would surface here
            log.fail(f"{user}: {type(exc).__name__}: {exc}")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run_threads([threading.Thread(target=tab, args=(u,)) for u in users for _ in range(4)])
    finally:
        done.set()
        watcher.join(30)
    assert not log.problems, "\n".join(log.problems[:10])
    assert doubles == []  # all tabs of one annotator are shown the same record
    check_database(root, log, records=records, overlap=overlap)


def test_a_held_record_does_not_hold_up_others(team: Callable[..., Path]) -> None:
    """While one transaction holds its new lease uncommitted, another annotator is served
    the next record at once (SKIP LOCKED), not after the first commits."""
    root = team(records=3, overlap=1, users=["amy", "ben"])
    with Project.open(root) as proj, Project.open(root) as other:
        with proj.store.write() as tx:
            first = tx.lease_next("amy", overlap=1, ttl=60, now=time.time())
            got: list[Any] = []
            worker = threading.Thread(
                target=lambda: got.append(getattr(other.next_item("ben"), "record", None))
            )
            worker.start()
            worker.join(10)
            assert not worker.is_alive(), "ben waited for amy's transaction"
        assert got and got[0] is not None
        assert first is not None and got[0].id != first


def test_a_record_locked_by_a_submit_is_waited_for_not_skipped(
    team: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overlap 2, one record: while ben's submit holds its row lock, amy (who must answer it
    too) is served it once the submit commits, not told "nothing" by SKIP LOCKED; once
    everything is answered, "nothing" comes at once, without waiting."""
    from goldsmith.annotation import queue

    root = team(records=1, overlap=2, users=["amy", "ben"])
    got: list[Any] = []
    with Project.open(root) as proj, Project.open(root) as other:
        with other.store.write() as tx:
            tx._conn.execute(sa.text("SELECT id FROM records FOR UPDATE"))  # as a submit does
            worker = threading.Thread(target=lambda: got.append(proj.next_item("amy")))
            worker.start()
            time.sleep(0.3)  # amy asks while the row is locked
        worker.join(10)
        assert got and got[0] is not None and got[0].record.id == 1
        for user in ("amy", "ben"):
            proj.answer(user, 1, {"label": LABELS[0]})
        waits: list[float] = []
        monkeypatch.setattr(queue.time, "sleep", waits.append)
        assert proj.next_item("amy") is None and waits == []


# --------------------------------------------------------------------------- four workers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_pids(pid: int) -> list[int]:
    """The uvicorn worker processes under the supervisor ``pid`` (multiprocessing spawns)."""
    kids = psutil.Process(pid).children()
    return [
        k.pid for k in kids if "resource_tracker" not in " ".join(k.cmdline()) and k.is_running()
    ]


@contextlib.contextmanager
def four_workers(root: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    code = (
        "import sys; from pathlib import Path; from goldsmith.server.app import serve; "
        "from goldsmith.server.settings import ServerSettings; "
        "serve(ServerSettings(project_root=Path(sys.argv[1])), port=int(sys.argv[2]), workers=4)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"the server exited with {proc.returncode}"
            with contextlib.suppress(httpx.HTTPError):
                up = httpx.get(f"{url}/api/v1/me", timeout=2).status_code == 401
                if up and len(worker_pids(proc.pid)) == 4:
                    break
            assert time.monotonic() < deadline, "the server did not start in 90 s"
            time.sleep(0.2)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_four_workers_and_a_killed_one(team: Callable[..., Path]) -> None:
    """Sixteen annotators over HTTP against four uvicorn workers; one worker is killed with
    SIGKILL halfway. Requests cut off by the kill are retried; nothing acknowledged is lost."""
    users = [f"ann{i:02d}" for i in range(16)]
    records, overlap = 150, 2
    root = team(records=records, overlap=overlap, users=users)
    with Project.open(root) as proj:
        keys = {u: proj.create_api_key(u) for u in users}
        handles = {u: proj.record_handles(u) for u in users}  # annotators get handles, not ids
    log = Log()
    cut: Counter[str] = Counter()
    halfway = threading.Event()

    with four_workers(root) as (url, proc):

        def annotate(user: str) -> None:
            headers = {"Authorization": f"Bearer {keys[user]}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
                while True:
                    try:
                        r = http.get("/api/v1/queue/next")
                        if r.status_code != 200:
                            log.fail(f"{user}: next -> {r.status_code} {r.text[:200]}")
                            return
                        item = r.json()["item"]
                        if item is None:
                            return
                        name = item["record"]["id"]
                        rid = handles[user].record_id(name) or 0
                        log.lease(rid, user)
                        body = {"values": {"label": LABELS[rid % 3]}}
                        r = http.put(f"/api/v1/records/{name}/response", json=body)
                    except httpx.TransportError as exc:  # the killed worker's connections
                        with log.lock:
                            cut[type(exc).__name__] += 1
                        continue
                    if r.status_code != 200:
                        log.fail(f"{user}: submit {rid} -> {r.status_code} {r.text[:200]}")
                        return
                    log.ack(rid, user)
                    if sum(log.acked.values()) >= records * overlap // 2:
                        halfway.set()

        threads = [threading.Thread(target=annotate, args=(u,)) for u in users]
        for t in threads:
            t.start()
        assert halfway.wait(120), "the annotators did not get halfway"
        victim = worker_pids(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        for t in threads:
            t.join(240)
        assert not any(t.is_alive() for t in threads)
    assert not log.problems, "\n".join(log.problems[:10])
    check_database(root, log, records=records, overlap=overlap)
