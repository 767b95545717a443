"""Label issues: stratified out-of-fold probabilities, then confident learning (cleanlab);
planted noise on the financial phrasebank (all-agree) with Model2Vec embeddings."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from _ci import skip_or_fail
from goldsmith.errors import SchemaError
from goldsmith.models.embed import make_embedder
from goldsmith.quality import label_issues as label_issues_module
from goldsmith.quality.label_issues import find_issues, out_of_fold_proba, stratified_folds

SHARED = Path(__file__).resolve().parents[3] / "shared"
PHRASEBANK = SHARED / "data/finance/financial_phrasebank/Sentences_AllAgree.txt"
M2V = SHARED / "models/m2v-minilm-l6"
CLASSES = ["negative", "neutral", "positive"]


@pytest.fixture(scope="module")
def phrasebank() -> tuple[np.ndarray, np.ndarray]:
    """Model2Vec vectors and labels of 600 sentences drawn at random (seeded)."""
    if not (PHRASEBANK.is_file() and M2V.is_dir()):
        skip_or_fail("financial phrasebank or the model2vec model not found")
    lines = PHRASEBANK.read_text(encoding="latin-1").splitlines()
    pairs = [ln.rsplit("@", 1) for ln in lines if "@" in ln]
    pick = np.random.default_rng(0).choice(len(pairs), size=600, replace=False)
    X = make_embedder(f"model2vec:{M2V}").encode([pairs[i][0] for i in pick])
    return np.asarray(X, dtype=np.float64), np.array(
        [CLASSES.index(pairs[i][1].strip()) for i in pick]
    )


def _blobs(n: int, k: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    return rng.standard_normal((k, 8))[y] + 0.6 * rng.standard_normal((n, 8)), y


def test_module_doctests_pass() -> None:
    assert doctest.testmod(label_issues_module).failed == 0


# -- folds and out-of-fold probabilities ----------------------------------------------------


def test_stratified_folds_spread_every_class_evenly() -> None:
    y = np.repeat([0, 1, 2, 3], [53, 20, 7, 2])
    folds = stratified_folds(y, 5, seed=3)
    per_class = np.array([np.bincount(folds[y == c], minlength=5) for c in range(4)])
    assert (per_class.max(axis=1) - per_class.min(axis=1) <= 1).all()
    assert np.ptp(np.bincount(folds)) <= 1
    assert (stratified_folds(y, 5, seed=3) == folds).all()
    assert not (stratified_folds(y, 5, seed=4) == folds).all()
    with pytest.raises(SchemaError, match="n_folds"):
        stratified_folds(y, 1)


def test_probabilities_are_out_of_fold() -> None:
    """A 1-nearest-neighbour model memorises; out of fold it cannot see an item's own label."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((300, 5)), rng.integers(0, 3, 300)  # labels are noise

    def knn() -> KNeighborsClassifier:
        return KNeighborsClassifier(n_neighbors=1)

    P = out_of_fold_proba(X, y, model_factory=knn, n_classes=3)
    assert P.shape == (300, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P.argmax(axis=1) == y).mean() < 0.5  # in sample it would be 1.0


