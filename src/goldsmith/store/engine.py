"""Engine creation per backend and migrations applied on open.

SQLite: WAL, ``foreign_keys=ON``, ``busy_timeout``; writers take ``BEGIN IMMEDIATE`` so two
writers queue instead of failing half-way. PostgreSQL: a pooled psycopg 3 engine, optionally
confined to one schema (tests use a fresh schema per run).

A store that cannot be used says so as a :class:`~goldsmith.errors.StoreError` naming it:

* a SQLite file whose 100-byte header is not SQLite's, or that is shorter than its header
  records, is refused at open (cheap at any size: no ``PRAGMA quick_check``);
* damage found later (``database disk image is malformed``, ``file is not a database``) is
  mapped wherever a statement meets it, through the engine's ``handle_error`` event, and
  :func:`raise_if_damaged` for statements run on the driver itself;
* an unreachable PostgreSQL, or a wrong URL, names the URL without its password.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from goldsmith._lazy import lazy_module, optional
from goldsmith.errors import StoreError, StoreVersionError

if TYPE_CHECKING:
    import alembic.command as _command
    import alembic.config as _config
    import alembic.runtime.migration as _migration
    import alembic.script as _script
else:  # alembic loads only when a store needs migrating: opening one at head reads one row
    _command = lazy_module("alembic.command")
    _config = lazy_module("alembic.config")
    _migration = lazy_module("alembic.runtime.migration")
    _script = lazy_module("alembic.script")

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
IMMEDIATE = "goldsmith_immediate"


SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 14, 26  # primary result codes
PG_CONNECT_TIMEOUT_S = 10


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Create the engine for ``url`` with goldsmith's per-backend settings.

    A SQLite file that is not a whole SQLite database is refused here, by its header.
    """
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            check_sqlite_file(path)
        return _sqlite_engine(url, path)
    if url.startswith("postgresql"):
        return _postgres_engine(url, schema)
    raise StoreError(f"unsupported store URL {url!r}: use sqlite:///FILE or postgresql+psycopg://…")


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL; None for other URLs and in-memory databases."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def damaged(path: Path, problem: str) -> StoreError:
    """The error for a SQLite store that is not whole: it names the file and what to do."""
    return StoreError(
        f"the store {path} is damaged ({problem}), so goldsmith stopped. Restore it from your "
        "latest backup (see docs/deploy.md, 'A damaged store'); to see what is wrong, run "
        f"`sqlite3 {path} 'PRAGMA integrity_check'` on a copy"
    )


def check_sqlite_file(path: Path) -> None:
    """Refuse ``path`` when its header says it is not a whole SQLite database.

    Reads 100 bytes, whatever the size of the store. A missing or empty file passes: SQLite
    creates the store there (a project refuses an empty file of its own, see
    :func:`goldsmith.config.load_config`). A file shorter than its header records is judged
    only with no ``-wal`` or ``-journal`` beside it, and twice, so that a checkpoint growing
    the file in another process is not mistaken for damage.
    """
    problem = _header_problem(path)
    if problem is not None:
        time.sleep(0.05)
        problem = _header_problem(path)
    if problem is not None:
        raise damaged(path, problem)


