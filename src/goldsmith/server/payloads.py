"""Library objects to HTTP bodies, and how each caller names records in them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from goldsmith.annotation.handles import MAX_ID, RecordHandles
from goldsmith.annotation.metadata import EXPORT_KEYS, MetadataView
from goldsmith.annotation.queue import Item
from goldsmith.errors import GoldsmithError, NotFoundError
from goldsmith.project import Project
from goldsmith.schema import Record, Response, Suggestion, Task, User
from goldsmith.server.models import ItemOut, RecordOut, ResponseOut, SuggestionOut
from goldsmith.server.policies import RecordPolicy


@dataclass(frozen=True, slots=True)
class RecordView:
    """How one caller names records. Owners and reviewers see database ids and all
    metadata; annotators see only their own opaque handles
    (:mod:`goldsmith.annotation.handles`), no external ids, which can tell an import batch
    (and so the gold records) apart, and only the metadata ``shown`` lets through
    (:mod:`goldsmith.annotation.metadata`: the keys ``show_metadata`` names, none by
    default, never a telling one)."""

    handles: RecordHandles | None = None
    shown: MetadataView = MetadataView(keys=(), hidden=EXPORT_KEYS, strict=True)

    @property
    def sees_ids(self) -> bool:
        return self.handles is None

    def out(self, record_id: int) -> int | str:
        """The name of ``record_id`` in this caller's bodies."""
        return record_id if self.handles is None else self.handles.handle(record_id)

    def parse(self, name: str) -> int:
        """The record id that ``name`` (a path or query value) stands for.

        Raises :class:`NotFoundError` when it names no record this caller can name.
        """
        if self.handles is None:
            if name.isdigit() and 1 <= int(name) <= MAX_ID:
                return int(name)
            raise NotFoundError(f"no record {name}")
        found = self.handles.record_id(name)
        if found is None:
            raise NotFoundError(
                f"no record {name}: name records by the handle the queue gave you (item.record.id)"
            )
        return found

    @contextmanager
    def naming(self, record_id: int) -> Iterator[None]:
        """Errors raised inside name ``record_id`` as this caller knows it."""
        try:
            yield
        except GoldsmithError as exc:
            if self.handles is not None and exc.args and isinstance(exc.args[0], str):
                shown = f"record {self.out(record_id)}"
                exc.args = (re.sub(rf"\brecord {record_id}\b", shown, exc.args[0]),)
            raise


def record_view(project: Project, user: User) -> RecordView:
    """How ``user`` names records and which metadata they see (see :class:`RecordView`)."""
    if RecordPolicy.sees_ids(user):
        return RecordView()
    task = project.task
    shown = MetadataView.for_annotators(
        task.settings.show_metadata, [q.name for q in task.questions]
    )
    return RecordView(project.record_handles(user.name), shown)


def record_out(r: Record, view: RecordView = RecordView()) -> RecordOut:
    assert r.id is not None
    if not view.sees_ids:
        shown = view.shown(r.metadata)
        return RecordOut(id=view.out(r.id), fields=r.fields, metadata=shown, external_id=None)
    return RecordOut(id=r.id, fields=r.fields, metadata=r.metadata, external_id=r.external_id)


def suggestion_out(s: Suggestion, view: RecordView = RecordView()) -> SuggestionOut:
    return SuggestionOut(
        record_id=view.out(s.record_id),
        question=s.question,
        value=s.value,
        agent=s.agent,
        kind=str(s.kind),
        score=s.score,
    )


def response_out(r: Response, view: RecordView = RecordView()) -> ResponseOut:
    return ResponseOut(
        record_id=view.out(r.record_id),
        user=r.user,
        values=r.values,
        status=str(r.status),
        guideline_version=r.guideline_version,
        time_spent=r.time_spent,
    )


def item_out(item: Item, view: RecordView = RecordView()) -> ItemOut:
    return ItemOut(
        record=record_out(item.record, view),
        suggestions=[suggestion_out(s, view) for s in item.suggestions],
        response=None if item.response is None else response_out(item.response, view),
        lease_expires_at=item.lease_expires_at,
        seq=item.seq,
    )


def task_payload(task: Task) -> dict[str, Any]:
    """The task as the page needs it: fields, questions, keys, overlap.

    Each question carries ``widget``, its kind's page module (``static/widgets/<widget>.js``).
    ``keys.labels`` holds only reassigned label keys; the page gives the others 1-9 by position.
    """
    keys = task.settings.keys.model_dump(mode="json")
    return {
        "name": task.name,
        "fields": [f.model_dump(mode="json") for f in task.fields],
        "questions": [
            {**q.model_dump(mode="json"), "widget": type(q).widget} for q in task.questions
        ],
        "keys": keys,
        "overlap": task.settings.overlap,
        "show_metadata": task.settings.show_metadata,
    }


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


FEEDBACK_KEYS = ("id", "question", "message", "comment", "answer", "final", "created_at", "seen_at")


def feedback_record_out(found: dict[str, Any], view: RecordView) -> dict[str, Any]:
    """:meth:`Project.feedback_record` as JSON for its caller (``GET /feedback/{record_id}``
    and the read-only feedback page): the record named and filtered as ``view`` says."""
    response = found["response"]
    return {
        "record": record_out(found["record"], view).model_dump(mode="json"),
        "seq": found["seq"],
        "response": None if response is None else response_out(response, view).model_dump(),
        "feedback": [{k: _jsonable(f[k]) for k in FEEDBACK_KEYS} for f in found["feedback"]],
    }
