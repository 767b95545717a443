"""Span values are checked against the record's text wherever they enter the store: an
annotator's answer and a reviewer's decision (a span past the end of the text used to be
stored, then counted in the consensus and exported)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldsmith import Project
from goldsmith.config import write_config
from goldsmith.errors import SchemaError

TEXT = "🧬 BRCA1 mutations raise the risk of breast cancer."  # 50 code points, 51 UTF-16 units
GENE = (TEXT.index("BRCA1"), TEXT.index("BRCA1") + 5)
DISEASE = (TEXT.index("breast cancer"), TEXT.index("breast cancer") + 13)
QUESTION = {"name": "entities", "kind": "spans", "field": "text", "labels": ["Disease", "Gene"]}


@pytest.fixture
def proj(tmp_path: Path) -> Iterator[Project]:
    task = {"name": "t", "fields": [{"name": "text", "kind": "text"}], "questions": [QUESTION]}
    write_config(tmp_path, task)
    project = Project.open(tmp_path)
    yield project
    project.close()


def _span(start: int, end: int, label: str = "Disease") -> dict[str, object]:
    return {"start": start, "end": end, "label": label}


def test_an_annotator_span_past_the_text_is_refused(proj: Project) -> None:
    (rid,) = proj.add_records([{"fields": {"text": TEXT}}]).ids
    end = len(TEXT)
    with pytest.raises(SchemaError, match=r"runs past the end of field 'text' \(50 characters\)"):
        proj.answer("alice", rid, {"entities": [_span(DISEASE[0], end + 1)]})  # a UTF-16 end
    assert proj.responses(user="alice") == []
    proj.answer("alice", rid, {"entities": [_span(DISEASE[0], end)]})  # to the very end
    assert proj.responses(user="alice")[0].values["entities"] == [_span(DISEASE[0], end)]


def test_a_reviewer_span_past_the_text_is_refused_and_a_fitting_set_is_stored(
    proj: Project,
) -> None:
    (rid,) = proj.add_records([{"fields": {"text": TEXT}}]).ids
    gene, disease = _span(*GENE, "Gene"), _span(*DISEASE)
    answers = {"alice": [gene], "bob": [gene, disease]}
    with proj.store.write() as tx:
        tx.add_reviews(
            [{"record_id": rid, "question": "entities", "kind": "disagreement", "priority": 0.5,
              "detail": {"answers": answers, "proposed": answers["alice"]}}]
        )  # fmt: skip
    (item,) = proj.reviews()
    with pytest.raises(SchemaError, match="runs past the end of field 'text'"):
        proj.decide_review(
            item["id"], reviewer="rita", action="edit", value=[_span(DISEASE[0], len(TEXT) + 1)]
        )
    (still,) = proj.reviews()
    assert still["status"] == "open" and proj.review_history(item["id"]) == []
    with proj.store.read() as tx:
        assert tx.final_label(rid, "entities") is None
    chosen = [disease, gene]
    proj.decide_review(item["id"], reviewer="rita", action="edit", value=chosen)
    with proj.store.read() as tx:
        final = tx.final_label(rid, "entities")
    assert final is not None and str(final.provenance) == "review"
    assert final.value == [gene, disease]  # in text order
