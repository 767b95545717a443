"""How many labels does a strategy save? Replay gold labels as the annotator and find out.

For each repeat: take the test set (``test=``, records outside the pool, the honest
protocol) or hold out a stratified, seeded test split; draw ``seed_size`` random pool
records as the first labels; then, for every strategy from the same start, retrain the model,
score macro-F1 on the test records, ask the strategy for the next ``step`` records and reveal
their gold labels, until ``budget`` human labels.

Machine labels join every training set but never count as human labels, and once a human
labels a record, its gold label replaces them; they are weighted ``0.5 × confidence`` as in
``train classifier`` (:data:`~goldsmith.models.soft_labels.MACHINE_WEIGHT`):

* ``with_llm`` / ``with_weak``: fixed labels with optional confidences (e.g. an LLM's);
* ``weak_votes``: LF votes; the label model is fitted on the pool's votes with the labels
  revealed so far as its dev set (refitted as they grow), never on test records or
  unrevealed gold;
* ``semi_supervised``: labels spread from the revealed ones over the pool's k-NN graph
  (:mod:`goldsmith.models.spreading`).

Models with ``decision_proba`` (the in-loop classifier) are scored and queried on their
balanced decision rule; their calibrated probabilities are for confidences.

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
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.active._replay import Classifier, Machine, Repeat, Settings, WeakVotes
from goldsmith.active.curves import CurvePoint, SimulationResult
from goldsmith.active.strategies import StrategyRegistry, get_strategy
from goldsmith.errors import SchemaError
from goldsmith.models.classifier import LoopClassifier
from goldsmith.progress import SILENT, Progress

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

__all__ = ["Classifier", "ExtraLabels", "default_model", "holdout_split", "simulate"]

ExtraLabels: TypeAlias = "tuple[npt.ArrayLike, ...] | npt.ArrayLike"
"""Extra training labels: ``(indices, labels)`` or ``(indices, labels, confidences)``, or an
``(m, 2)`` array of index, label rows."""
IntArray: TypeAlias = npt.NDArray[np.intp]
FloatArray: TypeAlias = npt.NDArray[np.float64]


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


def _extra(pairs: ExtraLabels | None, y: npt.NDArray[Any], name: str) -> Machine:
    """Normalise extra labels to a :class:`Machine`; drops abstains (label < 0)."""
    if pairs is None:
        empty = np.empty(0, dtype=np.intp)
        return Machine(empty, np.empty((0, *y.shape[1:]), dtype=y.dtype), np.empty(0))
    conf: npt.NDArray[Any] | None = None
    if isinstance(pairs, tuple):
        if len(pairs) not in (2, 3):
            raise SchemaError(f"{name} must be (indices, labels) or (indices, labels, conf)")
        idx, lab = np.asarray(pairs[0]).astype(np.intp), np.asarray(pairs[1])
        conf = np.asarray(pairs[2], dtype=np.float64) if len(pairs) == 3 else None
    else:
        arr = np.asarray(pairs)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise SchemaError(f"{name} must be (indices, labels) or an (m, 2) array")
        idx, lab = arr[:, 0].astype(np.intp), arr[:, 1]
    if len(idx) != len(lab) or lab.shape[1:] != y.shape[1:]:
        raise SchemaError(f"{name}: {len(idx)} indices but labels of shape {lab.shape}")
    if conf is None:
        conf = np.ones(len(idx))
    if conf.shape != idx.shape or (conf.size and (conf.min() < 0 or conf.max() > 1)):
        raise SchemaError(f"{name}: one confidence in [0, 1] per label, got shape {conf.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= len(y)):
        raise SchemaError(f"{name}: indices must lie in 0..{len(y) - 1}")
    keep = np.ones(len(idx), dtype=bool) if y.ndim == 2 else lab >= 0
    return Machine(idx[keep], lab[keep].astype(y.dtype), conf[keep])


def simulate(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    test: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
    strategies: Sequence[str] = ("random", "auto"),
    seed_size: int = 20,
    step: int = 20,
    budget: int = 500,
    repeats: int = 5,
    seed: int = 0,
    test_size: float = 0.2,
    n_classes: int | None = None,
    model_factory: Callable[..., Classifier] | None = None,
    with_weak: ExtraLabels | None = None,
    with_llm: ExtraLabels | None = None,
    weak_votes: tuple[Any, Callable[[int], Any]] | None = None,
    semi_supervised: bool = False,
    features: tuple[npt.ArrayLike, npt.ArrayLike | None] | None = None,
    committee: Sequence[npt.ArrayLike] | None = None,
    committee_bags: int = 3,
    registry: StrategyRegistry | None = None,
    progress: Progress = SILENT,
) -> SimulationResult:
    """Replay gold labels through each strategy and record macro-F1 after every step.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Embeddings of every pool record: the model's features and the strategies' geometry.
    y : array-like, shape (n,) or (n, k)
        Gold class indices, or a 0/1 indicator matrix for multi-label.
    test : (X_test, y_test), optional
        Records outside the pool to score every curve on. Without it each repeat holds out
        a stratified ``test_size`` share of ``X`` instead.
    strategies : sequence of str
        Registered strategy names; ``random`` is the baseline.
    seed_size, step, budget : int
        First random labels, labels per query, and the human-label budget (seed included).
    repeats, seed : int
        Repeats with different seed sets (and splits, without ``test``); everything derives
        from ``seed``. Curves carry 95 % intervals over the repeats.
    test_size : float
        Share of records held out (stratified) when no ``test`` is given.
    n_classes : int, optional
        Number of classes (default ``max(y) + 1``, or the columns of an indicator ``y``).
    model_factory : callable, optional
        ``model_factory(n_classes=k, multilabel=bool)`` returning an object with ``fit``
        (taking ``sample_weight=`` when machine labels are used) and ``predict_proba``;
        default :func:`default_model`.
    with_weak, with_llm : ExtraLabels, optional
        Fixed machine labels over the rows of ``X``; abstains (``-1``) are ignored.
    weak_votes : (L, factory), optional
        LF votes ``L`` (n × m, ``-1`` abstain, dense or sparse) and ``factory(k)`` making a
        label model with ``fit(L, L_dev=, Y_dev=)`` and ``predict_proba(L)``, fitted inside
        each repeat on the pool with the revealed labels only.
    semi_supervised : bool
        Add labels spread over the pool's k-NN graph from the revealed ones.
    features : (F, F_test), optional
        What the model reads instead of the embeddings: one row per record of ``X`` and,
        with ``test``, one per test record (``None`` without). For a learner on texts, such
        as :meth:`~goldsmith.models.setfit.SetFitClassifier.for_texts`, row indices into
        the texts. ``X`` stays the strategies' and the k-NN graph's geometry.
    committee : sequence of array-like, optional
        Fixed extra members for ``committee`` (``(n, k)`` each); the current model is always
        a member. Without them: ``committee_bags`` models fitted on class-stratified
        bootstrap resamples.
    registry : StrategyRegistry, optional
        Where to look the names up (default: the global one).
    progress : Progress
        Advanced once per trained model.

    Returns
    -------
    SimulationResult
        Rows ``(strategy, repeat, n_labels, macro_f1)`` and the full-pool macro-F1.
    """
    Xa, ya, k, multilabel = _check(X, y, n_classes)
    chosen = [get_strategy(name, registry=registry) for name in strategies]
    if multilabel and any("committee" in s.needs for s in chosen):
        raise SchemaError("the committee strategy is single-label only in the simulator")
    if not 1 <= seed_size <= budget or step < 1 or repeats < 1:
        raise SchemaError("need 1 <= seed_size <= budget, step >= 1 and repeats >= 1")
    tests = None
    if test is not None:
        Xt, yt, _, _ = _check(test[0], test[1], k)
        if Xt.shape[1] != Xa.shape[1] or yt.shape[1:] != ya.shape[1:]:
            raise SchemaError(
                f"the test set has {Xt.shape[1]}-d vectors and labels of shape {yt.shape[1:]};"
                f" the pool {Xa.shape[1]}-d and {ya.shape[1:]}: embed both with one embedder"
            )
        tests = (Xt, yt)
    F, F_test = (None, None) if features is None else (np.asarray(features[0]), features[1])
    if F is not None and len(F) != len(Xa):
        raise SchemaError(f"features has {len(F)} rows for {len(Xa)} records")
    if F is not None and tests is not None and F_test is None:
        raise SchemaError("with test=, features needs the test records' rows too")
    weak = None
    if weak_votes is not None:
        if multilabel:
            raise SchemaError("weak_votes is single-label only in the simulator")
        L = _votes(weak_votes[0], len(Xa))
        weak = WeakVotes(L, weak_votes[1])
    settings = Settings(
        k=k,
        multilabel=multilabel,
        factory=model_factory or default_model,
        fixed=[np.asarray(c, dtype=np.float64) for c in committee or ()],
        bags=committee_bags,
        machine=[_extra(with_weak, ya, "with_weak"), _extra(with_llm, ya, "with_llm")],
        weak=weak,
        semi_supervised=semi_supervised,
        progress=progress,
    )

    rows: list[CurvePoint] = []
    full_f1: list[float] = []
    pool_size = test_n = 0
    for r in range(repeats):
        if tests is None:
            pool, held = holdout_split(ya, test_size, np.random.default_rng([seed, r]))
            both = None if F is None else (F[pool], F[held])
            run = Repeat(settings, Xa, ya, pool, Xa[held], ya[held], both)
        else:
            pool = np.arange(len(Xa), dtype=np.intp)
            both = None if F is None else (F, np.asarray(F_test))
            run = Repeat(settings, Xa, ya, pool, *tests, both)
        if r == 0:
            n_steps = len(_checkpoints(seed_size, step, min(budget, len(pool))))
            progress.start("simulating", total=repeats * (1 + len(chosen) * n_steps))
        pool_size, test_n = len(pool), len(run.yt)
        full_f1.append(run.score(np.arange(len(pool), dtype=np.intp))[0])
        first = np.random.default_rng([seed, r, 10**6]).choice(
            len(pool), size=min(seed_size, len(pool)), replace=False
        )
        for strategy in chosen:  # its randomness depends on its name, not its position
            srng = np.random.default_rng([seed, r, zlib.crc32(strategy.name.encode())])
            for n_labels, f1 in run.curve(strategy, first, step, min(budget, len(pool)), srng):
                rows.append(CurvePoint(strategy.name, r, n_labels, f1))
    progress.finish()
    settings_out = {
        "strategies": list(strategies),
        "seed_size": seed_size,
        "step": step,
        "budget": budget,
        "repeats": repeats,
        "seed": seed,
        "test": "given" if tests is not None else f"held out ({test_size:.0%} of the pool)",
        "n_classes": k,
        "multilabel": multilabel,
        "extra_labels": int(sum(len(m.rows) for m in settings.machine)),
        "weak_votes": weak is not None,
        "semi_supervised": semi_supervised,
    }
    return SimulationResult(rows, full_f1, pool_size, test_n, settings_out)


def _check(
    X: npt.ArrayLike, y: npt.ArrayLike, n_classes: int | None
) -> tuple[FloatArray, npt.NDArray[Any], int, bool]:
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
    if not multilabel and ya.size and ya.max() >= k:
        raise SchemaError(f"y holds class {int(ya.max())} but there are {k} classes")
    return Xa, ya, k, multilabel


def _votes(L: Any, n: int) -> sp.csr_matrix:
    """LF votes as a sparse matrix of ``label + 1`` (0 = abstain), the label models' input."""
    if sp.issparse(L):
        out = sp.csr_matrix(L)
    else:
        dense = np.asarray(L)
        if dense.ndim != 2:
            raise SchemaError(f"weak_votes must be (records x LFs), got shape {dense.shape}")
        out = sp.csr_matrix(dense + 1)
    if out.shape[0] != n:
        raise SchemaError(f"weak_votes has {out.shape[0]} rows for {n} records")
    return out


def _checkpoints(seed_size: int, step: int, budget: int) -> list[int]:
    points = [min(seed_size, budget)]
    while points[-1] < budget:
        points.append(min(points[-1] + step, budget))
    return points
