"""The ``spans`` question kind: mark character spans of ``field`` with labels (NER)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds._spans import LLMSpan as _LLMSpan
from goldsmith.kinds._spans import SpanKind, align_spans, span_schema
from goldsmith.kinds.base import span_triple

if TYPE_CHECKING:
    from goldsmith.schema import Record


class SpansQuestion(SpanKind):
    """Mark character spans of ``field`` with labels (NER)."""

    widget = "spans"
    one_label = True
    kind: Literal["spans"] = "spans"

    def check(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list | tuple):
            raise SchemaError(f"{self.name}: expected a list of spans, got {value!r}")
        out = []
        for span in value:
            try:
                start, end, label = int(span["start"]), int(span["end"]), span["label"]
            except (KeyError, TypeError, ValueError) as exc:
                raise SchemaError(
                    f"{self.name}: a span needs start, end and label, got {span!r}"
                ) from exc
            if label not in self.labels:
                raise SchemaError(f"{self.name}: span label {label!r} not in {list(self.labels)}")
            if not 0 <= start < end:
                raise SchemaError(f"{self.name}: span [{start}, {end}) is empty or negative")
            out.append({"start": start, "end": end, "label": label})
        return sorted(out, key=lambda s: (s["start"], s["end"], s["label"]))

    @classmethod
    def agreement_value(cls, value: Any) -> tuple[tuple[int, int, str], ...]:
        """The set of ``(start, end, label)`` triples, sorted."""
        if isinstance(value, str) or not isinstance(value, Collection):
            raise ArgumentError(f"expected a list of spans, got {value!r}")
        return tuple(sorted({span_triple(s) for s in value}))

    def relabel(self, span: dict[str, Any], label_map: Mapping[str, str]) -> dict[str, Any]:
        return {**span, "label": label_map.get(str(span.get("label")), span.get("label"))}

    def from_label_studio(self, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One span per region and label."""
        return [
            {"start": v.get("start"), "end": v.get("end"), "label": lab}
            for v in values
            for lab in v.get("labels") or []
        ]

    def span_labels(self, span: Mapping[str, Any]) -> list[str]:
        return [str(span["label"])]

    # LLM, export and training (defaults and meanings in kinds/_stages.py and _spans.py)
    prodigy = True
    conll = True

    def json_schema(self) -> dict[str, Any]:
        return span_schema({"label": {"type": "string", "enum": list(self.labels)}})

    def value_type(self) -> Any:
        return list[_LLMSpan]

    def prompt_wording(self) -> str:
        return (
            f'a list of spans of the field "{self.field}", each {{"text": the exact words, '
            '"start": the character offset where they begin, "end": the offset after them, '
            '"label": one of '
            + ", ".join(json.dumps(lab, ensure_ascii=False) for lab in self.labels)
            + "}"
        )

    def from_llm(self, value: Any, fields: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        return self.check(align_spans(value, str((fields or {}).get(self.field, ""))))

    def sft_system_prompt(self) -> str:
        names = ", ".join(self.labels)
        return (
            f"{self._lead()}Extract every mention of: {names}. Answer with a JSON list only, one "
            '{"start", "end", "label", "text"} object per mention; start and end are '
            "character offsets into the text."
        )

    def prodigy_task(self, value: Any, record: Record, text: str) -> dict[str, Any]:
        spans = [
            {"start": s["start"], "end": s["end"], "label": s["label"]}
            for s in self.spans_with_text(value, record)
        ]
        return {"text": str(record.fields.get(self.field) or ""), "spans": spans}
