"""ASGI factories that ``bench/server_load.py`` serves with ``uvicorn --factory``.

* :func:`goldsmith_app`: goldsmith's own server, ``create_app(ServerSettings(...))`` over the
  project in ``$GS_BENCH_ROOT`` (store URL from ``$GS_BENCH_DB`` when set).
* :func:`anchor_app`: the anchor, a minimal FastAPI + SQLite endpoint that validates a body
  like goldsmith's and inserts it as one row (autocommit, WAL, ``synchronous=NORMAL`` like
  goldsmith's store; one ``sqlite3`` connection per worker thread; no auth, no queue).

Both run under the same uvicorn settings, in their own process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from goldsmith.server import ServerSettings, create_app


def goldsmith_app() -> FastAPI:
    root = Path(os.environ["GS_BENCH_ROOT"])
    return create_app(ServerSettings(project_root=root, db_url=os.environ.get("GS_BENCH_DB")))


class AnswerBody(BaseModel):
    values: dict[str, Any]
    status: str = "submitted"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY,
    record_id INTEGER NOT NULL,
    user TEXT NOT NULL,
    "values" TEXT NOT NULL,
    status TEXT NOT NULL
)
"""


def anchor_app() -> FastAPI:
    path = os.environ["GS_BENCH_ANCHOR_DB"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            local.conn = conn
        return conn

    connection().execute(_SCHEMA)
    app = FastAPI(title="anchor")

    @app.put("/insert/{record_id}")
    def insert(record_id: int, body: AnswerBody) -> dict[str, int]:
        cur = connection().execute(
            'INSERT INTO responses (record_id, user, "values", status) VALUES (?, ?, ?, ?)',
            (record_id, "anchor", json.dumps(body.values), body.status),
        )
        return {"id": int(cur.lastrowid or 0)}

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    return app
