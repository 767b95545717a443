"""What every question kind is: a frozen pydantic model that knows its own values.

A question kind is one object that every stage asks, instead of a string every stage switches
on. Each kind lives in its own module of this package and subclasses :class:`QuestionKind`;
:mod:`goldsmith.schema` joins them into the ``Question`` union that ``goldsmith.toml`` is
parsed into. Adding a kind is one module here, one line in that union, one widget module in
the page, and tests (see ``docs/kinds.md``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar, Protocol, Self, TypeGuard

from pydantic import BaseModel, ConfigDict, model_validator

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds._stages import StageBehaviour

MAX_LABELS = 1000  # more than a page can offer; use spans or free text for open vocabularies


def check_labels(name: str, labels: tuple[str, ...]) -> None:
    if not labels:
        raise ValueError(f"question {name!r} needs at least one label")
    if len(labels) > MAX_LABELS:
        raise ValueError(
            f"question {name!r} has {len(labels)} labels; at most {MAX_LABELS} fit an annotation "
            "page. Split the label set or use a text question for open vocabularies"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"question {name!r} repeats a label")


def check_label_groups(
    name: str, labels: tuple[str, ...], groups: Mapping[str, tuple[str, ...]]
) -> None:
    """Each group is named and non-empty, and names labels of the question, each in one group."""
    known = set(labels)
    seen: dict[str, str] = {}  # label -> its group
    for group, members in groups.items():
        where = f"question {name!r}: label_groups"
        if not group.strip():
            raise ValueError(f"{where} has a group with an empty name")
        if not members:
            raise ValueError(f"{where}.{group} is empty; give it labels or leave it out")
        unknown = [lab for lab in members if lab not in known]
        if unknown:
            raise ValueError(
                f"{where}.{group} names {unknown}, which are not among the question's labels; "
                "add them to labels or fix the spelling"
            )
        for lab in members:
            if lab in seen:
                raise ValueError(
                    f"{where}: label {lab!r} is in both {seen[lab]!r} and {group!r}; "
                    "a label belongs to one group"
                )
            seen[lab] = group


class QuestionKind(StageBehaviour, BaseModel):
    """The base of every question kind: its name, title and whether it must be answered.

    Subclasses set ``kind`` (the discriminator in ``goldsmith.toml``) and ``widget`` (the
    page's ES module that draws it), and implement :meth:`check`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    widget: ClassVar[str] = ""
    """The page's widget module (``static/widgets/<widget>.js``)."""

    # What a stage may ask instead of the kind's name. A unit is the record, or each span
    # when the kind marks spans.
    one_label: ClassVar[bool] = False
    """Each unit takes exactly one of ``labels``."""
    many_labels: ClassVar[bool] = False
    """Each unit takes any number of ``labels``."""
    marks_spans: ClassVar[bool] = False
    """The value marks character spans of the record field ``field``."""
    agreement: ClassVar[str] = ""
    """How inter-annotator agreement compares two values, as :meth:`agreement_value` gives
    them: ``nominal`` (equal or not), ``interval`` (numbers), ``sets`` (label sets),
    ``spans`` (``(start, end, label)`` triples), ``text`` (tokens) or ``ranking``."""
    label_studio: ClassVar[str | None] = None
    """The Label Studio result type (``choices``, ``labels``, ...) this kind reads."""

    name: str
    title: str | None = None
    required: bool = True

    def check(self, value: Any) -> Any:
        """Return ``value`` in canonical form, or raise :class:`SchemaError`."""
        raise SchemaError(f"{type(self).__name__} does not implement check()")

    def classifies(self, *, many: bool = False) -> bool:
        """Whether the value is a choice among ``labels`` for the whole record: exactly one
        label (``many=False``) or any number of them (``many=True``). :func:`choice` says
        the same to the type checker."""
        return not self.marks_spans and (self.many_labels if many else self.one_label)

    def categories(self) -> list[Any] | None:
        """The values an agreement report breaks down by (labels, a rating scale), or None."""
        labels: tuple[str, ...] | None = getattr(self, "labels", None)
        return None if labels is None else list(labels)

    @classmethod
    def agreement_value(cls, value: Any) -> Hashable:
        """``value`` in the hashable form agreement compares, or ArgumentError saying why.

        Looser than :meth:`check`: it needs no task (labels are checked apart)."""
        raise ArgumentError(f"{cls.__name__} has no agreement form")

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> Any:
        """The canonical value of a non-empty tabular cell (or an interop answer).

        ``label`` reads one label (a name, a ``label_map`` key or a code); ``label_map``
        renames labels where a kind reads them itself (inside spans)."""
        return self.check(raw)

    def check_fields(self, value: Any, fields: Mapping[str, Any]) -> None:
        """Raise :class:`SchemaError` when ``value`` does not fit the record's ``fields``."""

    def list_fields(self) -> tuple[str, ...]:
        """Record fields this kind reads as a list of texts (a ranking's candidates)."""
        return ()

    def from_label_studio(self, values: list[dict[str, Any]]) -> Any:
        """The raw answer in the ``value`` objects of one question's Label Studio results
        (then read by :meth:`from_cell`); SchemaError when they do not fit this kind."""
        kind = getattr(self, "kind", type(self).__name__)
        raise SchemaError(f"{self.name}: Label Studio results cannot answer a {kind} question")


class LabelsKind(QuestionKind):
    """A question kind with a set of ``labels`` to pick among (checked by :func:`check_labels`
    when the task is read)."""

    labels: tuple[str, ...]
    label_groups: dict[str, tuple[str, ...]] | None = None
    """Optional headings for the page's label picker: group name -> its labels. Groups show
    in the order of their first label; labels in no group show last, under "Other"."""

    @model_validator(mode="after")
    def _labels_ok(self) -> Self:
        check_labels(self.name, self.labels)
        if self.label_groups is not None:
            check_label_groups(self.name, self.labels, self.label_groups)
        return self


def text_value(value: Any) -> str:
    """The agreement form of a text value (a label, a free answer): the text itself, or
    ArgumentError when it is not text."""
    if not isinstance(value, str):
        raise ArgumentError(f"expected text, got {value!r}")
    return value


class Labelled(Protocol):
    """A question whose value picks among its ``labels`` (what :func:`choice` admits)."""

    one_label: ClassVar[bool]
    many_labels: ClassVar[bool]
    marks_spans: ClassVar[bool]

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    def check(self, value: Any) -> Any: ...


class SpanLabelled(Labelled, Protocol):
    """A question whose value marks labelled spans of the record field ``field``."""

    @property
    def field(self) -> str: ...


def choice(q: QuestionKind, *, many: bool | None = False) -> TypeGuard[Labelled]:
    """Whether ``q``'s value is a choice among its ``labels`` for the whole record: exactly
    one label (``many=False``), any number (``many=True``), or either (``many=None``)."""
    if q.marks_spans:
        return False
    if many is None:
        return q.one_label or q.many_labels
    return q.many_labels if many else q.one_label


def span_choice(q: QuestionKind, *, many: bool | None = False) -> TypeGuard[SpanLabelled]:
    """Whether ``q`` marks spans of ``field`` with one label each (``many=False``), any
    number (``many=True``), or either (``many=None``)."""
    if not q.marks_spans:
        return False
    if many is None:
        return True
    return q.many_labels if many else q.one_label


def json_list(value: Any) -> Any:
    """A list given as a list, a tuple or JSON text; anything else is returned as is."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"malformed JSON list: {exc.msg}") from exc
    if isinstance(value, tuple):
        return list(value)
    return value


def span_triple(span: Any) -> tuple[int, int, str]:
    """``(start, end, label)`` of a span dict or triple, or ArgumentError saying what is wrong."""
    try:
        if isinstance(span, dict):
            start, end, label = int(span["start"]), int(span["end"]), span["label"]
        else:
            start, end, label = int(span[0]), int(span[1]), span[2]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ArgumentError(f"a span needs start, end and label, got {span!r}") from exc
    if not 0 <= start < end or not isinstance(label, str):
        raise ArgumentError(f"span {span!r} is empty, negative or has a non-text label")
    return start, end, label


def spans_fit(
    name: str, field: str, value: list[dict[str, Any]], fields: Mapping[str, Any]
) -> None:
    """Raise :class:`SchemaError` when a span of ``value`` runs past the end of ``field``."""
    text = fields.get(field)
    if not isinstance(text, str):
        return
    for span in value:
        if span["end"] > len(text):
            raise SchemaError(
                f"{name}: span [{span['start']}, {span['end']}) runs past the end of "
                f"field {field!r} ({len(text)} characters)"
            )
