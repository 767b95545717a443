"""leakage_report: pairs and groups across splits; zero after a group-aware split."""

from __future__ import annotations

import numpy as np

from goldsmith.dedup import leakage_report, near_duplicate_groups
from goldsmith.export.splits import stratified_assign


def test_counts_cross_split_pairs_and_groups() -> None:
    groups = [0, 0, 0, 3, 4, 4, -1, None]
    splits = ["train", "test", "valid", "train", "train", "train", "test", "valid"]
    r = leakage_report(groups, splits, ids=[10, 11, 12, 13, 14, 15, 16, 17])
    assert r["groups"] == 2  # {0,1,2} and {4,5}; 3, -1 and None are no groups
    assert r["groups_crossing"] == 1
    assert r["pairs"] == 3 + 1
    assert r["pairs_crossing"] == 3
    assert r["items_in_crossing_groups"] == 3
    assert r["by_split_pair"] == {"test|train": 1, "test|valid": 1, "train|valid": 1}
    assert r["examples"] == [
        {"group": 0, "items": ["10", "11", "12"], "splits": ["train", "test", "valid"]}
    ]


def test_counts_only_given_pairs() -> None:
    groups = [0, 0, 0]
    splits = ["train", "test", "test"]
    r = leakage_report(groups, splits, pairs=np.array([[0, 1], [1, 2]]))
    assert (r["pairs"], r["pairs_crossing"]) == (2, 1)
    assert r["by_split_pair"] == {"test|train": 1}


def test_zero_after_group_aware_split_and_not_without() -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    texts = []
    for _ in range(60):
        base = " ".join(rng.choice(words, size=25))
        texts += [base, base + " extra", base.upper()]
    res = near_duplicate_groups(texts)
    assert res.n_groups == 60
    strata = ["x"] * len(texts)
    naive = stratified_assign(strata, [0.6, 0.2, 0.2], seed=0)
    leaky = leakage_report(res.groups, naive.tolist(), pairs=res.pairs)
    assert leaky["pairs_crossing"] > 0 and leaky["groups_crossing"] > 0
    aware = stratified_assign(strata, [0.6, 0.2, 0.2], groups=res.groups.tolist(), seed=0)
    clean = leakage_report(res.groups, aware.tolist(), pairs=res.pairs)
    assert clean["pairs_crossing"] == 0
    assert clean["groups_crossing"] == 0
    assert clean["examples"] == []
    assert leakage_report(res.groups, aware.tolist())["pairs_crossing"] == 0
