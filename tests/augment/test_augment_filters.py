"""Filters: planted near-duplicates, confidently contradicted labels, length and language."""

from __future__ import annotations

import numpy as np
import pytest

from goldsmith.augment.filters import filter_synthetic, label_consistent, looks_english, novel
from goldsmith.errors import SchemaError
from goldsmith.models.classifier import LoopClassifier

REAL = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period.",
    "The company said that sales in the third quarter fell by 5 percent.",
]


def test_planted_near_duplicates_are_rejected() -> None:
    texts = [
        "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period .",
        "A brand new sentence about the weather in the city of Helsinki today.",
        "A brand new sentence about the weather in the city of Helsinki today!",
    ]
    rep = filter_synthetic(texts, existing=REAL)
    assert rep.keep.tolist() == [False, True, False]
    assert rep.reasons == ["near-duplicate", None, "near-duplicate"]
    assert rep.rejected == {"near-duplicate": 2} and "kept 1 of 3" in rep.summary()
    assert novel(texts, REAL, threshold=1.01).all()


def test_confidently_contradicted_labels_are_rejected() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    X = rng.normal(size=(80, 3)) + 4 * y[:, None]
    clf = LoopClassifier(n_classes=2).fit(X, y)
    X_syn = np.array([[0.0, 0, 0], [4.0, 4, 4], [2.0, 2, 2]])
    intended = np.array([1, 1, 0])  # the first is clearly class 0; the last is ambiguous
    proba = clf.predict_proba(X_syn)
    keep = label_consistent(intended, [proba], threshold=0.9)
    assert keep.tolist() == [False, True, True]
    texts = ["A perfectly good English sentence about the profit of the firm."] * 3
    rep = filter_synthetic(texts, intended=intended, probas=[proba], dup_threshold=None)
    assert rep.reasons[0] == "label" and rep.rejected == {"label": 1}
    nan = np.full((3, 2), np.nan)
    assert label_consistent(intended, [nan]).all()
    with pytest.raises(SchemaError):
        filter_synthetic(texts, probas=[proba])


def test_length_and_language() -> None:
    assert looks_english("The company said that its profit rose in the quarter.")
    assert not looks_english("Yhtiön liikevaihto kasvoi viime vuonna selvästi ja tulos parani.")
    assert not looks_english("Выручка компании выросла в прошлом году.")
    texts = ["short", "x" * 46, "Yhtiön liikevaihto kasvoi ja tulos parani."]
    rep = filter_synthetic(texts, min_chars=10, max_chars=45, dup_threshold=None)
    assert rep.reasons == ["length", "length", "language"]
    assert rep.rejected == {"length": 2, "language": 1}