def _header_problem(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            head = f.read(100)
            size = os.fstat(f.fileno()).st_size
    except OSError:  # missing or unreadable: SQLite creates it or says why it cannot
        return None
    if size == 0:
        return None
    if size < 100 or not head.startswith(SQLITE_MAGIC):
        return "file is not a database: it does not start with the SQLite header"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65_536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"its header gives an impossible page size, {page_size}"
    pages = int.from_bytes(head[28:32], "big")
    header_size_valid = pages > 0 and head[24:28] == head[92:96]  # SQLite's own rule
    if not header_size_valid or size >= pages * page_size:
        return None
    if any(path.with_name(path.name + end).exists() for end in ("-wal", "-journal")):
        return None  # pages may still be in the log: SQLite recovers them itself
    return f"truncated: {size} bytes of the {pages * page_size} its header records"


def _code(exc: BaseException) -> int | None:
    """The primary SQLite result code of a ``sqlite3`` error, else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(exc, sqlite3.Error) and isinstance(code, int) else None


def _sqlite_error(path: Path, exc: BaseException) -> StoreError | None:
    code = _code(exc)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return damaged(path, str(exc))
    if code == SQLITE_CANTOPEN:
        return StoreError(
            f"cannot open the store {path} ({exc}): check that its folder exists and "
            "that you may write there"
        )
    return None


def raise_if_damaged(url: str, exc: BaseException) -> None:
    """Raise a :class:`StoreError` naming the file when ``exc`` (a ``sqlite3`` error raised
    by a statement run on the driver, outside SQLAlchemy) means a damaged store."""
    path = sqlite_path(url)
    error = _sqlite_error(path, exc) if path is not None else None
    if error is not None:
        raise error from exc


def _sqlite_engine(url: str, path: Path | None) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    if path is not None:

        @event.listens_for(engine, "handle_error")
        def _on_error(context: ExceptionContext) -> None:
            error = _sqlite_error(path, context.original_exception)
            if error is not None:
                raise error from context.original_exception

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        # No checkpoint inside a commit: with a large WAL (an import writing beside `serve`)
        # every small commit would copy it back, for seconds. The store checkpoints instead:
        # after a bulk job, on close, and in `serve` every few seconds (Store.checkpoint_every).
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: str, schema: str | None) -> Engine:
    optional("psycopg", "postgres")  # the driver SQLAlchemy loads: say which extra is missing
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(
            url, pool_size=5, max_overflow=10, pool_pre_ping=True, connect_args=timeout
        )
    except (SQLAlchemyError, ImportError) as exc:  # an unknown driver or a malformed URL
        raise StoreError(f"cannot use the store URL {shown}: {exc}") from exc

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # a connection that cannot be made (not a pre-ping, which reconnects by itself)
        if context.connection is None and not context.is_pre_ping:
            message = " ".join(str(context.original_exception).split())  # one line
            if parsed.password:
                message = message.replace(str(parsed.password), "***")
            end = "" if message.endswith((".", "?", "!")) else "."
            raise StoreError(
                f"cannot connect to the store {shown}: {message}{end} Check the URL (host, "
                "port, database, user, password) and that PostgreSQL is running there"
            ) from context.original_exception

    if schema:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

    return engine


def checkpoint(engine: Engine) -> None:
    """A passive WAL checkpoint: copies what no reader still needs, never waits."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()


class Checkpointer:
    """A daemon thread that checkpoints a SQLite store every ``seconds`` (for ``serve``: its
    commits never checkpoint themselves, see ``_on_connect``)."""

    def __init__(self, engine: Engine, seconds: float) -> None:
        self._engine, self._seconds = engine, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                checkpoint(self._engine)
            except SQLAlchemyError:  # busy or gone: the next round, or close, will do it
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _alembic_config() -> _config.Config:
    cfg = _config.Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = _script.ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


_REVISION = re.compile(r"^(down_revision|revision) = (None|\"[0-9A-Za-z_]+\")$", re.MULTILINE)


def _head_from_files() -> str | None:
    """The one head of the migration scripts, read without alembic; None when unsure (two
    heads, a merge, a layout this reader does not know), and alembic then decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or found["revision"] == "None" or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip('"'))
        parents.add(found["down_revision"].strip('"'))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the store's recorded revision is the scripts' head (the common open)."""
    head = _head_from_files()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:  # a new store (no table yet) or an unreadable one: alembic says
        return False
    return [row[0] for row in rows] == [head]


def migrate(engine: Engine) -> None:
    """Bring the store up to the code's schema; refuse a store from a newer goldsmith."""
    if _at_head(engine):
        return
    cfg = _alembic_config()
    script = _script.ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    head = script.get_current_head()
    try:
        with engine.connect() as conn:
            current = _migration.MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"cannot open the store {shown}: {exc.orig}") from exc
    if current is not None and current not in known:
        raise StoreVersionError(
            f"the store is at schema revision {current!r}, which this goldsmith does not "
            f"know (its newest is {head!r}); the store was written by a newer goldsmith: "
            "upgrade goldsmith"
        )
    if current == head:
        return
    with engine.connect().execution_options(**{IMMEDIATE: True}) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        _command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _migration.MigrationContext.configure(conn).get_current_revision()
