"""Store operations for quality assurance (a mixin of :class:`StoreTx`): rounds and their
batches, honeypots, the review queue and its history, feedback to annotators, and paused
annotators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from goldsmith.errors import NotFoundError
from goldsmith.schema import FinalLabel, Provenance
from goldsmith.store.imports import ImportsTx
from goldsmith.store.tables import (
    feedback,
    final_labels,
    honeypots,
    records,
    responses,
    review_history,
    reviews,
    round_records,
    rounds,
    users,
)

OPEN = "open"


def _round(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        "id": m["id"],
        "number": m["number"],
        "guideline_version": m["guideline_version"],
        "status": m["status"],
        "size": m["size"],
        "gold_rate": m["gold_rate"],
        "started_at": m["started_at"],
        "closed_at": m["closed_at"],
    }


def _review(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def _label_json(label: FinalLabel | None) -> dict[str, Any] | None:
    if label is None:
        return None
    return {
        "value": label.value,
        "provenance": str(label.provenance),
        "confidence": label.confidence,
    }


class QualityTx(ImportsTx):
    _conn: Connection

    # ------------------------------------------------------------------ rounds

    def create_round(
        self,
        *,
        guideline_version: int | None,
        gold_rate: float,
        record_ids: Sequence[int],
    ) -> dict[str, Any]:
        """Open the next round over ``record_ids``; returns it."""
        number = (
            int(
                self._conn.execute(select(func.coalesce(func.max(rounds.c.number), 0))).scalar_one()
            )
            + 1
        )
        rid = self._conn.execute(
            insert(rounds)
            .values(
                number=number,
                guideline_version=guideline_version,
                status=OPEN,
                size=len(record_ids),
                gold_rate=gold_rate,
            )
            .returning(rounds.c.id)
        ).scalar_one()
        if record_ids:
            self._conn.execute(
                insert(round_records), [{"round_id": rid, "record_id": int(r)} for r in record_ids]
            )
        return self.get_round(number)

    def get_round(self, number: int | None = None) -> dict[str, Any]:
        """Round ``number``, or the latest one."""
        q = select(rounds)
        q = q.where(rounds.c.number == number) if number is not None else q
        row = self._conn.execute(q.order_by(rounds.c.number.desc()).limit(1)).first()
        if row is None:
            raise NotFoundError(
                "no rounds yet: start one with `goldsmith round start`"
                if number is None
                else f"no round {number}"
            )
        return _round(row)

    def list_rounds(self) -> list[dict[str, Any]]:
        return [_round(r) for r in self._conn.execute(select(rounds).order_by(rounds.c.number))]

    def open_round(self) -> dict[str, Any] | None:
        row = self._conn.execute(select(rounds).where(rounds.c.status == OPEN)).first()
        return None if row is None else _round(row)

    def round_record_ids(self, round_id: int) -> list[int]:
        q = select(round_records.c.record_id).where(round_records.c.round_id == round_id)
        return sorted(int(r) for r in self._conn.execute(q).scalars())

    def round_report(self, round_id: int) -> Any:
        return self._conn.execute(select(rounds.c.report).where(rounds.c.id == round_id)).scalar()

    def close_round(self, round_id: int, report: dict[str, Any]) -> None:
        self._conn.execute(
            update(rounds)
            .where(rounds.c.id == round_id)
            .values(status="closed", closed_at=func.now(), report=report)
        )

    # ------------------------------------------------------------------ honeypots

    def set_honeypots(self, record_ids: Sequence[int]) -> int:
        """Make exactly ``record_ids`` the honeypots; returns their number."""
        self._conn.execute(delete(honeypots))
        ids = sorted({int(r) for r in record_ids})
        if ids:
            self._conn.execute(insert(honeypots), [{"record_id": r} for r in ids])
        return len(ids)

    def honeypot_ids(self) -> list[int]:
        return sorted(int(r) for r in self._conn.execute(select(honeypots.c.record_id)).scalars())

    def gold_answers(
        self, question: str, *, user: str | None = None
    ) -> list[tuple[str, int, Any, Any]]:
        """``(user, record_id, answer, gold value)`` of every submitted answer to ``question``
        on a record with a gold final label."""
        q = (
            select(
                responses.c.user, responses.c.record_id, responses.c["values"], final_labels.c.value
            )
            .join(
                final_labels,
                (final_labels.c.record_id == responses.c.record_id)
                & (final_labels.c.question == question)
                & (final_labels.c.provenance == "gold"),
            )
            .where(responses.c.status == "submitted", self._live_ref(responses.c.record_id))
        )
        if user is not None:
            q = q.where(responses.c.user == user)
        return [
            (str(u), int(r), (v or {}).get(question), g)
            for u, r, v, g in self._conn.execute(
                q.order_by(responses.c.user, responses.c.record_id)
            )
        ]

    # ------------------------------------------------------------------ paused annotators

    def set_paused(self, name: str, paused: bool) -> None:
        done = self._conn.execute(update(users).where(users.c.name == name).values(paused=paused))
        if done.rowcount == 0:
            raise NotFoundError(f"no user {name!r}")

    # ------------------------------------------------------------------ reviews

    def add_reviews(self, items: Sequence[dict[str, Any]]) -> int:
        """Queue review items (``record_id``, ``question``, ``kind``, ``detail``, optional
        ``priority``, ``round_id``); an item already open for the same record, question and
        kind is skipped. Returns how many were added."""
        open_keys = {
            (int(r.record_id), r.question, r.kind)
            for r in self._conn.execute(
                select(reviews.c.record_id, reviews.c.question, reviews.c.kind).where(
                    reviews.c.status == OPEN
                )
            )
        }
        rows = []
        for item in items:
            key = (int(item["record_id"]), str(item["question"]), str(item["kind"]))
            if key in open_keys:
                continue
            open_keys.add(key)
            rows.append(
                {
                    "record_id": key[0],
                    "question": key[1],
                    "kind": key[2],
                    "detail": item.get("detail", {}),
                    "priority": float(item.get("priority", 0.0)),
                    "round_id": item.get("round_id"),
                }
            )
        if rows:
            self._conn.execute(insert(reviews), rows)
        return len(rows)

    def list_reviews(
        self, *, status: str | None = OPEN, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        q = select(reviews)
        if status is not None:
            q = q.where(reviews.c.status == status)
        q = q.order_by(reviews.c.priority.desc(), reviews.c.id).limit(limit).offset(offset)
        return [_review(r) for r in self._conn.execute(q)]

    def review_counts(self) -> dict[str, int]:
        q = (
            select(reviews.c.kind, func.count())
            .where(reviews.c.status == OPEN)
            .group_by(reviews.c.kind)
        )
        return {str(k): int(n) for k, n in self._conn.execute(q)}

    def get_review(self, review_id: int) -> dict[str, Any]:
        row = self._conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        if row is None:
            raise NotFoundError(f"no review item {review_id}")
        return _review(row)

    def decide_review(
        self, review_id: int, *, status: str, reviewer: str, value: Any, comment: str | None
    ) -> None:
        self._conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(
                status=status,
                reviewer=reviewer,
                value=value,
                comment=comment,
                decided_at=func.now(),
            )
        )

    def reopen_review(self, review_id: int) -> None:
        """Put a decided item back in the queue (an undo): open, no reviewer, no value."""
        self._conn.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(status=OPEN, reviewer=None, value=None, comment=None, decided_at=None)
        )

    # ------------------------------------------------------------------ review history

    def add_review_history(
        self,
        review_id: int,
        *,
        action: str,
        actor: str,
        before: FinalLabel | None,
        after: FinalLabel | None,
        comment: str | None = None,
    ) -> None:
        """Keep one decision (or undo) of a review item: the final label before and after."""
        self._conn.execute(
            insert(review_history).values(
                review_id=review_id,
                action=action,
                actor=actor,
                before=_label_json(before),
                after=_label_json(after),
                comment=comment,
            )
        )

    def review_history(self, review_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The history of each item of ``review_ids``, oldest first (items without one are
        left out)."""
        out: dict[int, list[dict[str, Any]]] = {}
        ids = sorted({int(i) for i in review_ids})
        for i in range(0, len(ids), 900):
            q = (
                select(review_history)
                .where(review_history.c.review_id.in_(ids[i : i + 900]))
                .order_by(review_history.c.id)
            )
            for row in self._conn.execute(q):
                out.setdefault(int(row.review_id), []).append(dict(row._mapping))
        return out

    def final_label(self, record_id: int, question: str) -> FinalLabel | None:
        """The final label of one record's question, or None."""
        row = self._conn.execute(
            select(final_labels).where(
                final_labels.c.record_id == record_id, final_labels.c.question == question
            )
        ).first()
        if row is None:
            return None
        return FinalLabel(
            int(row.record_id),
            str(row.question),
            row.value,
            Provenance(row.provenance),
            float(row.confidence),
        )

    def drop_final_label(self, record_id: int, question: str) -> None:
        """Remove one record's final label of ``question`` (an undo back to "none")."""
        self._conn.execute(
            delete(final_labels).where(
                final_labels.c.record_id == record_id, final_labels.c.question == question
            )
        )

    # ------------------------------------------------------------------ feedback

    def add_feedback(self, rows: Sequence[dict[str, Any]]) -> int:
        """Feedback rows: ``user``, ``record_id``, ``review_id``, ``message``."""
        if rows:
            self._conn.execute(insert(feedback), list(rows))
        return len(rows)

    def drop_feedback(self, review_id: int) -> int:
        """Take back the feedback a decision on ``review_id`` sent (an undo)."""
        return int(
            self._conn.execute(delete(feedback).where(feedback.c.review_id == review_id)).rowcount
        )

    def feedback_for(
        self, user: str, *, unseen_only: bool = True, record_id: int | None = None
    ) -> list[dict[str, Any]]:
        """``user``'s feedback rows, oldest first, each with its review item's ``question``
        and the reviewer's own ``comment`` (None when the message is the default one)."""
        q = (
            select(feedback, reviews.c.question, reviews.c.comment)
            .join(reviews, reviews.c.id == feedback.c.review_id)
            .where(feedback.c.user == user)
        )
        if unseen_only:
            q = q.where(feedback.c.seen_at.is_(None))
        if record_id is not None:
            q = q.where(feedback.c.record_id == record_id)
        return [dict(r._mapping) for r in self._conn.execute(q.order_by(feedback.c.id))]

    def mark_feedback_seen(self, user: str, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        q = (
            update(feedback)
            .where(feedback.c.user == user, feedback.c.id.in_([int(i) for i in ids]))
            .values(seen_at=func.now())
        )
        return int(self._conn.execute(q).rowcount)

    # ------------------------------------------------------------------ records

    def record_metadata(self, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The metadata of ``record_ids`` (for review items)."""
        out: dict[int, dict[str, Any]] = {}
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 900):
            q = select(records.c.id, records.c.metadata).where(records.c.id.in_(ids[i : i + 900]))
            out.update({int(r.id): r.metadata or {} for r in self._conn.execute(q)})
        return out

    def record_texts(self, record_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The fields of ``record_ids`` (for review items and report examples)."""
        out: dict[int, dict[str, Any]] = {}
        ids = sorted(set(record_ids))
        for i in range(0, len(ids), 900):
            q = select(records.c.id, records.c.fields).where(records.c.id.in_(ids[i : i + 900]))
            out.update({int(r.id): r.fields for r in self._conn.execute(q)})
        return out
