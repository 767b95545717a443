"""REST routes of quality assurance: the review queue, feedback, annotator scores, resuming
paused annotators. Each loads, checks :class:`QualityPolicy` (or the caller's own identity)
and calls :class:`~goldsmith.project.Project`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from goldsmith.server.api import Me, Proj, RecordName, Run, View
from goldsmith.server.payloads import feedback_record_out
from goldsmith.server.policies import QualityPolicy

router = APIRouter(prefix="/api/v1", tags=["quality"])
ReviewId = Annotated[int, Path(ge=1, le=2**53)]


class DecisionIn(BaseModel):
    action: Literal["accept", "edit", "reject"]
    value: Any = None
    comment: str | None = Field(default=None, max_length=4000)
    confirm: bool = Field(
        default=False,
        description="Accept a model-proposed value (one no annotator chose): without it, "
        "accepting such an item is refused",
    )


class SeenIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(max_length=1000)


def _jsonable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.items()}


def _item(item: dict[str, Any]) -> dict[str, Any]:
    """A review item as JSON, its history too."""
    return {**_jsonable(item), "history": [_jsonable(h) for h in item.get("history", [])]}


@router.get("/reviews")
async def list_reviews(
    user: Me,
    project: Proj,
    run: Run,
    status: Annotated[str | None, Query(max_length=16)] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
) -> list[dict[str, Any]]:
    """Review items (disagreements, low-confidence consensus, gold failures, suspected
    errors), highest priority first, each with its record's fields."""
    QualityPolicy.review(user)
    items = await run.read(project.reviews, status=status, limit=limit, offset=offset)
    return [_item(i) for i in items]


@router.post("/reviews/{review_id}")
async def decide_review(
    review_id: ReviewId, body: DecisionIn, user: Me, project: Proj, run: Run
) -> dict[str, Any]:
    """Accept, edit (with ``value``) or reject a review item, with an optional comment that
    the annotators who answered differently see as feedback. Accepting a model-proposed
    value needs ``confirm``."""
    QualityPolicy.review(user)
    decided = await run.write(
        project.decide_review,
        review_id,
        reviewer=user.name,
        action=body.action,
        value=body.value,
        comment=body.comment,
        confirm=body.confirm,
    )
    return _jsonable(decided)


@router.post("/reviews/{review_id}/undo")
async def undo_review(review_id: ReviewId, user: Me, project: Proj, run: Run) -> dict[str, Any]:
    """Take back the latest decision on a review item: the final label it replaced returns,
    its feedback is withdrawn, and the item (returned, with its history) is open again."""
    QualityPolicy.review(user)
    item = await run.write(project.undo_review, review_id, reviewer=user.name)
    return _item(item)


@router.get("/reviews/{review_id}/history")
async def review_history(
    review_id: ReviewId, user: Me, project: Proj, run: Run
) -> list[dict[str, Any]]:
    """Every decision and undo of a review item, oldest first: who, when, the action and
    the final label before and after."""
    QualityPolicy.review(user)
    return [_jsonable(h) for h in await run.read(project.review_history, review_id)]


@router.get("/feedback")
async def my_feedback(user: Me, project: Proj, run: Run, view: View) -> list[dict[str, Any]]:
    """The caller's unseen feedback from reviewers (only ever the caller's own), each with
    the record as the caller knows it (``record_id``: a handle for annotators, the name
    ``GET /feedback/{record_id}`` takes), its number in the caller's own sequence (``seq``),
    the ``question``, the caller's own ``answer``, the ``final`` value now and the
    reviewer's ``comment`` (None when ``message`` is the default one)."""
    items = await run.write(project.feedback, user.name)
    seqs = await run.read(project.sequence_numbers, user.name, [f["record_id"] for f in items])
    return [
        _jsonable({**f, "record_id": view.out(f["record_id"]), "seq": seqs.get(f["record_id"])})
        for f in items
    ]


@router.get("/feedback/{record_id}")
async def feedback_record(
    record_id: RecordName, user: Me, project: Proj, run: Run, view: View
) -> dict[str, Any]:
    """One record the caller got feedback on, read-only: the record (its fields, and the
    metadata the caller may see), the caller's own submitted ``response``, their ``seq`` for
    it and every ``feedback`` item on it, seen or not (as ``GET /feedback`` lists them).
    404 when the caller has no feedback on it: only records they answered and a reviewer
    decided otherwise, named as the caller knows them (annotators: their own handle)."""
    rid = view.parse(record_id)
    with view.naming(rid):
        found = await run.read(project.feedback_record, user.name, rid)
    return feedback_record_out(found, view)


@router.post("/feedback/seen")
async def feedback_seen(body: SeenIn, user: Me, project: Proj, run: Run) -> dict[str, int]:
    """Mark some of the caller's feedback as seen."""
    return {"marked": await run.write(project.mark_feedback_seen, user.name, body.ids)}


@router.get("/qa/annotators")
async def annotator_scores(user: Me, project: Proj, run: Run) -> list[dict[str, Any]]:
    """Each annotator's gold accuracy (with its interval), Dawid-Skene accuracy and whether
    they are paused: reviewers and owners only."""
    QualityPolicy.scores(user)
    return list(await run.read(project.annotator_scores))


@router.post("/users/{name}/resume")
async def resume(
    name: Annotated[str, Path(max_length=128)], user: Me, project: Proj, run: Run
) -> dict[str, Any]:
    """Let a paused annotator work again."""
    QualityPolicy.scores(user)
    await run.write(project.set_paused, name, False)
    return {"name": name, "paused": False}
