"""The annotation queue: lease the next record, answer it, step back through one's history.

Each record needs ``task.settings.overlap`` submitted responses. :func:`next_item` leases a
record to one annotator for ``task.settings.lease_seconds``; answering (submit or skip)
releases the lease, and an abandoned lease expires so the record returns to the queue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from goldsmith.errors import PermissionDeniedError, SchemaError
from goldsmith.quality.honeypots import gold_checked, honeypot_draw, should_pause
from goldsmith.schema import Record, Response, ResponseStatus, Suggestion, Task
from goldsmith.store import Store
from goldsmith.store.base import StoreTx
from goldsmith.store.queue import QueueBusy

BUSY_WAITS = (0.01, 0.02, 0.04, 0.08, 0.15, 0.25, 0.45)
"""Seconds between asks while the records left are locked by others' submits (~1 s)."""


@dataclass(slots=True)
class Item:
    """What an annotator sees for one record: the record, suggestions and their own answer.

    ``seq`` is the record's number in this user's own sequence (1 for the first record they
    touched; "#37 in your queue"): what the page shows instead of the database id.
    """

    record: Record
    suggestions: list[Suggestion]
    response: Response | None
    lease_expires_at: float | None
    seq: int = 0


def _load_item(tx: StoreTx, record_id: int, user: str, now: float) -> Item:
    record, suggestions = tx.record_with_suggestions(record_id)
    response = tx.response_of(user, record_id)
    return Item(
        record=record,
        suggestions=suggestions,
        response=response,
        lease_expires_at=tx.lease_expiry(user, record_id, now),
        seq=tx.sequence_number(user, record_id, answered=response is not None),
    )


def _lease(tx: StoreTx, task: Task, user: str, now: float, *, checked: bool = False) -> int | None:
    """The next record for ``user`` (a honeypot at the gold rate, for annotators only); a
    paused user gets none (``checked``: the caller already made sure they are not paused)."""
    if not checked and tx.is_paused(user):
        raise PermissionDeniedError(
            f"{user} is paused: the gold checks of your recent answers fell below the "
            "project's threshold; a reviewer can resume you after going over the feedback"
        )
    s = task.settings
    draw = honeypot_draw(tx.gold_rate())
    if draw is not None and not gold_checked(tx.user_role(user)):
        draw = None  # reviewers and owners annotating as themselves meet no gold checks
    return tx.lease_next(user, overlap=s.overlap, ttl=s.lease_seconds, now=now, honeypot=draw)


def next_item(store: Store, task: Task, user: str, *, now: float | None = None) -> Item | None:
    """Lease and return the next record for ``user``; None when nothing is left for them.

    On PostgreSQL, while the records left are row-locked by others' submits, it asks again
    in a new transaction, waiting up to about a second in all before saying "nothing".
    """
    for wait in (*BUSY_WAITS, None):
        at = time.time() if now is None else now
        try:
            with store.write() as tx:
                rid = _lease(tx, task, user, at)
                return None if rid is None else _load_item(tx, rid, user, at)
        except QueueBusy:
            if wait is None:
                return None
            time.sleep(wait)
    return None


def get_item(store: Store, record_id: int, user: str, *, now: float | None = None) -> Item:
    with store.read() as tx:
        return _load_item(tx, record_id, user, time.time() if now is None else now)


def previous_item(
    store: Store, user: str, before: int | None, *, now: float | None = None
) -> Item | None:
    """The record ``user`` answered before ``before`` (their latest answer when None)."""
    with store.read() as tx:
        rid = tx.previous_answered(user, before)
        return (
            None if rid is None else _load_item(tx, rid, user, time.time() if now is None else now)
        )


def answer(
    store: Store,
    task: Task,
    user: str,
    record_id: int,
    values: dict[str, object],
    status: ResponseStatus,
    *,
    time_spent: float | None = None,
    assigned_only: bool = False,
    now: float | None = None,
) -> Response:
    """Store ``user``'s submit, skip (``discarded``) or draft for one record.

    A submission must answer every required question. Drafts may be partial; whatever they
    hold must still fit its question. With ``assigned_only`` the record must be leased to
    ``user`` (a live lease at ``now``) or already answered by them.
    """
    response, _ = answer_and_next(
        store,
        task,
        user,
        record_id,
        values,
        status,
        time_spent=time_spent,
        assigned_only=assigned_only,
        fetch_next=False,
        now=now,
    )
    return response


def answer_and_next(
    store: Store,
    task: Task,
    user: str,
    record_id: int,
    values: dict[str, object],
    status: ResponseStatus,
    *,
    time_spent: float | None = None,
    assigned_only: bool = False,
    fetch_next: bool = True,
    now: float | None = None,
) -> tuple[Response, Item | None]:
    """:func:`answer`, then (``fetch_next``) lease the next record, in one transaction: one
    round trip per record for clients that annotate in a loop."""
    now = time.time() if now is None else now
    s = task.settings
    with store.write() as tx:
        tx.require_record(record_id)  # an unknown record is "not found" before "invalid"
        checked = task.check_values(dict(values))
        if any(task.question(name).marks_spans for name in checked):  # spans within the text
            fields = tx.record_texts([record_id]).get(record_id, {})
            for name, value in checked.items():
                task.question(name).check_fields(value, fields)
        if status == ResponseStatus.SUBMITTED:
            missing = [q.name for q in task.questions if q.required and q.name not in checked]
            if missing:
                raise SchemaError(f"answer the required question(s) {missing} before submitting")
        response = Response(record_id, user, checked, status, time_spent=time_spent)
        tx.answer(  # stamps the guideline version
            response, overlap=s.overlap, assigned_since=now if assigned_only else None
        )
        checked_gold = status == ResponseStatus.SUBMITTED and tx.is_honeypot(record_id)
        checked_gold = checked_gold and gold_checked(tx.user_role(user))
        if checked_gold and should_pause(task, tx.gold_answers(task.questions[0].name, user=user)):
            tx.set_paused(user, True)  # never resumed here: that is a reviewer's decision
        if not fetch_next:
            return response, None
        if tx.is_paused(user):
            return response, None  # the answer is kept; the next request says why
        try:
            rid = _lease(tx, task, user, now, checked=True)
            return response, None if rid is None else _load_item(tx, rid, user, now)
        except QueueBusy:
            pass  # commit the answer first, then ask again in new transactions
    return response, next_item(store, task, user)


def progress(store: Store, user: str) -> dict[str, object]:
    """Records complete (overlap reached) out of all, and ``user``'s own counts by status."""
    with store.read() as tx:
        return {**tx.queue_counts(), "mine": tx.user_counts(user)}
