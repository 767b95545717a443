"""near_duplicate_groups: planted near duplicates, threshold, determinism, transitivity."""

from __future__ import annotations

import random

import numpy as np
import pytest

from goldsmith.dedup import components, exact_jaccard, near_duplicate_groups, normalise, shingle

BASES = [
    "Aspirin reduced the risk of recurrent myocardial infarction in elderly patients.",
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period.",
    "The Licensee shall not assign this Agreement without the prior written consent.",
    "Patients with chronic hepatitis C were randomised to interferon or placebo arms.",
    "Free entry in a weekly competition to win cup final tickets, text WIN now.",
    "What is the name of the longest river that flows through South America?",
]


def _jac(a: str, b: str) -> float:
    sh = shingle([normalise(a), normalise(b)])
    return float(exact_jaccard(sh, np.array([[0, 1]]))[0])


def test_normalise_folds_case_whitespace_and_punctuation() -> None:
    assert normalise("  The   CAT,\tsat!! ") == "the cat sat"
    assert normalise("...") == ""


def test_planted_near_duplicates_are_grouped_and_distinct_texts_are_not() -> None:
    variants = [
        BASES[0].upper(),  # case only
        BASES[1].replace("rose", "grew"),  # one word changed
        BASES[2].replace("this Agreement", "this  agreement ,"),  # spacing/punctuation
    ]
    texts = BASES + variants
    r = near_duplicate_groups(texts, threshold=0.8)
    assert r.groups[6] == r.groups[0] == 0
    assert r.groups[7] == r.groups[1] == 1
    assert r.groups[8] == r.groups[2] == 2
    for i in (3, 4, 5):  # the distinct bases stay alone
        assert r.groups[i] == i
        assert not r.grouped[i]
    assert r.n_groups == 3
    assert r.groups.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]


def test_threshold_is_respected_after_verification() -> None:
    a = BASES[3]
    b = a.replace("chronic hepatitis C", "acute liver disease")
    j = _jac(a, b)
    assert 0.5 < j < 0.8
    assert near_duplicate_groups([a, b], threshold=0.8).groups.tolist() == [0, 1]
    assert near_duplicate_groups([a, b], threshold=j - 0.01).groups.tolist() == [0, 0]
    # every reported pair clears the threshold exactly, whatever LSH proposed
    rng = random.Random(0)
    texts = []
    for base in BASES:
        words = base.split()
        for _ in range(6):
            w = list(words)
            for _ in range(rng.randint(0, 3)):
                w.insert(rng.randrange(len(w)), rng.choice(words))
            texts.append(" ".join(w))
    r = near_duplicate_groups(texts, threshold=0.8)
    assert len(r.pairs) > 0
    assert (r.jaccard >= 0.8).all()
    sh = shingle([normalise(t) for t in texts])
    np.testing.assert_allclose(exact_jaccard(sh, r.pairs), r.jaccard)
    assert (r.pairs[:, 0] < r.pairs[:, 1]).all()


def test_groups_are_transitive() -> None:
    words = [f"token{i:02d}" for i in range(20)]
    a = " ".join(words)
    b = " ".join(words[:10] + ["PHI"] + words[10:])
    c = " ".join(words[:10] + ["PHI", "CHI", "PSI"] + words[10:18])
    thr = 0.78
    assert _jac(a, b) >= thr and _jac(b, c) >= thr and _jac(a, c) < thr
    r = near_duplicate_groups([c, "something else entirely here", a, b], threshold=thr)
    assert r.groups.tolist() == [0, 1, 0, 0]
    assert {tuple(p) for p in r.pairs.tolist()} == {(0, 3), (2, 3)}


def test_components_use_the_smallest_index() -> None:
    pairs = np.array([[4, 2], [2, 7], [5, 6]])
    assert components(8, pairs).tolist() == [0, 1, 2, 3, 2, 5, 5, 2]
    assert components(3, np.zeros((0, 2), dtype=np.int64)).tolist() == [0, 1, 2]
    assert components(0, np.zeros((0, 2), dtype=np.int64)).tolist() == []


def test_deterministic_and_order_independent() -> None:
    texts = BASES + [b.lower() + " indeed" for b in BASES]
    first = near_duplicate_groups(texts, seed=3)
    again = near_duplicate_groups(texts, seed=3)
    np.testing.assert_array_equal(first.groups, again.groups)
    np.testing.assert_array_equal(first.pairs, again.pairs)
    perm = np.random.default_rng(1).permutation(len(texts))
    shuffled = near_duplicate_groups([texts[i] for i in perm], seed=3)
    # same partition: items share a group in one order iff they do in the other
    same = first.groups[:, None] == first.groups[None, :]
    same_shuffled = shuffled.groups[:, None] == shuffled.groups[None, :]
    inv = np.argsort(perm)
    np.testing.assert_array_equal(same, same_shuffled[np.ix_(inv, inv)])


def test_empty_and_short_texts() -> None:
    r = near_duplicate_groups(["", "!!", "ok", "OK.", "no"])
    assert r.groups.tolist() == [0, 1, 2, 2, 4]
    assert near_duplicate_groups([]).groups.size == 0


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        near_duplicate_groups(["a"], threshold=0.0)
