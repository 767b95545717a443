"""The label-savings simulator: its mechanics, its outputs and a small real-data run."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _ci import skip_or_fail
from goldsmith.active.curves import CSV_COLUMNS, CurvePoint, SimulationResult
from goldsmith.active.simulate import holdout_split, simulate
from goldsmith.errors import RegistryError, SchemaError
from goldsmith.models.classifier import LoopClassifier

PHRASEBANK = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)


def blobs(n: int = 240, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping Gaussian classes: learnable, but not from a handful of labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centers = rng.normal(scale=1.5, size=(k, 8))
    return centers[y] + rng.normal(size=(n, 8)), y


class Recorder:
    """A LoopClassifier that records the size of every training set it sees."""

    def __init__(self, sizes: list[int], *, n_classes: int, multilabel: bool = False) -> None:
        self.sizes = sizes
        self.inner = LoopClassifier(n_classes=n_classes, multilabel=multilabel)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Recorder:
        self.sizes.append(len(y))
        self.inner.fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: Any) -> Any:
        return self.inner.predict_proba(X)


class CountingProgress:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.finished = False

    def start(self, description: str, total: int | None = None) -> None:
        self.total = total

    def advance(self, n: int = 1) -> None:
        self.done += n

    def finish(self) -> None:
        self.finished = True


def test_rows_follow_the_budget_and_every_strategy_starts_alike() -> None:
    X, y = blobs()
    progress = CountingProgress()
    res = simulate(
        X,
        y,
        strategies=["random", "margin", "kcenter", "hybrid", "entropy"],
        seed_size=10,
        step=15,
        budget=50,
        repeats=2,
        progress=progress,
    )
    assert res.strategies == ["random", "margin", "kcenter", "hybrid", "entropy"]
    assert res.pool_size + res.test_size == 240 and res.test_size == 48
    for name in res.strategies:
        for r in range(2):
            pts = [p for p in res.rows if p.strategy == name and p.repeat == r]
            assert [p.n_labels for p in pts] == [10, 25, 40, 50]
            assert all(0.0 <= p.macro_f1 <= 1.0 for p in pts)
    for r in range(2):  # same split, same seed set: the first point is shared
        first = {p.macro_f1 for p in res.rows if p.repeat == r and p.n_labels == 10}
        assert len(first) == 1
    assert progress.total == progress.done == 2 * (1 + 5 * 4) and progress.finished


def test_same_seed_same_curves_other_seed_other_curves() -> None:
    X, y = blobs()
    kwargs: dict[str, Any] = {
        "strategies": ["random", "margin", "hybrid"],
        "seed_size": 10,
        "step": 10,
        "budget": 40,
        "repeats": 2,
    }
    a = simulate(X, y, seed=3, **kwargs)
    b = simulate(X, y, seed=3, **kwargs)
    c = simulate(X, y, seed=4, **kwargs)
    assert a.rows == b.rows and a.full_f1 == b.full_f1
    assert a.rows != c.rows


def test_a_strategy_curve_does_not_depend_on_the_others() -> None:
    X, y = blobs()
    kwargs: dict[str, Any] = {"seed_size": 10, "step": 10, "budget": 30, "repeats": 1}
    both = simulate(X, y, strategies=["margin", "random"], **kwargs)
    alone = simulate(X, y, strategies=["random"], **kwargs)
    assert [p for p in both.rows if p.strategy == "random"] == alone.rows


def test_weak_labels_train_but_never_count() -> None:
    X, y = blobs()
    plain: list[int] = []
    weak: list[int] = []
    kwargs: dict[str, Any] = {"strategies": ["margin"], "seed_size": 10, "step": 10}
    kwargs.update(budget=30, repeats=1)
    res_plain = simulate(X, y, model_factory=lambda **kw: Recorder(plain, **kw), **kwargs)
    everyone = (np.arange(240), (y + 1) % 3)  # a (wrong) weak label on every record
    res_weak = simulate(
        X, y, with_weak=everyone, model_factory=lambda **kw: Recorder(weak, **kw), **kwargs
    )
    assert [p.n_labels for p in res_weak.rows] == [p.n_labels for p in res_plain.rows]
    pool = res_plain.pool_size
    # first fit: the full-pool reference; then human labels only, or every pool record once
    # (weak labels on test records dropped, a human label replacing the weak one)
    assert plain == [pool, 10, 20, 30]
    assert weak == [pool, pool, pool, pool]
    assert res_weak.settings["extra_labels"] == 240


def test_gold_replaces_weak_once_everything_is_labeled() -> None:
    X, y = blobs(n=100)
    wrong = np.stack([np.arange(100), (y + 1) % 3], axis=1)  # (m, 2) form
    res = simulate(
        X, y, strategies=["random"], seed_size=40, step=40, budget=100, with_llm=wrong, repeats=1
    )
    assert res.rows[-1].n_labels == res.pool_size == 80
    assert res.rows[-1].macro_f1 == res.full_f1[0]
    assert res.rows[0].macro_f1 < res.full_f1[0]  # the wrong labels did train the first model


def test_multilabel_and_committee_runs() -> None:
    X, y = blobs()
    Y = np.stack([y == 0, y != 1, y == 2], axis=1).astype(int)
    res = simulate(
        X,
        Y,
        strategies=["random", "margin", "kcenter"],
        seed_size=20,
        step=20,
        budget=60,
        repeats=1,
    )
    assert res.settings["multilabel"] and len(res.rows) == 9
    with pytest.raises(SchemaError, match="single-label"):
        simulate(X, Y, strategies=["committee"], budget=40, repeats=1)
    bagged = simulate(X, y, strategies=["committee"], seed_size=10, step=10, budget=30, repeats=1)
    fixed_member = np.eye(3)[y] * 0.8 + 0.2 / 3
    fixed = simulate(
        X,
        y,
        strategies=["committee"],
        committee=[fixed_member],
        seed_size=10,
        step=10,
        budget=30,
        repeats=1,
    )
    assert len(bagged.rows) == len(fixed.rows) == 3


def test_bad_arguments_fail_before_any_work() -> None:
    X, y = blobs(n=60)
    with pytest.raises(RegistryError, match="unknown query strategy 'best'"):
        simulate(X, y, strategies=["random", "best"])
    with pytest.raises(SchemaError, match="seed_size"):
        simulate(X, y, seed_size=0)
    with pytest.raises(SchemaError, match="one row per label"):
        simulate(X[:10], y)
    with pytest.raises(SchemaError, match="gold for every record"):
        simulate(X, np.where(y == 0, -1, y))
    with pytest.raises(SchemaError, match="class indices"):
        simulate(X, y.astype(float))
    with pytest.raises(SchemaError, match="with_weak"):
        simulate(X, y, with_weak=(np.array([0, 1]), np.array([0])))


def test_holdout_split_is_stratified_and_disjoint() -> None:
    y = np.array([0] * 50 + [1] * 30 + [2] * 20 + [3])
    pool, test = holdout_split(y, 0.2, np.random.default_rng(0))
    assert np.bincount(y[test]).tolist() == [10, 6, 4]  # the singleton stays in the pool
    assert sorted(np.concatenate([pool, test]).tolist()) == list(range(101))


def _result() -> SimulationResult:
    rows = [
        CurvePoint(s, 0, n, f)
        for s, fs in (("random", (0.2, 0.4, 0.6)), ("margin", (0.2, 0.6, 0.8)))
        for n, f in zip((10, 20, 30), fs, strict=True)
    ]
    return SimulationResult(rows, full_f1=[0.8], pool_size=300, test_size=75)


def test_summary_metrics_on_a_known_curve() -> None:
    res = _result()
    assert res.aulc("random") == pytest.approx(0.4)
    assert res.aulc("margin") == pytest.approx(0.55)
    summary = res.summary()
    assert summary["target_f1"] == pytest.approx(0.76)
    margin = summary["strategies"]["margin"]
    assert margin["aulc_vs_random"] == pytest.approx(1.375)
    assert margin["labels_to_target"] == 30 and margin["share_of_pool"] == pytest.approx(0.1)
    assert summary["strategies"]["random"]["labels_to_target"] is None
    assert res.labels_to_reach("random", 0.5) == 20


def test_csv_and_png_are_written(tmp_path: Path) -> None:
    res = _result()
    out = res.write_csv(tmp_path / "curves" / "curves.csv")
    with out.open(newline="") as fh:
        table = list(csv.reader(fh))
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == 7
    assert table[4] == ["margin", "0", "10", "0.200000"]
    png = res.plot(tmp_path / "curves" / "curves.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_importing_and_plotting_leave_pyplot_alone(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from goldsmith.active.curves import CurvePoint, SimulationResult\n"
        "r = SimulationResult([CurvePoint('random', 0, 1, .5)], [0.6], 10, 2)\n"
        f"r.plot({str(tmp_path / 'p.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture()
def phrasebank() -> tuple[list[str], np.ndarray]:
    if not PHRASEBANK.is_file():
        skip_or_fail(f"financial phrasebank not found at {PHRASEBANK}")
    lines = PHRASEBANK.read_text(encoding="latin-1").splitlines()
    names = ["negative", "neutral", "positive"]
    pairs = [line.rsplit("@", 1) for line in lines if "@" in line]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(pairs), size=300, replace=False)
    texts = [pairs[i][0] for i in pick]
    return texts, np.array([names.index(pairs[i][1].strip()) for i in pick])


def test_small_real_run_on_financial_phrasebank(
    phrasebank: tuple[list[str], np.ndarray], tmp_path: Path
) -> None:
    from goldsmith.models.embed import make_embedder

    texts, y = phrasebank
    embedder: Any = make_embedder("tfidf")
    embedder.fit(texts)
    X = embedder.encode(texts)
    res = simulate(
        X,
        y,
        strategies=["random", "margin", "kcenter", "hybrid"],
        seed_size=20,
        step=20,
        budget=100,
        repeats=2,
    )
    assert len(res.rows) == 4 * 2 * 5
    majority = np.bincount(y).max() / len(y)
    majority_f1 = 2 * majority / (1 + majority) / 3  # macro-F1 of always the top class
    assert np.mean(res.full_f1) > majority_f1
    summary = res.summary()
    assert set(summary["strategies"]) == {"random", "margin", "kcenter", "hybrid"}
    assert summary["strategies"]["random"]["aulc_vs_random"] == pytest.approx(1.0)
    res.write_csv(tmp_path / "c.csv")
    res.plot(tmp_path / "c.png")


def test_a_given_test_set_is_scored_and_never_trained_on() -> None:
    X, y = blobs(300)
    Xt, yt = X[240:], y[240:]
    sizes: list[int] = []
    res = simulate(
        X[:240],
        y[:240],
        test=(Xt, yt),
        strategies=["random", "auto"],
        seed_size=10,
        step=20,
        budget=50,
        repeats=2,
        model_factory=lambda **kw: Recorder(sizes, **kw),
    )
    assert (res.pool_size, res.test_size) == (240, 60)
    assert max(sizes) == 240  # the full-pool model: every pool record, no test record
    assert res.settings["test"] == "given"
    with pytest.raises(SchemaError, match="one embedder"):
        simulate(X[:240], y[:240], test=(Xt[:, :4], yt), budget=20, repeats=1)


class DevRecorder:
    """A label model that records the gold it was given and the rows it saw."""

    calls: list[tuple[int, int]] = []

    def __init__(self, k: int) -> None:
        self.k = k

    def fit(self, L: Any, L_dev: Any = None, Y_dev: Any = None) -> DevRecorder:
        DevRecorder.calls.append((L.shape[0], 0 if Y_dev is None else len(Y_dev)))
        return self

    def predict_proba(self, L: Any) -> np.ndarray:
        return np.full((L.shape[0], self.k), 1.0 / self.k)


def test_the_label_model_sees_only_pool_votes_and_revealed_labels() -> None:
    X, y = blobs(300)
    L = np.where(np.random.default_rng(1).random((300, 2)) < 0.5, y[:, None], -1)
    DevRecorder.calls = []
    res = simulate(
        X[:240],
        y[:240],
        test=(X[240:], y[240:]),
        weak_votes=(L[:240], DevRecorder),
        strategies=["random"],
        seed_size=10,
        step=10,
        budget=60,
        repeats=1,
    )
    assert res.settings["weak_votes"] is True
    rows = {c[0] for c in DevRecorder.calls}
    devs = [c[1] for c in DevRecorder.calls]
    assert rows == {240}
    # refitted as the revealed labels grow by half (10, 20, 30, 50), and for the full pool
    assert devs == [240, 10, 20, 30, 50]
    with pytest.raises(SchemaError, match="rows for"):
        simulate(X, y, weak_votes=(L[:10], DevRecorder), budget=20, repeats=1)


def test_intervals_and_paired_comparison() -> None:
    X, y = blobs()
    res = simulate(
        X, y, strategies=["random", "margin"], seed_size=10, step=20, budget=70, repeats=3
    )
    _, mean, _ = res.curve("margin")
    low, high = res.interval("margin")
    assert (low <= mean).all() and (mean <= high).all() and (high > low).any()
    s = res.summary()["strategies"]["margin"]
    lo, hi = s["aulc_vs_random_ci"]
    assert lo <= s["aulc_vs_random"] + 1e-9 and s["aulc_vs_random"] - 1e-9 <= hi
    assert s["min_diff_vs_random_at"] in {10, 30, 50, 70}
    one = simulate(X, y, strategies=["random"], seed_size=10, step=20, budget=30, repeats=1)
    assert np.array_equal(*one.interval("random"))


def test_committee_bootstrap_keeps_every_class() -> None:
    from goldsmith.active._replay import stratified_bootstrap

    y = np.array([0] * 50 + [1] + [2] * 3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        sample = stratified_bootstrap(y, rng)
        assert sorted(set(y[sample].tolist())) == [0, 1, 2] and len(sample) == len(y)


def test_semi_supervised_labels_never_count_as_human() -> None:
    X, y = blobs()
    sizes: list[int] = []
    res = simulate(
        X,
        y,
        strategies=["random"],
        seed_size=10,
        step=20,
        budget=30,
        repeats=1,
        semi_supervised=True,
        model_factory=lambda **kw: Recorder(sizes, **kw),
    )
    assert [p.n_labels for p in res.rows] == [10, 30]
    assert max(sizes[1:]) > 30  # spread labels joined the training sets
