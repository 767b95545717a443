"""Rule-based augmentation: entity swaps keep spans aligned, templates keep labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldsmith.augment import DEFAULT_TEMPLATES, Synthetic, entity_swap, template_augment
from goldsmith.errors import SchemaError
from goldsmith.schema import Provenance, Record

WORDS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x1F600), max_size=6)
FORMS = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4)


@st.composite
def spanned(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    """A text built from gaps and entities, with the entities' spans."""
    text, spans = "", []
    for _ in range(draw(st.integers(0, 5))):
        text += draw(WORDS)
        ent = draw(st.text(min_size=1, max_size=8))
        spans.append(
            {
                "start": len(text),
                "end": len(text) + len(ent),
                "label": draw(st.sampled_from(["ORG", "LOC", "PER"])),
            }
        )
        text += ent
    return text + draw(WORDS), spans


@settings(max_examples=200, deadline=None)
@given(spanned(), st.dictionaries(st.sampled_from(["ORG", "LOC"]), FORMS), st.integers(0, 99))
def test_entity_swap_keeps_spans_aligned(
    data: tuple[str, list[dict[str, Any]]], gazetteer: dict[str, list[str]], seed: int
) -> None:
    text, spans = data
    rec = Record(id=3, fields={"text": text})
    syn = entity_swap(rec, spans, gazetteer=gazetteer, rng=np.random.default_rng(seed))
    if syn is None:  # nothing swappable: every entity kept
        for s in spans:
            forms = [
                f for f in gazetteer.get(str(s["label"]), []) if f != text[s["start"] : s["end"]]
            ]
            assert not forms
        return
    new = syn.fields["text"]
    assert syn.spans is not None and len(syn.spans) == len(spans)
    assert syn.values["entities"] == list(syn.spans)
    for old, now in zip(spans, syn.spans, strict=True):
        assert now["label"] == old["label"]
        piece, before = new[now["start"] : now["end"]], text[old["start"] : old["end"]]
        assert piece == before or piece in gazetteer[str(old["label"])]
    # the text between entities is untouched
    gaps_old = [text[a["end"] : b["start"]] for a, b in zip(spans, spans[1:], strict=False)]
    gaps_new = [new[a["end"] : b["start"]] for a, b in zip(syn.spans, syn.spans[1:], strict=False)]
    assert gaps_old == gaps_new
    assert syn.method == "entity-swap" and syn.parent_record_id == 3
    assert syn.provenance is Provenance.SYNTHETIC


def test_entity_swap_rejects_overlapping_spans() -> None:
    rec = Record(fields={"text": "New York City"})
    spans = [{"start": 0, "end": 8, "label": "LOC"}, {"start": 4, "end": 13, "label": "LOC"}]
    with pytest.raises(SchemaError, match="overlap"):
        entity_swap(rec, spans, gazetteer={"LOC": ["Oulu"]}, rng=np.random.default_rng(0))


def test_templates_keep_label_text_and_spans() -> None:
    rec = Record(id=7, fields={"text": "The company posted a loss.", "source": "x"})
    spans = [{"start": 21, "end": 25, "label": "EVENT"}]
    out = template_augment(rec, "negative", rng=np.random.default_rng(1), per_record=6, spans=spans)
    assert len(out) == len(DEFAULT_TEMPLATES["*"])
    assert len({s.fields["text"] for s in out}) == len(out)
    for syn in out:
        assert syn.values == {"label": "negative"} and syn.method == "template"
        assert syn.fields["source"] == "x" and syn.parent_record_id == 7
        assert "ompany posted a loss." in syn.fields["text"]
        assert syn.spans is not None
        assert [syn.fields["text"][s["start"] : s["end"]] for s in syn.spans] == ["loss"]


def test_templates_per_label_and_validation() -> None:
    rec = Record(fields={"text": "Sales rose."})
    table = {"positive": ["Good news: {text}"], "*": []}
    out = template_augment(rec, "positive", rng=np.random.default_rng(0), templates=table)
    assert [s.fields["text"] for s in out] == ["Good news: Sales rose."]
    assert template_augment(rec, "negative", rng=np.random.default_rng(0), templates=table) == []
    with pytest.raises(SchemaError, match="exactly once"):
        template_augment(rec, "x", rng=np.random.default_rng(0), templates={"*": ["no slot"]})


def test_synthetic_becomes_a_record_and_labels() -> None:
    syn = Synthetic(
        fields={"text": "hi there"}, values={"label": "a"}, method="paraphrase", parent_record_id=4
    )
    rec = syn.to_record()
    assert rec.id is None and rec.metadata["synthetic"]["parent_record_id"] == 4
    assert rec.content_hash
    (fl,) = syn.final_labels(11)
    assert (fl.record_id, fl.value, fl.provenance) == (11, "a", Provenance.SYNTHETIC)
