"""Engine creation per backend and migrations applied on open.

SQLite: WAL, ``foreign_keys=ON``, ``busy_timeout``; writers take ``BEGIN IMMEDIATE`` so two
writers queue instead of failing half-way. PostgreSQL: a pooled psycopg 3 engine, optionally
confined to one schema (tests use a fresh schema per run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from goldsmith.errors import MissingExtraError, StoreError, StoreVersionError

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
    try:
        import psycopg  # noqa: F401  (lazy: optional extra)
    except ImportError as exc:
        raise MissingExtraError("postgres", "psycopg") from exc
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    if schema:

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(f'SET search_path TO "{schema}"')
            dbapi_conn.commit()

    return engine


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> None:
    """Bring the store up to the code's schema; refuse a store from a newer goldsmith."""
    cfg = _alembic_config()
    script = ScriptDirectory.from_config(cfg)
    known = {rev.revision for rev in script.walk_revisions()}
    head = script.get_current_head()
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
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
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
