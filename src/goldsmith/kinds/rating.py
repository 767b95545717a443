"""The ``rating`` question kind: an integer rating between ``min`` and ``max``."""

from __future__ import annotations

from typing import Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind


class RatingQuestion(QuestionKind):
    """An integer rating between ``min`` and ``max``."""

    widget = "rating"
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
