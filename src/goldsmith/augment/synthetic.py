"""The synthetic example: a new record made from a parent, destined for provenance
``synthetic``.

Nothing here writes to a store. A :class:`Synthetic` turns into the objects a store keeps
(:meth:`Synthetic.to_record`, :meth:`Synthetic.final_labels`); the project stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from goldsmith.schema import FinalLabel, Provenance, Record, content_hash

PROVENANCE = Provenance.SYNTHETIC


@dataclass(frozen=True)
class Synthetic:
    """One generated example.

    Parameters
    ----------
    fields
        The record's fields (``{"text": ...}``, or ``{"prompt": ..., "response": ...}``).
    values
        Its label value(s), ``{question: value}``: the parent's label for a label-preserving
        method, the target label for a counterfactual, re-mapped spans for an entity swap.
    method
        How it was made: ``entity-swap``, ``template``, ``paraphrase``, ``counterfactual``,
        ``self-instruct`` or ``evol-instruct``.
    parent_record_id
        The record it was made from (None when it has no single parent, or the parent is
        not stored yet).
    spans
        Character spans (code points) ``{start, end, label}`` on ``fields[span_field]``.
    detail
        Method-specific notes (the template used, the swapped entities, the target label).
    """

    fields: Mapping[str, Any]
    values: Mapping[str, Any]
    method: str
    parent_record_id: int | None = None
    spans: tuple[Mapping[str, Any], ...] | None = None
    span_field: str = "text"
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def provenance(self) -> Provenance:
        return PROVENANCE

    @property
    def text(self) -> str:
        """The main text: ``fields["text"]``, else every string field joined by newlines."""
        if isinstance(self.fields.get("text"), str):
            return str(self.fields["text"])
        return "\n".join(v for v in self.fields.values() if isinstance(v, str))

    def to_record(self) -> Record:
        """A :class:`~goldsmith.schema.Record` (no id yet) whose metadata says where it
        came from: ``metadata["synthetic"] = {method, parent_record_id, ...detail}``."""
        fields = dict(self.fields)
        meta = {"method": self.method, "parent_record_id": self.parent_record_id}
        meta.update(dict(self.detail))
        return Record(
            fields=fields, metadata={"synthetic": meta}, content_hash=content_hash(fields)
        )

    def final_labels(self, record_id: int) -> list[FinalLabel]:
        """Its labels once stored as record ``record_id``, with provenance ``synthetic``."""
        return [
            FinalLabel(record_id=record_id, question=q, value=v, provenance=PROVENANCE)
            for q, v in self.values.items()
        ]
