"""Store operations for the annotation queue (a mixin of :class:`StoreTx`).

A record is open until it has ``overlap`` submitted responses (``records.queue_done``). A lease
reserves an open record for one annotator until it expires. Leasing and submitting run in
write transactions. SQLite serialises them with ``BEGIN IMMEDIATE`` (one writer), so the
plain statements are enough there.

PostgreSQL runs them concurrently (several connections, several server workers) under READ
COMMITTED, with these locks, always taken in this order so that two transactions never wait
on each other in a cycle:

1. a transaction-scoped advisory lock per user (:meth:`QueueTx._lock_user`): one user's
   requests run one after the other, so a user holds one live lease, as on SQLite;
2. the record's row (``FOR UPDATE``): submitting waits for it; leasing takes the candidate
   with ``FOR UPDATE SKIP LOCKED``, so concurrent leasers pass each other's records by instead
   of queueing behind them;
3. lease and response rows (the writes themselves).

A row lock alone does not make leasing safe: the candidate select judges "fewer than
``overlap`` holders" on the snapshot its statement started with, and a record whose lock was
released just before the select reached it (by a leaser that had not changed the record row)
is locked and returned on that stale judgement. So the lease is written by a second statement,
``INSERT ... SELECT ... WHERE <still open>``, which takes a new snapshot while the row lock is
held: it sees every lease and submit committed before, and none can commit on that record
until this transaction ends. The candidate select and this insert replace the select and the
insert that leasing needs anyway, so PostgreSQL runs no more statements than before.

``SKIP LOCKED`` also passes by the last open records while other annotators' submits hold
their rows, though one may still need this annotator (overlap > 1). When it finds nothing, a
plain select (no locks) tells "done" from "locked for a moment"; the latter raises
:class:`QueueBusy`, and the caller asks again in a new transaction once the submits commit
(:func:`goldsmith.annotation.queue.next_item`). Waiting on the lock inside the transaction
instead deadlocks: a submit-and-next holds its own record's lock while it leases.

``next`` serves the open records by ``queue_rank``, then id. The ranks fall in bands, from
the front: records an owner sent there from the records browser (below :data:`OWNER_FRONT`,
the latest sent first), a round's batch (:data:`ROUND_FRONT` ``+ i``), doubtful LLM answers
(:data:`LLM_FRONT` ``+ confidence``), the query strategy's head (:data:`STRATEGY_HEAD`
``+ i``), every other record (0, the default: id order) and labeled records still awaiting
responses (``1 + i``). Only the head and the awaiting records are written by a retrain,
which leaves owners' records where they are
(:meth:`QueueTx.replace_queue_order`), so ordering 10M records rewrites thousands of rows,
not 10M.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Connection,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from goldsmith.errors import ConflictError, NotFoundError, PermissionDeniedError
from goldsmith.schema import Response, ResponseStatus
from goldsmith.store.hotpath import Prepared
from goldsmith.store.imports import WRITING, ImportsTx
from goldsmith.store.tables import (
    guidelines,
    honeypots,
    imports,
    leases,
    meta,
    records,
    responses,
    suggestions,
    users,
)

_USER_LOCK = 0x601D5  # advisory lock class: (class, hashtext(user)) serialises one user
_LEASE_TRIES = 16  # candidates tried when each turns out taken (only under a race; see above)
_ANSWERED = (str(ResponseStatus.SUBMITTED), str(ResponseStatus.DISCARDED))
_RANK_PAGE = 20_000  # ranks written per executemany


class QueueBusy(Exception):
    """PostgreSQL: the open records left for a user are all row-locked by other
    transactions right now (submits in flight); ask again in a new transaction."""


OWNER_FRONT = -4e9
"""Records an owner sent to the front: ranks below it, ahead of all; a retrain keeps them."""
ROUND_FRONT = -3e9
"""A round's batch: ``ROUND_FRONT + i``, ahead of everything else."""
LLM_FRONT = -2e9
"""Doubtful LLM answers: ``LLM_FRONT + confidence`` (the least confident first)."""
STRATEGY_HEAD = -1e9
"""The query strategy's order: ``STRATEGY_HEAD + i``, ahead of the unranked records (0)."""


