"""A store that cannot answer gives a 503 the client may retry, never a 400 or a traceback."""

from __future__ import annotations

import json
import sqlite3

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from goldsmith.errors import StoreError
from goldsmith.server.errors import install, status_and_code


def _app() -> FastAPI:
    app = FastAPI()
    install(app)

    @app.get("/damaged")
    def damaged() -> None:
        raise StoreError("the store /p/goldsmith.db is damaged: restore the backup")

    @app.get("/locked")
    def locked() -> None:
        raise OperationalError(
            "UPDATE records ...", {}, sqlite3.OperationalError("database is locked")
        )

    return app


def test_a_store_error_is_503_with_retry_after() -> None:
    assert status_and_code(StoreError("x")) == (503, "store_unavailable")
    with TestClient(_app()) as client:
        r = client.get("/damaged")
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "5"
        assert r.json()["error"]["code"] == "store_unavailable"
        assert "damaged" in r.json()["error"]["message"]
        r = client.get("/locked")
        assert r.status_code == 503
        body = r.json()
        assert body["error"]["code"] == "store_unavailable"
        assert "database is locked" in body["error"]["message"]
        assert "Traceback" not in json.dumps(body)
