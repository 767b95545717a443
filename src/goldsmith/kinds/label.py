"""The ``label`` question kind: pick exactly one label."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind, check_labels


class LabelQuestion(QuestionKind):
    """Pick exactly one label."""

    widget = "choice"
    kind: Literal["label"] = "label"
    labels: tuple[str, ...]

    @model_validator(mode="after")
    def _labels_ok(self) -> LabelQuestion:
        check_labels(self.name, self.labels)
        return self

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.labels:
            raise SchemaError(f"{self.name}: {value!r} is not one of {list(self.labels)}")
        return value
