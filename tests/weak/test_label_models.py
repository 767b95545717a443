"""Label models on synthetic label matrices whose true LF accuracies are known."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from goldsmith.errors import RegistryError, SchemaError
from goldsmith.weak.label_models import DawidSkene, LabelModel, MajorityVote
from goldsmith.weak.label_models._base import BaseLabelModel
from goldsmith.weak.label_models.multilabel import MultiLabelModel
from goldsmith.weak.label_models.select import make_model, select_model
from goldsmith.weak.label_models.spans import (
    SpanLabelModel,
    span_f1,
    spans_to_token_matrix,
    token_labels_to_spans,
)
from goldsmith.weak.matrix import as_dense


def synthetic(
    n: int,
    accuracies: list[float],
    k: int,
    *,
    balance: list[float] | None = None,
    coverage: float | list[float] = 0.4,
    seed: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """LFs independent given y: each fires with its coverage, right with its accuracy,
    otherwise a uniformly random wrong class. Returns the sparse L (label + 1) and y."""
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=balance)
    m = len(accuracies)
    cov = np.broadcast_to(np.asarray(coverage, dtype=float), (m,))
    L = np.full((n, m), -1)
    for j, (acc, c) in enumerate(zip(accuracies, cov, strict=True)):
        fires = rng.random(n) < c
        right = rng.random(n) < acc
        wrong = (y + rng.integers(1, k, n)) % k
        L[fires, j] = np.where(right, y, wrong)[fires]
    return sp.csr_matrix(L + 1), y


ACC = [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.62, 0.88]
MODELS: dict[str, Callable[[int], BaseLabelModel]] = {
    "dawid-skene": lambda k: DawidSkene(k),
    "dawid-skene-abstains": lambda k: DawidSkene(k, model_abstains=True),
    "label-model": lambda k: LabelModel(k),
    "label-model-bayes": lambda k: LabelModel(k, decoding="bayes"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("k", [2, 4])
def test_recovers_known_accuracies(name: str, k: int) -> None:
    L, y = synthetic(20_000, ACC, k, seed=k)
    model = MODELS[name](k).fit(L)
    err = np.abs(model.accuracies_ - np.array(ACC))  # type: ignore[attr-defined]
    assert err.max() <= 0.03, err
    assert model.score(L, y) > 0.85


def test_label_model_recovers_unipolar_lfs() -> None:
    """Keyword-style LFs vote one class only; their firing rate depends on the class."""
    rng = np.random.default_rng(1)
    n, k = 30_000, 2
    y = rng.choice(k, size=n, p=[0.6, 0.4])
    # (class voted, firing rate on that class, firing rate on the other class)
    lfs = [
        (0, 0.3, 0.05),
        (0, 0.2, 0.02),
        (0, 0.4, 0.15),
        (1, 0.35, 0.03),
        (1, 0.25, 0.1),
        (1, 0.5, 0.05),
    ]
    L = np.full((n, len(lfs)), -1)
    true_acc = []
    for j, (c, hit, miss) in enumerate(lfs):
        fires = rng.random(n) < np.where(y == c, hit, miss)
        L[fires, j] = c
        true_acc.append(float((y[fires] == c).mean()))
    model = LabelModel(k, balance_estimate="em").fit(L)
    assert np.abs(model.accuracies_ - true_acc).max() <= 0.03
    assert np.abs(model.class_balance_ - [0.6, 0.4]).max() <= 0.03


@pytest.mark.parametrize("name", sorted(MODELS))
def test_estimates_class_balance(name: str) -> None:
    balance = [0.7, 0.2, 0.1]
    L, _ = synthetic(20_000, ACC, 3, balance=balance, seed=3)
    model = MODELS[name](3).fit(L)
    assert np.abs(model.class_balance_ - balance).max() <= 0.03


@pytest.mark.parametrize(
    "factory", [MajorityVote, DawidSkene, LabelModel, lambda k: LabelModel(k, decoding="bayes")]
)
def test_sparse_and_dense_agree(factory: Callable[[int], BaseLabelModel]) -> None:
    L, _ = synthetic(3_000, ACC[:6], 3, coverage=0.3, seed=4)
    D = as_dense(L)
    a = factory(3).fit(L)  # type: ignore[attr-defined]
    b = factory(3).fit(D)  # type: ignore[attr-defined]
    np.testing.assert_allclose(a.predict_proba(L), b.predict_proba(D), atol=1e-12)
    np.testing.assert_allclose(a.predict_proba(D), b.predict_proba(sp.csr_array(L)), atol=1e-12)
    assert (a.predict(L) == b.predict(D)).all()
    assert (a.predict(L, tie_break="abstain") == b.predict(D, tie_break="abstain")).all()


def test_no_vote_and_tie_policy() -> None:
    L = np.array([[0, 0, -1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
    model = LabelModel(2).fit(L, class_balance=[0.8, 0.2])
    test = np.array([[-1, -1, -1], [0, 1, -1], [0, 0, 0]])
    proba = model.predict_proba(test)
    assert proba[0].tolist() == pytest.approx([0.8, 0.2])  # no vote -> class balance
    assert model.predict(test, tie_break="abstain")[0] == -1
    assert model.predict(test, tie_break="random")[0] == 0  # argmax of the balance
    mv = MajorityVote(2).fit(L)
    assert mv.predict_proba(test)[1].tolist() == [0.5, 0.5]
    assert mv.predict(test, tie_break="abstain").tolist() == [-1, -1, 0]
    ties = np.array([[0, 1, -1]] * 400)
    picks = mv.predict(ties, seed=7)
    assert 150 < picks.sum() < 250  # random among the tied classes
    assert (picks == mv.predict(ties, seed=7)).all()  # seeded


def test_dev_set_and_class_balance_inputs() -> None:
    L, y = synthetic(5_000, ACC, 2, seed=5)
    model = LabelModel(2).fit(L[:4000], L_dev=L[4000:], Y_dev=y[4000:])
    assert np.abs(model.accuracies_ - ACC).max() <= 0.04
    mv = MajorityVote(2).fit(L, Y_dev=np.array([0, 0, 0, 1]))
    assert mv.class_balance_ == pytest.approx([4 / 6, 2 / 6])
    with pytest.raises(SchemaError, match="without Y_dev"):
        LabelModel(2).fit(L, L_dev=L)
    with pytest.raises(SchemaError, match="class_balance"):
        LabelModel(2).fit(L, class_balance=[1.0, -1.0])
    with pytest.raises(SchemaError, match="records but Y_dev"):
        LabelModel(2).fit(L, L_dev=L[:10], Y_dev=y[:9])


def test_bad_inputs_raise_schema_error() -> None:
    L, _ = synthetic(500, ACC[:4], 2, seed=6)
    with pytest.raises(SchemaError, match="not fitted"):
        LabelModel(2).predict_proba(L)
    model = DawidSkene(2).fit(L)
    with pytest.raises(SchemaError, match="fitted on 4"):
        model.predict(as_dense(L)[:, :3])
    with pytest.raises(SchemaError, match="outside -1..1"):
        model.predict(np.array([[0, 1, 2, -1]]))
    with pytest.raises(SchemaError, match="tie_break"):
        model.predict(L, tie_break="first")  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="decoding"):
        LabelModel(2, decoding="best")  # type: ignore[arg-type]


def test_fit_sample_keeps_estimates() -> None:
    L, _ = synthetic(30_000, ACC, 2, seed=8)
    full = LabelModel(2, fit_sample=None).fit(L)
    part = LabelModel(2, fit_sample=10_000).fit(L)
    assert np.abs(full.accuracies_ - part.accuracies_).max() <= 0.03


def test_select_model_picks_the_better_model() -> None:
    # Three excellent LFs outvoted by six near-random ones: majority vote suffers.
    accs = [0.95, 0.95, 0.95, 0.52, 0.52, 0.52, 0.52, 0.52, 0.52]
    L, y = synthetic(12_000, accs, 2, coverage=0.6, seed=9)
    sel = select_model(
        L[:10_000],
        L[10_000:],
        y[10_000:],
        cardinality=2,
        candidates={
            "majority": lambda k, s: MajorityVote(k, seed=s),
            "label-model": lambda k, s: LabelModel(k, seed=s),
        },
    )
    assert sel.name == "label-model"
    assert sel.scores["label-model"] > sel.scores["majority"] + 0.05
    assert isinstance(sel.model, LabelModel) and hasattr(sel.model, "accuracies_")
    with pytest.raises(RegistryError, match="known: dawid-skene"):
        make_model("snorkel", 2)


def test_multilabel_model() -> None:
    L0, y0 = synthetic(4_000, ACC[:6], 2, seed=10)
    L1, y1 = synthetic(4_000, ACC[4:], 2, seed=11)
    model = MultiLabelModel(2).fit([L0, L1])
    pred = model.predict([L0, L1])
    assert pred.shape == (4_000, 2)
    assert (pred[:, 0] == y0).mean() > 0.65 and (pred[:, 1] == y1).mean() > 0.8
    alone = LabelModel(2).fit(L1).predict_proba(L1)[:, 1]
    np.testing.assert_allclose(model.predict_proba([L0, L1])[:, 1], alone)
    with pytest.raises(SchemaError, match="2 labels"):
        model.predict_proba([L0])


def test_span_model_round_trip() -> None:
    lengths = [6, 4]
    # sources[doc][source]: source 0 finds both diseases, source 1 one plus a false one
    sources = [
        [[(1, 3, "Disease")], [(1, 3, "Disease"), (4, 5, "Disease")]],
        [[(0, 2, "Disease")], []],
    ]
    M = spans_to_token_matrix(lengths, sources, ["Disease"])
    assert M.shape == (10, 2)
    assert as_dense(M)[:, 0].tolist() == [-1, 1, 1, -1, -1, -1, 1, 1, -1, -1]
    assert as_dense(M)[:, 1].tolist() == [-1, 1, 1, -1, 1, -1, -1, -1, -1, -1]
    spans = token_labels_to_spans(np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0]), lengths, ["Disease"])
    assert spans == [[(1, 3, "Disease"), (4, 5, "Disease")], [(0, 2, "Disease")]]
    gold = [[(1, 3, "Disease")], [(0, 2, "Disease")]]
    assert span_f1(spans, gold) == pytest.approx((2 / 3, 1.0, 0.8))
    model = SpanLabelModel(["Disease"], base=lambda k, s: MajorityVote(k, seed=s))
    pred = model.fit(lengths * 20, sources * 20).predict_spans(lengths, sources)
    assert pred[0] == [(1, 3, "Disease"), (4, 5, "Disease")]
    with pytest.raises(SchemaError, match="unknown entity type"):
        spans_to_token_matrix([3], [[[(0, 1, "Gene")]]], ["Disease"])
