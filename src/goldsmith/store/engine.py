"""Engine creation per backend and migrations applied on open.

SQLite: WAL, ``foreign_keys=ON``, ``busy_timeout``; writers take ``BEGIN IMMEDIATE`` so two
writers queue instead of failing half-way. PostgreSQL: a pooled psycopg 3 engine, optionally
confined to one schema (tests use a fresh schema per run).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
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


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Create the engine for ``url`` with goldsmith's per-backend settings."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith("postgresql"):
        return _postgres_engine(url, schema)
    raise StoreError(f"unsupported store URL {url!r}: use sqlite:///FILE or postgresql+psycopg://…")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: str, schema: str | None) -> Engine:
    optional("psycopg", "postgres")  # the driver SQLAlchemy loads: say which extra is missing
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    if schema:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

    return engine


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
        raise StoreError(f"cannot open the store: {exc.orig}") from exc
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
