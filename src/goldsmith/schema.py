"""The vocabulary of goldsmith: the task (fields and questions) and the objects of the loop.

A task is declared in ``goldsmith.toml`` and parsed into :class:`Task`. Records,
suggestions, responses and final labels are plain dataclasses that move between
the store and the library modules.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind
from goldsmith.kinds.label import LabelQuestion as LabelQuestion
from goldsmith.kinds.multilabel import MultiLabelQuestion as MultiLabelQuestion
from goldsmith.kinds.preference import PreferenceQuestion as PreferenceQuestion
from goldsmith.kinds.rating import RatingQuestion as RatingQuestion
from goldsmith.kinds.span_multilabel import SpanMultiLabelQuestion as SpanMultiLabelQuestion
from goldsmith.kinds.spans import SpansQuestion as SpansQuestion
from goldsmith.kinds.text import TextQuestion as TextQuestion

# --------------------------------------------------------------------------- enums


class FieldKind(StrEnum):
    TEXT = "text"
    CHAT = "chat"


class SuggestionKind(StrEnum):
    MODEL = "model"
    LLM = "llm"
    LF = "lf"
    LABEL_MODEL = "label_model"
    IMPORT = "import"


class ResponseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DISCARDED = "discarded"


class Role(StrEnum):
    """What a user may do: owners run the project, reviewers see everything, annotators label."""

    OWNER = "owner"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"


class Provenance(StrEnum):
    GOLD = "gold"
    HUMAN = "human"
    CONSENSUS = "consensus"
    REVIEW = "review"  # a reviewer's decision: overrides every other label
    WEAK = "weak"
    LLM = "llm"
    SYNTHETIC = "synthetic"


# --------------------------------------------------------------------------- task


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """A record field shown to annotators: plain text or a chat transcript."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    title: str | None = None


Question = Annotated[
    LabelQuestion
    | MultiLabelQuestion
    | SpansQuestion
    | TextQuestion
    | RatingQuestion
    | PreferenceQuestion
    | SpanMultiLabelQuestion,
    Field(discriminator="kind"),
]

QUESTION_KINDS: dict[str, type[QuestionKind]] = {
    cls.model_fields["kind"].default: cls for cls in get_args(get_args(Question)[0])
}
"""Each question kind's class by its name in ``goldsmith.toml`` (the ``Question`` union)."""


class Keymap(_Strict):
    """Keys of the annotation page. Labels default to 1-9 in task order; ``labels`` overrides."""

    submit: str = "Enter"
    skip: str = "s"
    back: str = "Backspace"
    help: str = "?"
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys_distinct(self) -> Keymap:
        used = [self.submit, self.skip, self.back, self.help, *self.labels.values()]
        clashes = sorted({k for k in used if used.count(k) > 1})
        if clashes:
            raise ValueError(f"keys {clashes} are assigned to more than one action")
        return self


class Settings(_Strict):
    """Project-wide settings; later issues add more with defaults."""

    overlap: int = Field(default=1, ge=1)
    lease_seconds: int = Field(default=1800, ge=1)
    blind: bool = True  # annotators never see other annotators' responses
    keys: Keymap = Keymap()
    redact_before_llm: bool = True
    redact_mode: Literal["mask", "hash", "fake"] = "mask"  # hash/fake: salt in GOLDSMITH_PII_SALT
    pause_below: float | None = Field(default=None, ge=0.0, le=1.0)  # gold accuracy floor
    pause_min_gold: int = Field(default=5, ge=1)  # gold answers before anyone is paused
    system_prompt: str | None = None
    # metadata keys shown under the record, in this order; None: all of them to owners and
    # reviewers, none to annotators (who never see telling keys: goldsmith.annotation.metadata)
    show_metadata: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _metadata_keys(self) -> Settings:
        keys = self.show_metadata or ()
        bad = [k for k in keys if not k.strip() or len(k) > 128]
        if bad:
            raise ValueError(
                f"show_metadata names must be 1 to 128 characters, not blank: got {bad!r}"
            )
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"show_metadata lists {dupes} more than once: list each key once")
        return self


