"""Issue 18, item 7: a damaged store says so, naming the file and what to do.

Real SQLite files, damaged the ways disks and copies damage them: cut short, overwritten with
garbage, a 0-byte file, and a file whose header is fine but whose pages are not. The CLI runs
in a real process, so the check covers what a user sees: one line, no traceback.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from goldsmith import FinalLabel, Provenance
from goldsmith.errors import StoreError
from goldsmith.project import Project
from goldsmith.store import Store

RECORDS = 600


def _goldsmith(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from goldsmith.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "400"},  # one message on one line, whatever the terminal
    )


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with gold labels; its store checkpointed into one file (no WAL beside it)."""
    root = tmp_path_factory.mktemp("healthy") / "p"
    with Project.init(root, labels=["a", "b"]) as proj:
        added = proj.add_records(
            {"fields": {"text": f"record {i} {'x' * 200}"}} for i in range(RECORDS)
        )
        gold = [
            FinalLabel(rid, "label", "a" if rid % 2 else "b", Provenance.GOLD) for rid in added.ids
        ]
        with proj.store.write() as tx:
            tx.set_final_labels(gold)
    assert not (root / "goldsmith.db-wal").exists()
    return root


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _garbage(db: Path) -> None:
    db.write_bytes(os.urandom(db.stat().st_size))


def _cut_in_header(db: Path) -> None:
    db.write_bytes(db.read_bytes()[:50])


def _bad_pages(db: Path) -> None:
    """A whole header and schema, but the root pages of ``records`` and its indexes are
    garbage: the store opens, and the first statement that reads records meets the damage."""
    with sqlite3.connect(db) as conn:
        pages = [
            row[0]
            for row in conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'records' AND rootpage > 0"
            )
        ]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    for page in pages:
        data[(page - 1) * page_size : page * page_size] = b"\xa5" * page_size
    db.write_bytes(bytes(data))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncated,
    "garbage": _garbage,
    "cut-in-header": _cut_in_header,
    "bad-pages": _bad_pages,
}