def test_default_model_and_a_class_rarer_than_the_folds() -> None:
    X, y = _blobs(200, 3)
    y[:2] = 3  # a fourth class with two members: absent from most training folds
    P = out_of_fold_proba(X, y, n_folds=5)
    assert P.shape == (200, 4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (P[2:].argmax(axis=1) == y[2:]).mean() > 0.9
    lr = out_of_fold_proba(X, y, model_factory=lambda: LogisticRegression(max_iter=500))
    assert lr.shape == (200, 4)  # its classes_ map to the right columns


def test_one_class_and_tiny_inputs() -> None:
    X = np.random.default_rng(0).standard_normal((6, 3))
    P = out_of_fold_proba(X, np.zeros(6, dtype=np.int64), n_classes=3)
    assert P.shape == (6, 3) and (P.argmax(axis=1) == 0).all()
    assert out_of_fold_proba(X[:2], np.array([0, 1]), n_folds=5).shape == (2, 2)
    with pytest.raises(SchemaError, match="at least 2"):
        out_of_fold_proba(X[:1], np.array([0]))
    with pytest.raises(SchemaError, match="one row per label"):
        out_of_fold_proba(X, np.zeros(5, dtype=np.int64))


# -- finding issues -----------------------------------------------------------------------


def test_find_issues_matches_cleanlab_and_ranks_by_quality() -> None:
    X, y = _blobs(400, 3, seed=1)
    rng = np.random.default_rng(1)
    noisy = y.copy()
    noisy[:40] = (y[:40] + rng.integers(1, 3, 40)) % 3
    P = out_of_fold_proba(X, noisy)
    issues = find_issues(noisy, P)
    assert (issues.is_issue == find_label_issues(noisy, P)).all()
    np.testing.assert_allclose(issues.quality, get_label_quality_scores(noisy, P))
    assert sorted(issues.indices.tolist()) == np.flatnonzero(issues.is_issue).tolist()
    assert (np.diff(issues.quality[issues.indices]) >= 0).all()
    assert (issues.suggested == P.argmax(axis=1)).all()
    assert issues.is_issue[:40].mean() > 0.8 and issues.is_issue[40:].mean() < 0.1


def test_planted_noise_on_phrasebank(phrasebank: tuple[np.ndarray, np.ndarray]) -> None:
    """10 % of the labels flipped: most are found, and far above chance."""
    X, y = phrasebank
    rng = np.random.default_rng(0)
    flip = rng.choice(y.size, size=y.size // 10, replace=False)
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, 3, flip.size)) % 3
    planted = np.zeros(y.size, dtype=bool)
    planted[flip] = True
    issues = find_issues(noisy, out_of_fold_proba(X, noisy, n_classes=3))
    found = issues.is_issue & planted
    recall, precision = found.sum() / planted.sum(), found.sum() / issues.is_issue.sum()
    chance = issues.is_issue.mean()  # recall of flagging as many items at random
    assert recall >= 0.6 and recall > 3 * chance, (recall, chance)
    assert precision >= 0.3, precision  # planted rate: 0.1
    top = issues.indices[: planted.sum()]
    assert planted[top].mean() >= 0.5  # the ranking puts planted errors first
    fixed = issues.suggested[issues.indices] == y[issues.indices]
    assert fixed[planted[issues.indices]].mean() > 0.7  # suggestions restore the truth


def test_edge_cases_without_issues() -> None:
    one = find_issues(np.zeros(5, dtype=np.int64), np.ones((5, 1)))
    assert one.indices.size == 0 and one.quality.tolist() == [1.0] * 5
    empty = find_issues(np.zeros(0, dtype=np.int64), np.zeros((0, 3)))
    assert empty.indices.size == 0 and empty.quality.shape == (0,)
    same = find_issues(np.zeros(30, dtype=np.int64), np.tile([0.6, 0.3, 0.1], (30, 1)))
    assert same.indices.size == 0  # one given class, probabilities agree
    assert same.thin_classes.tolist() == [1, 2]  # cleanlab's warning, as data


def test_thin_classes_are_reported_not_warned() -> None:
    X, y = _blobs(120, 3, seed=2)
    y[0] = 3  # a class given once
    issues = find_issues(y, out_of_fold_proba(X, y))
    assert issues.thin_classes.tolist() == [3]
    # No fold could learn the lone class, so its item scores lowest, yet it is not pruned:
    # a thin class is a reason to label more of it, not proof of an error.
    assert issues.quality.argmin() == 0 and not issues.is_issue[0]


@pytest.mark.parametrize(
    ("labels", "probs", "match"),
    [
        ([0, 3], [[0.5, 0.5], [0.5, 0.5]], "0..1"),
        ([0, -1], [[0.5, 0.5], [0.5, 0.5]], "unlabeled"),
        ([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]], "3 labels for 2"),
        ([0, 1], [[-0.5, 1.5], [0.5, 0.5]], "non-negative"),
        ([0, 1], [0.5, 0.5], r"\(n, k\)"),
        ([0.0, 1.0], [[0.5, 0.5], [0.5, 0.5]], "class indices"),
    ],
)
def test_bad_inputs(labels: list[float], probs: list[object], match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        find_issues(labels, probs)  # type: ignore[arg-type]
