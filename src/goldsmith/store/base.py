"""The store interface: one :class:`Store` per project, used through short transactions.

``with store.write() as tx:`` is one all-or-nothing write transaction (``BEGIN IMMEDIATE`` on
SQLite); ``with store.read() as tx:`` is a read snapshot. :class:`StoreTx` is the only object
that touches SQL; library modules call its methods and never see a connection.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from goldsmith.errors import NotFoundError, StoreError
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    SuggestionKind,
)
from goldsmith.store import engine as _engine
from goldsmith.store.access import AccessTx
from goldsmith.store.browse import BrowseTx
from goldsmith.store.embeddings import EmbeddingsTx
from goldsmith.store.quality import QualityTx
from goldsmith.store.queue import QueueTx
from goldsmith.store.tables import (
    final_labels,
    guidelines,
    records,
    responses,
    suggestions,
)
from goldsmith.store.votes import VotesTx

CHUNK = 900  # bound for IN (...) lists: well under SQLite's variable limit
WRITE_CHUNK = 20_000  # rows per executemany of a bulk write: bounds its memory


class Store:
    """A project's store. Opening it applies pending migrations."""

    def __init__(self, url: str, *, schema: str | None = None, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = _engine.make_engine(url, schema=schema)
        self._sqlite = self.engine.dialect.name == "sqlite"
        if migrate:
            try:
                _engine.migrate(self.engine)
            except BaseException:
                self.engine.dispose()  # close pooled connections of a store we refuse
                raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """A long job written in many short transactions (an import): on SQLite one passive
        checkpoint, which never waits for readers, follows it. No commit checkpoints by
        itself (``wal_autocheckpoint=0``): copying the WAL back after each batch made a
        1M-row import 1.4x slower, and after each of ``serve``'s submits, with an import's WAL
        beside them, it took seconds."""
        try:
            yield
        finally:
            if self._sqlite:
                _engine.checkpoint(self.engine)

    def checkpoint_every(self, seconds: float) -> Callable[[], None]:
        """On SQLite, checkpoint the WAL every ``seconds`` in a background thread (a long-lived
        process such as ``serve``); returns the function that stops it."""
        if not self._sqlite:
            return lambda: None
        return _engine.Checkpointer(self.engine, seconds).stop

    @contextmanager
    def write(self) -> Iterator[StoreTx]:
        """One write transaction; everything in it commits together or not at all."""
        opts = {_engine.IMMEDIATE: True}
        try:
            with self.engine.connect().execution_options(**opts) as conn, conn.begin():
                yield StoreTx(conn)
        except sqlite3.DatabaseError as exc:  # from the driver itself (store/hotpath.py)
            _engine.raise_if_damaged(self.url, exc)
            raise

    @contextmanager
    def read(self) -> Iterator[StoreTx]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield StoreTx(conn)
        except sqlite3.DatabaseError as exc:  # from the driver itself (store/hotpath.py)
            _engine.raise_if_damaged(self.url, exc)
            raise

    def revision(self) -> str | None:
        return _engine.current_revision(self.engine)

    def close(self) -> None:
        if self._sqlite:
            with suppress(SQLAlchemyError, sqlite3.Error, StoreError):  # closing anyway
                _engine.checkpoint(self.engine)
        self.engine.dispose()


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batched(items: Iterable[Any], size: int = WRITE_CHUNK) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size``, pulled lazily: never more than one list held."""
    it = iter(items)
    while part := list(islice(it, size)):
        yield part


def _mapping(row: Any) -> Any:
    """A result row as a mapping: SQLAlchemy rows and the hot path's dicts alike."""
    return getattr(row, "_mapping", row)


def _record(row: Any) -> Record:
    m = _mapping(row)
    return Record(
        id=m["id"],
        external_id=m["external_id"],
        fields=m["fields"],
        metadata=m["metadata"],
        source_file=m["source_file"],
        source_row=m["source_row"],
        content_hash=m["content_hash"],
        dup_group=m["dup_group"],
    )


def _suggestion(row: Any) -> Suggestion:
    m = _mapping(row)
    return Suggestion(
        record_id=m["record_id"],
        question=m["question"],
        value=m["value"],
        agent=m["agent"],
        kind=SuggestionKind(m["kind"]),
        score=m["score"],
    )


class StoreTx(AccessTx, QueueTx, VotesTx, EmbeddingsTx, QualityTx, BrowseTx):
    """Operations inside one transaction, grouped by table; users, keys and sessions come
    from :class:`AccessTx`, the annotation queue from :class:`QueueTx`, labeling-function
    votes from :class:`VotesTx`, imports from :class:`~goldsmith.store.imports.ImportsTx`, the
    records browser's listing from :class:`~goldsmith.store.browse.BrowseTx`.

    Reads that list or count records see published records only: an import still writing
    stays hidden (:meth:`ImportsTx._live`). Reads by id do not filter.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ------------------------------------------------------------------ records

    def existing_hashes(self, hashes: Sequence[str]) -> set[str]:
        """Which of ``hashes`` are already stored."""
        found: set[str] = set()
        for part in _chunks(list(hashes)):
            q = select(records.c.content_hash).where(records.c.content_hash.in_(part))
            found.update(self._conn.execute(q).scalars())
        return found

    def existing_hash_ids(self, hashes: Sequence[str]) -> dict[str, int]:
        """The stored record id of each of ``hashes`` that is already stored."""
        found: dict[str, int] = {}
        for part in _chunks(list(hashes)):
            q = select(records.c.content_hash, records.c.id).where(records.c.content_hash.in_(part))
            found.update((h, int(i)) for h, i in self._conn.execute(q))
        return found

    def existing_external_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already the external id of a stored record."""
        found: set[str] = set()
        for part in _chunks(list(ids)):
            q = select(records.c.external_id).where(records.c.external_id.in_(part))
            found.update(self._conn.execute(q).scalars())
        return found

    def list_records(self, *, offset: int = 0, limit: int = 100) -> list[Record]:
        q = select(records).where(self._live()).order_by(records.c.id)
        q = q.offset(offset).limit(limit)
        return [_record(r) for r in self._conn.execute(q)]

    def insert_records(self, batch: Sequence[Record], *, import_id: int | None = None) -> list[int]:
        """Insert records (hashes must be new) and return their ids in input order."""
        if not batch:
            return []
        rows = [
            {
                "external_id": r.external_id,
                "fields": r.fields,
                "metadata": r.metadata,
                "source_file": r.source_file,
                "source_row": r.source_row,
                "content_hash": r.content_hash,
                "import_id": import_id,
            }
            for r in batch
        ]
        try:
            if self.dialect == "sqlite":
                ids = self._next_sqlite_ids(len(rows))
                self._sqlite_insert_records(rows, ids)
            else:
                stmt = records.insert().returning(records.c.id, sort_by_parameter_order=True)
                ids = [int(i) for i in self._conn.execute(stmt, rows).scalars()]
        except IntegrityError as exc:
            raise StoreError(f"could not insert records: {exc.orig}") from exc
        for rec, rid in zip(batch, ids, strict=True):
            rec.id = rid
        return ids

    def _sqlite_insert_records(self, rows: list[dict[str, Any]], ids: list[int]) -> None:
        """The import hot path on SQLite: one driver-level executemany with JSON encoded
        here, skipping SQLAlchemy's per-row type processing (2-3x faster end to end)."""
        dumps = json.dumps
        params = [
            (
                rid,
                r["external_id"],
                dumps(r["fields"]),
                dumps(r["metadata"]),
                r["source_file"],
                r["source_row"],
                r["content_hash"],
                r["import_id"],
            )
            for rid, r in zip(ids, rows, strict=True)
        ]
        self._conn.exec_driver_sql(
            "INSERT INTO records (id, external_id, fields, metadata, source_file, source_row,"
            " content_hash, import_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params,
        )

    def _next_sqlite_ids(self, n: int) -> list[int]:
        """``n`` fresh record ids. Safe: writers hold SQLite's only write lock, and
        AUTOINCREMENT's sequence guarantees an id is never reused after a delete."""
        last = self._conn.exec_driver_sql(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0),"
            " coalesce((SELECT max(id) FROM records), 0))"
        ).scalar_one()
        return list(range(int(last) + 1, int(last) + 1 + n))

    def count_records_between(self, after_id: int, up_to_id: int) -> int:
        q = select(func.count()).where(
            records.c.id > after_id, records.c.id <= up_to_id, self._live()
        )
        return int(self._conn.execute(q).scalar_one())

    def count_records(self) -> int:
        q = select(func.count()).select_from(records).where(self._live())
        return int(self._conn.execute(q).scalar_one())

    def get_records(self, ids: Sequence[int]) -> list[Record]:
        """Records by id, in the order asked; a missing id is an error."""
        by_id: dict[int, Record] = {}
        for part in _chunks(list(ids)):
            for row in self._conn.execute(select(records).where(records.c.id.in_(part))):
                by_id[row.id] = _record(row)
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise NotFoundError(f"no record(s) with id {missing[:10]}")
        return [by_id[i] for i in ids]

    def require_records(self, ids: Iterable[int]) -> None:
        """Raise NotFoundError naming the ids that are not stored."""
        wanted = sorted(set(ids))
        found: set[int] = set()
        for part in _chunks(wanted):
            found.update(
                self._conn.execute(select(records.c.id).where(records.c.id.in_(part))).scalars()
            )
        missing = [i for i in wanted if i not in found]
        if missing:
            raise NotFoundError(f"no record(s) with id {missing[:10]}")

    def record_with_suggestions(self, record_id: int) -> tuple[Record, list[Suggestion]]:
        """One record and its suggestions: the annotate view's read, on prebuilt statements."""
        row = self._sql.record.first(self._conn, {"rid": record_id})
        if row is None:
            raise NotFoundError(f"no record {record_id}")
        found = self._sql.suggestions.rows(self._conn, {"rid": record_id})
        return _record(row), [_suggestion(r) for r in found]

    def iter_records(
        self, *, batch_size: int = 2000, after_id: int = 0, up_to_id: int | None = None
    ) -> Iterator[list[Record]]:
        """Records with ``after_id < id <= up_to_id`` in id order, in batches (keyset
        pagination: bounded memory)."""
        last = after_id
        while True:
            q = select(records).where(records.c.id > last, self._live())
            if up_to_id is not None:
                q = q.where(records.c.id <= up_to_id)
            q = q.order_by(records.c.id).limit(batch_size)
            batch = [_record(r) for r in self._conn.execute(q)]
            if not batch:
                return
            yield batch
            last = batch[-1].id  # type: ignore[assignment]

    def set_dup_groups(self, groups: Mapping[int, int | None]) -> None:
        """Set ``records.dup_group`` per record id (None clears it), in one batched UPDATE."""
        if not groups:
            return
        stmt = (
            update(records)
            .where(records.c.id == bindparam("rid"))
            .values(dup_group=bindparam("gid"))
        )
        self._conn.execute(stmt, [{"rid": int(r), "gid": g} for r, g in groups.items()])

    def add_guideline(self, text: str) -> int:
        """Store a new guideline version (unless identical to the latest); return its number."""
        sha = hashlib.sha256(text.encode()).hexdigest()
        latest = self._conn.execute(
            select(guidelines.c.version, guidelines.c.sha).order_by(guidelines.c.version.desc())
        ).first()
        if latest is not None and latest.sha == sha:
            return int(latest.version)
        version = 1 if latest is None else int(latest.version) + 1
        self._conn.execute(guidelines.insert().values(version=version, text=text, sha=sha))
        return version

    def guideline(self, version: int | None = None) -> tuple[int, str]:
        q = select(guidelines.c.version, guidelines.c.text)
        q = (
            q.order_by(guidelines.c.version.desc())
            if version is None
            else q.where(guidelines.c.version == version)
        )
        row = self._conn.execute(q).first()
        if row is None:
            what = "no guidelines yet" if version is None else f"no guideline version {version}"
            raise NotFoundError(f"{what}; set them with `goldsmith guidelines set FILE`")
        return int(row.version), str(row.text)

    def latest_guideline_version(self) -> int | None:
        return self._conn.execute(select(func.max(guidelines.c.version))).scalar_one_or_none()

    def guideline_versions(self) -> list[tuple[int, Any]]:
        q = select(guidelines.c.version, guidelines.c.created_at).order_by(guidelines.c.version)
        return [(int(r.version), r.created_at) for r in self._conn.execute(q)]

    # ------------------------------------------------------------------ suggestions

    def add_suggestions(self, items: Iterable[Suggestion]) -> int:
        """Insert suggestions; ``items`` is consumed ``WRITE_CHUNK`` at a time, so a generator
        of millions costs the memory of one chunk."""
        n = 0
        for part in batched(items):
            rows = [
                {
                    "record_id": s.record_id,
                    "question": s.question,
                    "value": s.value,
                    "score": s.score,
                    "agent": s.agent,
                    "kind": str(s.kind),
                }
                for s in part
            ]
            self._conn.execute(suggestions.insert(), rows)
            n += len(rows)
        return n

    def suggestions_for(self, record_ids: Sequence[int]) -> list[Suggestion]:
        out: list[Suggestion] = []
        for part in _chunks(list(record_ids)):
            q = (
                select(suggestions)
                .where(suggestions.c.record_id.in_(part))
                .order_by(suggestions.c.id)
            )
            out.extend(_suggestion(r) for r in self._conn.execute(q))
        return out

    # ------------------------------------------------------------------ responses

    def upsert_responses(self, items: Iterable[Response]) -> int:
        """Insert responses; a second response by the same user to a record replaces the first.

        The queue counts of the records touched are brought up to date."""
        items = list(items)
        rows = [
            {
                "rid": r.record_id,
                "user": r.user,
                "values": r.values,
                "status": str(r.status),
                "guideline_version": r.guideline_version,
                "time_spent": r.time_spent,
            }
            for r in items
        ]
        if not rows:
            return 0
        # the same upsert the annotation hot path runs one at a time, here as executemany
        self._sql.upsert_response.run_many(self._conn, rows)
        overlap = self.get_meta("overlap") or 1
        self.refresh_queue([r.record_id for r in items], overlap=int(overlap))
        return len(rows)

    def responses_for(
        self, record_ids: Sequence[int], *, status: ResponseStatus | None = None
    ) -> list[Response]:
        out: list[Response] = []
        for part in _chunks(list(record_ids)):
            q = select(responses).where(responses.c.record_id.in_(part))
            if status is not None:
                q = q.where(responses.c.status == str(status))
            out.extend(
                Response(
                    record_id=r.record_id,
                    user=r.user,
                    values=r._mapping["values"],
                    status=ResponseStatus(r.status),
                    guideline_version=r.guideline_version,
                    time_spent=r.time_spent,
                )
                for r in self._conn.execute(q.order_by(responses.c.id))
            )
        return out

    def records_with_responses(self, *, status: ResponseStatus) -> Iterator[int]:
        q = (
            select(responses.c.record_id)
            .where(responses.c.status == str(status), self._live_ref(responses.c.record_id))
            .distinct()
            .order_by(responses.c.record_id)
        )
        yield from self._conn.execute(q).scalars()

    # ------------------------------------------------------------------ final labels

    def set_final_labels(self, items: Iterable[FinalLabel], *, replace: bool = True) -> int:
        """Insert or replace final labels, keyed by (record, question).

        ``replace=False`` is a plain insert, for records that cannot have labels yet.
        ``items`` is consumed ``WRITE_CHUNK`` at a time (bounded memory for a generator).
        """
        n = 0
        for part in batched(items):
            n += self._set_final_labels(part, replace=replace)
        return n

    def _set_final_labels(self, items: Sequence[FinalLabel], *, replace: bool) -> int:
        rows = [
            {
                "record_id": f.record_id,
                "question": f.question,
                "value": f.value,
                "confidence": f.confidence,
                "provenance": str(f.provenance),
            }
            for f in items
        ]
        if not rows:
            return 0
        if not replace and self.dialect == "sqlite":  # fast path, as for records
            self._conn.exec_driver_sql(
                "INSERT INTO final_labels (record_id, question, value, confidence, provenance)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        r["record_id"],
                        r["question"],
                        json.dumps(r["value"]),
                        r["confidence"],
                        r["provenance"],
                    )
                    for r in rows
                ],
            )
            return len(rows)
        if not replace:
            self._conn.execute(final_labels.insert(), rows)
            return len(rows)
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(final_labels)
        stmt = stmt.on_conflict_do_update(
            index_elements=["record_id", "question"],
            set_={
                "value": stmt.excluded.value,
                "confidence": stmt.excluded.confidence,
                "provenance": stmt.excluded.provenance,
                "updated_at": func.now(),
            },
        )
        self._conn.execute(stmt, rows)
        return len(rows)

    def iter_labeled(
        self,
        *,
        provenance: Sequence[Provenance] | None = None,
        min_confidence: float = 0.0,
        batch_size: int = 2000,
    ) -> Iterator[list[tuple[Record, dict[str, FinalLabel]]]]:
        """Records that have final labels passing the filters, with those labels, by id."""
        last = 0
        fl = final_labels
        cond = [fl.c.confidence >= min_confidence, self._live_ref(fl.c.record_id)]
        if provenance is not None:
            cond.append(fl.c.provenance.in_([str(p) for p in provenance]))
        while True:
            ids_q = (
                select(fl.c.record_id)
                .where(and_(fl.c.record_id > last, *cond))
                .distinct()
                .order_by(fl.c.record_id)
                .limit(batch_size)
            )
            ids = list(self._conn.execute(ids_q).scalars())
            if not ids:
                return
            recs = {r.id: r for r in self.get_records(ids)}
            labels: dict[int, dict[str, FinalLabel]] = {i: {} for i in ids}
            q = select(fl).where(and_(fl.c.record_id.in_(ids), *cond))
            for row in self._conn.execute(q):
                labels[row.record_id][row.question] = FinalLabel(
                    record_id=row.record_id,
                    question=row.question,
                    value=row.value,
                    provenance=Provenance(row.provenance),
                    confidence=row.confidence,
                )
            yield [(recs[i], labels[i]) for i in ids]
            last = ids[-1]

    def synthetic_parents(self, record_ids: Sequence[int]) -> dict[int, int]:
        """The parent record of each synthetic record (``metadata.synthetic``)."""
        out: dict[int, int] = {}
        for part in _chunks(list(record_ids)):
            q = select(records.c.id, records.c.metadata).where(records.c.id.in_(part))
            for rid, meta in self._conn.execute(q):
                info = (meta or {}).get("synthetic") if isinstance(meta, dict) else None
                parent = info.get("parent_record_id") if isinstance(info, dict) else None
                if parent is not None:
                    out[int(rid)] = int(parent)
        return out

    def iter_label_keys(
        self,
        question: str,
        *,
        provenance: Sequence[Provenance] | None = None,
        min_confidence: float = 0.0,
        batch_size: int = 10_000,
    ) -> Iterator[list[tuple[int, Any, int | None]]]:
        """``(record id, final value, dup group)`` of one question, by id, without the texts.

        The light first pass of an export: enough to plan stratified, group-aware splits.
        """
        fl = final_labels
        cond = [fl.c.question == question, fl.c.confidence >= min_confidence]
        if provenance is not None:
            cond.append(fl.c.provenance.in_([str(p) for p in provenance]))
        last = 0
        while True:
            q = (
                select(fl.c.record_id, fl.c.value, records.c.dup_group)
                .join(records, records.c.id == fl.c.record_id)
                .where(and_(fl.c.record_id > last, self._live(), *cond))
                .order_by(fl.c.record_id)
                .limit(batch_size)
            )
            batch = [(int(r[0]), r[1], r[2]) for r in self._conn.execute(q)]
            if not batch:
                return
            yield batch
            last = batch[-1][0]

    def final_labels_for(self, record_ids: Sequence[int]) -> list[FinalLabel]:
        out: list[FinalLabel] = []
        for part in _chunks(list(record_ids)):
            q = select(final_labels).where(final_labels.c.record_id.in_(part))
            out.extend(
                FinalLabel(
                    record_id=r.record_id,
                    question=r.question,
                    value=r.value,
                    provenance=Provenance(r.provenance),
                    confidence=r.confidence,
                )
                for r in self._conn.execute(q)
            )
        return out

    # ------------------------------------------------------------------ summaries

    def status_counts(self) -> dict[str, int]:
        """Records by workflow status: labeled (has a final label), annotated, pending."""
        total = self.count_records()
        live = self._live_ref(final_labels.c.record_id)
        labeled = self._conn.execute(
            select(func.count(func.distinct(final_labels.c.record_id))).where(live)
        ).scalar_one()
        annotated_q = (
            select(func.count(func.distinct(responses.c.record_id)))
            .where(responses.c.status == str(ResponseStatus.SUBMITTED))
            .where(~responses.c.record_id.in_(select(final_labels.c.record_id)))
            .where(self._live_ref(responses.c.record_id))
        )
        annotated = self._conn.execute(annotated_q).scalar_one()
        return {
            "total": total,
            "labeled": int(labeled),
            "annotated": int(annotated),
            "pending": total - int(labeled) - int(annotated),
        }

    def final_value_counts(self, question: str) -> dict[str, int]:
        """Counts of final values of one question, keyed by the value's JSON text."""
        q = (
            select(final_labels.c.value, func.count())
            .where(final_labels.c.question == question)
            .where(self._live_ref(final_labels.c.record_id))
            .group_by(final_labels.c.value)
        )
        return {_key(v): int(n) for v, n in self._conn.execute(q)}

    def provenance_counts(self) -> dict[str, int]:
        q = select(final_labels.c.provenance, func.count(func.distinct(final_labels.c.record_id)))
        q = q.where(self._live_ref(final_labels.c.record_id)).group_by(final_labels.c.provenance)
        return {str(p): int(n) for p, n in self._conn.execute(q)}

    def suggestion_counts(self) -> dict[str, int]:
        q = select(suggestions.c.kind, func.count()).where(self._live_ref(suggestions.c.record_id))
        q = q.group_by(suggestions.c.kind)
        return {str(k): int(n) for k, n in self._conn.execute(q)}


def _key(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
