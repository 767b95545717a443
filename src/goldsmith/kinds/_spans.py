"""What the span kinds share: character spans of one text field, as values and as LLM answers.

A span value is a dict with ``start`` and ``end`` (code-point offsets, ``[start, end)``) and
the kind's own keys (``label`` for ``spans``, ``labels`` for ``span_multilabel``). The helpers
here keep those own keys as they are, in order, so each span kind reuses them; :class:`SpanKind`
is the base class of both, with what they answer alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from goldsmith.errors import ExportError, SchemaError
from goldsmith.kinds._stages import Redact
from goldsmith.kinds.base import LabelsKind, json_list, spans_fit

if TYPE_CHECKING:
    from goldsmith.schema import Record

_OFFSETS = ("text", "start", "end")


def _own(span: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's own keys of a span (everything but its text and offsets)."""
    return {k: v for k, v in span.items() if k not in _OFFSETS}


def span_schema(own: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON schema of a list of ``{text, start, end, **own}`` spans (strict subset)."""
    span = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            **own,
        },
        "required": ["text", "start", "end", *own],
        "additionalProperties": False,
    }
    return {"type": "array", "items": span}


def align_spans(spans: Sequence[Mapping[str, Any]], text: str) -> list[dict[str, Any]]:
    """Spans whose offsets point at their ``text`` in ``text``; a miscounted span is moved to
    the nearest occurrence of its text, and one whose text does not occur is dropped.

    >>> align_spans([{"text": "Paris", "start": 0, "end": 5, "label": "LOC"}], "in Paris")
    [{'start': 3, 'end': 8, 'label': 'LOC'}]
    """
    out = []
    for span in spans:
        piece, start = str(span["text"]), int(span["start"])
        if not piece:
            continue
        if text[start : start + len(piece)] != piece:
            found = [m.start() for m in re.finditer(re.escape(piece), text)]
            if not found:
                continue
            start = min(found, key=lambda at: (abs(at - start), at))
        out.append({"start": start, "end": start + len(piece), **_own(span)})
    return out


def sent_spans(
    spans: Sequence[Mapping[str, Any]], text: str, redact: Callable[[str], str]
) -> list[dict[str, Any]]:
    """Spans with their text and offsets as in the text that is sent (redaction shifts them)."""
    out = []
    for span in spans:
        start, end = int(span["start"]), int(span["end"])
        piece, before = redact(text[start:end]), len(redact(text[:start]))
        out.append({"text": piece, "start": before, "end": before + len(piece), **_own(span)})
    return out


def spans_with_text(
    name: str, field: str, value: Sequence[Mapping[str, Any]], record: Record
) -> list[dict[str, Any]]:
    """Spans as ``{"start", "end", **own, "text"}``; a span past the text is an error."""
    text = str(record.fields.get(field) or "")
    out = []
    for span in value:
        start, end = int(span["start"]), int(span["end"])
        if not 0 <= start < end <= len(text):
            raise ExportError(
                f"record {record.id}: span [{start}, {end}) of {name!r} lies outside "
                f"field {field!r} (length {len(text)}); fix or relabel the record"
            )
        out.append({"start": start, "end": end, **_own(span), "text": text[start:end]})
    return out


def offsets(name: str, span: Any) -> tuple[int, int]:
    """``(start, end)`` of a span value, checked: integers with ``0 <= start < end``."""
    try:
        start, end = int(span["start"]), int(span["end"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{name}: a span needs start and end, got {span!r}") from exc
    if not 0 <= start < end:
        raise SchemaError(f"{name}: span [{start}, {end}) is empty or negative")
    return start, end


class LLMSpan(BaseModel):
    """A span as an LLM gives it: its text, offsets and one label."""

    model_config = ConfigDict(extra="forbid")
    text: str
    start: int
    end: int
    label: str


class SpanKind(LabelsKind):
    """The base of the span kinds: labelled character spans of the record field ``field``.

    Subclasses say which labels one span carries (:meth:`span_labels`) and check, word and
    read their values; the rest is answered here alike.
    """

    marks_spans = True
    agreement = "spans"
    label_studio = "labels"
    hf_category = "token-classification"
    count_unit = "mentions"
    field: str = "text"

    def span_labels(self, span: Mapping[str, Any]) -> list[str]:
        """The labels one span of a checked value carries."""
        raise NotImplementedError  # pragma: no cover - each span kind answers

    def relabel(self, span: dict[str, Any], label_map: Mapping[str, str]) -> dict[str, Any]:
        """``span`` (as read, unchecked) with its labels renamed by ``label_map``."""
        raise NotImplementedError  # pragma: no cover - each span kind answers

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """A list of spans or JSON text of one; ``label_map`` renames span labels."""
        spans = json_list(raw)
        if isinstance(spans, list) and label_map:
            spans = [self.relabel(s, label_map) if isinstance(s, dict) else s for s in spans]
        checked: list[dict[str, Any]] = self.check(spans)
        return checked

    def check_fields(self, value: Any, fields: Mapping[str, Any]) -> None:
        spans_fit(self.name, self.field, value, fields)

    def empty(self) -> list[Any]:
        return []

    def to_llm(self, value: Any, fields: Mapping[str, Any], redact: Redact) -> Any:
        return sent_spans(value, str(fields.get(self.field, "")), redact)

    def prompt_fields(self, text_fields: Sequence[str]) -> list[str]:
        return [self.field]

    def target_field(self, default: str) -> str:
        return self.field

    def sft_answer(self, value: Any, record: Record) -> str:
        return json.dumps(self.spans_with_text(value, record), ensure_ascii=False)

    def stratum(self, value: Any) -> str:
        return json.dumps(sorted({lab for s in value for lab in self.span_labels(s)}))

    def counted_labels(self, value: Any) -> list[str]:
        return [lab for s in value for lab in self.span_labels(s)]

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return [
            {
                **base,
                "id": f"{record.id}-{i}",
                "type": "labels",
                "value": {
                    "start": s["start"],
                    "end": s["end"],
                    "text": s["text"],
                    "labels": self.span_labels(s),
                },
            }
            for i, s in enumerate(self.spans_with_text(value, record))
        ]

    def spans_with_text(self, value: Any, record: Record) -> list[dict[str, Any]]:
        return spans_with_text(self.name, self.field, value, record)
