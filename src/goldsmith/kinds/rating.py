"""The ``rating`` question kind: an integer rating between ``min`` and ``max``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import ArgumentError, SchemaError
from goldsmith.kinds.base import QuestionKind

if TYPE_CHECKING:
    from goldsmith.schema import Record


ENUM_RATINGS = 100  # a rating range up to this wide is an enum (accepted everywhere)


class RatingQuestion(QuestionKind):
    """An integer rating between ``min`` and ``max``."""

    widget = "rating"
    agreement = "interval"
    label_studio = "rating"
    kind: Literal["rating"] = "rating"
    min: int = 1
    max: int = 5

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise SchemaError(f"{self.name}: expected an integer rating, got {value!r}")
        try:
            rating = int(value)
        except ValueError as exc:
            raise SchemaError(f"{self.name}: expected an integer rating, got {value!r}") from exc
        if not self.min <= rating <= self.max:
            raise SchemaError(f"{self.name}: {rating} is outside [{self.min}, {self.max}]")
        return rating

    def categories(self) -> list[Any]:
        """The scale, ``min`` to ``max``."""
        return list(range(self.min, self.max + 1))

    @classmethod
    def agreement_value(cls, value: Any) -> int | float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ArgumentError(f"expected a number, got {value!r}")
        return value

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> int:
        """An integer, its text, or a whole float (as spreadsheets write integers)."""
        return self.check(int(raw) if isinstance(raw, float) and raw.is_integer() else raw)

    def from_label_studio(self, values: list[dict[str, Any]]) -> Any:
        return values[-1].get("rating") if values else None

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    categorical = True
    table_int = True

    def json_schema(self) -> dict[str, Any]:
        if self.max - self.min < ENUM_RATINGS:
            return {"type": "integer", "enum": list(range(self.min, self.max + 1))}
        return {"type": "integer", "minimum": self.min, "maximum": self.max}

    def value_type(self) -> Any:
        return int

    def prompt_wording(self) -> str:
        return f"an integer rating from {self.min} to {self.max}"

    def sft_system_prompt(self) -> str:
        return (
            f"{self._lead()}Rate the text on a scale from {self.min} to {self.max}. "
            "Answer with the number only."
        )

    def sft_answer(self, value: Any, record: Record) -> str:
        return str(int(value))

    def stratum(self, value: Any) -> str:
        return str(int(value))

    def counted_labels(self, value: Any) -> list[str]:
        return [str(value)]

    def class_names(self) -> tuple[str, ...]:
        return tuple(str(v) for v in range(self.min, self.max + 1))

    def guesses(self, text: str) -> Iterator[Any]:
        """The first word as an integer."""
        try:
            yield int(text.split()[0]) if text else None
        except ValueError:
            return

    def table_cell(self, value: Any) -> int:
        return int(value)

    def label_studio_results(
        self, value: Any, record: Record, base: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        return [{**base, "type": "rating", "value": {"rating": int(value)}}]