class Task(_Strict):
    """What annotators are asked, parsed from ``goldsmith.toml``."""

    name: str
    template: str | None = None
    fields: tuple[FieldSpec, ...]
    questions: tuple[Question, ...]
    settings: Settings = Settings()

    @model_validator(mode="after")
    def _names_unique(self) -> Task:
        for kind, names in (
            ("field", [f.name for f in self.fields]),
            ("question", [q.name for q in self.questions]),
        ):
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                raise ValueError(f"duplicate {kind} name(s): {sorted(dupes)}")
        if not self.fields:
            raise ValueError("a task needs at least one field")
        if not self.questions:
            raise ValueError("a task needs at least one question")
        self._check_keys()
        return self

    def _check_keys(self) -> None:
        """Reassigned label keys name real labels, and no label key shadows an action key."""
        keys = self.settings.keys
        labels = {lab for q in self.questions for lab in getattr(q, "labels", ())}
        unknown = sorted(set(keys.labels) - labels)
        if unknown:
            raise ValueError(f"settings.keys.labels names unknown label(s) {unknown}")
        actions = {keys.submit, keys.skip, keys.back, keys.help}
        for q in self.questions:
            for i, lab in enumerate(getattr(q, "labels", ())):
                key = keys.labels.get(lab, str(i + 1) if i < 9 else None)
                if key in actions:
                    raise ValueError(
                        f"label {lab!r} of {q.name!r} uses key {key!r}, which is an action key"
                    )

    def question(self, name: str | None = None) -> Question:
        """The question called ``name``, or the first one when ``name`` is None."""
        if name is None:
            return self.questions[0]
        for q in self.questions:
            if q.name == name:
                return q
        raise SchemaError(f"no question {name!r}; the task has {[q.name for q in self.questions]}")

    @property
    def text_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.kind == FieldKind.TEXT]

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Canonicalise a question→value mapping; unknown questions are an error."""
        names = {q.name for q in self.questions}
        unknown = set(values) - names
        if unknown:
            raise SchemaError(f"unknown question(s) {sorted(unknown)}; expected {sorted(names)}")
        return {name: self.question(name).check(v) for name, v in values.items()}


# --------------------------------------------------------------------------- loop objects


@dataclass(slots=True)
class Record:
    """One item to annotate. ``id`` is assigned by the store and never reused."""

    fields: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    source_file: str | None = None
    source_row: int | None = None
    content_hash: str = ""
    dup_group: int | None = None  # records of one group (near duplicates) share a split
    id: int | None = None


@dataclass(slots=True)
class Suggestion:
    record_id: int
    question: str
    value: Any
    agent: str
    kind: SuggestionKind
    score: float | None = None


@dataclass(slots=True)
class Response:
    record_id: int
    user: str
    values: dict[str, Any]
    status: ResponseStatus = ResponseStatus.SUBMITTED
    guideline_version: int | None = None
    time_spent: float | None = None


@dataclass(slots=True)
class User:
    """Someone who uses the server. Credentials live in the store, hashed."""

    name: str
    role: Role
    id: int | None = None


@dataclass(slots=True)
class FinalLabel:
    record_id: int
    question: str
    value: Any
    provenance: Provenance
    confidence: float = 1.0


# --------------------------------------------------------------------------- hashing

_SPACES = re.compile("  +")  # literal prefix: scans fast, matches rarely


def normalise_text(text: str) -> str:
    """Normal form used for exact-duplicate detection: NFKC, casefolded, whitespace collapsed.

    This is on the import hot path. Printable text has no whitespace but ``" "``, so only its
    runs of spaces need collapsing; otherwise ``str.split`` splits on every Unicode space.

    >>> normalise_text(" Tumour\tGROWTH\u00a0 rate ")
    'tumour growth rate'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isprintable():
        return _SPACES.sub(" ", folded).strip()
    return " ".join(folded.split())


def content_hash(fields: dict[str, Any]) -> str:
    """A 128-bit hex digest of a record's normalised fields, stable across runs."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(fields):
        value = fields[name]
        if isinstance(value, str):
            value_text = normalise_text(value)
        elif isinstance(value, list):  # chat messages or candidates
            value_text = "\x1e".join(
                normalise_text(m.get("content") or "") + "\x1f" + str(m.get("role", ""))
                if isinstance(m, dict)
                else normalise_text(str(m))
                for m in value
            )
        else:
            value_text = normalise_text(str(value))
        h.update(name.encode())
        h.update(b"\x00")
        h.update(value_text.encode())
        h.update(b"\x00")
    return h.hexdigest()
