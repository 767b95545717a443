"""Store operations for imports (a mixin of :class:`~goldsmith.store.base.StoreTx`).

An import writes its records in many short transactions, so annotators' submits never wait
behind it for more than one chunk. Until :meth:`ImportsTx.finish_import` flips its row from
``writing`` to ``published`` in one statement, its records are hidden from every read that
lists or counts records (:meth:`ImportsTx._live` and :meth:`ImportsTx._live_ref` are the
filters those reads add). ``owner`` (``host:pid``) and ``heartbeat`` let a later open tell an
import still running from one whose process died (:mod:`goldsmith.ingest.staging`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, select, true, update

from goldsmith.store.tables import imports, records

WRITING = "writing"
PUBLISHED = "published"
_IMPORT_LOCK = 0x601D6  # PostgreSQL advisory lock: one import starts at a time


class ImportsTx:
    _conn: Connection

    def start_import(
        self,
        source: str,
        fmt: str,
        options: dict[str, Any],
        *,
        owner: str | None = None,
        now: float | None = None,
    ) -> int:
        """Record a new import, ``writing`` (its records hidden) until :meth:`finish_import`."""
        if self._conn.dialect.name == "postgresql":  # two starts see each other's rows
            self._conn.execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK)))
        row = self._conn.execute(
            imports.insert()
            .values(
                source=source,
                format=fmt,
                options=options,
                n_read=0,
                n_inserted=0,
                n_duplicates=0,
                n_rejected=0,
                status=WRITING,
                owner=owner,
                heartbeat=now,
            )
            .returning(imports.c.id)
        ).one()
        return int(row.id)

    def touch_import(self, import_id: int, now: float) -> None:
        """Say the writing import is alive (once per chunk)."""
        stmt = update(imports).where(imports.c.id == import_id).values(heartbeat=now)
        self._conn.execute(stmt)

    def finish_import(self, import_id: int, **counts: int) -> None:
        """Store the import's counts and publish it: its records become visible at once."""
        stmt = update(imports).where(imports.c.id == import_id)
        self._conn.execute(stmt.values(status=PUBLISHED, **counts))

    def list_imports(self) -> list[dict[str, Any]]:
        """The published imports, oldest first."""
        q = select(imports).where(imports.c.status == PUBLISHED).order_by(imports.c.id)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def writing_imports(self) -> list[dict[str, Any]]:
        """Imports not yet published: running, or abandoned by a process that died."""
        q = select(imports).where(imports.c.status == WRITING).order_by(imports.c.id)
        return [dict(r) for r in self._conn.execute(q).mappings()]

    def discard_import_records(self, import_id: int, limit: int) -> int:
        """Delete up to ``limit`` records of an unpublished import (their labels, responses
        and suggestions go with them); returns how many, 0 when none are left."""
        doomed = select(records.c.id).where(records.c.import_id == import_id).limit(limit)
        ids = list(self._conn.execute(doomed).scalars())
        if ids:
            self._conn.execute(delete(records).where(records.c.id.in_(ids)))
        return len(ids)

    def drop_import(self, import_id: int) -> None:
        """Delete an unpublished import's row (after :meth:`discard_import_records`)."""
        stmt = delete(imports).where(imports.c.id == import_id, imports.c.status == WRITING)
        self._conn.execute(stmt)

    # ------------------------------------------------------------------ visibility

    def _hidden_imports(self) -> Sequence[int]:
        """Ids of the imports still writing (usually none): asked per read, so a read on
        PostgreSQL (READ COMMITTED) never lists a chunk committed after it began."""
        q = select(imports.c.id).where(imports.c.status == WRITING)
        return [int(i) for i in self._conn.execute(q).scalars()]

    def _live(self) -> ColumnElement[bool]:
        """A filter on ``records`` keeping published records only."""
        hidden = self._hidden_imports()
        if not hidden:
            return true()
        return records.c.import_id.is_(None) | records.c.import_id.not_in(hidden)

    def _live_ref(self, record_id: Any) -> ColumnElement[bool]:
        """A filter on a ``record_id`` column keeping rows of published records only."""
        hidden = self._hidden_imports()
        if not hidden:
            return true()
        unpublished = select(records.c.id).where(records.c.import_id.in_(hidden))
        return record_id.not_in(unpublished)  # type: ignore[no-any-return]
