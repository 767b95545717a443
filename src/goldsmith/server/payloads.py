"""Library objects to HTTP bodies."""

from __future__ import annotations

from typing import Any

from goldsmith.annotation.queue import Item
from goldsmith.schema import Record, Response, Suggestion, Task
from goldsmith.server.models import ItemOut, RecordOut, ResponseOut, SuggestionOut


def record_out(r: Record) -> RecordOut:
    assert r.id is not None
    return RecordOut(id=r.id, fields=r.fields, metadata=r.metadata, external_id=r.external_id)


def suggestion_out(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(
        record_id=s.record_id,
        question=s.question,
        value=s.value,
        agent=s.agent,
        kind=str(s.kind),
        score=s.score,
    )


def response_out(r: Response) -> ResponseOut:
    return ResponseOut(
        record_id=r.record_id,
        user=r.user,
        values=r.values,
        status=str(r.status),
        guideline_version=r.guideline_version,
        time_spent=r.time_spent,
    )


def item_out(item: Item) -> ItemOut:
    return ItemOut(
        record=record_out(item.record),
        suggestions=[suggestion_out(s) for s in item.suggestions],
        response=None if item.response is None else response_out(item.response),
        lease_expires_at=item.lease_expires_at,
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
    }
