"""The ``span_multilabel`` question kind: mark character spans of ``field``, each with one or
more labels.

This is Label Studio's ``<Labels choice="multiple">``: clinical "finding + negated +
historical" tagging, say, where one mention carries several labels at once. The value is a
list of ``{"start": int, "end": int, "labels": [str, ...]}``: offsets in code points of
``field``, the labels non-empty, without repeats and in task order, the spans sorted by
``(start, end)``. Two spans over the same ``[start, end)`` are refused: give one span with
all its labels.

>>> q = SpanMultiLabelQuestion(name="findings", labels=("finding", "negated", "historical"))
>>> value = q.check([{"start": 9, "end": 14, "labels": ["negated", "finding"]},
...                  {"start": 0, "end": 4, "labels": ["finding"]}])
>>> [(s["start"], s["labels"]) for s in value]
[(0, ['finding']), (9, ['finding', 'negated'])]
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds._spans import SpanKind, align_spans, offsets, span_schema
from goldsmith.kinds.base import span_triple

if TYPE_CHECKING:
    pass


class SpanMultiLabelQuestion(SpanKind):
    """Mark character spans of ``field``, each with one or more of ``labels``."""

    widget = "span_labels"
    many_labels = True
    kind: Literal["span_multilabel"] = "span_multilabel"

    def check(self, value: Any) -> list[dict[str, Any]]:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise SchemaError(f"{self.name}: expected a list of spans, got {value!r}")
        out = []
        for span in value:
            start, end = offsets(self.name, span)
            labels = span.get("labels") if isinstance(span, Mapping) else None
            if isinstance(labels, str) or not isinstance(labels, list | tuple) or not labels:
                raise SchemaError(
                    f"{self.name}: span [{start}, {end}) needs a non-empty list of labels, "
                    f"got {labels!r}"
                )
            bad = [lab for lab in labels if lab not in self.labels]
            if bad:
                raise SchemaError(
                    f"{self.name}: span [{start}, {end}) has label(s) {bad!r} not in "
                    f"{list(self.labels)}"
                )
            ordered = [lab for lab in self.labels if lab in labels]  # task order, no repeats
            out.append({"start": start, "end": end, "labels": ordered})
        out.sort(key=lambda s: (s["start"], s["end"]))
        for a, b in zip(out, out[1:], strict=False):
            if (a["start"], a["end"]) == (b["start"], b["end"]):
                raise SchemaError(
                    f"{self.name}: two spans cover [{a['start']}, {a['end']}); give one span "
                    "with all of its labels"
                )
        return out

    def span_labels(self, span: Mapping[str, Any]) -> list[str]:
        return [str(lab) for lab in span["labels"]]

    @classmethod
    def agreement_value(cls, value: Any) -> tuple[tuple[int, int, str], ...]:
        """The set of ``(start, end, label)`` triples, sorted: a span with two labels is two
        units, so agreement is measured as for ``spans`` (a label missed on a span found
        is one miss, not the whole span)."""
        if isinstance(value, str) or not isinstance(value, Collection):
            raise ArgumentError(f"expected a list of spans, got {value!r}")
        units = set()
        for span in value:
            labels = span.get("labels") if isinstance(span, Mapping) else None
            if isinstance(labels, str) or not isinstance(labels, Collection):
                raise ArgumentError(f"a span needs start, end and labels, got {span!r}")
            units |= {span_triple({**span, "label": lab}) for lab in labels}
        return tuple(sorted(units))

    def relabel(self, span: dict[str, Any], label_map: Mapping[str, str]) -> dict[str, Any]:
        labels = span.get("labels")
        if not isinstance(labels, list):
            return span  # for check to refuse
        return {**span, "labels": [label_map.get(str(lab), lab) for lab in labels]}

    def from_label_studio(self, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One span per region; results over the same region join their labels."""
        return _merged(values)

    # LLM, export and training (defaults and meanings in kinds/_stages.py and _spans.py)

    def json_schema(self) -> dict[str, Any]:
        items = {"type": "string", "enum": list(self.labels)}
        return span_schema({"labels": {"type": "array", "items": items}})

    def value_type(self) -> Any:
        label = Literal.__getitem__(self.labels)

        class LLMSpans(BaseModel):  # labels are only known at run time
            model_config = ConfigDict(extra="forbid")
            text: str
            start: int
            end: int
            labels: list[label]  # type: ignore[valid-type]

        return list[LLMSpans]

    def prompt_wording(self) -> str:
        names = ", ".join(json.dumps(lab, ensure_ascii=False) for lab in self.labels)
        return (
            f'a list of spans of the field "{self.field}", each {{"text": the exact words, '
            '"start": the character offset where they begin, "end": the offset after them, '
            f'"labels": every one of {names} that applies to them (at least one)}}; one span '
            "per stretch of text"
        )

    def from_llm(self, value: Any, fields: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        """Spans aligned on their text; spans without labels are dropped and spans over the
        same stretch joined, as a model may split one mention's labels."""
        aligned = align_spans(value, str((fields or {}).get(self.field, "")))
        return self.check(_merged(s for s in aligned if s["labels"]))

    def sft_system_prompt(self) -> str:
        names = ", ".join(self.labels)
        return (
            f"{self._lead()}Extract every mention of: {names}, each with every label that "
            'applies. Answer with a JSON list only, one {"start", "end", "labels", "text"} '
            "object per mention; start and end are character offsets into the text."
        )


def _merged(spans: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Spans with one entry per ``(start, end)``, their labels joined in order of arrival
    (a span whose labels are not a list stays apart, for :meth:`check` to refuse)."""
    out: list[dict[str, Any]] = []
    at: dict[tuple[Any, Any], list[Any]] = {}
    for s in spans:
        labels = s.get("labels")
        region = (s.get("start"), s.get("end"))
        if not isinstance(labels, list | tuple):
            out.append({"start": region[0], "end": region[1], "labels": labels})
        elif region in at:
            at[region] += [lab for lab in labels if lab not in at[region]]
        else:
            at[region] = list(labels)
            out.append({"start": region[0], "end": region[1], "labels": at[region]})
    return out
