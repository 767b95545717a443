"""An on-disk cache of LLM answers, so a paid call is never made twice.

A SQLite file (by convention ``<project>/.goldsmith/llm-cache.sqlite``) maps the sha256 of the
canonical request body (model, messages, response_format, temperature, n, logprobs, seed, ...)
to the completion the endpoint returned. Each answer is committed the moment it arrives, with
``synchronous=FULL``, so a run that crashes loses no paid answer and its rerun resends only
what had not come back. The endpoint's address and the API key are not part of the key: the
same model behind another URL shares answers, and no secret is ever written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from goldsmith.errors import StoreError

DEFAULT_CACHE = Path(".goldsmith") / "llm-cache.sqlite"
"""Where a project keeps its LLM cache, relative to the project folder."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys: equal requests give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(body: Mapping[str, Any]) -> str:
    """The cache key of a request body: sha256 of its canonical JSON.

    >>> request_key({"model": "m", "n": 1}) == request_key({"n": 1, "model": "m"})
    True
    """
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class LLMCache:
    """Completions by request key, in a SQLite file; safe to share between threads.

    Parameters
    ----------
    path
        The SQLite file; its folder is created when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the LLM cache {self.path}: {exc}; check the folder is writable"
            ) from exc
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"LLMCache({str(self.path)!r})"

    def get(self, key: str) -> dict[str, Any] | None:
        """The completion stored under ``key``, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT response FROM completions WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, key: str, model: str, response: Mapping[str, Any]) -> None:
        """Store (and commit) one completion."""
        blob = canonical_json(response)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO completions (key, model, response, created) "
                "VALUES (?, ?, ?, ?)",
                (key, model, blob, time.time()),
            )

    def entries(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every stored ``(key, model, completion)``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, model, response FROM completions ORDER BY created, key"
            ).fetchall()
        return [(key, model, dict(json.loads(blob))) for key, model, blob in rows]

    def __len__(self) -> int:
        with self._lock:
            (n,) = self._conn.execute("SELECT count(*) FROM completions").fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LLMCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
