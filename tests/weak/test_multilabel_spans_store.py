"""The new LF kinds against a real store: multi-label votes become one binary matrix per
label, span votes become token spans, incremental applies equal full ones, and fitting
writes label lists and span lists as suggestions and weak final labels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from goldsmith import Project
from goldsmith.errors import SchemaError
from goldsmith.schema import FinalLabel, Provenance, SuggestionKind
from goldsmith.weak import (
    ABSTAIN,
    LF,
    NOT,
    LFRecord,
    gazetteer_lf,
    keyword_lf,
    labeling_function,
    model_lf,
    regex_span_lf,
    similarity_lf,
)
from goldsmith.weak.fit import fit_to_store
from goldsmith.weak.run import (
    apply_to_store,
    load_label_matrix,
    load_multilabel_matrices,
    load_span_votes,
)

TOPICS = ["sports", "politics", "tech"]


def _drop_all(p: Project) -> None:
    with p.store.write() as tx:
        tx.drop_lfs(list(tx.lf_runs()))


def _suggestions(p: Project, n: int) -> dict[int, tuple[Any, float | None]]:
    with p.store.read() as tx:
        found = tx.suggestions_for(list(range(1, n + 1)))
    assert {s.kind for s in found} <= {SuggestionKind.LABEL_MODEL}
    return {s.record_id: (s.value, s.score) for s in found}


def _finals(p: Project, question: str) -> dict[int, Any]:
    with p.store.read() as tx:
        return dict(tx.final_values(question, [str(Provenance.WEAK)]))


# --------------------------------------------------------------------------- multi-label


@labeling_function()
def election_tech(record: LFRecord) -> Any:
    text = record.text
    if "e-voting" in text:
        return ["politics", "tech"]
    if "recipe" in text:
        return [NOT("sports"), NOT("politics"), NOT("tech")]
    return ABSTAIN


ML_LFS: list[LF] = [
    keyword_lf("sports", ["goal", "match"]),
    keyword_lf("politics", ["election", "senate"]),
    keyword_lf("tech", ["software", "chip"]),
    keyword_lf("tech", ["match"], negative=True),  # a match is not a tech story
    election_tech,
]


def _ml_texts(start: int, n: int) -> list[dict[str, Any]]:
    kinds = [
        "a late goal won the match {i}",
        "the senate election {i}",
        "new chip software {i}",
        "e-voting trial {i} in the election",
        "a soup recipe {i}",
        "nothing {i}",
    ]
    return [{"fields": {"text": kinds[i % 6].format(i=i)}} for i in range(start, start + n)]


@pytest.fixture
def multilabel(tmp_path: Path) -> Iterator[Project]:
    with Project.init(tmp_path / "ml", template="multilabel", labels=TOPICS) as p:
        p.add_records(_ml_texts(0, 24))
        yield p


def _ml_dense(p: Project) -> list[np.ndarray]:
    return [L.toarray() for L in load_multilabel_matrices(p.store, p.task).Ls]


def test_multilabel_votes_make_one_binary_matrix_per_label(multilabel: Project) -> None:
    report = apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    assert report.new_votes["election_tech"] == 4 * 2 + 4 * 3
    data = load_multilabel_matrices(multilabel.store, multilabel.task)
    assert data.labels == TOPICS and len(data.Ls) == 3 and data.Ls[0].shape == (24, 5)
    sports, politics, tech = (L.toarray() for L in data.Ls)  # 2 = present, 1 = absent
    assert sports[0].tolist() == [2, 0, 0, 0, 0]
    assert tech[0].tolist() == [0, 0, 0, 1, 0]  # the negative keyword
    assert politics[3].tolist() == [0, 2, 0, 0, 2] and tech[3].tolist() == [0, 0, 0, 0, 2]
    assert [m[4, 4] for m in (sports, politics, tech)] == [1, 1, 1]  # the recipe: NOT all
    assert not sports[5].any() and not politics[5].any() and not tech[5].any()
    with pytest.raises(SchemaError, match="single-label question"):
        load_label_matrix(multilabel.store, multilabel.task)


def test_incremental_multilabel_apply_equals_a_full_one(multilabel: Project) -> None:
    apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    multilabel.add_records(_ml_texts(24, 13))
    again = apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    assert len(again.incremental) == 5 and again.new_votes["keyword_sports"] == 3
    incremental = _ml_dense(multilabel)
    _drop_all(multilabel)
    apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    full = _ml_dense(multilabel)
    assert all(np.array_equal(a, b) for a, b in zip(incremental, full, strict=True))
    assert full[0].shape == (37, 5) and sum(int((m > 0).sum()) for m in full) > 37


def test_multilabel_fit_writes_label_lists(multilabel: Project) -> None:
    apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    with multilabel.store.write() as tx:  # a human label the fit must not replace
        tx.set_final_labels([FinalLabel(2, "labels", ["sports"], Provenance.HUMAN)])
    report = fit_to_store(multilabel.store, multilabel.task, model="majority", threshold=0.9)
    assert (
        report.model == "majority" and report.n_lfs == 5 and set(report.class_balance) == {*TOPICS}
    )
    got = _suggestions(multilabel, 24)
    assert len(got) == 20 == report.n_suggestions  # the "nothing" records have no votes
    assert got[1] == (["sports"], 1.0)  # sports: present; tech: NOT
    assert got[2][0] == ["politics"] and got[3][0] == ["tech"] and got[5][0] == []
    assert got[4][0] == ["politics", "tech"]
    finals = _finals(multilabel, "labels")
    assert 2 not in finals and finals[1] == ["sports"] and finals[5] == []
    assert report.n_weak_labels == len(finals) == 19
    auto = fit_to_store(multilabel.store, multilabel.task)
    assert auto.model == "label-model" and "single-label" in auto.note
    assert _finals(multilabel, "labels") == {}  # a refit without threshold drops weak labels


def test_multilabel_fit_learns_from_gold(multilabel: Project) -> None:
    """Gold label lists join the fit as a dev set (they move the estimated class balance),
    and weak labels never replace them."""
    apply_to_store(multilabel.store, multilabel.task, ML_LFS, workers=1)
    before = fit_to_store(multilabel.store, multilabel.task, model="label-model")
    gold = [FinalLabel(rid, "labels", [], Provenance.GOLD) for rid in (1, 7, 13)]
    with multilabel.store.write() as tx:
        tx.set_final_labels(gold)
    report = fit_to_store(multilabel.store, multilabel.task, model="label-model", threshold=0.5)
    assert report.n_gold == 3 and before.n_gold == 0
    assert report.class_balance["sports"] < before.class_balance["sports"]
    finals = _finals(multilabel, "labels")
    assert not {1, 7, 13} & set(finals)  # weak labels never replace gold
    with multilabel.store.read() as tx:
        kept = dict(tx.final_values("labels", [str(Provenance.GOLD)]))
    assert kept == {1: [], 7: [], 13: []}


# --------------------------------------------------------------------------- spans

SPAN_LFS: list[LF] = [
    gazetteer_lf("Disease", ["breast cancer", "cancer", "diabetes"]),
    regex_span_lf("Gene", r"\b[A-Z]{2,}\d+\b", flags=0),
    gazetteer_lf("Disease", ["type 2 diabetes"], name="long_diabetes"),
]


def _ner_texts(start: int, n: int) -> list[dict[str, Any]]:
    kinds = [
        "😀🧬 BRCA1 raises breast cancer risk {i}",
        "Type 2 diabetes 🩺 and TP53 {i}",
        "no entity at all {i}",
        "cancers and DIABETES, again {i}",
    ]
    return [{"fields": {"text": kinds[i % 4].format(i=i)}} for i in range(start, start + n)]


@pytest.fixture
def ner(tmp_path: Path) -> Iterator[Project]:
    with Project.init(tmp_path / "ner", template="ner", labels=["Disease", "Gene"]) as p:
        p.add_records(_ner_texts(0, 16))
        yield p


def _stored_spans(p: Project) -> list[Any]:
    with p.store.read() as tx:
        return [
            [a.tolist() for a in tx.lf_span_column(run, ["Disease", "Gene"])]
            for run in tx.lf_runs()
        ]


def test_span_votes_are_stored_and_tokenised(ner: Project) -> None:
    report = apply_to_store(ner.store, ner.task, SPAN_LFS)
    assert report.new_votes == {"gazetteer_Disease": 12, "span_regex_Gene": 8, "long_diabetes": 4}
    data = load_span_votes(ner.store, ner.task)
    assert data.lfs == ["gazetteer_Disease", "span_regex_Gene", "long_diabetes"]
    text = _ner_texts(0, 1)[0]["fields"]["text"]
    starts, ends = data.token_starts[0], data.token_ends[0]
    assert [text[a:b] for a, b in zip(starts, ends, strict=True)][:4] == [
        "😀",
        "🧬",
        "BRCA1",
        "raises",
    ]
    assert data.token_spans[0] == [[(4, 6, "Disease")], [(2, 3, "Gene")], []]
    assert data.token_spans[1] == [[(2, 3, "Disease")], [(5, 6, "Gene")], [(0, 3, "Disease")]]
    assert data.token_spans[3][0] == [(2, 3, "Disease")]  # "cancers" is not "cancer"


def test_incremental_span_apply_equals_a_full_one(ner: Project) -> None:
    apply_to_store(ner.store, ner.task, SPAN_LFS)
    ner.add_records(_ner_texts(16, 9))
    again = apply_to_store(ner.store, ner.task, SPAN_LFS)
    assert len(again.incremental) == 3 and again.new_votes["span_regex_Gene"] == 5
    incremental = _stored_spans(ner)
    changed = [*SPAN_LFS[:2], gazetteer_lf("Disease", ["diabetes"], name="long_diabetes")]
    assert apply_to_store(ner.store, ner.task, changed).recomputed == ["long_diabetes"]
    _drop_all(ner)
    apply_to_store(ner.store, ner.task, SPAN_LFS)
    assert _stored_spans(ner) == incremental
    assert len(incremental[0][0]) == 12 + 7


def test_span_fit_writes_span_lists_at_code_point_offsets(ner: Project) -> None:
    apply_to_store(ner.store, ner.task, SPAN_LFS)
    report = fit_to_store(ner.store, ner.task, model="majority", threshold=0.6)
    assert report.n_lfs == 3 and set(report.class_balance) == {"O", "Disease", "Gene"}
    got = _suggestions(ner, 16)
    assert len(got) == report.n_suggestions == 12  # the "no entity" records have no votes
    texts = [r["fields"]["text"] for r in _ner_texts(0, 16)]
    found = {
        rid: [(texts[rid - 1][s["start"] : s["end"]], s["label"]) for s in v]
        for rid, (v, _) in got.items()
    }
    assert found[1] == [("BRCA1", "Gene"), ("breast cancer", "Disease")]
    assert found[2] == [("Type 2 diabetes", "Disease"), ("TP53", "Gene")]
    assert found[4] == [("DIABETES", "Disease")]
    ner.task.question("spans").check(got[1][0])  # a valid spans value
    finals = _finals(ner, "spans")
    assert finals and all(got[rid][1] >= 0.6 for rid in finals)  # type: ignore[operator]
    assert report.n_weak_labels == len(finals)


def test_span_fit_learns_from_gold(ner: Project) -> None:
    """Gold span lists join the token-level fit as its dev set, and are never replaced."""
    apply_to_store(ner.store, ner.task, SPAN_LFS)
    before = fit_to_store(ner.store, ner.task, model="label-model")
    # The sources tag "BRCA1" and "breast cancer" in records 1, 5, 9; gold says only the gene.
    gold = [
        FinalLabel(rid, "spans", [{"start": 3, "end": 8, "label": "Gene"}], Provenance.GOLD)
        for rid in (1, 5, 9)
    ]
    with ner.store.write() as tx:
        tx.set_final_labels(gold)
    report = fit_to_store(ner.store, ner.task, model="label-model", threshold=0.5)
    assert before.n_gold == 0 and report.n_gold == 3
    assert report.class_balance["Disease"] < before.class_balance["Disease"]
    assert not {1, 5, 9} & set(_finals(ner, "spans"))
    with ner.store.read() as tx:
        kept = dict(tx.final_values("spans", [str(Provenance.GOLD)]))
    assert kept[1] == [{"start": 3, "end": 8, "label": "Gene"}]


def test_span_questions_take_span_lfs_only(ner: Project, multilabel: Project) -> None:
    with pytest.raises(SchemaError, match="single-label question"):
        apply_to_store(ner.store, ner.task, [keyword_lf("Gene", ["x"])])
    with pytest.raises(SchemaError, match="emits spans"):
        apply_to_store(multilabel.store, multilabel.task, [gazetteer_lf("tech", ["x"])])
    with pytest.raises(SchemaError, match="tags field 'title'"):
        apply_to_store(ner.store, ner.task, [gazetteer_lf("Gene", ["x"], field="title")])


# --------------------------------------------------------------------------- model LFs


class KeywordModel:
    """A stand-in classifier: predict_proba from keyword counts, classes as label names."""

    classes_ = np.array(["neoplasms", "cardiovascular", "general"])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        scores = np.array(
            [[t.count("tumour") + 0.1, t.count("heart") + 0.1, 0.3] for t in texts], dtype=float
        )
        return scores / scores.sum(axis=1, keepdims=True)


def test_model_and_similarity_lfs_apply_incrementally(tmp_path: Path) -> None:
    labels = ["neoplasms", "cardiovascular", "general"]
    texts = ["a tumour grew", "heart failure", "routine visit", "tumour and tumour"]
    lfs = [
        model_lf(None, KeywordModel(), name="clf", threshold=0.6, version="1"),
        similarity_lf(
            {"a tumour grew": "neoplasms", "heart failure": "cardiovascular"},
            name="near",
            threshold=0.7,
        ),
    ]
    with Project.init(tmp_path / "c", labels=labels) as p:
        p.add_records([{"fields": {"text": f"{t} {i}"}} for i in range(3) for t in texts])
        apply_to_store(p.store, p.task, lfs)
        p.add_records([{"fields": {"text": f"{t} {i}"}} for i in range(3, 5) for t in texts])
        assert apply_to_store(p.store, p.task, lfs).incremental == ["clf", "near"]
        incremental = load_label_matrix(p.store, p.task).L.toarray()
        _drop_all(p)
        apply_to_store(p.store, p.task, lfs)
        full = load_label_matrix(p.store, p.task).L.toarray()
    assert np.array_equal(incremental, full) and full.shape == (20, 2)
    assert full[:4].tolist() == [[1, 1], [2, 2], [3, 0], [1, 0]]


def test_span_fit_auto_uses_the_sequence_model(ner: Project) -> None:
    apply_to_store(ner.store, ner.task, SPAN_LFS)
    report = fit_to_store(ner.store, ner.task, threshold=0.5)
    assert report.model == "hmm" and "used hmm" in report.note
    assert set(report.class_balance) == {"O", "Disease", "Gene"}
    got = _suggestions(ner, 16)
    assert len(got) == report.n_suggestions == 12
    texts = [r["fields"]["text"] for r in _ner_texts(0, 16)]
    found = {
        rid: [(texts[rid - 1][s["start"] : s["end"]], s["label"]) for s in v]
        for rid, (v, _) in got.items()
    }
    assert found[1] == [("BRCA1", "Gene"), ("breast cancer", "Disease")]
    assert found[4] == [("DIABETES", "Disease")]
    assert fit_to_store(ner.store, ner.task, model="hmm").model == "hmm"
