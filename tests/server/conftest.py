"""Fixtures of the server tests: a real project on SQLite or PostgreSQL behind the real app.

``make_api_env(...)`` builds a project (``Project.init`` or a hand-written task), adds the
users ``olive`` (owner), ``rita`` (reviewer), ``alice``, ``bob`` and ``carol`` (annotators),
one API key each and some records, then serves it either in process (``TestClient``) or on a
real uvicorn server on a free loopback port (``live=True``). Every fixture here is parametrized
over SQLite and PostgreSQL through ``api_db``; PostgreSQL gets a fresh schema per test, dropped
afterwards.

Fixture names start with ``api_`` or ``make_api_`` so they never shadow the browser tests'.
The fixture users have no password (API keys only): Argon2id costs ~0.15 s per hash, and the
tests that log in create their own user through ``POST /users``.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
import tomli_w
import uvicorn
from fastapi.testclient import TestClient

from goldsmith import Project, Role
from goldsmith.annotation.handles import RecordHandles
from goldsmith.config import CONFIG_NAME, STORE_NAME, write_config
from goldsmith.server import ServerSettings, create_app

LABELS = ["cardio", "onco", "neuro"]
USERS = {
    "olive": Role.OWNER,
    "rita": Role.REVIEWER,
    "alice": Role.ANNOTATOR,
    "bob": Role.ANNOTATOR,
    "carol": Role.ANNOTATOR,
}
ROLE_USER = {"owner": "olive", "reviewer": "rita", "annotator": "alice"}


# ---------------------------------------------------------------- databases


@dataclass
class ApiDb:
    """Where a test project keeps its data: ``url`` None means the project's SQLite file."""

    backend: str
    url: str | None
    schema: str | None = None
    engines: list[sa.Engine] = field(default_factory=list)

    def sql_url(self, root: Path) -> str:
        return self.url if self.url is not None else f"sqlite:///{root / STORE_NAME}"

    def query(self, root: Path, sql: str, **params: Any) -> list[sa.Row[Any]]:
        """Run one SQL statement straight against the project's database."""
        engine = sa.create_engine(self.sql_url(root), poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


_SCHEMAS = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_db(request: pytest.FixtureRequest) -> Iterator[ApiDb]:
    """The backend of one test: SQLite in the project folder, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield ApiDb("sqlite", None)
        return
    pg = request.getfixturevalue("pg_url")
    schema = f"{pg.schema}_s{next(_SCHEMAS)}"
    dsn = _psycopg_dsn(pg.url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        joiner = "&" if "?" in pg.url else "?"
        yield ApiDb("postgres", f"{pg.url}{joiner}options=-csearch_path%3D{schema}", schema)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ---------------------------------------------------------------- live server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving one app on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api-uvicorn", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the test server did not stop"


# ---------------------------------------------------------------- the environment


def set_task_settings(root: Path, **settings: Any) -> None:
    """Rewrite ``[task.settings]`` of ``goldsmith.toml`` (what a user would edit by hand)."""
    path = root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"].setdefault("settings", {}).update(settings)
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


@dataclass
class ApiEnv:
    """One served project. ``client`` talks to it (in process, or over loopback if ``live``)."""

    root: Path
    db: ApiDb
    keys: dict[str, str]
    record_ids: list[int]
    server: dict[str, Any]
    live: bool
    client: httpx.Client = field(init=False)
    url: str = "http://testserver"
    app: Any = None
    _live: LiveServer | None = None
    _open: bool = False
    _handles: dict[str, RecordHandles] = field(default_factory=dict)

    def start(self) -> ApiEnv:
        self.app = create_app(ServerSettings(project_root=self.root, **self.server))
        if self.live:
            self._live = LiveServer(self.app).start()
            self.url = self._live.url
            self.client = httpx.Client(base_url=self.url, timeout=60)
        else:
            self.client = TestClient(self.app, follow_redirects=False)
            self.client.__enter__()
        self._open = True
        return self

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._live is not None:
            self.client.close()
            self._live.stop()
            self._live = None
        else:
            self.client.__exit__(None, None, None)

    def restart(self, **settings: Any) -> ApiEnv:
        """Stop serving, change ``[task.settings]``, and serve the project again."""
        self.close()
        if settings:
            set_task_settings(self.root, **settings)
        return self.start()

    def auth(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.keys[user]}"}

    def api(self, method: str, path: str, user: str | None = None, **kw: Any) -> httpx.Response:
        """``method /api/v1{path}`` as ``user`` (a bearer key), or with no credentials."""
        headers = {**self.auth(user), **kw.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kw)

    def ok(self, method: str, path: str, user: str | None = None, **kw: Any) -> Any:
        """Like :meth:`api`, asserting a 2xx and returning the JSON body."""
        r = self.api(method, path, user, **kw)
        assert r.is_success, f"{method} {path} as {user}: {r.status_code} {r.text}"
        return r.json()

    def next(self, user: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.ok("GET", "/queue/next", user)["item"]
        return item

    def answer(
        self, user: str, record: int | str, values: dict[str, Any], status: str = "submitted"
    ) -> httpx.Response:
        """``user`` answers ``record``: a record id (named as ``user`` names it, see
        :meth:`name`) or a name the API gave them."""
        body = {"values": values, "status": status}
        name = self.name(user, record) if isinstance(record, int) else record
        return self.api("PUT", f"/records/{name}/response", user, json=body)

    def query(self, sql: str, **params: Any) -> list[sa.Row[Any]]:
        return self.db.query(self.root, sql, **params)

    def handles(self, user: str) -> RecordHandles:
        """``user``'s record handles, as the server makes them (read once per user)."""
        if user not in self._handles:
            with self.project() as p:
                self._handles[user] = p.record_handles(user)
        return self._handles[user]

    def name(self, user: str | None, record_id: int) -> int | str:
        """How ``user`` names record ``record_id`` in the API: its id for owners, reviewers
        and the anonymous, the user's own opaque handle for annotators."""
        if user is None or USERS.get(user) != Role.ANNOTATOR:
            return record_id
        return self.handles(user).handle(record_id)

    def rid(self, user: str | None, name: int | str) -> int:
        """The record id behind ``name`` as ``user`` got it from the API (see :meth:`name`)."""
        if isinstance(name, int):
            return name
        assert user is not None
        found = self.handles(user).record_id(name)
        assert found is not None, f"{name!r} is not one of {user}'s record handles"
        return found

    def next_id(self, user: str) -> int | None:
        """The id of the record ``GET /queue/next`` leases to ``user`` (None: nothing)."""
        item = self.next(user)
        return None if item is None else self.rid(user, item["record"]["id"])

    def project(self) -> Project:
        """A second, independent handle on the project (close it)."""
        return Project.open(self.root)

    def disagreement(self, *, queued: bool = False, **detail: Any) -> int:
        """At overlap 2, alice answers cardio and bob onco on the same record; its id.
        ``queued``: the record also goes to the review queue as a disagreement (no proposal,
        unless ``detail`` says otherwise)."""
        self.restart(overlap=2)
        rid = self.next_id("alice")
        assert rid is not None
        assert self.answer("alice", rid, {"label": "cardio"}).status_code == 200
        assert self.next_id("bob") == rid
        assert self.answer("bob", rid, {"label": "onco"}).status_code == 200
        if queued:
            answers = {"alice": "cardio", "bob": "onco"}
            item = {"record_id": rid, "question": "label", "kind": "disagreement"}
            item["detail"] = {"answers": answers, "proposed": None, **detail}
            with self.project() as p, p.store.write() as tx:
                tx.add_reviews([item])
        return rid


MakeApiEnv = Callable[..., ApiEnv]


@pytest.fixture
def make_api_env(api_db: ApiDb, tmp_path: Path) -> Iterator[MakeApiEnv]:
    """``make_api_env(records=5, settings=None, task=None, server=None, live=False)``.

    ``task`` is a ``[task]`` table as a dict (default: the classification template over
    ``LABELS``); ``settings`` go to ``[task.settings]``; ``server`` to ``ServerSettings``;
    ``records`` is a count or a list of ``fields`` dicts.
    """
    envs: list[ApiEnv] = []

    def _make(
        *,
        records: int | list[dict[str, Any]] = 5,
        settings: dict[str, Any] | None = None,
        task: dict[str, Any] | None = None,
        server: dict[str, Any] | None = None,
        live: bool = False,
    ) -> ApiEnv:
        root = tmp_path / f"project{len(envs)}"
        if task is None:
            Project.init(root, template="classification", labels=LABELS, db_url=api_db.url).close()
        else:
            root.mkdir(parents=True)
            write_config(root, task, api_db.url)
        if settings:
            set_task_settings(root, **settings)
        rows = (
            [{"text": f"record number {i}"} for i in range(records)]
            if isinstance(records, int)
            else records
        )
        with Project.open(root) as proj:
            with proj.store.write() as tx:  # key-only accounts: no Argon2 cost per test
                for name, role in USERS.items():
                    tx.add_user(name, role, None)
            keys = {name: proj.create_api_key(name) for name in USERS}
            ids = proj.add_records([{"fields": f} for f in rows]).ids if rows else []
        env = ApiEnv(root, api_db, keys, ids, server or {}, live)
        envs.append(env)
        return env.start()

    yield _make
    for env in envs:
        env.close()


@pytest.fixture
def api_env(make_api_env: MakeApiEnv) -> ApiEnv:
    """The default project in process: classification over ``LABELS``, overlap 1, 5 records."""
    return make_api_env()


def error_of(response: httpx.Response) -> tuple[int, str]:
    """``(status, code)`` of an error response, checking the stable error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    return response.status_code, body["error"]["code"]


@pytest.fixture
def api_error() -> Callable[[httpx.Response], tuple[int, str]]:
    """``api_error(response) -> (status, code)``, asserting ``{"error": {"code", "message"}}``."""
    return error_of
