"""The ``spans`` question kind: mark character spans of ``field`` with labels (NER)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds._spans import LLMSpan as _LLMSpan
from goldsmith.kinds._spans import align_spans, sent_spans, span_schema, spans_with_text
from goldsmith.kinds._stages import Redact
from goldsmith.kinds.base import QuestionKind, check_labels, json_list, span_triple, spans_fit

if TYPE_CHECKING:
    from goldsmith.schema import Record


class SpansQuestion(QuestionKind):
    """Mark character spans of ``field`` with labels (NER)."""

    widget = "spans"
    one_label = True
    marks_spans = True
    agreement = "spans"
    label_studio = "labels"
    kind: Literal["spans"] = "spans"
    labels: tuple[str, ...]
    field: str = "text"

    @model_validator(mode="after")
    def _labels_ok(self) -> SpansQuestion:
        check_labels(self.name, self.labels)
        return self

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

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """A list of spans or JSON text of one; ``label_map`` renames span labels."""
        spans = json_list(raw)
        if isinstance(spans, list) and label_map:
            spans = [
                {**s, "label": label_map.get(str(s.get("label")), s.get("label"))}
                if isinstance(s, dict)
                else s
                for s in spans
            ]
        return self.check(spans)

    def check_fields(self, value: Any, fields: Mapping[str, Any]) -> None:
        spans_fit(self.name, self.field, value, fields)

    def from_label_studio(self, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One span per region and label."""
        return [
            {"start": v.get("start"), "end": v.get("end"), "label": lab}
            for v in values
            for lab in v.get("labels") or []
        ]

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    hf_category = "token-classification"
    count_unit = "mentions"
    prodigy = True
    conll = True

    def empty(self) -> list[Any]:
        return []

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

    def to_llm(self, value: Any, fields: Mapping[str, Any], redact: Redact) -> Any:
        return sent_spans(value, str(fields.get(self.field, "")), redact)

    def prompt_fields(self, text_fields: Sequence[str]) -> list[str]:
        return [self.field]

    def target_field(self, default: str) -> str:
        return self.field

    def sft_system_prompt(self) -> str:
        names = ", ".join(self.labels)
        return (
            f"{self._lead()}Extract every mention of: {names}. Answer with a JSON list only, one "
            '{"start", "end", "label", "text"} object per mention; start and end are '
            "character offsets into the text."
        )

    def sft_answer(self, value: Any, record: Record) -> str:
        return json.dumps(self.spans_with_text(value, record), ensure_ascii=False)

    def stratum(self, value: Any) -> str:
        return json.dumps(sorted({str(s["label"]) for s in value}))

    def counted_labels(self, value: Any) -> list[str]:
        return [str(s["label"]) for s in value]

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
                    "labels": [s["label"]],
                },
            }
            for i, s in enumerate(self.spans_with_text(value, record))
        ]

    def prodigy_task(self, value: Any, record: Record, text: str) -> dict[str, Any]:
        spans = [
            {"start": s["start"], "end": s["end"], "label": s["label"]}
            for s in self.spans_with_text(value, record)
        ]
        return {"text": str(record.fields.get(self.field) or ""), "spans": spans}

    def spans_with_text(self, value: Any, record: Record) -> list[dict[str, Any]]:
        return spans_with_text(self.name, self.field, value, record)
