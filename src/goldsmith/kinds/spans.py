"""The ``spans`` question kind: mark character spans of ``field`` with labels (NER)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind, check_labels


class SpansQuestion(QuestionKind):
    """Mark character spans of ``field`` with labels (NER)."""

    widget = "spans"
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
