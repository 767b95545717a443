"""The ``multilabel`` question kind: pick any number of labels."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds.base import LabelsKind, json_list

if TYPE_CHECKING:
    from goldsmith.schema import Record


class MultiLabelQuestion(LabelsKind):
    """Pick any number of labels."""

    widget = "choices"
    many_labels = True
    agreement = "sets"
    label_studio = "choices"
    kind: Literal["multilabel"] = "multilabel"

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list | tuple):
            raise SchemaError(f"{self.name}: expected a list of labels, got {value!r}")
        bad = [v for v in value if v not in self.labels]
        if bad:
            raise SchemaError(f"{self.name}: {bad!r} not in {list(self.labels)}")
        # canonical: task order, no repeats
        return [lab for lab in self.labels if lab in value]

    @classmethod
    def agreement_value(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Collection):
            raise ArgumentError(f"expected a list of labels, got {value!r}")
        if not all(isinstance(v, str) for v in value):
            raise ArgumentError(f"labels must be text, got {value!r}")
        return tuple(sorted(set(value)))

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> list[str]:
        """A list, JSON text of one, ``{"labels": [...]}`` (the training files' answer form,
        :meth:`sft_answer`), or labels separated by commas or semicolons."""
        items = json_list(raw)
        if isinstance(items, str) and items.lstrip().startswith("{"):
            try:
                answer = json.loads(items)
            except json.JSONDecodeError as exc:
                raise SchemaError(f"malformed JSON answer: {exc.msg}") from exc
            if not (isinstance(answer, dict) and isinstance(answer.get("labels"), list)):
                raise SchemaError('a JSON answer must be {"labels": [...]}')
            items = answer["labels"]
        if isinstance(items, str):
            items = [p for p in items.replace(";", ",").split(",") if p.strip()]
        elif not isinstance(items, list):
            items = [items]
        return self.check([label(v) for v in items])

    def from_label_studio(self, values: list[dict[str, Any]]) -> list[Any]:
        return [c for v in values for c in v.get("choices") or []]

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    categorical = True
    prodigy = True

    def empty(self) -> list[Any]:
        return []

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": list(self.labels)}}

    def value_type(self) -> Any:
        return list[Literal.__getitem__(self.labels)]  # type: ignore[misc]

    def prompt_wording(self) -> str:
        names = ", ".join(json.dumps(lab, ensure_ascii=False) for lab in self.labels)
        return f"a list of any of {names} (an empty list when none applies)"

    def sft_system_prompt(self) -> str:
        names = ", ".join(self.labels)
        return (
            f"{self._lead()}Tag the text with every label that applies, from: {names}. "
            'Answer with JSON only: {"labels": [...]}.'
        )

    def sft_answer(self, value: Any, record: Record) -> str:
        return json.dumps({"labels": list(value)}, ensure_ascii=False)

    def stratum(self, value: Any) -> str:
        return json.dumps(sorted(value))

    def counted_labels(self, value: Any) -> list[str]:
        return [str(v) for v in value]

    def class_names(self) -> tuple[str, ...]:
        return self.labels

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return [{**base, "type": "choices", "value": {"choices": list(value)}}]

    def prodigy_task(self, value: Any, record: Record, text: str) -> dict[str, Any]:
        options = [{"id": lab, "text": lab} for lab in self.labels]
        return {"text": text, "options": options, "accept": list(value)}
