"""How many labels does a strategy save? Replay gold labels as the annotator and find out.

For each repeat: hold out a stratified, seeded test split; draw ``seed_size`` random pool
records as the first labels; then, for every strategy from the same start, retrain the model,
score macro-F1 on the test split, ask the strategy for the next ``step`` records and reveal
their gold labels, until ``budget`` human labels. Weak or LLM labels (``with_weak``,
``with_llm``) join every training set but never count as human labels; once a human labels a
record, its gold label replaces them.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([0, 1], 60)
>>> X = rng.normal(size=(120, 4)) + y[:, None]
>>> res = simulate(X, y, strategies=["random", "margin"], seed_size=10, step=10, budget=30,
...                repeats=1)
>>> [(r.strategy, r.n_labels) for r in res.rows][:3]
[('random', 10), ('random', 20), ('random', 30)]
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score

from goldsmith.active.curves import CurvePoint, SimulationResult
from goldsmith.active.scores import binary_view
from goldsmith.active.strategies import QueryStrategy, StrategyRegistry, get_strategy
from goldsmith.errors import SchemaError
from goldsmith.prelabel.classifier import LoopClassifier
from goldsmith.progress import SILENT, Progress

__all__ = ["Classifier", "ExtraLabels", "default_model", "holdout_split", "simulate"]

ExtraLabels: TypeAlias = "tuple[npt.ArrayLike, npt.ArrayLike] | npt.ArrayLike"
"""Extra training labels: ``(indices, labels)``, or an ``(m, 2)`` array of index, label rows."""
IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]


class Classifier(Protocol):
    """What the simulator trains: scikit-learn's ``fit`` / ``predict_proba``."""

    def fit(self, X: Any, y: Any) -> Any: ...

    def predict_proba(self, X: Any) -> Any: ...


def default_model(*, n_classes: int, multilabel: bool = False) -> Classifier:
    """The in-the-loop classifier that the annotation queue uses."""
    return LoopClassifier(n_classes=n_classes, multilabel=multilabel)


