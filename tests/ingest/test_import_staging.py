"""Imports never block annotators (issue 18, item 11), on SQLite and PostgreSQL.

An import writes each batch in its own transaction and publishes at the end. While it runs,
a second project handle (another connection, as ``serve`` has) sees none of its records,
leases and submits without waiting, and cannot start a second import. A failed import and an
import whose process is killed leave nothing behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from goldsmith.errors import ConflictError, InputError
from goldsmith.ingest.options import ImportOptions
from goldsmith.project import Project
from goldsmith.schema import ResponseStatus

LABELS = ["pos", "neg"]
GOLDSMITH = [sys.executable, "-c", "from goldsmith.cli import main; main()"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the project's own SQLite file) or a PostgreSQL URL on a fresh schema."""
    if request.param == "sqlite":
        yield None
        return
    pg = request.getfixturevalue("pg_url")
    schema = f"{pg.schema}_staging_{abs(hash(str(tmp_path))) % 10**8}"
    dsn = pg.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{pg.url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def root(tmp_path: Path, db_url: str | None) -> Path:
    with Project.init(tmp_path / "p", template="classification", labels=LABELS, db_url=db_url):
        pass
    return tmp_path / "p"


def _rows(
    path: Path, prefix: str, n: int, *, bad_at: int | None = None, labeled: bool = True
) -> Path:
    """JSON lines (read line by line, so progress advances after every batch)."""
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            label = "maybe" if i == bad_at else LABELS[i % 2]
            text = f"{prefix} record {i}: a long enough text 🧪 " + "word " * 20
            row = {"text": text, "label": label} if labeled else {"text": text}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _physical(project: Project) -> tuple[int, int]:
    """Rows really in ``records`` and in ``imports``, bypassing every filter."""
    with project.store.engine.connect() as conn:
        n_records = conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
        n_imports = conn.execute(sa.text("SELECT count(*) FROM imports")).scalar_one()
    return int(n_records), int(n_imports)


class _AfterBatches:
    """A progress that runs ``check`` once, after ``after`` batches are written."""

    def __init__(self, check: Callable[[], None], after: int = 2) -> None:
        self.check, self.after, self.calls = check, after, 0

    def start(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        self.calls += 1
        if self.calls == self.after:
            self.check()

    def finish(self) -> None:
        pass


def test_annotators_work_beside_an_import_that_stays_hidden_until_published(
    root: Path, tmp_path: Path
) -> None:
    first = _rows(tmp_path / "first.jsonl", "first", 20, labeled=False)
    second = _rows(tmp_path / "second.jsonl", "second", 200)
    with Project.open(root) as proj:
        proj.import_records(first)  # records only, no labels: the queue's content
        proj.add_user("ann", role="annotator", password="pw-ann-123456")
        seen: dict[str, Any] = {}

        def beside() -> None:  # what `serve` would do meanwhile, on its own connections
            with Project.open(root) as other:
                seen["physical"] = _physical(other)
                seen["status"] = other.status()["records"]
                item = other.next_item("ann")
                assert item is not None
                _, nxt = other.answer_and_next(
                    "ann",
                    item.record.id,
                    {"label": "pos"},
                    ResponseStatus.SUBMITTED,
                    assigned_only=True,
                )
                seen["answered"] = item.record.fields["text"]
                seen["next"] = nxt.record.fields["text"] if nxt else None
                with pytest.raises(ConflictError, match="another import is still writing"):
                    other.import_records(_rows(tmp_path / "third.jsonl", "third", 5))

        worker: list[BaseException] = []

        def check() -> None:  # in a thread: a blocked write would hang here, not pass
            def run() -> None:
                try:
                    beside()
                except BaseException as exc:  # reported below
                    worker.append(exc)

            t = threading.Thread(target=run, daemon=True)
            t.start()
            t.join(timeout=20)
            assert not t.is_alive(), "the annotator waited for the import to finish"

        options = ImportOptions(label_field="label", batch_size=25)
        report = proj.import_records(second, options, progress=_AfterBatches(check))
        if worker:
            raise worker[0]
        assert seen["physical"][0] == 20 + 2 * 25  # two batches committed, unpublished
        assert seen["status"]["total"] == 20
        assert seen["answered"].startswith("first ")
        assert seen["next"].startswith("first ")
        assert report.n_inserted == 200
        status = proj.status()["records"]
        assert status["total"] == 220
        assert status["labeled"] == 200
        assert _physical(proj) == (220, 2)
        with proj.store.read() as tx:
            assert tx.writing_imports() == []


def test_a_failed_import_takes_back_every_chunk_it_wrote(
    root: Path, tmp_path: Path, snapshot: Callable[[Project], dict[str, Any]]
) -> None:
    with Project.open(root) as proj:
        proj.import_records(_rows(tmp_path / "first.jsonl", "first", 10))
        before, physical = snapshot(proj), _physical(proj)
        bad = _rows(tmp_path / "bad.jsonl", "bad", 120, bad_at=110)
        options = ImportOptions(label_field="label", batch_size=20)
        with pytest.raises(InputError, match="maybe") as err:
            proj.import_records(bad, options)
        assert err.value.line == 111  # 1-based
        assert snapshot(proj) == before
        assert _physical(proj) == physical


SLOW_IMPORT = textwrap.dedent(
    """
    import sys, time
    from goldsmith.ingest.options import ImportOptions
    from goldsmith.project import Project

    class Stall:
        calls = 0
        def start(self, description, total=None): pass
        def finish(self): pass
        def advance(self, n=1):
            self.calls += 1
            if self.calls == 3:
                print("stalled", flush=True)
                time.sleep(120)

    with Project.open(sys.argv[1]) as proj:
        proj.import_records(sys.argv[2], ImportOptions(label_field="label", batch_size=10),
                            progress=Stall())
    """
)


def test_an_import_killed_mid_way_is_removed_by_the_next_open(root: Path, tmp_path: Path) -> None:
    with Project.open(root) as proj:
        proj.import_records(_rows(tmp_path / "first.jsonl", "first", 10))
        physical = _physical(proj)
    big = _rows(tmp_path / "big.jsonl", "big", 100)
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_IMPORT, str(root), str(big)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "stalled"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
    engine = sa.create_engine(_url(root), poolclass=sa.NullPool)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
        writing = conn.execute(sa.text("SELECT count(*) FROM imports WHERE status = 'writing'"))
        assert (left, writing.scalar_one()) == (physical[0] + 30, 1)
    engine.dispose()

    done = subprocess.run(
        [*GOLDSMITH, "status", "--project", str(root)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "removed an unfinished import of" in done.stderr
    assert "big.jsonl" in done.stderr and "30 record(s)" in done.stderr
    assert "Traceback" not in done.stderr
    with Project.open(root) as proj:
        assert _physical(proj) == physical
        assert proj.status()["records"]["total"] == 10


def _url(root: Path) -> str:
    from goldsmith.config import load_config

    return load_config(root).db_url


def test_sqlite_commits_never_checkpoint(tmp_path: Path) -> None:
    """A commit that checkpoints copies the WAL back: after every import batch (a 1M-row
    import took 1.4x as long), and after every submit beside an import's large WAL (seconds
    each, bench/import_beside_serve.py). No connection checkpoints on commit; the import
    checkpoints once at its end, ``serve`` every few seconds, every store on close."""
    with Project.init(tmp_path / "p", template="classification", labels=LABELS) as proj:
        seen: list[int] = []

        def check() -> None:
            with proj.store.write() as tx:  # a connection as serve's submits use
                seen.append(int(tx._conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()))

        rows = _rows(tmp_path / "rows.jsonl", "ckpt", 60)
        options = ImportOptions(label_field="label", batch_size=10)
        proj.import_records(rows, options, progress=_AfterBatches(check, after=4))
        check()
    assert seen == [0, 0]