def _response(row: Any) -> Response:
    m = getattr(row, "_mapping", row)  # a SQLAlchemy row or a hot-path dict
    return Response(
        record_id=m["record_id"],
        user=m["user"],
        values=m["values"],
        status=ResponseStatus(m["status"]),
        guideline_version=m["guideline_version"],
        time_spent=m["time_spent"],
    )


def _submitted_count() -> Any:
    """The number of submitted responses of the record in the enclosing statement."""
    return (
        select(func.count())
        .select_from(responses)
        .where(
            responses.c.record_id == records.c.id,
            responses.c.status == str(ResponseStatus.SUBMITTED),
        )
        .scalar_subquery()
    )


class _Statements:
    """The annotation hot path's statements, built once per dialect with bound parameters.

    Building a SQLAlchemy statement costs more Python time than running it on SQLite; these
    are built once and reused (their compiled form is cached by the engine).
    """

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        user = bindparam("user", type_=String())
        now = bindparam("now", type_=Float())
        rid = bindparam("rid", type_=Integer())
        self.held = (
            select(leases.c.record_id)
            .where(leases.c.user == user, leases.c.expires_at > now)
            .order_by(leases.c.record_id)
            .limit(1)
        )
        self.drop_expired = delete(leases).where(leases.c.user == user, leases.c.expires_at <= now)
        answered = (
            select(responses.c.id)
            .where(
                responses.c.record_id == records.c.id,
                responses.c.user == user,
                # two comparisons, not IN: an IN list compiles to a placeholder that expands
                # per execution, which the plain-SQL hot path cannot run
                or_(*(responses.c.status == status for status in _ANSWERED)),
            )
            .exists()
        )
        others = (
            select(func.count())
            .select_from(leases)
            .where(
                leases.c.record_id == records.c.id,
                leases.c.user != user,
                leases.c.expires_at > now,
            )
            .scalar_subquery()
        )
        honeypot = select(honeypots.c.record_id).where(honeypots.c.record_id == records.c.id)
        unpublished = (  # an import still writing: its records wait for its publication
            select(imports.c.id)
            .where(imports.c.id == records.c.import_id, imports.c.status == WRITING)
            .exists()
        )
        is_open = (
            records.c.queue_done == false(),
            ~answered,
            ~honeypot.exists(),  # honeypots are served by their own draw, to everyone
            ~unpublished,
            records.c.n_submitted + others < bindparam("overlap"),
        )
        next_open = (
            select(records.c.id)
            .where(*is_open)
            .order_by(records.c.queue_rank, records.c.id)
            .limit(1)
        )
        lease = insert(leases).values(record_id=rid, user=user, expires_at=bindparam("until"))
        self.upsert_lease = lease.on_conflict_do_update(
            index_elements=["record_id", "user"], set_={"expires_at": lease.excluded.expires_at}
        )
        if dialect != "postgresql":
            self.next_open = next_open
        else:  # see the module docstring: lock the candidate, then re-check it while locked
            self.next_open = next_open.with_for_update(skip_locked=True, of=records)
            self.any_open = next_open  # the same without locks: is any open record locked?
            still_open = select(records.c.id, user, bindparam("until", type_=Float())).where(
                records.c.id == rid, *is_open
            )
            lease_if_open = insert(leases).from_select(
                ["record_id", "user", "expires_at"], still_open
            )
            self.lease_if_open = lease_if_open.on_conflict_do_update(
                index_elements=["record_id", "user"],
                set_={"expires_at": lease_if_open.excluded.expires_at},
            ).returning(leases.c.record_id)
            self.lock_user = select(func.pg_advisory_xact_lock(_USER_LOCK, func.hashtext(user)))
        self.lease_expiry = select(leases.c.expires_at).where(
            leases.c.record_id == rid, leases.c.user == user, leases.c.expires_at > now
        )
        self.drop_lease = delete(leases).where(leases.c.record_id == rid, leases.c.user == user)
        self.record = select(records).where(records.c.id == rid)
        self.suggestions = (
            select(suggestions).where(suggestions.c.record_id == rid).order_by(suggestions.c.id)
        )
        self.response = select(responses).where(
            responses.c.record_id == rid, responses.c.user == user
        )
        self.seq_of = select(responses.c.seq).where(
            responses.c.record_id == rid, responses.c.user == user
        )
        self.last_seq = (  # the user's latest response's number (index ix_responses_user)
            select(responses.c.seq)
            .where(responses.c.user == user)
            .order_by(responses.c.id.desc())
            .limit(1)
        )
        locked = select(records.c.n_submitted).where(records.c.id == rid)
        self.lock_record = locked.with_for_update() if dialect == "postgresql" else locked
        self.find_record = locked  # the same without the lock (SQLite has no row locks)
        self.latest_guidelines = select(func.max(guidelines.c.version))
        self.is_honeypot = select(honeypots.c.record_id).where(honeypots.c.record_id == rid)
        self.paused = select(users.c.paused).where(users.c.name == user)
        self.meta_value = select(meta.c.value).where(meta.c.key == bindparam("key"))
        earlier = responses.alias("earlier")
        latest = (
            select(earlier.c.seq)
            .where(earlier.c.user == user)
            .order_by(earlier.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        answer = insert(responses).values(
            record_id=rid,
            user=user,
            values=bindparam("values", type_=responses.c["values"].type),
            status=bindparam("status"),
            guideline_version=bindparam("guideline_version"),
            time_spent=bindparam("time_spent"),
            seq=func.coalesce(latest, 0) + 1,  # kept when the response is replaced
        )
        self.upsert_response = answer.on_conflict_do_update(
            index_elements=["record_id", "user"],
            set_={
                "values": answer.excluded["values"],
                "status": answer.excluded.status,
                "guideline_version": answer.excluded.guideline_version,
                "time_spent": answer.excluded.time_spent,
                "updated_at": func.now(),
            },
        )
        count = _submitted_count()
        self.recount_one = (
            update(records)
            .where(records.c.id == rid)
            .values(n_submitted=count, queue_done=count >= bindparam("overlap"))
        )


@cache
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)


class _Prepared:
    """The statements of :class:`_Statements`, each ready to run on the SQLite driver."""

    def __init__(self, dialect: str) -> None:
        built = _statements(dialect)
        for name, stmt in vars(built).items():
            setattr(self, name, Prepared(stmt, dialect))

    def __getattr__(self, name: str) -> Prepared:  # for the type checker; set in __init__
        raise AttributeError(name)


@cache
def _prepared(dialect: str) -> _Prepared:
    return _Prepared(dialect)


class QueueTx(ImportsTx):
    _conn: Connection

    @property
    def _sql(self) -> _Prepared:
        return _prepared(self._conn.dialect.name)

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> Any:
        return self._conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()

    def meta_setdefault(self, key: str, value: Any) -> Any:
        """The value of ``key``, storing ``value`` first when there is none (two writers
        racing keep the first one's)."""
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(meta).values(key=key, value=value).on_conflict_do_nothing()
        self._conn.execute(stmt)
        return self.get_meta(key)

    def set_meta(self, key: str, value: Any) -> None:
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = insert(meta).values(key=key, value=value)
        self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value})
        )

    # ------------------------------------------------------------------ leasing

    def lease_next(
        self,
        user: str,
        *,
        overlap: int,
        ttl: float,
        now: float,
        honeypot: float | None = None,
    ) -> int | None:
        """Lease the next record ``user`` should answer and return its id, or None when done.

        A live lease the user already holds is renewed and returned first. With ``honeypot``
        (a draw in [0, 1), given when the caller decided this one is a gold check) a
        honeypot the user has not answered comes first, if any is left. On PostgreSQL,
        :class:`QueueBusy` says that the records left are locked by others for a moment.
        """
        postgres = self.dialect == "postgresql"
        if postgres:
            self._lock_user(user)
        sql, args, conn = self._sql, {"user": user, "now": now}, self._conn
        held = sql.held.scalar(conn, args)
        if held is None:
            sql.drop_expired.run(conn, args)
            if honeypot is not None:
                gold = self.lease_honeypot(user, ttl=ttl, now=now, draw=honeypot)
                if gold is not None:
                    return int(gold)
            if postgres:
                return self._lease_open_pg(user, overlap=overlap, ttl=ttl, now=now)
            held = sql.next_open.scalar(conn, {**args, "overlap": overlap})
            if held is None:
                return None
        sql.upsert_lease.run(conn, {"rid": int(held), "user": user, "until": now + ttl})
        return int(held)

    def _lock_user(self, user: str) -> None:
        """PostgreSQL: serialise ``user``'s queue writes until the transaction ends (once)."""
        locked: set[str] = self.__dict__.setdefault("_locked_users", set())
        if user not in locked:
            self._sql.lock_user.scalar(self._conn, {"user": user})
            locked.add(user)

    def _lease_open_pg(self, user: str, *, overlap: int, ttl: float, now: float) -> int | None:
        """Lock the first open record nobody else has locked, then lease it if still open."""
        sql, conn = self._sql, self._conn
        args = {"user": user, "now": now, "overlap": overlap, "until": now + ttl}
        for _ in range(_LEASE_TRIES):
            rid = sql.next_open.scalar(conn, args)
            if rid is None:
                break
            if sql.lease_if_open.scalar(conn, {**args, "rid": int(rid)}) is not None:
                return int(rid)
            # taken by a transaction that committed between our snapshot and our lock: the
            # next select's fresh snapshot sees it, so it offers another record
        if sql.any_open.scalar(conn, args) is not None:
            raise QueueBusy(user)  # open records remain, row-locked by others' submits
        return None

    def is_honeypot(self, record_id: int) -> bool:
        return self._sql.is_honeypot.scalar(self._conn, {"rid": record_id}) is not None

    def is_paused(self, name: str) -> bool:
        return bool(self._sql.paused.scalar(self._conn, {"user": name}))

    def user_role(self, name: str) -> str | None:
        """The role of user ``name``; None for a name with no account (library use)."""
        role = self._conn.execute(select(users.c.role).where(users.c.name == name)).scalar()
        return None if role is None else str(role)

    def gold_rate(self) -> float:
        """The share of leases that are gold checks (``meta.gold_rate``; 0 when unset)."""
        value = self._sql.meta_value.scalar(self._conn, {"key": "gold_rate"})
        if isinstance(value, str | bytes):  # the SQLite hot path returns the raw JSON text
            value = json.loads(value)
        return float(value or 0.0)

    def lease_honeypot(self, user: str, *, ttl: float, now: float, draw: float) -> int | None:
        """Lease a honeypot ``user`` has not answered (``draw`` in [0, 1) picks which)."""
        answered = select(responses.c.record_id).where(responses.c.user == user)
        free = (
            select(honeypots.c.record_id)
            .where(honeypots.c.record_id.not_in(answered))
            .order_by(honeypots.c.record_id)
        )
        ids = [int(r) for r in self._conn.execute(free).scalars()]
        if not ids:
            return None
        rid = ids[min(int(draw * len(ids)), len(ids) - 1)]
        self._sql.upsert_lease.run(self._conn, {"rid": rid, "user": user, "until": now + ttl})
        return rid

    def lease_expiry(self, user: str, record_id: int, now: float) -> float | None:
        args = {"rid": record_id, "user": user, "now": now}
        value = self._sql.lease_expiry.scalar(self._conn, args)
        return None if value is None else float(value)

    # ------------------------------------------------------------------ answering

    def require_record(self, record_id: int) -> None:
        """Raise NotFoundError unless the record exists (a hot-path statement).

        No lock is taken: :meth:`answer` takes the user's lock before the record's.
        """
        if self._sql.find_record.scalar(self._conn, {"rid": record_id}) is None:
            raise NotFoundError(f"no record {record_id}")

    def response_of(self, user: str, record_id: int) -> Response | None:
        row = self._sql.response.first(self._conn, {"rid": record_id, "user": user})
        return None if row is None else _response(row)

    def sequence_number(self, user: str, record_id: int, *, answered: bool) -> int:
        """``user``'s own number for a record, 1 for the first they ever touched: the number
        their response to it got when first saved, or the next one when they have none yet
        (``answered`` False). The page's "#37 in your queue"."""
        args = {"rid": record_id, "user": user}
        if answered:
            seq = self._sql.seq_of.scalar(self._conn, args)
            if seq is not None:
                return int(seq)
        return int(self._sql.last_seq.scalar(self._conn, args) or 0) + 1

    def sequence_numbers(self, user: str, record_ids: Sequence[int]) -> dict[int, int]:
        """:meth:`sequence_number` of each record of ``record_ids`` that ``user`` answered."""
        out: dict[int, int] = {}
        ids = sorted({int(r) for r in record_ids})
        for i in range(0, len(ids), 900):
            q = select(responses.c.record_id, responses.c.seq).where(
                responses.c.user == user, responses.c.record_id.in_(ids[i : i + 900])
            )
            out.update({int(r): int(n) for r, n in self._conn.execute(q) if n is not None})
        return out

    def answer(
        self, response: Response, *, overlap: int, assigned_since: float | None = None
    ) -> None:
        """Store one annotator's response and keep the queue counts right.

        Raises :class:`ConflictError` when a new submission would exceed ``overlap``, or when a
        draft would overwrite a submitted response; with ``assigned_since`` (a time), raises
        :class:`PermissionDeniedError` unless ``user`` holds a lease live at that time or has
        already answered the record.
        """
        rid, user, sql = response.record_id, response.user, self._sql
        conn = self._conn
        if self.dialect == "postgresql":
            self._lock_user(user)  # before the record's lock: the order leasing takes them in
        n_submitted = sql.lock_record.scalar(conn, {"rid": rid})
        if n_submitted is None:
            raise NotFoundError(f"no record {rid}")
        before = self.response_of(user, rid)
        if assigned_since is not None and before is None:
            args = {"rid": rid, "user": user, "now": assigned_since}
            if sql.lease_expiry.scalar(conn, args) is None:
                raise PermissionDeniedError(
                    f"record {rid} is not leased to {user}: answer the records the queue gives "
                    "you (a lease that expired returned its record to the queue; ask for the "
                    "next record); reviewers and owners settle other records in the review "
                    "queue"
                )
        was_submitted = before is not None and before.status == ResponseStatus.SUBMITTED
        adds = response.status == ResponseStatus.SUBMITTED and not was_submitted
        if adds and n_submitted >= overlap and not self.is_honeypot(rid):
            raise ConflictError(f"record {rid} already has its {overlap} submitted response(s)")
        if response.status == ResponseStatus.DRAFT and was_submitted:
            raise ConflictError(f"record {rid} is already submitted; submit again to change it")
        if response.guideline_version is None:
            response.guideline_version = sql.latest_guidelines.scalar(conn, {})
        sql.upsert_response.run(
            conn,
            {
                "rid": rid,
                "user": user,
                "values": response.values,
                "status": str(response.status),
                "guideline_version": response.guideline_version,
                "time_spent": response.time_spent,
            },
        )
        if response.status != ResponseStatus.DRAFT:
            sql.drop_lease.run(conn, {"rid": rid, "user": user})
        sql.recount_one.run(conn, {"rid": rid, "overlap": overlap})

    def refresh_queue(self, record_ids: Sequence[int], *, overlap: int) -> None:
        """Recount the submitted responses of ``record_ids`` and whether they are complete."""
        count = _submitted_count()
        stmt = update(records).values(n_submitted=count, queue_done=count >= overlap)
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 900):
            self._conn.execute(stmt.where(records.c.id.in_(ids[i : i + 900])))

    def set_overlap(self, overlap: int) -> None:
        """Recompute every record's completeness for a new ``overlap`` and remember it."""
        self._conn.execute(update(records).values(queue_done=records.c.n_submitted >= overlap))
        self.set_meta("overlap", overlap)

    def set_queue_ranks(self, ranks: Sequence[tuple[int, float]]) -> int:
        """Set ``queue_rank`` of each ``(record_id, rank)``; lower ranks are served first.

        Records not named keep their rank. Returns the number of records updated.
        """
        if not ranks:
            return 0
        stmt = (
            update(records)
            .where(records.c.id == bindparam("rid"))
            .values(queue_rank=bindparam("rank"))
        )
        self._conn.execute(stmt, [{"rid": int(r), "rank": float(v)} for r, v in ranks])
        return len(ranks)

    def replace_queue_order(self, head: Sequence[int], waiting: Sequence[int] = ()) -> int:
        """A retrain's queue: ``head`` first (in that order), then every other record by id,
        then ``waiting`` (labeled records still awaiting responses). Every other rank,
        fronts included, goes back to 0, except the records owners sent to the front (at or
        below :data:`OWNER_FRONT`), which stay first. Only rows whose rank changes are
        written; returns how many."""
        # both queue_done values spelled out and one range per query, so each read walks a
        # range of the queue index rather than every record
        done = records.c.queue_done.in_([False, True])
        pinned = records.c.queue_rank <= OWNER_FRONT
        kept = set(self._conn.execute(select(records.c.id).where(done, pinned)).scalars())
        new = {int(r): STRATEGY_HEAD + i for i, r in enumerate(head) if int(r) not in kept}
        new.update((int(r), 1.0 + i) for i, r in enumerate(waiting) if int(r) not in kept)
        ranked: dict[int, float] = {}
        for side in (and_(records.c.queue_rank < 0, ~pinned), records.c.queue_rank > 0):
            rows = self._conn.execute(select(records.c.id, records.c.queue_rank).where(done, side))
            ranked.update((int(i), float(r)) for i, r in rows)
        changes = [(rid, 0.0) for rid in ranked if rid not in new]
        changes += [(rid, rank) for rid, rank in new.items() if ranked.get(rid, 0.0) != rank]
        for start in range(0, len(changes), _RANK_PAGE):
            self.set_queue_ranks(changes[start : start + _RANK_PAGE])
        return len(changes)

    def done_record_array(self) -> npt.NDArray[np.int64]:
        """Ids of the records with all the responses they need, ascending (int64)."""
        done = records.c.queue_done.is_(True)
        q = select(records.c.id).where(done, self._live()).order_by(records.c.id)
        return np.fromiter(self._conn.execute(q).scalars(), dtype=np.int64, count=-1)

    def close_records(self, record_ids: Sequence[int]) -> None:
        """Take records out of the annotation queue (e.g. synthetic ones, labeled at birth)."""
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 900):
            q = update(records).where(records.c.id.in_(ids[i : i + 900]))
            self._conn.execute(q.values(queue_done=True))

    def done_records(self) -> set[int]:
        """Ids of the records that have all the submitted responses they need."""
        return set(self.done_record_array().tolist())

    def queue_ranks(self, record_ids: Sequence[int]) -> dict[int, float]:
        """``queue_rank`` of each record of ``record_ids``."""
        out: dict[int, float] = {}
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 900):
            rows = self._conn.execute(
                select(records.c.id, records.c.queue_rank).where(records.c.id.in_(ids[i : i + 900]))
            )
            out.update({int(r.id): float(r.queue_rank) for r in rows})
        return out

    # ------------------------------------------------------------------ reading

    def previous_answered(self, user: str, before: int | None) -> int | None:
        """The record ``user`` answered just before record ``before`` (their latest if None)."""
        mine = and_(responses.c.user == user, responses.c.status.in_(_ANSWERED))
        q = select(responses.c.record_id).where(mine)
        if before is not None:
            pivot = self._conn.execute(
                select(responses.c.id).where(
                    responses.c.user == user, responses.c.record_id == before
                )
            ).scalar()
            if pivot is not None:
                q = q.where(responses.c.id < pivot)
        value = self._conn.execute(q.order_by(responses.c.id.desc()).limit(1)).scalar()
        return None if value is None else int(value)

    def queue_counts(self) -> dict[str, int]:
        total, done = self._conn.execute(
            select(
                func.count(),
                func.count().filter(records.c.queue_done == True),  # noqa: E712
            ).where(self._live())
        ).one()
        return {"total": int(total), "complete": int(done)}

    def user_counts(self, user: str) -> dict[str, int]:
        q = (
            select(responses.c.status, func.count())
            .where(responses.c.user == user, self._live_ref(responses.c.record_id))
            .group_by(responses.c.status)
        )
        out = {str(s): 0 for s in ResponseStatus}
        out.update({str(s): int(n) for s, n in self._conn.execute(q)})
        return out

    def list_responses(
        self,
        *,
        user: str | None = None,
        status: ResponseStatus | None = None,
        record_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Response]:
        q = select(responses).where(self._live_ref(responses.c.record_id))
        if user is not None:
            q = q.where(responses.c.user == user)
        if status is not None:
            q = q.where(responses.c.status == str(status))
        if record_id is not None:
            q = q.where(responses.c.record_id == record_id)
        q = q.order_by(responses.c.id).limit(limit).offset(offset)
        return [_response(r) for r in self._conn.execute(q)]
