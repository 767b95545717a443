"""REST routes of the records browser, under ``/api/v1/browse``, and of background jobs.

Owners and reviewers list records by filters and keyset pages, count them and read one
record's whole story; owners also act on chosen records and export a filtered set in the
background (``/jobs/{id}`` reports its progress; its files download from there). Each route
checks :class:`BrowsePolicy` and calls :class:`~goldsmith.project.Project`.
"""

from __future__ import annotations

import re
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from goldsmith.errors import ArgumentError, NotFoundError
from goldsmith.export.options import DEFAULT_PROVENANCE, ExportOptions
from goldsmith.schema import Provenance
from goldsmith.server.api import Me, Proj, Run
from goldsmith.server.jobs import job_threads
from goldsmith.server.policies import BrowsePolicy
from goldsmith.store.browse import MAX_PAGE, SORTS, STATUSES, RecordFilter

router = APIRouter(prefix="/api/v1", tags=["records browser"])
EXPORTS = "exports"  # exports started from the browser go to <project>/exports/<name>
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
COUNT_CAP = 1_000_000  # a count stops here ("more than")
Id = Annotated[int, Field(ge=1, le=2**53)]
Status = Literal["pending", "annotated", "labeled"]
assert set(STATUSES) == {"pending", "annotated", "labeled"}


class BrowseFilter(BaseModel):
    """Which records: every filter given must hold (none given: every record)."""

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Text the record's fields contain (case-insensitive, anywhere)",
    )
    status: Status | None = Field(
        default=None,
        description="pending (no submitted answer, no final label), annotated (submitted "
        "answers, no final label) or labeled (a final label)",
    )
    question: str | None = Field(
        default=None,
        max_length=128,
        description="The question that label, provenance, the suggestion filters and "
        "disagreement refer to (default: the task's first)",
    )
    label: str | None = Field(
        default=None,
        max_length=512,
        description="The final value, or one of the values of a multi-label answer",
    )
    provenance: list[Provenance] = Field(default_factory=list, max_length=len(Provenance))
    has_suggestion: bool | None = None
    score_min: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    score_max: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    disagreement: bool | None = Field(
        default=None, description="Whether the submitted answers to the question differ"
    )
    in_review: bool | None = Field(default=None, description="Has an open review item")
    label_error: bool | None = Field(
        default=None, description="Has an open review item for a suspected label error"
    )
    meta: list[Annotated[str, Field(max_length=300)]] = Field(
        default_factory=list,
        max_length=20,
        description='Metadata values as "key:value" (matched as text)',
    )
    dup_group: int | None = Field(default=None, ge=0, le=2**53)
    split: str | None = Field(
        default=None, max_length=128, description='metadata "split" (a Hugging Face split)'
    )
    round: int | None = Field(default=None, ge=1, le=2**31)

    def record_filter(self, project: Any) -> RecordFilter:
        pairs = []
        for item in self.meta:
            key, sep, value = item.partition(":")
            if not sep or not key:
                raise ArgumentError(f'meta {item!r}: give "key:value"')
            pairs.append((key, value))
        return project.record_filter(  # type: ignore[no-any-return]
            text=self.q,
            status=self.status,
            question=self.question,
            label=self.label,
            provenance=tuple(str(p) for p in dict.fromkeys(self.provenance)),
            has_suggestion=self.has_suggestion,
            score_min=self.score_min,
            score_max=self.score_max,
            disagreement=self.disagreement,
            in_review=self.in_review,
            label_error=self.label_error,
            metadata=tuple(pairs),
            dup_group=self.dup_group,
            split=self.split,
            round=self.round,
        )


def _query_filter(filters: Annotated[BrowseFilter, Query()]) -> BrowseFilter:
    return filters


Filters = Annotated[BrowseFilter, Depends(_query_filter)]


class BrowseFilterIn(BrowseFilter):
    model_config = ConfigDict(extra="forbid")


class PageOut(BaseModel):
    records: list[dict[str, Any]]
    next: str | None = Field(description="The cursor of the next page (after=...); null: none")
    partial: bool = Field(
        description="The page stopped at its scan bound before filling up: more matches may "
        "follow next"
    )
    scanned: int = Field(description="Records this page examined, at most")


class CountOut(BaseModel):
    total: int
    exact: bool = Field(description="False: there are more than total")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["front", "review", "gold", "ungold"] = Field(
        description="front: first in the annotation queue; review: a manual review item; "
        "gold / ungold: make the final label gold, or stop it being gold"
    )
    ids: list[Id] = Field(min_length=1, max_length=10_000)
    question: str | None = Field(default=None, max_length=128)


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    filter: BrowseFilterIn = Field(default_factory=BrowseFilterIn)
    format: str = Field(max_length=64, description="An export format (see docs/formats.md)")
    name: str | None = Field(
        default=None,
        pattern=NAME,
        description="The folder under the project's exports/ (default: records-<job id>)",
    )
    split: list[Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]] = Field(
        default_factory=lambda: [1.0], min_length=1, max_length=3
    )
    seed: int = Field(default=0, ge=0, le=2**31)
    provenance: list[Provenance] = Field(
        default_factory=lambda: list(DEFAULT_PROVENANCE), min_length=1, max_length=len(Provenance)
    )
    min_confidence: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    question: str | None = Field(default=None, max_length=128)
    validate_files: bool = Field(default=True, alias="validate")
    responses: bool = True
    force: bool = False


