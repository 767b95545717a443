"""The ``label`` question kind: pick exactly one label."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import LabelsKind, text_value

if TYPE_CHECKING:
    from goldsmith.schema import Record


class LabelQuestion(LabelsKind):
    """Pick exactly one label."""

    widget = "choice"
    one_label = True
    agreement = "nominal"
    label_studio = "choices"
    kind: Literal["label"] = "label"

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.labels:
            raise SchemaError(f"{self.name}: {value!r} is not one of {list(self.labels)}")
        return value

    @classmethod
    def agreement_value(cls, value: Any) -> str:
        return text_value(value)

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> str:
        return label(raw)

    def from_label_studio(self, values: list[dict[str, Any]]) -> list[Any]:
        return [c for v in values for c in v.get("choices") or []]

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    categorical = True
    prodigy = True

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.labels)}

    def value_type(self) -> Any:
        return Literal.__getitem__(self.labels)

    def prompt_wording(self) -> str:
        return "exactly one of " + ", ".join(
            json.dumps(lab, ensure_ascii=False) for lab in self.labels
        )

    def sft_system_prompt(self) -> str:
        names = ", ".join(self.labels)
        return f"{self._lead()}Classify the text into one of: {names}. Answer with the label only."

    def stratum(self, value: Any) -> str:
        return str(value)

    def counted_labels(self, value: Any) -> list[str]:
        return [str(value)]

    def class_names(self) -> tuple[str, ...]:
        return self.labels

    def guesses(self, text: str) -> Iterator[Any]:
        """The text, then its first line, each as is and matched case-insensitively."""
        first = text.splitlines()[0].strip().strip(".").strip() if text else ""
        for guess in (text, first):
            yield guess
            yield next((lab for lab in self.labels if lab.lower() == guess.lower()), None)

    def table_cell(self, value: Any) -> str:
        return str(value)

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return [{**base, "type": "choices", "value": {"choices": [value]}}]

    def prodigy_task(self, value: Any, record: Record, text: str) -> dict[str, Any]:
        return {"text": text, "label": value}
