"""HTTP bodies of the REST API (pydantic). Only the server imports these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from goldsmith.schema import Role, SuggestionKind

MAX_BATCH = 10_000  # items per request: bigger batches belong in `goldsmith import`
Id = Field(ge=1, le=2**53)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GuidelinesIn(_In):
    markdown: str = Field(max_length=1_000_000)


class AnswerIn(_In):
    values: dict[str, Any] = Field(default_factory=dict)
    status: Literal["submitted", "discarded", "draft"] = "submitted"
    time_spent: float | None = Field(default=None, ge=0, le=1e7, allow_inf_nan=False)


class RecordIn(_In):
    fields: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(default=None, max_length=512)


class RecordsIn(_In):
    records: list[RecordIn] = Field(min_length=1, max_length=MAX_BATCH)


class SuggestionIn(_In):
    record_id: int = Id
    question: str = Field(max_length=128)
    value: Any
    agent: str = Field(min_length=1, max_length=256)
    score: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    kind: SuggestionKind = SuggestionKind.MODEL


class SuggestionsIn(_In):
    suggestions: list[SuggestionIn] = Field(min_length=1, max_length=MAX_BATCH)


class UserIn(_In):
    name: str = Field(min_length=1, max_length=128)
    role: Role = Role.ANNOTATOR
    password: str | None = Field(default=None, max_length=1024)


# ---- out


RecordName = int | str  # a record id (owners, reviewers) or an opaque handle (annotators)


class RecordOut(BaseModel):
    id: RecordName = Field(
        description="The record's id; for annotators an opaque handle (a string) instead"
    )
    fields: dict[str, Any]
    metadata: dict[str, Any] = Field(
        description="For annotators only the keys [task.settings] show_metadata names (none "
        "by default), never a key that could tell gold records apart"
    )
    external_id: str | None = Field(description="None for annotators")


class SuggestionOut(BaseModel):
    record_id: RecordName
    question: str
    value: Any
    agent: str
    kind: str
    score: float | None


class ResponseOut(BaseModel):
    record_id: RecordName
    user: str
    values: dict[str, Any]
    status: str
    guideline_version: int | None
    time_spent: float | None


class ItemOut(BaseModel):
    record: RecordOut
    suggestions: list[SuggestionOut]
    response: ResponseOut | None
    lease_expires_at: float | None
    seq: int = Field(
        description="The record's number in the caller's own sequence (1 = the first record "
        'they touched): "#37 in your queue"'
    )


class MaybeItem(BaseModel):
    item: ItemOut | None


class AnswerOut(BaseModel):
    response: ResponseOut
    next: ItemOut | None = None  # with ?next=true: the caller's next record, already leased


class ResponsesOut(BaseModel):
    responses: list[ResponseOut]


class RecordsOut(BaseModel):
    records: list[RecordOut]
    total: int


class AddedOut(BaseModel):
    ids: list[int]
    inserted: int
    duplicates: int


class CountOut(BaseModel):
    inserted: int


class MeOut(BaseModel):
    name: str
    role: Role


class UsersOut(BaseModel):
    users: list[MeOut]


class NewUserOut(BaseModel):
    name: str
    role: Role
    password: str


class KeyOut(BaseModel):
    key: str


class GuidelinesOut(BaseModel):
    version: int | None
    markdown: str
    html: str


class VersionOut(BaseModel):
    version: int


class MineOut(BaseModel):
    submitted: int
    discarded: int
    draft: int


class ProgressOut(BaseModel):
    total: int
    complete: int
    mine: MineOut