JobId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/browse/records", response_model=PageOut)
async def browse_records(
    user: Me,
    project: Proj,
    run: Run,
    filters: Filters,
    sort: Annotated[
        Literal["id", "-id", "queue", "responses", "-responses", "confidence", "-confidence"],
        Query(description="confidence lists only records with a final label"),
    ] = "id",
    after: Annotated[str | None, Query(max_length=512, pattern=r"^[A-Za-z0-9_-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> PageOut:
    """A page of records passing the filters, in ``sort`` order, after the cursor ``after``
    (the previous page's ``next``): keyset pages, as fast deep in a million records as at
    the start. Each page examines at most 50,000 records past its cursor; when it comes
    back ``partial``, ask for ``next`` to go on."""
    BrowsePolicy.read(user)
    assert sort in SORTS
    flt = filters.record_filter(project)
    page = await run.read(project.browse, flt, sort=sort, after=after, limit=limit)
    return PageOut(records=page.rows, next=page.next, partial=page.partial, scanned=page.scanned)


@router.get("/browse/count", response_model=CountOut)
async def browse_count(user: Me, project: Proj, run: Run, filters: Filters) -> CountOut:
    """How many records pass the filters (this reads every record: seconds on millions of
    records with a text search; it stops counting past 1,000,000)."""
    BrowsePolicy.read(user)
    flt = filters.record_filter(project)
    total, exact = await run.read(project.count_matching, flt, cap=COUNT_CAP)
    return CountOut(total=total, exact=exact)


@router.get("/browse/records/{record_id}")
async def record_story(
    record_id: Annotated[int, Path(ge=1, le=2**53)], user: Me, project: Proj, run: Run
) -> dict[str, Any]:
    """Everything about one record: fields and metadata, every suggestion (agent, score),
    every response by annotator, the final labels with provenance, review items and their
    decisions, rounds, owners' actions, and one ``history`` timeline, oldest first."""
    BrowsePolicy.read(user)
    story: dict[str, Any] = await run.read(project.record_story, record_id)
    return story


@router.post("/browse/actions")
async def act(body: ActionIn, user: Me, project: Proj, run: Run) -> dict[str, Any]:
    """Owners: send the chosen records to the front of the queue or to review, or set or
    clear gold on their final label. Returns how many changed and which were left alone,
    and why."""
    BrowsePolicy.act(user)
    report: dict[str, Any] = await run.write(
        project.act_on_records, body.action, body.ids, actor=user.name, question=body.question
    )
    return report


@router.get("/browse/formats")
async def export_formats(
    user: Me, project: Proj, question: Annotated[str | None, Query(max_length=128)] = None
) -> dict[str, list[str]]:
    """The export formats that fit ``question`` (default: the first)."""
    BrowsePolicy.read(user)
    return {"formats": project.export_formats(question)}


@router.post("/browse/export", status_code=202)
async def export(
    body: ExportIn, user: Me, project: Proj, run: Run, request: Request
) -> dict[str, Any]:
    """Owners: export the records the filter matches, with the same options as ``goldsmith
    export``, in the background. Returns the job; ``GET /jobs/{id}`` reports its progress
    and, once done, its files."""
    BrowsePolicy.export(user)
    flt = body.filter.record_filter(project)
    project.task.question(body.question)  # an unknown question fails now, not in the job
    if body.format not in project.export_formats(body.question):
        raise ArgumentError(
            f"format {body.format!r} does not fit the question: choose one of "
            f"{', '.join(project.export_formats(body.question))}"
        )
    if abs(sum(body.split) - 1.0) > 1e-6:
        raise ArgumentError(f"split {body.split}: the fractions must sum to 1")
    params = {"filter": flt.to_json(), **body.model_dump(mode="json", exclude={"filter"})}
    job_id = await run.write(project.start_job, "export", user.name, params)
    folder = project.root / EXPORTS / (body.name or f"records-{job_id}")
    options = ExportOptions(
        fmt=body.format,
        out=folder,
        split=tuple(body.split),
        seed=body.seed,
        provenance=tuple(dict.fromkeys(body.provenance)),
        min_confidence=body.min_confidence,
        question=body.question,
        validate=body.validate_files,
        command=f"records browser export by {user.name}: {params['filter']}",
        force=body.force,
        responses=body.responses,
        records=flt,
    )
    job_threads(request.app).start(
        f"export-{job_id}",
        lambda: project.export_job(job_id, options),
        lambda: project.job_alive(job_id),
    )
    job: dict[str, Any] = await run.read(project.job, job_id)
    return job


@router.get("/jobs/{job_id}")
async def job(job_id: JobId, user: Me, project: Proj, run: Run) -> dict[str, Any]:
    """A background job: ``status`` (running, done, failed; lost when the server stopped
    while it ran), ``stage``, ``done`` of ``total``, and its ``result`` or ``error``."""
    BrowsePolicy.export(user)
    found: dict[str, Any] = await run.read(project.job, job_id)
    return found


@router.get("/jobs/{job_id}/files/{name}")
async def job_file(
    job_id: JobId,
    name: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")],
    user: Me,
    project: Proj,
    run: Run,
) -> FileResponse:
    """Download one file an export job wrote (a split, the dataset card, a companion)."""
    BrowsePolicy.export(user)
    found = await run.read(project.job, job_id)
    result = found.get("result") or {}
    names = {
        *(result.get("files") or {}).values(),
        result.get("card"),
        *result.get("companions", []),
    }
    if found["status"] != "done" or name not in names:
        raise NotFoundError(f"job {job_id} wrote no file {name!r}")
    path = FilePath(result["out"]) / name
    if not path.is_file() or not re.fullmatch(r"[^/\\]+", name):
        raise NotFoundError(f"the file {name!r} of job {job_id} is gone; export again")
    return FileResponse(path, filename=name)
