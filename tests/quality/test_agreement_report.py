"""agreement_report, degenerate data, input errors and the item bootstrap."""

from __future__ import annotations

import json
import time
from typing import Any

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement import (
    KINDS,
    agreement_report,
    alpha_statistic,
    bootstrap,
    cohen_kappa,
    estimate,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    reliability_matrix,
    value_table,
)

LABELS = ["neg", "neu", "pos"]


def _labels(
    n_items: int, n_annotators: int = 3, *, accuracy: float = 0.8, seed: int = 0
) -> list[Any]:
    """Annotators who give the true label with probability ``accuracy``; 10 % skip."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_items)
    triples = []
    for i in range(n_items):
        for a in range(n_annotators):
            if rng.random() < 0.1:
                continue
            label = truth[i] if rng.random() < accuracy else rng.integers(0, 3)
            triples.append((f"r{i}", f"ann{a}", LABELS[label]))
    return triples


def _strict_json(report: dict[str, Any]) -> None:
    json.dumps(report, allow_nan=False)


# --------------------------------------------------------------------------- the report


def test_label_report_matches_the_coefficients_and_is_json() -> None:
    triples = _labels(120)
    report = agreement_report(triples, kind="label", labels=LABELS, n_boot=200)
    _strict_json(report)
    R = reliability_matrix(triples, labels=LABELS).matrix
    overall = report["overall"]
    assert report["metric"] == "alpha_nominal"
    assert overall["alpha_nominal"]["value"] == pytest.approx(
        krippendorff.alpha(R, level_of_measurement="nominal"), rel=1e-9
    )
    assert overall["fleiss_kappa"]["value"] == pytest.approx(fleiss_kappa(R))
    assert overall["percent_agreement"]["value"] == pytest.approx(percent_agreement(R))
    assert report["n_annotators"] == 3 and report["n_items"] == 120
    assert report["n_items_compared"] == overall["alpha_nominal"]["n"] <= 120
    for est in overall.values():
        low, high = est["ci"]
        assert low <= est["value"] <= high
    assert set(report["per_label"]) == set(LABELS)
    for pair in report["per_pair"]:
        a, b = report["annotators"].index(pair["a"]), report["annotators"].index(pair["b"])
        shared = ~np.isnan(R[a]) & ~np.isnan(R[b])
        assert pair["n"] == shared.sum()
        assert pair["metric"] == "cohen_kappa"
        assert pair["value"] == pytest.approx(cohen_kappa_score(R[a, shared], R[b, shared]))


def test_one_vs_rest_alpha_per_label() -> None:
    triples = _labels(80, seed=3)
    report = agreement_report(triples, kind="label", labels=LABELS, n_boot=0)
    R = reliability_matrix(triples, labels=LABELS).matrix
    for code, label in enumerate(LABELS):
        binary = np.where(np.isnan(R), np.nan, np.equal(R, code).astype(float))
        expected = krippendorff.alpha(binary, level_of_measurement="nominal")
        assert report["per_label"][label]["value"] == pytest.approx(expected)


def test_specific_agreement_by_hand() -> None:
    # item 1: a,a; item 2: a,b; item 3: b,b. o_aa = 2, n_a = 3: specific agreement 2/3
    triples = [(1, "x", "a"), (1, "y", "a"), (2, "x", "a"), (2, "y", "b")]
    triples += [(3, "x", "b"), (3, "y", "b")]
    report = agreement_report(triples, kind="label", n_boot=0)
    assert report["per_label"]["a"]["metrics"]["specific_agreement"]["value"] == pytest.approx(
        2 / 3
    )


def test_rating_report_uses_interval_and_ordinal_alpha() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(1, 6, 60)
    triples = [
        (i, a, int(np.clip(truth[i] + rng.integers(-1, 2), 1, 5))) for i in range(60) for a in "xyz"
    ]
    report = agreement_report(triples, kind="rating", labels=[1, 2, 3, 4, 5], n_boot=100)
    _strict_json(report)
    R = reliability_matrix(triples, kind="rating").matrix
    for level in ("interval", "ordinal"):
        expected = krippendorff.alpha(R, level_of_measurement=level)
        assert report["overall"][f"alpha_{level}"]["value"] == pytest.approx(expected, rel=1e-9)
    assert set(report["per_label"]) == {"1", "2", "3", "4", "5"}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("label", "a"),
        ("multilabel", ["a"]),
        ("spans", [{"start": 0, "end": 1, "label": "a"}]),
        ("text", "a b"),
        ("rating", 3),
        ("preference", [0, 1]),
    ],
)
def test_every_kind_reports_its_degenerate_cases_without_nan(kind: str, value: Any) -> None:
    assert kind in KINDS
    empty = agreement_report([], kind=kind)
    single = agreement_report([(1, "x", value), (2, "x", value)], kind=kind)
    apart = agreement_report([(1, "x", value), (2, "y", value)], kind=kind)
    for report, words in (
        (empty, "no responses"),
        (single, "only 'x' has responded"),
        (apart, "no item has responses from two annotators"),
    ):
        _strict_json(report)
        assert words in report["notes"][0]
        assert report["overall"] and all(
            est["value"] is None and words in est["reason"] for est in report["overall"].values()
        )
        assert report["per_pair"] == []
    assert empty["n_items"] == 0 and single["n_annotators"] == 1
    assert any("shares no item" in note for note in apart["notes"])
    same = agreement_report([(1, "x", value), (1, "y", value)], kind=kind, n_boot=10)
    _strict_json(same)


def test_one_label_used_by_everyone_leaves_alpha_undefined_with_a_reason() -> None:
    triples = [(i, a, "pos") for i in range(5) for a in "xy"] + [(9, "x", "neg")]
    report = agreement_report(triples, kind="label", labels=LABELS, n_boot=50)
    _strict_json(report)
    alpha = report["overall"]["alpha_nominal"]
    assert alpha["value"] is None and alpha["ci"] is None
    assert "'pos'" in alpha["reason"] and "undefined" in alpha["reason"]
    assert report["overall"]["percent_agreement"]["value"] == 1.0
    assert report["per_label"]["neu"]["reason"] == "never used"
    assert report["per_label"]["neg"]["reason"] == "never used on items answered twice"
    assert "every response" in report["per_label"]["pos"]["reason"]
    assert "'pos'" in report["per_pair"][0]["reason"]
    assert "1 of 6 items had a single response" in report["notes"][0]


def test_items_with_one_rating_do_not_count() -> None:
    R = np.array([[0, 1, 1, 0, 2], [0, 1, 0, 0, np.nan], [1, 1, 0, 0, np.nan]])
    assert krippendorff_alpha(R) == pytest.approx(krippendorff_alpha(R[:, :4]))
    assert fleiss_kappa(R) == pytest.approx(fleiss_kappa(R[:, :4]))


def test_fleiss_with_unequal_numbers_of_ratings_by_hand() -> None:
    # P_1 = 1 (a, a, a), P_2 = 0 (a, b): P_bar = 0.5; p = (4/5, 1/5): P_e = 0.68
    R = np.array([[0, 0], [0, 1], [0, np.nan]])
    assert fleiss_kappa(R) == pytest.approx((0.5 - 0.68) / (1 - 0.68))
    report = agreement_report(
        [(1, "x", "a"), (1, "y", "a"), (1, "z", "a"), (2, "x", "a"), (2, "y", "b")],
        kind="label",
        n_boot=0,
    )
    assert any("unequal numbers of raters" in note for note in report["notes"])


def test_coefficient_functions_raise_on_degenerate_input() -> None:
    with pytest.raises(SchemaError, match="only one annotator"):
        krippendorff_alpha([[0, 1, 2]])
    with pytest.raises(SchemaError, match="no ratings"):
        krippendorff_alpha(np.empty((0, 0)))
    with pytest.raises(SchemaError, match="same value"):
        krippendorff_alpha([[1, 1], [1, 1]], level="interval")
    with pytest.raises(SchemaError, match="no item has ratings from two"):
        fleiss_kappa([[0, np.nan], [np.nan, 1]])
    with pytest.raises(SchemaError, match="share no item"):
        cohen_kappa([0, np.nan], [np.nan, 1])
    with pytest.raises(SchemaError, match="2-D"):
        krippendorff_alpha([0, 1, 2])
    with pytest.raises(SchemaError, match="numbers with nan"):
        krippendorff_alpha([["a", "b"], ["a", "a"]])
    with pytest.raises(SchemaError, match="unknown level"):
        krippendorff_alpha([[0, 1], [0, 0]], level="ratio")
    with pytest.raises(SchemaError, match="codes 0..1"):
        alpha_statistic([[0, 2], [0, 0]], level=np.array([[0, 1], [1, 0]]))


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_statistics_of_empty_data_are_nan_not_errors(level: str) -> None:
    for R in (np.full((2, 3), np.nan), np.empty((2, 0)), [[1.0, np.nan], [np.nan, 2.0]]):
        stat = alpha_statistic(R, level=level)
        assert np.isnan(stat.value())


def test_bad_triples_are_schema_errors_that_name_the_problem() -> None:
    with pytest.raises(SchemaError, match="annotator 'x' has two values for item 1"):
        value_table([(1, "x", "a"), (1, "x", "b")], kind="label")
    with pytest.raises(SchemaError, match=r"\['maybe'\] not in the labels"):
        agreement_report([(1, "x", "maybe"), (1, "y", "pos")], kind="label", labels=LABELS)
    with pytest.raises(SchemaError, match=r"\['ADE'\] not in the labels"):
        agreement_report([(1, "x", [(0, 2, "ADE")])], kind="spans", labels=["DRUG"])
    with pytest.raises(SchemaError, match=r"rating\(s\) \['7'\] not in the labels"):
        agreement_report([(1, "x", 7), (1, "y", 2)], kind="rating", labels=[1, 2, 3])
    with pytest.raises(SchemaError, match="unknown question kind 'choice'"):
        agreement_report([], kind="choice")
    with pytest.raises(SchemaError, match="item 2, annotator 'y': expected a number"):
        agreement_report([(2, "y", True)], kind="rating")
    with pytest.raises(SchemaError, match=r"expected \(item_id, annotator, value\)"):
        value_table([(1, "x")], kind="label")  # type: ignore[list-item]


def test_unanswered_values_are_skipped() -> None:
    table = value_table([(1, "x", "a"), (1, "y", None), (2, "y", "b")], kind="label")
    assert table.values.tolist() == [["a", None], [None, "b"]]


# --------------------------------------------------------------------------- the bootstrap


def test_bootstrap_is_deterministic_under_a_seed() -> None:
    triples = _labels(60)
    first = agreement_report(triples, kind="label", n_boot=300, seed=7)
    again = agreement_report(triples, kind="label", n_boot=300, seed=7)
    other = agreement_report(triples, kind="label", n_boot=300, seed=8)
    assert first == again
    assert first["overall"]["alpha_nominal"]["ci"] != other["overall"]["alpha_nominal"]["ci"]


def test_interval_narrows_with_more_items() -> None:
    def width(n_items: int) -> float:
        report = agreement_report(_labels(n_items, seed=n_items), kind="label", n_boot=500)
        low, high = report["overall"]["alpha_nominal"]["ci"]
        return float(high - low)

    small, large = width(40), width(1000)
    assert large < small / 3  # ~ 1 / sqrt(n): sqrt(25) = 5


def test_interval_has_roughly_its_coverage() -> None:
    """Bootstrap intervals over 40 simulated studies cover the population alpha ~95 %."""
    population = krippendorff_alpha(reliability_matrix(_labels(20000, seed=99)).matrix)
    hits = 0
    for seed in range(40):
        est = agreement_report(_labels(150, seed=seed), kind="label", n_boot=400, seed=seed)
        low, high = est["overall"]["alpha_nominal"]["ci"]
        hits += low <= population <= high
    assert hits >= 33  # P(X <= 32) < 1 % for X ~ Binomial(40, 0.95)


def test_resamples_where_a_statistic_is_undefined_are_counted_and_left_out() -> None:
    # two items: resamples that draw the "pos" item twice see a single label
    triples = [(1, "x", "pos"), (1, "y", "pos"), (2, "x", "neg"), (2, "y", "pos")]
    report = agreement_report(triples, kind="label", n_boot=400, seed=0)
    alpha = report["overall"]["alpha_nominal"]
    assert 0 < alpha["undefined_resamples"] < 400
    assert alpha["ci"] is not None


def test_bootstrap_checks_its_arguments() -> None:
    stat = alpha_statistic([[0, 1], [0, 0]])
    with pytest.raises(SchemaError, match="n_boot must be at least 1"):
        bootstrap([stat], n_boot=0)
    with pytest.raises(SchemaError, match="same, non-empty set of items"):
        bootstrap([stat, alpha_statistic([[0, 1, 1], [0, 0, 1]])])
    with pytest.raises(SchemaError, match="n_boot must be 0"):
        agreement_report([], kind="label", n_boot=-1)
    assert estimate({"alpha": stat}, n_boot=0)["alpha"].ci is None


def test_thousand_resamples_of_a_thousand_items_are_fast() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 5, 1000)
    R = np.where(rng.random((5, 1000)) < 0.8, truth, rng.integers(0, 5, (5, 1000))).astype(float)
    stats = [alpha_statistic(R, level=level) for level in ("nominal", "ordinal", "interval")]
    start = time.perf_counter()
    samples = bootstrap(stats, n_boot=1000, seed=0)
    elapsed = time.perf_counter() - start
    assert samples.shape == (3, 1000) and not np.isnan(samples).any()
    assert elapsed < 1.0, f"1000 resamples took {elapsed:.2f} s"
