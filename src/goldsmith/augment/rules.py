"""Rule-based augmentation, no model needed: entity swaps and label-preserving templates.

Offsets are code points (Python ``str`` indices), like every span in goldsmith.

>>> import numpy as np
>>> from goldsmith.schema import Record
>>> rec = Record(id=1, fields={"text": "Nokia opened a plant in Oulu."})
>>> spans = [{"start": 0, "end": 5, "label": "ORG"}, {"start": 24, "end": 28, "label": "LOC"}]
>>> syn = entity_swap(rec, spans, gazetteer={"LOC": ["Helsinki"]}, rng=np.random.default_rng(0))
>>> syn.fields["text"], [syn.fields["text"][s["start"]:s["end"]] for s in syn.spans]
('Nokia opened a plant in Helsinki.', ['Nokia', 'Helsinki'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from goldsmith.augment.synthetic import Synthetic
from goldsmith.errors import SchemaError
from goldsmith.schema import Record

Span = Mapping[str, Any]

DEFAULT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "*": (
        "According to a company statement, {text_lc}",
        "{text} The company said in a release.",
        "Reportedly, {text_lc}",
        "In its latest report: {text}",
        "{text} (Source: company release)",
        "As announced today, {text_lc}",
    )
}
"""Label-neutral framings (key ``"*"``: any label); ``{text}`` is the record's text and
``{text_lc}`` the same with a lower-cased first letter when its first word is a common one."""

_LOWERABLE = frozenset(
    [
        "the",
        "a",
        "an",
        "in",
        "for",
        "on",
        "at",
        "during",
        "after",
        "before",
        "according",
        "its",
        "it",
        "this",
        "these",
        "net",
        "operating",
        "sales",
        "profit",
        "revenue",
        "earnings",
        "shares",
        "however",
        "also",
        "both",
    ]
)


def _checked_spans(spans: Sequence[Span], text: str) -> list[dict[str, Any]]:
    triples = sorted((int(s["start"]), int(s["end"]), str(s["label"])) for s in spans)
    for a, b in zip(triples, triples[1:], strict=False):
        if b[0] < a[1]:
            raise SchemaError(f"entity_swap needs non-overlapping spans; {a} overlaps {b}")
    for start, end, _ in triples:
        if not 0 <= start < end <= len(text):
            raise SchemaError(f"span [{start}, {end}) lies outside the text ({len(text)} chars)")
    return [{"start": s, "end": e, "label": lab} for s, e, lab in triples]


def entity_swap(
    record: Record,
    spans: Sequence[Span],
    *,
    gazetteer: Mapping[str, Sequence[str]],
    rng: np.random.Generator,
    field: str = "text",
    question: str = "entities",
    values: Mapping[str, Any] | None = None,
) -> Synthetic | None:
    """Replace each entity by another surface form of the same label; re-map every span.

    Parameters
    ----------
    record
        The parent record; ``record.fields[field]`` holds the text.
    spans
        Its spans ``{start, end, label}`` on that text, non-overlapping.
    gazetteer
        ``{label: [surface forms]}``; an entity whose label is missing, or whose label has
        no form other than its own text, is kept as it is.
    rng
        Picks the replacements.
    field, question
        The text field, and the spans question whose value the result carries.
    values
        Other labels of the parent to carry over (a classification label, say).

    Returns
    -------
    Synthetic or None
        The new example with its spans aligned on its text, or None when nothing changed.
    """
    text = str(record.fields.get(field, ""))
    checked = _checked_spans(spans, text)
    pieces: list[str] = []
    new_spans: list[dict[str, Any]] = []
    swapped: list[tuple[str, str]] = []
    at = 0
    for s in checked:
        pieces.append(text[at : s["start"]])
        old = text[s["start"] : s["end"]]
        choices = [f for f in gazetteer.get(s["label"], ()) if f and f != old]
        new = str(choices[int(rng.integers(len(choices)))]) if choices else old
        if new != old:
            swapped.append((old, new))
        start = sum(len(p) for p in pieces)
        pieces.append(new)
        new_spans.append({"start": start, "end": start + len(new), "label": s["label"]})
        at = s["end"]
    pieces.append(text[at:])
    if not swapped:
        return None
    fields = {**record.fields, field: "".join(pieces)}
    return Synthetic(
        fields=fields,
        values={**dict(values or {}), question: new_spans},
        method="entity-swap",
        parent_record_id=record.id,
        spans=tuple(new_spans),
        span_field=field,
        detail={"swapped": swapped},
    )


def _lower_first(text: str, spans: Sequence[Span]) -> str:
    words = text.split(maxsplit=1)
    if not words or words[0].lower() not in _LOWERABLE or any(int(s["start"]) == 0 for s in spans):
        return text
    return text[:1].lower() + text[1:]


def template_augment(
    record: Record,
    label: Any,
    *,
    rng: np.random.Generator,
    templates: Mapping[str, Sequence[str]] | None = None,
    per_record: int = 1,
    field: str = "text",
    question: str = "label",
    spans: Sequence[Span] = (),
) -> list[Synthetic]:
    """Wrap a record's text in label-preserving templates.

    Parameters
    ----------
    record, label
        The parent and its label (kept: templates must not change what the text says).
    rng
        Picks ``per_record`` distinct templates.
    templates
        ``{label: [template, ...]}``; the ``"*"`` entry applies to every label. Each holds
        ``{text}`` or ``{text_lc}`` once. Default :data:`DEFAULT_TEMPLATES`.
    per_record
        How many examples to make (at most the number of templates that apply).
    field, question
        The text field and the label question.
    spans
        Spans on the text, shifted with it.

    Returns
    -------
    list of Synthetic
    """
    table = DEFAULT_TEMPLATES if templates is None else templates
    usable = [*table.get("*", ()), *table.get(str(label), ())]
    for t in usable:
        if t.count("{text}") + t.count("{text_lc}") != 1:
            raise SchemaError(f"template {t!r} must hold {{text}} or {{text_lc}} exactly once")
    text = str(record.fields.get(field, ""))
    if not usable or not text.strip():
        return []
    take = min(per_record, len(usable))
    out = []
    for i in rng.choice(len(usable), size=take, replace=False):
        template = usable[int(i)]
        body = _lower_first(text, spans) if "{text_lc}" in template else text
        slot = "{text_lc}" if "{text_lc}" in template else "{text}"
        before, after = template.split(slot)
        shifted = [
            {
                "start": int(s["start"]) + len(before),
                "end": int(s["end"]) + len(before),
                "label": s["label"],
            }
            for s in spans
        ]
        out.append(
            Synthetic(
                fields={**record.fields, field: before + body + after},
                values={question: label},
                method="template",
                parent_record_id=record.id,
                spans=tuple(shifted) if spans else None,
                span_field=field,
                detail={"template": template},
            )
        )
    return out
