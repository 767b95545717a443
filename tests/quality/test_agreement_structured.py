"""Spans, label sets, free text and rankings on small hand-computed examples."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement import (
    agreement_report,
    alpha_statistic,
    jaccard_agreement,
    jaccard_distances,
    krippendorff_alpha,
    label_indicators,
    preference_agreement,
    reliability_matrix,
    span_f1,
    span_score,
    text_agreement,
    token_f1,
)

# --------------------------------------------------------------------------- spans

ANN = [
    [{"start": 0, "end": 5, "label": "DRUG"}, {"start": 10, "end": 14, "label": "DOSE"}],
    [],
    [{"start": 3, "end": 9, "label": "DRUG"}],
]
BOB = [
    [{"start": 0, "end": 5, "label": "DRUG"}, {"start": 10, "end": 12, "label": "DOSE"}],
    [],
    [{"start": 0, "end": 6, "label": "DRUG"}],
]


def test_exact_span_f1_pools_matches_over_items() -> None:
    # item 0: one of 2 + 2 spans matches; item 2: 0 of 1 + 1: F1 = 2*1 / (4 + 2)
    assert span_f1(ANN, BOB) == pytest.approx(2 / 6)


def test_overlap_span_f1_gives_partial_credit_per_character() -> None:
    # item 0: DRUG 5 of 5+5 chars, DOSE 2 of 4+2; item 2: DRUG [3,6) = 3 of 6+6
    expected = 2 * (5 + 2 + 3) / ((5 + 4) + (5 + 2) + (6 + 6))
    assert span_f1(ANN, BOB, match="overlap") == pytest.approx(expected)


def test_macro_span_f1_averages_items_and_counts_two_empty_lists_as_agreement() -> None:
    assert span_f1(ANN, BOB, average="macro") == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_span_overlap_needs_the_same_label_and_merges_overlapping_spans() -> None:
    assert span_score([(0, 4, "A")], [(0, 4, "B")], match="overlap") == (0.0, 8.0)
    # the two spans of one annotator overlap: their union [0, 6) counts once
    assert span_score([(0, 4, "A"), (2, 6, "A")], [(0, 6, "A")], match="overlap") == (12.0, 12.0)


def test_span_f1_skips_items_one_annotator_did_not_answer() -> None:
    assert span_f1([[(0, 2, "X")], None], [[(0, 2, "X")], [(5, 6, "X")]]) == 1.0
    with pytest.raises(SchemaError, match="share no item"):
        span_f1([None], [[(0, 2, "X")]])
    with pytest.raises(SchemaError, match="nothing to compare"):
        span_f1([[]], [[]])
    with pytest.raises(SchemaError, match="empty, negative"):
        span_f1([[(4, 2, "X")]], [[]])


def test_span_report_breaks_down_by_label_and_pair() -> None:
    triples = [(i, "ann", v) for i, v in enumerate(ANN)] + [
        (i, "bob", v) for i, v in enumerate(BOB)
    ]
    report = agreement_report(triples, kind="spans", labels=["DRUG", "DOSE", "ADE"], n_boot=0)
    assert report["overall"]["exact_f1"]["value"] == pytest.approx(2 / 6)
    assert report["per_label"]["DRUG"]["metrics"]["exact_f1"]["value"] == pytest.approx(2 / 4)
    assert report["per_label"]["DOSE"]["value"] == 0.0
    assert report["per_label"]["ADE"] == report["per_label"]["ADE"] | {"value": None, "n": 0}
    assert report["per_label"]["ADE"]["reason"] == "never used"
    [pair] = report["per_pair"]
    assert (pair["a"], pair["b"], pair["n"]) == ("ann", "bob", 3)
    assert pair["metrics"]["overlap_f1"]["value"] == pytest.approx(20 / 28)


# --------------------------------------------------------------------------- label sets

SETS = {
    ("r1", "ann"): ["a", "b"],
    ("r1", "bob"): ["a"],
    ("r2", "ann"): [],
    ("r2", "bob"): [],
    ("r3", "ann"): ["b"],
    ("r3", "bob"): ["a", "b"],
    ("r4", "ann"): ["a"],
    ("r4", "bob"): ["b"],
}
SET_TRIPLES = [(item, ann, v) for (item, ann), v in SETS.items()]


def test_each_label_is_a_binary_variable() -> None:
    labels, B = label_indicators(SET_TRIPLES, labels=["a", "b", "c"])
    assert labels == ["a", "b", "c"]
    assert B[0].tolist() == [[1, 0, 0, 1], [1, 0, 1, 0]]
    assert B[2].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0]]
    report = agreement_report(SET_TRIPLES, kind="multilabel", labels=["a", "b", "c"], n_boot=0)
    for j, label in enumerate(["a", "b"]):
        expected = krippendorff.alpha(B[j], level_of_measurement="nominal")
        assert report["per_label"][label]["value"] == pytest.approx(expected)
    assert report["per_label"]["c"]["value"] is None


def test_jaccard_agreement_and_its_alpha() -> None:
    ann = [SETS[i, "ann"] for i in ("r1", "r2", "r3", "r4")]
    bob = [SETS[i, "bob"] for i in ("r1", "r2", "r3", "r4")]
    assert jaccard_agreement(ann, bob) == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    rel = reliability_matrix(SET_TRIPLES, kind="multilabel")
    assert rel.categories == [(), ("a",), ("b",), ("a", "b")]
    D = jaccard_distances(rel.categories)
    # hand: pairable values 8; o from (ab,a), (),(), (b,ab), (a,b)
    o = np.zeros((4, 4))
    for x, y in [(3, 1), (0, 0), (2, 3), (1, 2)]:
        o[x, y] += 1
        o[y, x] += 1
    n_c = o.sum(axis=0)
    expected = 1 - (8 - 1) * (o * D).sum() / (n_c @ D @ n_c)
    assert krippendorff_alpha(rel.matrix, level=D) == pytest.approx(expected)
    report = agreement_report(SET_TRIPLES, kind="multilabel", n_boot=0)
    assert report["overall"]["alpha_jaccard"]["value"] == pytest.approx(expected)
    assert report["overall"]["jaccard"]["value"] == pytest.approx(0.5)


# --------------------------------------------------------------------------- free text


def test_token_f1_by_hand() -> None:
    assert token_f1("Take 5 mg daily.", "take 5 MG") == pytest.approx(2 * 3 / (4 + 3))
    assert token_f1("", "") == 1.0
    assert token_f1("", "something") == 0.0
    assert token_f1("a a b", "a b b") == pytest.approx(2 * 2 / 6)  # bag of words, not sets


def test_text_agreement_is_the_mean_over_pairs_on_shared_items() -> None:
    assert text_agreement(["a b", "c", None], ["a b", "d", "e"]) == pytest.approx(0.5)
    triples = [(1, "x", "a b"), (1, "y", "a b"), (1, "z", "a"), (2, "x", "c"), (2, "y", "d")]
    report = agreement_report(triples, kind="text", n_boot=0)
    # item 1: pairs (x,y)=1, (x,z)=2/3, (y,z)=2/3; item 2: (x,y)=0
    assert report["overall"]["token_f1"]["value"] == pytest.approx((1 + 2 / 3 + 2 / 3 + 0) / 4)
    pairs = {(p["a"], p["b"]): (p["value"], p["n"]) for p in report["per_pair"]}
    assert pairs[("x", "y")] == (0.5, 2)
    assert pairs[("x", "z")] == (pytest.approx(2 / 3), 1)


# --------------------------------------------------------------------------- preferences


def test_preference_agreement_counts_candidate_pairs() -> None:
    # item 1: (0,1) and (0,2) agree, (1,2) does not; item 2: the one pair disagrees
    assert preference_agreement([[0, 1, 2], [1, 0]], [[0, 2, 1], [0, 1]]) == pytest.approx(2 / 4)
    # partial rankings compare only the candidates both ranked
    assert preference_agreement([[2, 0]], [[0, 1, 2]]) == 0.0


def test_preference_alpha_is_nominal_alpha_on_pairwise_choices() -> None:
    triples = [
        (1, "x", [0, 1, 2]),
        (1, "y", [0, 2, 1]),
        (2, "x", [1, 0]),
        (2, "y", [1, 0]),
        (3, "x", [0, 1]),
        (3, "y", [1, 0]),
    ]
    rel = reliability_matrix(triples, kind="preference")
    # units: item 1 pairs (0,1), (0,2), (1,2); item 2 (0,1); item 3 (0,1)
    assert rel.groups is not None and rel.groups.tolist() == [0, 0, 0, 1, 2]
    assert rel.matrix.tolist() == [[1, 1, 1, 0, 1], [1, 1, 0, 0, 0]]
    expected = krippendorff.alpha(rel.matrix, level_of_measurement="nominal")
    grouped = alpha_statistic(rel.matrix, groups=rel.groups)
    assert grouped.n_items == 3
    assert grouped.value() == pytest.approx(expected)
    report = agreement_report(triples, kind="preference", n_boot=50)
    assert report["overall"]["alpha_nominal"]["value"] == pytest.approx(expected)
    assert report["overall"]["pairwise_agreement"]["value"] == pytest.approx(3 / 5)


def test_rankings_are_checked() -> None:
    with pytest.raises(SchemaError, match="repeats"):
        reliability_matrix([(1, "x", [0, 0])], kind="preference")
    with pytest.raises(SchemaError, match="item 1, annotator 'x'"):
        reliability_matrix([(1, "x", [1])], kind="preference")
