"""The ``text`` question kind: a free response; it becomes the SFT completion."""

from __future__ import annotations

from typing import Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind


class TextQuestion(QuestionKind):
    """A free response; it becomes the SFT completion."""

    widget = "text"
    kind: Literal["text"] = "text"

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise SchemaError(f"{self.name}: expected text, got {value!r}")
        return value
