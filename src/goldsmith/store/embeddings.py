"""Stored embeddings: one float32 vector per (record, embedder id).

The embedder id (see :mod:`goldsmith.models.embed`) names the model and a digest of its
weights or fit, so vectors of two models, or of two fits of one, are never mixed. A vector is
``dim`` little-endian float32 values in a binary column, keyed by (model id, record id);
writes are one executemany upsert per chunk, reads one ``IN`` query per chunk of ids.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from goldsmith.errors import ArgumentError, NotFoundError, StoreError
from goldsmith.store.imports import ImportsTx
from goldsmith.store.tables import embeddings, records

CHUNK = 900  # bound for IN (...) lists: well under SQLite's variable limit
WRITE_CHUNK = 5000  # rows per executemany
F32 = np.dtype("<f4")


class EmbeddingsTx(ImportsTx):
    _conn: Connection

    def put_embeddings(
        self, model_id: str, record_ids: Sequence[int], vectors: npt.ArrayLike
    ) -> int:
        """Store ``vectors`` (n, d) of ``record_ids`` under ``model_id``, replacing old ones."""
        mat = np.ascontiguousarray(np.asarray(vectors), dtype=F32)
        ids = [int(i) for i in record_ids]
        if mat.ndim != 2 or mat.shape[0] != len(ids):
            raise ArgumentError(f"vectors must be ({len(ids)}, d); got shape {mat.shape}")
        if len(set(ids)) != len(ids):
            raise ArgumentError("record_ids repeat; one vector per record and model")
        if not ids:
            return 0
        dim = int(mat.shape[1])
        old = self.embedding_dim(model_id)
        if old is not None and old != dim:
            raise StoreError(f"{model_id!r} has {old}-d vectors stored; these are {dim}-d")
        dialect = self._conn.dialect.name
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(embeddings)
        stmt = insert.on_conflict_do_update(
            index_elements=[embeddings.c.model_id, embeddings.c.record_id],
            set_={"dim": insert.excluded.dim, "vector": insert.excluded.vector},
        )
        for start in range(0, len(ids), WRITE_CHUNK):
            rows = [
                {"record_id": rid, "model_id": model_id, "dim": dim, "vector": vec.tobytes()}
                for rid, vec in zip(
                    ids[start : start + WRITE_CHUNK], mat[start : start + WRITE_CHUNK], strict=True
                )
            ]
            try:
                self._conn.execute(stmt, rows)
            except IntegrityError as exc:  # the foreign key: a record that is not stored
                msg = f"cannot store embeddings: some record id is not stored ({exc.orig})"
                raise NotFoundError(msg) from exc
        return len(ids)

    def get_embeddings(
        self, model_id: str, record_ids: Sequence[int] | npt.NDArray[np.integer]
    ) -> npt.NDArray[np.float32]:
        """The (n, d) float32 vectors of ``record_ids`` in the order asked.

        Raises :class:`NotFoundError` naming records without a vector for ``model_id``."""
        ids = np.asarray(record_ids, dtype=np.int64).reshape(-1)
        wanted, inverse = np.unique(ids, return_inverse=True)
        dim = self.embedding_dim(model_id)
        found = np.zeros((len(wanted), dim or 0), dtype=np.float32)
        seen = np.zeros(len(wanted), dtype=bool)
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            q = select(embeddings.c.record_id, embeddings.c.vector).where(
                embeddings.c.model_id == model_id,
                embeddings.c.record_id.in_([int(i) for i in part]),
            )
            for rid, blob in self._conn.execute(q):
                row = start + int(np.searchsorted(part, rid))
                found[row] = np.frombuffer(blob, dtype=F32)
                seen[row] = True
        if not seen.all():
            missing = wanted[~seen]
            raise NotFoundError(
                f"no {model_id!r} embedding for record(s) {missing[:10].tolist()} "
                f"({len(missing)} in all); compute them first (goldsmith embed)"
            )
        return found[inverse]

    def missing_embeddings(self, model_id: str, record_ids: Sequence[int] | None) -> list[int]:
        """Which of ``record_ids`` (None: every record) have no vector for ``model_id``,
        ascending."""
        if record_ids is None:
            has = exists().where(
                and_(embeddings.c.record_id == records.c.id, embeddings.c.model_id == model_id)
            )
            q = select(records.c.id).where(~has, self._live()).order_by(records.c.id)
            return [int(i) for i in self._conn.execute(q).scalars()]
        wanted = sorted({int(i) for i in record_ids})
        stored: set[int] = set()
        for start in range(0, len(wanted), CHUNK):
            q = select(embeddings.c.record_id).where(
                embeddings.c.model_id == model_id,
                embeddings.c.record_id.in_(wanted[start : start + CHUNK]),
            )
            stored.update(self._conn.execute(q).scalars())
        return [i for i in wanted if i not in stored]

    def embedding_page(
        self, model_id: str, *, after_id: int = 0, limit: int = 50_000
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The next ``limit`` vectors of ``model_id`` with record id above ``after_id``, by
        record id (keyset pagination: stream every vector in bounded memory)."""
        q = (
            select(embeddings.c.record_id, embeddings.c.vector)
            .where(embeddings.c.model_id == model_id, embeddings.c.record_id > after_id)
            .order_by(embeddings.c.record_id)
            .limit(limit)
        )
        rows = self._conn.execute(q).all()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, self.embedding_dim(model_id) or 0), dtype=np.float32)
        blob = b"".join(r[1] for r in rows)
        return ids, np.frombuffer(blob, dtype=F32).reshape(len(rows), -1).astype(np.float32)

    def count_embeddings(self, model_id: str) -> int:
        """How many records have a vector for ``model_id``."""
        q = select(func.count()).select_from(embeddings).where(embeddings.c.model_id == model_id)
        return int(self._conn.execute(q).scalar_one())

    def embedding_dim(self, model_id: str) -> int | None:
        """Vector length stored for ``model_id``, or None when it has none."""
        q = select(embeddings.c.dim).where(embeddings.c.model_id == model_id).limit(1)
        dim = self._conn.execute(q).scalar_one_or_none()
        return None if dim is None else int(dim)

    def embedding_models(self) -> dict[str, tuple[int, int]]:
        """Every stored embedder id with its (vector count, dim)."""
        q = select(embeddings.c.model_id, func.count(), func.max(embeddings.c.dim)).group_by(
            embeddings.c.model_id
        )
        return {str(m): (int(n), int(d)) for m, n, d in self._conn.execute(q)}

    def delete_embeddings(self, model_id: str) -> int:
        """Drop every vector of ``model_id``; returns how many."""
        done = self._conn.execute(delete(embeddings).where(embeddings.c.model_id == model_id))
        return int(done.rowcount)
