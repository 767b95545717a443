"""The REST API under ``/api/v1``. Each route loads, authorizes via a policy, calls Project."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from goldsmith.errors import NotFoundError
from goldsmith.project import Project
from goldsmith.schema import ResponseStatus, Suggestion, SuggestionKind, User
from goldsmith.server import models as m
from goldsmith.server.auth import current_user
from goldsmith.server.payloads import (
    RecordView,
    item_out,
    record_out,
    record_view,
    response_out,
    task_payload,
)
from goldsmith.server.policies import (
    GuidelinesPolicy,
    RecordPolicy,
    ResponsePolicy,
    StatusPolicy,
    SuggestionPolicy,
    UserPolicy,
)
from goldsmith.server.render import markdown_html
from goldsmith.server.runner import StoreRunner

router = APIRouter(prefix="/api/v1", tags=["api"])
Me = Annotated[User, Depends(current_user)]
NAME_PATTERN = r"^(?:[1-9][0-9]{0,15}|r[0-9a-f]{16})$"
RECORD_NAME = (
    "A record id (owners and reviewers) or, for annotators, the opaque handle the queue gave "
    "them (item.record.id)"
)
RecordName = Annotated[str, Path(pattern=NAME_PATTERN, description=RECORD_NAME)]


async def _project(request: Request) -> Project:  # async: a sync dependency costs a thread hop
    project: Project = request.app.state.project
    return project


async def _runner(request: Request) -> StoreRunner:
    runner: StoreRunner = request.app.state.runner
    return runner


Proj = Annotated[Project, Depends(_project)]
Run = Annotated[StoreRunner, Depends(_runner)]


async def _view(user: Me, project: Proj) -> RecordView:
    """How the caller names records: ids, or (annotators) their own opaque handles."""
    return record_view(project, user)


View = Annotated[RecordView, Depends(_view)]


@router.get("/me", response_model=m.MeOut)
async def me(user: Me) -> m.MeOut:
    return m.MeOut(name=user.name, role=user.role)


@router.get("/task")
async def task(user: Me, project: Proj) -> dict[str, Any]:
    return task_payload(project.task)


# ---------------------------------------------------------------- guidelines


def guidelines_body(project: Project, version: int | None) -> m.GuidelinesOut:
    try:
        number, text = project.guidelines(version)
    except NotFoundError:
        if version is not None:
            raise
        return m.GuidelinesOut(version=None, markdown="", html="")
    return m.GuidelinesOut(version=number, markdown=text, html=markdown_html(text))


@router.get("/guidelines", response_model=m.GuidelinesOut)
async def get_guidelines(
    user: Me,
    project: Proj,
    run: Run,
    version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> m.GuidelinesOut:
    return await run.read(guidelines_body, project, version)


@router.put("/guidelines", response_model=m.VersionOut)
async def put_guidelines(body: m.GuidelinesIn, user: Me, project: Proj, run: Run) -> m.VersionOut:
    GuidelinesPolicy.update(user)
    return m.VersionOut(version=await run.write(project.set_guidelines, body.markdown))


# ---------------------------------------------------------------- overview


@router.get("/progress", response_model=m.ProgressOut)
async def progress(user: Me, project: Proj, run: Run) -> Any:
    return await run.read(project.progress, user.name)


@router.get("/status")
async def status(user: Me, project: Proj, run: Run) -> dict[str, Any]:
    StatusPolicy.read(user)
    return await run.read(project.status)


# ---------------------------------------------------------------- queue


@router.get("/queue/next", response_model=m.MaybeItem)
async def queue_next(user: Me, project: Proj, run: Run, view: View) -> m.MaybeItem:
    item = await run.write(project.next_item, user.name)
    return m.MaybeItem(item=None if item is None else item_out(item, view))


@router.get("/queue/previous", response_model=m.MaybeItem)
async def queue_previous(
    user: Me,
    project: Proj,
    run: Run,
    view: View,
    before: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description=RECORD_NAME, max_length=17)
    ] = None,
) -> m.MaybeItem:
    pivot = None
    if before is not None:
        try:
            pivot = view.parse(before)
        except NotFoundError:
            pivot = None  # not a record of the caller's: their latest answer, as for None
    item = await run.read(project.previous_item, user.name, pivot)
    return m.MaybeItem(item=None if item is None else item_out(item, view))


# ---------------------------------------------------------------- records


@router.get("/records", response_model=m.RecordsOut)
async def list_records(
    user: Me,
    project: Proj,
    run: Run,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> m.RecordsOut:
    RecordPolicy.list(user)
    found = await run.read(project.records, offset=offset, limit=limit)
    total = (await run.read(project.progress, user.name))["total"]
    return m.RecordsOut(records=[record_out(r) for r in found], total=total)


@router.post("/records", response_model=m.AddedOut, status_code=201)
async def add_records(body: m.RecordsIn, user: Me, project: Proj, run: Run) -> m.AddedOut:
    RecordPolicy.create(user)
    rows = [r.model_dump() for r in body.records]
    report = await run.write(project.add_records, rows)
    return m.AddedOut(ids=report.ids, inserted=report.inserted, duplicates=report.duplicates)


@router.get("/records/{record_id}", response_model=m.ItemOut)
async def get_record(
    record_id: RecordName, user: Me, project: Proj, run: Run, view: View
) -> m.ItemOut:
    rid = view.parse(record_id)
    with view.naming(rid):
        item = await run.read(project.item, rid, user.name)
    RecordPolicy.read(user, item)
    return item_out(item, view)


@router.put("/records/{record_id}/response", response_model=m.AnswerOut)
async def answer(
    record_id: RecordName,
    body: m.AnswerIn,
    user: Me,
    project: Proj,
    run: Run,
    view: View,
    request: Request,
    next: Annotated[bool, Query(description="Also lease and return your next record.")] = False,
) -> m.AnswerOut:
    rid = view.parse(record_id)
    with view.naming(rid):
        response, item = await run.write(
            project.answer_and_next,
            user.name,
            rid,
            body.values,
            ResponseStatus(body.status),
            time_spent=body.time_spent,
            assigned_only=ResponsePolicy.answers_only_assigned(user),  # checked in the write
            fetch_next=next,
        )
    if response.status == ResponseStatus.SUBMITTED:
        request.app.state.retrainer.submitted()
    return m.AnswerOut(
        response=response_out(response, view),
        next=None if item is None else item_out(item, view),
    )


# ---------------------------------------------------------------- suggestions and responses


@router.post("/suggestions", response_model=m.CountOut, status_code=201)
async def add_suggestions(body: m.SuggestionsIn, user: Me, project: Proj, run: Run) -> m.CountOut:
    SuggestionPolicy.create(user)
    items = [
        Suggestion(s.record_id, s.question, s.value, s.agent, SuggestionKind(s.kind), s.score)
        for s in body.suggestions
    ]
    return m.CountOut(inserted=await run.write(project.add_suggestions, items))


@router.get("/responses", response_model=m.ResponsesOut)
async def list_responses(
    user: Me,
    project: Proj,
    run: Run,
    view: View,
    of_user: Annotated[str | None, Query(alias="user", max_length=128)] = None,
    status: ResponseStatus | None = None,
    record_id: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description=RECORD_NAME, max_length=17)
    ] = None,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> m.ResponsesOut:
    blind = project.task.settings.blind
    if of_user is None and user.role == "annotator" and blind:
        of_user = user.name  # blind mode: an annotator's listing is their own
    ResponsePolicy.list(user, of_user, blind=blind)
    try:
        rid = None if record_id is None else view.parse(record_id)
    except NotFoundError:
        return m.ResponsesOut(responses=[])  # no record by that name: no responses to it
    found = await run.read(
        project.responses,
        user=of_user,
        status=status,
        record_id=rid,
        offset=offset,
        limit=limit,
    )
    return m.ResponsesOut(responses=[response_out(r, view) for r in found])


# ---------------------------------------------------------------- users


@router.get("/users", response_model=m.UsersOut)
async def list_users(user: Me, project: Proj, run: Run) -> m.UsersOut:
    UserPolicy.manage(user)
    found = await run.read(project.users)
    return m.UsersOut(users=[m.MeOut(name=u.name, role=u.role) for u in found])


@router.post("/users", response_model=m.NewUserOut, status_code=201)
async def add_user(body: m.UserIn, user: Me, project: Proj, run: Run) -> m.NewUserOut:
    UserPolicy.manage(user)
    password = await run.write(project.add_user, body.name, body.role, body.password)
    return m.NewUserOut(name=body.name, role=body.role, password=password)


@router.post("/users/{name}/keys", response_model=m.KeyOut, status_code=201)
async def add_key(
    name: Annotated[str, Path(max_length=128)], user: Me, project: Proj, run: Run
) -> m.KeyOut:
    UserPolicy.create_key(user, name)
    return m.KeyOut(key=await run.write(project.create_api_key, name))
