"""The ``preference`` question kind: rank candidate responses, best first.

The value is the ranking: candidate indices, best first. Two candidates make a
pairwise preference; more make a ranking, which expands to DPO pairs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from goldsmith.errors import ArgumentError, ExportError, SchemaError
from goldsmith.kinds.base import QuestionKind, json_list

if TYPE_CHECKING:
    from goldsmith.schema import Record


class PreferenceQuestion(QuestionKind):
    """Rank candidate responses held in ``candidates_field`` (a list of strings).

    The value is the ranking: candidate indices, best first. Two candidates make a
    pairwise preference; more make a ranking, which expands to DPO pairs.
    """

    widget = "ranking"
    agreement = "ranking"
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

    @classmethod
    def agreement_value(cls, value: Any) -> tuple[int, ...]:
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) < 2:
            raise ArgumentError(f"expected a ranking of >= 2 candidate indices, got {value!r}")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise ArgumentError(f"a ranking holds candidate indices >= 0, got {value!r}")
        if len(set(value)) != len(value):
            raise ArgumentError(f"ranking {value!r} repeats a candidate")
        return tuple(value)

    def list_fields(self) -> tuple[str, ...]:
        return (self.candidates_field,)

    def from_cell(
        self, raw: Any, *, label: Callable[[Any], str], label_map: Mapping[str, str]
    ) -> list[int]:
        """A list of candidate indices or JSON text of one."""
        return self.check(json_list(raw))

    # LLM, export and training (defaults and meanings in kinds/_stages.py)
    ranks_candidates = True
    trains_sft = False
    hf_category = "text-generation"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "integer"}}

    def value_type(self) -> Any:
        return list[int]

    def prompt_wording(self) -> str:
        return (
            f'the indices of the candidates in "{self.candidates_field}", best first, '
            "one entry per candidate"
        )

    def llm_fields(self) -> tuple[str, ...]:
        return (self.candidates_field,)

    def from_llm(self, value: Any, fields: Mapping[str, Any] | None) -> list[int]:
        """The ranking, its indices bounded by the record's candidates when they are known."""
        if fields is not None:
            n = len(fields.get(self.candidates_field) or ())
            if any(not 0 <= i < n for i in value):
                raise SchemaError(
                    f"the answer's field {self.name!r}: indices {value} outside 0..{n - 1}"
                )
        return self.check(value)

    def prompt_fields(self, text_fields: Sequence[str]) -> list[str]:
        return [f for f in text_fields if f != self.candidates_field]

    def candidates_of(self, record: Record) -> list[str]:
        """The candidate responses of ``record`` (a list of strings), or ExportError."""
        value = record.fields.get(self.candidates_field)
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ExportError(
                f"record {record.id}: field {self.candidates_field!r} must be a list of "
                f"candidate strings, got {type(value).__name__}"
            )
        return value

    def ranking_of(self, value: Any, record: Record) -> list[int]:
        """The ranking (candidate indices, best first), checked against the candidates."""
        n = len(self.candidates_of(record))
        order = [int(v) for v in value]
        bad = [i for i in order if not 0 <= i < n]
        if bad or len(order) < 2:
            raise ExportError(
                f"record {record.id}: ranking {order} of {self.name!r} does not fit its "
                f"{n} candidate(s)"
            )
        return order

    def sft_answer(self, value: Any, record: Record) -> str:
        """The best-ranked candidate."""
        return self.candidates_of(record)[self.ranking_of(value, record)[0]]
