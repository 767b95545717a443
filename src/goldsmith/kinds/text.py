"""The ``text`` question kind: a free response; it becomes the SFT completion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.kinds._stages import Redact
from goldsmith.kinds.base import QuestionKind, text_value

if TYPE_CHECKING:
    from goldsmith.schema import Record


class TextQuestion(QuestionKind):
    """A free response; it becomes the SFT completion."""

    widget = "text"
    agreement = "text"
    label_studio = "textarea"
    kind: Literal["text"] = "text"

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise SchemaError(f"{self.name}: expected text, got {value!r}")
        return value

    @classmethod
    def agreement_value(cls, value: Any) -> str:
        return text_value(value)

    def from_label_studio(self, values: list[dict[str, Any]]) -> Any:
        """The last textarea's text; several lines of it joined by newlines."""
        text = values[-1].get("text") if values else None
        return "\n".join(map(str, text)) if isinstance(text, list) else text

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    free_text = True
    hf_category = "text-generation"

    def to_llm(self, value: Any, fields: Mapping[str, Any], redact: Redact) -> Any:
        return redact(value)

    def table_cell(self, value: Any) -> str:
        return str(value)

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return [{**base, "type": "textarea", "value": {"text": [value]}}]
