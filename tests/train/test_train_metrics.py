"""The evaluation metrics against scikit-learn, and unparseable predictions by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score

from goldsmith.train.metrics import classification_scores, multilabel_scores

LABELS = ["a", "b", "c"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)), min_size=1))
def test_single_label_scores_match_sklearn(pairs: list[tuple[str, str]]) -> None:
    truth = [t for t, _ in pairs]
    pred = [p for _, p in pairs]
    s = classification_scores(truth, pred, LABELS)
    present = sorted(set(truth), key=LABELS.index)
    assert s["accuracy"] == pytest.approx(accuracy_score(truth, pred))
    assert s["macro_f1"] == pytest.approx(
        f1_score(truth, pred, labels=present, average="macro", zero_division=0)
    )
    assert s["confusion"] == confusion_matrix(truth, pred, labels=LABELS).tolist()
    per = precision_score(truth, pred, labels=LABELS, average=None, zero_division=0)
    assert [s["per_class"][x]["precision"] for x in LABELS] == pytest.approx(per.tolist())


def test_unparsed_predictions_count_as_wrong_by_hand() -> None:
    # a: 3 true, predicted a, a, None; b: 1 true, predicted b; c: none true, predicted once
    s = classification_scores(["a", "a", "a", "b", "b"], ["a", "a", None, "b", "c"], LABELS)
    assert s["unparsed"] == 1
    assert s["accuracy"] == pytest.approx(3 / 5)
    assert s["per_class"]["a"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    # b: precision 1, recall 1/2 -> f1 2/3; c has no support and is left out of the mean
    assert s["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)


def test_multilabel_scores_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    t = rng.random((40, 3)) < 0.4
    p = rng.random((40, 3)) < 0.4
    names = lambda m: [[LABELS[j] for j in np.flatnonzero(r)] for r in m]  # noqa: E731
    s = multilabel_scores(names(t), names(p), LABELS)
    assert s["macro_f1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
    assert s["micro_f1"] == pytest.approx(f1_score(t, p, average="micro", zero_division=0))
    assert s["exact"] == pytest.approx(accuracy_score(t, p))
