"""The ``preference`` question kind: rank candidate responses, best first.

The value is the ranking: candidate indices, best first. Two candidates make a
pairwise preference; more make a ranking, which expands to DPO pairs."""

from __future__ import annotations

from typing import Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import QuestionKind


class PreferenceQuestion(QuestionKind):
    """Rank candidate responses held in ``candidates_field`` (a list of strings).

    The value is the ranking: candidate indices, best first. Two candidates make a
    pairwise preference; more make a ranking, which expands to DPO pairs.
    """

    widget = "ranking"
    kind: Literal["preference"] = "preference"
    candidates_field: str = "candidates"

    def check(self, value: Any) -> list[int]:
        if not isinstance(value, list | tuple) or len(value) < 2:
            raise SchemaError(f"{self.name}: expected a ranking of ≥2 candidate indices")
        try:
            ranking = [int(v) for v in value]
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"{self.name}: ranking must hold integers, got {value!r}") from exc
        if len(set(ranking)) != len(ranking) or min(ranking) < 0:
            raise SchemaError(f"{self.name}: ranking {ranking} repeats or is negative")
        return ranking
