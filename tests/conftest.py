"""Fixtures shared by every test: a SQLite URL, a PostgreSQL schema, and a store on each.

Tests run against real databases, never mocks. PostgreSQL is the server on 127.0.0.1:5432
(CI starts it). When it is unreachable the postgres tests fail under ``CI=true`` and are
skipped elsewhere, so a laptop without PostgreSQL can still run the rest: every such skip goes
through :func:`_ci.skip_or_fail` (``tests/_ci.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from _ci import import_or_skip, skip_or_fail
from goldsmith.store import Store

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("GOLDSMITH_TEST_CHROMIUM", "/usr/bin/chromium")

PG_URL = os.environ.get(
    "GOLDSMITH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class PgTarget(NamedTuple):
    """A PostgreSQL URL and the schema this test run owns (unpacks as ``url, schema``)."""

    url: str
    schema: str


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(_psycopg_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file in the test's ``tmp_path``."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[PgTarget]:
    """The test PostgreSQL and a fresh schema for this run, dropped at the end."""
    try:
        import psycopg

        with psycopg.connect(_psycopg_dsn(PG_URL), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # ImportError or any connection failure
        skip_or_fail(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    schema = f"gs_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        yield PgTarget(PG_URL, schema)
    finally:
        _drop_schema(PG_URL, schema)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """``(url, schema)`` of an empty database on each backend; the schema is emptied after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}", None
        return
    target: PgTarget = request.getfixturevalue("pg_url")
    try:
        yield target.url, target.schema
    finally:
        _drop_schema(target.url, target.schema)  # the next test migrates from scratch


@pytest.fixture
def store(store_url: tuple[str, str | None]) -> Iterator[Store]:
    """A freshly migrated :class:`Store`, on SQLite and on PostgreSQL."""
    url, schema = store_url
    s = Store(url, schema=schema)
    try:
        yield s
    finally:
        s.close()


def _import_ray() -> Any:
    """The ``ray`` module, or a skip off CI; in CI (which installs the ray extra) a missing
    Ray fails."""
    return import_or_skip("ray", install="pip install 'goldsmith[ray]'")


@pytest.fixture
def ray_lib() -> Any:
    """The ``ray`` module, with no cluster started."""
    return _import_ray()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """A local Ray cluster with 2 CPUs for one test module, started by the test (the code
    under test must leave it up)."""
    ray = _import_ray()
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The real Chromium (Debian's, never a downloaded one), headless, for the whole run."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; set GOLDSMITH_TEST_CHROMIUM", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield b
        finally:
            b.close()