@pytest.fixture
def project(healthy: Path, tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(healthy, root)
    return root


def _assert_clean_refusal(done: subprocess.CompletedProcess[str], db: Path) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output and "sqlalche" not in output, output
    assert str(db) in output, output
    assert "backup" in output and "PRAGMA integrity_check" in output, output
    assert "docs/deploy.md" in output, output


def test_the_healthy_project_exports(project: Path, tmp_path: Path) -> None:
    """The control: the same commands succeed on the undamaged store."""
    assert _goldsmith("status", "-p", str(project)).returncode == 0
    done = _goldsmith("export", "-p", str(project), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("damage", DAMAGE)
def test_status_and_export_name_the_damaged_file(
    project: Path, tmp_path: Path, damage: str
) -> None:
    db = project / "goldsmith.db"
    DAMAGE[damage](db)
    before = db.read_bytes()
    _assert_clean_refusal(_goldsmith("status", "-p", str(project)), db)
    _assert_clean_refusal(_goldsmith("export", "-p", str(project), "--out", str(tmp_path)), db)
    assert db.read_bytes() == before  # refused, not "repaired" into something else


@pytest.mark.parametrize("damage", DAMAGE)
def test_the_library_raises_store_error(project: Path, damage: str) -> None:
    db = project / "goldsmith.db"
    DAMAGE[damage](db)
    with pytest.raises(StoreError, match="PRAGMA integrity_check") as info:  # noqa: SIM117
        with Project.open(project) as proj:  # the open, or the read, meets the damage
            proj.records(limit=RECORDS)
    assert str(db) in str(info.value)


def test_damage_met_on_the_driver_path_is_a_store_error(project: Path) -> None:
    """The annotation hot path runs statements on the ``sqlite3`` cursor itself
    (``store/hotpath.py``), outside SQLAlchemy's error handling."""
    db = project / "goldsmith.db"
    _bad_pages(db)
    with Project.open(project) as proj, pytest.raises(StoreError, match="damaged") as info:
        proj.next_item("alice")
    assert str(db) in str(info.value)


def test_an_empty_store_file_in_a_project_is_refused(project: Path) -> None:
    db = project / "goldsmith.db"
    db.write_bytes(b"")
    done = _goldsmith("status", "-p", str(project))
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output, output
    assert str(db) in output and "empty file" in output and "backup" in output, output
    with pytest.raises(StoreError, match="0 bytes"):
        Project.open(project)
    assert db.stat().st_size == 0  # not silently re-created as an empty store


def test_a_new_project_still_creates_its_store(tmp_path: Path) -> None:
    done = _goldsmith("init", str(tmp_path / "new"), "--labels", "a,b")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "new" / "goldsmith.db").stat().st_size > 0
    assert _goldsmith("status", "-p", str(tmp_path / "new")).returncode == 0


def test_a_store_on_an_empty_temporary_file_is_created(tmp_path: Path) -> None:
    """Outside a project, an empty file is a place for a new store (``NamedTemporaryFile``)."""
    with tempfile.NamedTemporaryFile(suffix=".db", dir=tmp_path) as f:
        store = Store(f"sqlite:///{f.name}")
        try:
            with store.read() as tx:
                assert tx.count_records() == 0
        finally:
            store.close()


def test_a_store_in_a_missing_folder_names_it(tmp_path: Path) -> None:
    where = tmp_path / "no" / "such" / "folder" / "goldsmith.db"
    with pytest.raises(StoreError, match="folder exists") as info:
        Store(f"sqlite:///{where}")
    assert str(where) in str(info.value)


def _grown_with_a_wal(src: Path, dst: Path) -> None:
    """``dst`` (+ ``-wal``): ``src`` grown by a write that is still in the WAL, then caught
    by a crash mid-checkpoint, after page 1 (whose header records the new size) reached the
    file and before the pages it counts did. SQLite reads those pages from the WAL."""
    conn = sqlite3.connect(src, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("CREATE TABLE pad (x BLOB)")
        conn.executemany("INSERT INTO pad VALUES (?)", [(os.urandom(2000),) for _ in range(200)])
        shutil.copyfile(src, dst)
        shutil.copyfile(f"{src}-wal", f"{dst}-wal")
    finally:
        conn.close()
    wal = Path(f"{dst}-wal").read_bytes()
    page_size = int.from_bytes(wal[8:12], "big")
    page_one = None
    for start in range(32, len(wal), 24 + page_size):
        if int.from_bytes(wal[start : start + 4], "big") == 1:
            page_one = wal[start + 24 : start + 24 + page_size]
    assert page_one is not None
    with dst.open("r+b") as f:
        f.write(page_one)


def test_a_store_whose_pages_are_still_in_its_wal_opens(project: Path, tmp_path: Path) -> None:
    """Shorter than its header says, with a WAL beside it: not damage, SQLite recovers."""
    db = project / "goldsmith.db"
    scratch = tmp_path / "scratch.db"
    shutil.copyfile(db, scratch)
    _grown_with_a_wal(scratch, db)
    head = db.read_bytes()[:100]
    recorded = int.from_bytes(head[28:32], "big") * int.from_bytes(head[16:18], "big")
    assert db.stat().st_size < recorded  # what a truncated file looks like, but for the WAL
    with Project.open(project) as proj:
        assert len(proj.records(limit=RECORDS)) == RECORDS
    with sqlite3.connect(db) as conn:  # the pages in the WAL were read, not lost
        assert conn.execute("SELECT count(*) FROM pad").fetchone() == (200,)
    conn.close()


PG_WRONG = ["127.0.0.1:1/test", "127.0.0.1:5432/goldsmith_no_such_database"]


@pytest.mark.postgres
@pytest.mark.parametrize("where", PG_WRONG, ids=["unreachable", "no-such-database"])
def test_a_wrong_postgres_url_is_named_without_its_password(where: str) -> None:
    url = f"postgresql+psycopg://postgres:s3cret-pw@{where}"
    with pytest.raises(StoreError) as info:
        Store(url)
    message = str(info.value)
    assert f"postgresql+psycopg://postgres:***@{where}" in message, message
    assert "s3cret-pw" not in message


@pytest.mark.postgres
def test_the_cli_names_a_wrong_postgres_url_without_its_password(project: Path) -> None:
    where = PG_WRONG[1]
    done = _goldsmith("status", "-p", str(project), "--db", f"postgresql+psycopg://u:pw9@{where}")
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output, output
    assert f"postgresql+psycopg://u:***@{where}" in output and "pw9" not in output, output


def test_the_section_the_messages_point_to_exists() -> None:
    deploy = Path(__file__).parents[2] / "docs" / "deploy.md"
    assert "\n## A damaged store\n" in deploy.read_text(encoding="utf-8")
