"""The ``multilabel`` question kind: pick any number of labels."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind, check_labels


class MultiLabelQuestion(QuestionKind):
    """Pick any number of labels."""

    widget = "choices"
    kind: Literal["multilabel"] = "multilabel"
    labels: tuple[str, ...]

    @model_validator(mode="after")
    def _labels_ok(self) -> MultiLabelQuestion:
        check_labels(self.name, self.labels)
        return self

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, list | tuple):
            raise SchemaError(f"{self.name}: expected a list of labels, got {value!r}")
        bad = [v for v in value if v not in self.labels]
        if bad:
            raise SchemaError(f"{self.name}: {bad!r} not in {list(self.labels)}")
        # canonical: task order, no repeats
        return [lab for lab in self.labels if lab in value]
