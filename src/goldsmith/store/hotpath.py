"""Run a prebuilt statement either through SQLAlchemy or, on SQLite, straight on the driver.

SQLAlchemy's per-statement execution costs about 35 µs of Python; SQLite itself needs a few.
The annotation hot path runs ~20 statements per next + submit, so on SQLite each prebuilt
statement is compiled once to plain SQL (``?`` placeholders in a known order) and executed on
the connection's ``sqlite3`` cursor, inside the same transaction SQLAlchemy opened. SQL is
still written once, as SQLAlchemy Core; PostgreSQL keeps the ordinary path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import JSON, Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

_SQLITE = sqlite.dialect()


class Prepared:
    """One statement, with its SQLite text and parameter order when on SQLite."""

    def __init__(self, stmt: ClauseElement, dialect: str) -> None:
        self.stmt = stmt
        self.sql: str | None = None
        if dialect != "sqlite":
            return
        compiled = cast(SQLCompiler, stmt.compile(dialect=_SQLITE))
        self.sql = str(compiled)
        self.names: list[str] = list(compiled.positiontup or [])
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.json_params = {
            name
            for name, bind in compiled.binds.items()
            if isinstance(bind.type, JSON) and name in self.names
        }
        columns = getattr(stmt, "selected_columns", None)
        self.json_columns = (
            {c.name for c in columns if isinstance(c.type, JSON)} if columns is not None else set()
        )

    def _args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name in self.names:
            value = params[name] if name in params else self.defaults[name]
            out.append(json.dumps(value) if name in self.json_params else value)
        return out

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """All result rows as dicts (JSON columns decoded)."""
        if self.sql is None:
            return [
                dict(r._mapping) for r in conn.execute(cast(Executable, self.stmt), dict(params))
            ]
        cursor = conn.connection.driver_connection.execute(self.sql, self._args(params))  # type: ignore[union-attr]
        names = [d[0] for d in cursor.description]
        out = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for col in self.json_columns:
                if isinstance(row.get(col), str):
                    row[col] = json.loads(row[col])
            out.append(row)
        return out

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        if self.sql is None:
            return conn.execute(cast(Executable, self.stmt), dict(params)).scalar()
        cursor = conn.connection.driver_connection.execute(self.sql, self._args(params))  # type: ignore[union-attr]
        row = cursor.fetchone()
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> None:
        if self.sql is None:
            conn.execute(cast(Executable, self.stmt), dict(params))
            return
        conn.connection.driver_connection.execute(self.sql, self._args(params))  # type: ignore[union-attr]

    def run_many(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Execute once per row, as one SQLAlchemy executemany (bulk writes, both stores)."""
        conn.execute(cast(Executable, self.stmt), rows)