def holdout_split(
    y: npt.ArrayLike, test_size: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """``(pool, test)`` indices; stratified by class for 1-D ``y`` (each class with two or
    more records gives at least one to the test split), plain random for a 0/1 matrix."""
    ya = np.asarray(y)
    if not 0.0 < test_size < 1.0:
        raise SchemaError(f"test_size must be in (0, 1), got {test_size}")
    groups = (
        [np.arange(len(ya))] if ya.ndim == 2 else [np.flatnonzero(ya == c) for c in np.unique(ya)]
    )
    test: list[IntArray] = []
    for g in groups:
        take = int(round(test_size * g.size))
        take = min(max(take, 1 if g.size > 1 else 0), g.size - 1)
        test.append(rng.choice(g, size=take, replace=False))
    test_idx = np.sort(np.concatenate(test)).astype(np.intp)
    pool = np.setdiff1d(np.arange(len(ya)), test_idx).astype(np.intp)
    return pool, test_idx


def _extra(
    pairs: ExtraLabels | None, y: npt.NDArray[Any], name: str
) -> tuple[IntArray, npt.NDArray[Any]]:
    """Normalise extra labels to (indices, labels); drops abstains (label < 0)."""
    if pairs is None:
        return np.empty(0, dtype=np.intp), np.empty((0, *y.shape[1:]), dtype=y.dtype)
    if isinstance(pairs, tuple):
        idx, lab = np.asarray(pairs[0]).astype(np.intp), np.asarray(pairs[1])
    else:
        arr = np.asarray(pairs)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise SchemaError(f"{name} must be (indices, labels) or an (m, 2) array")
        idx, lab = arr[:, 0].astype(np.intp), arr[:, 1]
    if len(idx) != len(lab) or lab.shape[1:] != y.shape[1:]:
        raise SchemaError(f"{name}: {len(idx)} indices but labels of shape {lab.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= len(y)):
        raise SchemaError(f"{name}: indices must lie in 0..{len(y) - 1}")
    keep = np.ones(len(idx), dtype=bool) if y.ndim == 2 else lab >= 0
    return idx[keep], lab[keep].astype(y.dtype)


def _macro_f1(y_true: npt.NDArray[Any], proba: FloatArray, k: int) -> float:
    if y_true.ndim == 2:
        pred = (proba >= 0.5).astype(np.int64)
        return float(f1_score(y_true, pred, average="macro", zero_division=0))
    pred = np.argmax(proba, axis=1)
    return float(f1_score(y_true, pred, labels=np.arange(k), average="macro", zero_division=0))


def simulate(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    strategies: Sequence[str] = ("random", "margin"),
    seed_size: int = 20,
    step: int = 20,
    budget: int = 500,
    repeats: int = 3,
    seed: int = 0,
    test_size: float = 0.2,
    n_classes: int | None = None,
    model_factory: Callable[..., Classifier] | None = None,
    with_weak: ExtraLabels | None = None,
    with_llm: ExtraLabels | None = None,
    committee: Sequence[npt.ArrayLike] | None = None,
    committee_bags: int = 3,
    registry: StrategyRegistry | None = None,
    progress: Progress = SILENT,
) -> SimulationResult:
    """Replay gold labels through each strategy and record macro-F1 after every step.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Embeddings of every record: the model's features and ``kcenter``'s geometry.
    y : array-like, shape (n,) or (n, k)
        Gold class indices, or a 0/1 indicator matrix for multi-label.
    strategies : sequence of str
        Registered strategy names; ``random`` is the usual baseline.
    seed_size, step, budget : int
        First random labels, labels per query, and the human-label budget (seed included).
    repeats, seed : int
        Repeats with different splits and seed sets; everything derives from ``seed``.
    test_size : float
        Share of records held out (stratified) for evaluation.
    n_classes : int, optional
        Number of classes (default ``max(y) + 1``, or the columns of an indicator ``y``).
    model_factory : callable, optional
        ``model_factory(n_classes=k, multilabel=bool)`` returning an object with ``fit`` and
        ``predict_proba``; default :func:`default_model`.
    with_weak, with_llm : ExtraLabels, optional
        Weak-supervision or LLM labels added to every training set, never counted as human
        labels; entries on test records are dropped, abstains (``-1``) ignored.
    committee : sequence of array-like, optional
        Fixed extra members for ``committee`` (``(n, k)`` each, e.g. the label model's and
        the LLM's probabilities); the current model is always a member. Without them the
        committee is the model plus ``committee_bags`` models fitted on bootstrap resamples.
    registry : StrategyRegistry, optional
        Where to look the names up (default: the global one).
    progress : Progress
        Advanced once per trained model.

    Returns
    -------
    SimulationResult
        Rows ``(strategy, repeat, n_labels, macro_f1)`` and the full-pool macro-F1.
    """
    Xa = np.asarray(X, dtype=np.float64)
    ya = np.asarray(y)
    multilabel = ya.ndim == 2
    if Xa.ndim != 2 or len(Xa) != len(ya):
        raise SchemaError(f"X must be (n, d) with one row per label; got {Xa.shape}, {ya.shape}")
    if not np.issubdtype(ya.dtype, np.integer) and not np.issubdtype(ya.dtype, np.bool_):
        raise SchemaError(f"y must hold class indices or a 0/1 matrix, got dtype {ya.dtype}")
    if ya.size and ya.min() < 0:
        raise SchemaError("y must be gold for every record: found a negative class index")
    k = int(n_classes or (ya.shape[1] if multilabel else ya.max() + 1))
    chosen = [get_strategy(name, registry=registry) for name in strategies]
    if multilabel and any("committee" in s.needs for s in chosen):
        raise SchemaError("the committee strategy is single-label only in the simulator")
    if not 1 <= seed_size <= budget or step < 1 or repeats < 1:
        raise SchemaError("need 1 <= seed_size <= budget, step >= 1 and repeats >= 1")
    extras = [_extra(with_weak, ya, "with_weak"), _extra(with_llm, ya, "with_llm")]
    fixed = [np.asarray(c, dtype=np.float64) for c in committee or ()]
    factory = model_factory or default_model
    run = _Run(Xa, ya, k, multilabel, factory, fixed, committee_bags, progress)

    rows: list[CurvePoint] = []
    full_f1: list[float] = []
    pool_size = test_n = 0
    for r in range(repeats):
        pool, test = holdout_split(ya, test_size, np.random.default_rng([seed, r]))
        if r == 0:
            n_steps = len(_checkpoints(seed_size, step, min(budget, len(pool))))
            progress.start("simulating", total=repeats * (1 + len(chosen) * n_steps))
        pool_size, test_n = len(pool), len(test)
        run.start_repeat(pool, test, extras)
        full_f1.append(run.score(np.arange(len(pool), dtype=np.intp))[0])
        first = np.random.default_rng([seed, r, 10**6]).choice(
            len(pool), size=min(seed_size, len(pool)), replace=False
        )
        for strategy in chosen:  # its randomness depends on its name, not its position
            srng = np.random.default_rng([seed, r, zlib.crc32(strategy.name.encode())])
            for n_labels, f1 in run.curve(strategy, first, step, min(budget, len(pool)), srng):
                rows.append(CurvePoint(strategy.name, r, n_labels, f1))
    progress.finish()
    settings = {
        "strategies": list(strategies),
        "seed_size": seed_size,
        "step": step,
        "budget": budget,
        "repeats": repeats,
        "seed": seed,
        "test_size": test_size,
        "n_classes": k,
        "multilabel": multilabel,
        "extra_labels": int(sum(len(e[0]) for e in extras)),
    }
    return SimulationResult(rows, full_f1, pool_size, test_n, settings)


def _checkpoints(seed_size: int, step: int, budget: int) -> list[int]:
    points = [min(seed_size, budget)]
    while points[-1] < budget:
        points.append(min(points[-1] + step, budget))
    return points


class _Run:
    """One repeat's arrays and the train / score / query cycle."""

    def __init__(
        self,
        X: FloatArray,
        y: npt.NDArray[Any],
        k: int,
        multilabel: bool,
        factory: Callable[..., Classifier],
        fixed: list[FloatArray],
        bags: int,
        progress: Progress,
    ) -> None:
        self.X, self.y, self.k, self.multilabel = X, y, k, multilabel
        self.factory, self.fixed, self.bags, self.progress = factory, fixed, bags, progress

    def start_repeat(
        self, pool: IntArray, test: IntArray, extras: list[tuple[IntArray, npt.NDArray[Any]]]
    ) -> None:
        self.pool = pool
        self.Xp, self.yp = self.X[pool], self.y[pool]
        self.Xt, self.yt = self.X[test], self.y[test]
        local = np.full(len(self.X), -1, dtype=np.intp)
        local[pool] = np.arange(len(pool))
        idx = np.concatenate([local[e[0]] for e in extras])
        lab = np.concatenate([e[1] for e in extras])
        self.extra_idx, self.extra_lab = idx[idx >= 0], lab[idx >= 0]  # off the test split

    def fit(self, labeled: IntArray) -> Classifier:
        """A model on the human labels plus the extra labels of still-unlabeled records."""
        mask = np.zeros(len(self.pool), dtype=bool)
        mask[labeled] = True
        keep = ~mask[self.extra_idx]
        rows = np.concatenate([labeled, self.extra_idx[keep]])
        targets = np.concatenate([self.yp[labeled], self.extra_lab[keep]])
        model = self.factory(n_classes=self.k, multilabel=self.multilabel)
        model.fit(self.Xp[rows], targets)
        self.progress.advance()
        return model

    def score(self, labeled: IntArray) -> tuple[float, Classifier]:
        model = self.fit(labeled)
        proba = np.asarray(model.predict_proba(self.Xt), dtype=np.float64)
        return _macro_f1(self.yt, proba, self.k), model

    def curve(
        self,
        strategy: QueryStrategy,
        first: IntArray,
        step: int,
        budget: int,
        rng: np.random.Generator,
    ) -> list[tuple[int, float]]:
        labeled = np.zeros(len(self.pool), dtype=bool)
        labeled[first] = True
        out: list[tuple[int, float]] = []
        while True:
            f1, model = self.score(np.flatnonzero(labeled))
            out.append((int(labeled.sum()), f1))
            n = min(step, budget - int(labeled.sum()))
            if n <= 0:
                return out
            inputs = self.inputs(strategy, model, np.flatnonzero(labeled), rng)
            picks = strategy.select(n, labeled=labeled, rng=rng, **inputs)
            labeled[picks] = True

    def inputs(
        self,
        strategy: QueryStrategy,
        model: Classifier,
        labeled: IntArray,
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        """The arrays ``strategy`` needs, over the pool."""
        out: dict[str, Any] = {"n_rows": len(self.pool)}
        if "embeddings" in strategy.needs:
            out["embeddings"] = self.Xp
        if strategy.needs & {"proba", "committee"}:
            proba = np.asarray(model.predict_proba(self.Xp), dtype=np.float64)
            out["proba"] = binary_view(proba) if self.multilabel else proba
            if "committee" in strategy.needs:
                out["committee"] = [proba, *self.members(labeled, rng)]
        return out

    def members(self, labeled: IntArray, rng: np.random.Generator) -> list[FloatArray]:
        """The fixed committee over the pool, else models fitted on bootstrap resamples."""
        if self.fixed:
            return [c[self.pool] for c in self.fixed]
        out = []
        for _ in range(self.bags):
            sample = rng.choice(labeled, size=len(labeled), replace=True)
            model = self.factory(n_classes=self.k, multilabel=self.multilabel)
            model.fit(self.Xp[sample], self.yp[sample])
            out.append(np.asarray(model.predict_proba(self.Xp), dtype=np.float64))
        return out
