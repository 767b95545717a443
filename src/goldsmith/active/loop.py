"""The model in the loop: learn from the labels so far, suggest, and reorder the queue.

One :func:`retrain` call

1. embeds every record (cached in the store per embedder id, so only new records cost);
2. fits the calibrated :class:`~goldsmith.models.classifier.LoopClassifier` on the records
   with a gold, human or consensus label of the question;
3. replaces the classifier's suggestions (agent ``classifier:<embedder>``, score = calibrated
   probability) on every record without such a label;
4. orders the open records with a query strategy and stores the order as ``queue_rank``,
   which the annotation server's ``next`` follows;
5. checks the stopping rule: Cohen's kappa between this model's and the previous model's
   predictions on a fixed stop set (Bloodgood & Vijay-Shanker, 2009), kept in the store.

It streams: the stored vectors are scored a page at a time, and each page's suggestions are
written in its own transaction, so memory does not grow with the vectors or the suggestions.
The strategy orders at most ``shortlist`` open records (plus the closed ones, which it may
use, e.g. as k-center's first centres): all of them in a smaller project, else those with
the best :meth:`~goldsmith.active.base.QueryStrategy.shortlist_scores` (the strategy's own
scores, or a uniform sample for ``kcenter`` and ``random``). The order goes to the front of
the queue; the records left out follow by id until the next retrain.

With fewer than two labels there is nothing to learn from: the queue is then ordered by
``coverage`` (typical records of uncovered regions) unless the strategy needs no model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.active.scores import SHORTLIST as SHORTLIST  # (see the module docstring)
from goldsmith.active.scores import rank_chunks
from goldsmith.active.stopping import cohen_kappa, stop_set
from goldsmith.kinds.base import Labelled
from goldsmith.labels import labeled_targets, loop_question, target_array
from goldsmith.models.vectors import VECTOR_PAGE, ensure_embeddings, iter_vectors
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Suggestion, SuggestionKind, Task
from goldsmith.store import Store

if TYPE_CHECKING:
    from goldsmith.active import base as _base
    from goldsmith.active import strategies as _strategies
    from goldsmith.active.base import QueryStrategy
    from goldsmith.models import classifier as _classifier
    from goldsmith.models.classifier import LoopClassifier
    from goldsmith.models.embed import Embedder
else:
    _base = lazy_module("goldsmith.active.base")
    _strategies = lazy_module("goldsmith.active.strategies")
    _classifier = lazy_module("goldsmith.models.classifier")

AGENT = "classifier:"
META_KEY = "active_loop"
STOP_SET_SIZE = 1000
RANK_BATCH = 100
"""Records annotators label between two retrains, as the strategies' batch size."""
COMMITTEE_AGENTS = ("label-model:", "llm:")
"""Agents whose suggestions join the classifier in the ``committee`` strategy."""


Chunks = Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]
Score = Callable[[Any, str, npt.NDArray[np.int64]], Chunks]
"""``score(model, model_id, record_ids)``: the fitted classifier's probabilities for every
record, as ``(ids, proba)`` chunks in id order."""


@dataclass(frozen=True, slots=True)
class LoopReport:
    """What one :func:`retrain` did."""

    question: str
    strategy: str
    embedder: str
    n_records: int
    n_labeled: int
    n_suggestions: int
    n_ranked: int  # unlabeled open records ordered by the strategy
    kappa: float | None
    stop: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def retrain(
    store: Store,
    task: Task,
    embedder: Embedder,
    *,
    question: str | None = None,
    strategy: str = "auto",
    seed: int = 0,
    score: Score | None = None,
    shortlist: int = SHORTLIST,
    progress: Progress = SILENT,
) -> LoopReport:
    """Fit the classifier on the labels so far, write its suggestions and rank the queue.

    Parameters
    ----------
    store, task
        The project's store and task.
    embedder
        What embeds the records (see :func:`goldsmith.models.embed.make_embedder`).
    question
        A ``label`` or ``multilabel`` question (default: the first question).
    strategy
        Name of a registered query strategy (see :mod:`goldsmith.active.strategies`).
    seed
        Seed of the strategy's randomness and of the stop set.
    score
        ``score(model, model_id, record_ids)`` gives the fitted model's probabilities for
        every record as ``(ids, proba)`` chunks (default: the stored vectors, a page at a
        time, here; the Ray engine scores them on a cluster instead).
    shortlist
        Open records the strategy orders at most.
    progress
        Told about embedding.
    """
    started = time.perf_counter()
    q = loop_question(task, question)
    query = _strategies.get_strategy(strategy)
    model_id = ensure_embeddings(store, embedder, progress=progress).model_id
    with store.read() as tx:
        ids = tx.record_id_array()
        done = tx.done_record_array()
    targets = labeled_targets(store, task, q.name)
    labeled_ids = np.fromiter(targets, dtype=np.int64, count=len(targets))
    keep = np.isin(labeled_ids, ids)
    labeled_ids = labeled_ids[keep]
    closed = np.union1d(labeled_ids, np.intersect1d(done, ids))
    k = len(q.labels)
    multilabel = q.many_labels

    model: LoopClassifier | None = None
    if len(labeled_ids) >= 2:
        y = target_array([targets[int(r)] for r in labeled_ids], k, multilabel)
        model = _classifier.LoopClassifier(n_classes=k, multilabel=multilabel, random_state=seed)
        with store.read() as tx:
            model.fit(tx.get_embeddings(model_id, labeled_ids), y)
    used = query.name
    if model is None and query.needs & {"proba", "committee"}:
        used = "coverage"
        query = _strategies.get_strategy(used)

    n_open = len(ids) - len(closed)
    agent = AGENT + model_id
    n_suggestions, candidates = 0, []
    scored: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64] | None]]
    if model is None:  # nothing to score: the open records' ids alone, for the shortlist
        scored = ((ids[i : i + VECTOR_PAGE], None) for i in range(0, len(ids), VECTOR_PAGE))
    elif score is None:
        scored = _local_scores(store, BothOutputs(model), model_id)
    else:
        scored = score(BothOutputs(model), model_id, ids)
    keys = np.random.default_rng([seed, 1])  # the shortlist's, apart from the strategy's
    after, kept = 0, []  # kept: every record's probabilities when the strategy sees all
    for chunk_ids, both in scored:
        proba = None  # the decision rule's scores: what the strategies see
        if both is not None:
            calibrated, proba = both[:, :k], both[:, k:]
            n_suggestions += _write_suggestions(
                store,
                q,
                agent,
                chunk_ids,
                calibrated,
                proba,
                np.isin(chunk_ids, labeled_ids),
                after,
            )
        after = int(chunk_ids[-1]) if len(chunk_ids) else after
        if n_open > shortlist:
            candidates.append(_shortlist_chunk(store, q, query, chunk_ids, proba, closed, keys))
        elif proba is not None:
            kept.append(proba)
    if model is not None:  # the range of records past the last chunk, if any was left
        with store.write() as tx:
            tx.delete_suggestions(q.name, agent_prefix=AGENT, id_range=(after, None))

    if candidates:
        pool_ids = np.union1d(closed, rank_chunks(candidates)[:shortlist])
        pool_proba = None
    else:  # every open record fits: the pool is every record, probabilities at hand
        pool_ids, pool_proba = ids, (np.concatenate(kept) if kept else None)
    head = _order(
        store,
        q,
        query,
        model,
        model_id,
        pool_ids,
        closed,
        pool_proba,
        seed,
        everything=not candidates,
    )
    waiting = np.setdiff1d(labeled_ids, done)  # labeled, still awaiting responses: last
    with store.write() as tx:
        tx.replace_queue_order(head.tolist(), waiting.tolist())
    kappa, stop = _stopping(store, ids, model, model_id, multilabel, seed)
    return LoopReport(
        question=q.name,
        strategy=used,
        embedder=model_id,
        n_records=len(ids),
        n_labeled=len(labeled_ids),
        n_suggestions=n_suggestions,
        n_ranked=len(head),
        kappa=kappa,
        stop=stop,
        seconds=time.perf_counter() - started,
    )


class BothOutputs:
    """A fitted classifier whose ``predict_proba`` gives its calibrated probabilities and
    its decision scores side by side, ``(n, 2k)``: one pass over the vectors (locally or
    on Ray) yields the suggestions' confidences and the strategies' inputs."""

    def __init__(self, model: LoopClassifier) -> None:
        self.model = model

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        return np.hstack([self.model.predict_proba(X), self.model.decision_proba(X)])


def _local_scores(store: Store, model: BothOutputs, model_id: str) -> Chunks:
    """The model's probabilities on the stored vectors, a page at a time."""
    for chunk_ids, X in iter_vectors(store, model_id, page=VECTOR_PAGE):
        yield chunk_ids, model.predict_proba(X)


def _shortlist_chunk(
    store: Store,
    q: Labelled,
    query: QueryStrategy,
    ids: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64] | None,
    closed: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The open records of one chunk with their shortlist scores."""
    rows = np.flatnonzero(~np.isin(ids, closed))
    p = None if proba is None else proba[rows]
    committee = _committee(store, q, ids[rows], p) if "committee" in query.needs else None
    pool = _base.make_pool(proba=_single(p, q.many_labels), committee=committee, n_rows=len(rows))
    scores = np.asarray(query.shortlist_scores(pool, rng), dtype=np.float32)
    return ids[rows], scores


def _order(
    store: Store,
    q: Labelled,
    query: QueryStrategy,
    model: LoopClassifier | None,
    model_id: str,
    pool_ids: npt.NDArray[np.int64],
    closed: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64] | None,
    seed: int,
    *,
    everything: bool,
) -> npt.NDArray[np.int64]:
    """The strategy's order of the open records of ``pool_ids`` (ascending), as record ids;
    the closed ones join the pool as labeled. ``proba``: the pool's probabilities, if known
    (else the model computes them from the stored vectors); ``everything``: the pool is
    every record."""
    X: npt.NDArray[np.float32] | None = None
    if "embeddings" in query.needs or (model is not None and proba is None):
        if everything:  # every record, in id order: pages beat lists of ids
            pages = [v for _, v in iter_vectors(store, model_id, page=VECTOR_PAGE)]
            X = np.concatenate(pages)
        else:
            with store.read() as tx:
                X = tx.get_embeddings(model_id, pool_ids)
        if model is not None and proba is None:
            proba = model.decision_proba(X)
    committee = _committee(store, q, pool_ids, proba) if "committee" in query.needs else None
    order = query.rank(
        proba=_single(proba, q.many_labels),
        embeddings=X,
        labeled=np.isin(pool_ids, closed),
        committee=committee,
        n_rows=len(pool_ids),
        n=RANK_BATCH,
        rng=_base.make_rng(seed),
    )
    return pool_ids[order]


def loop_state(state: Any) -> dict[str, Any] | None:
    """The stopping rule's state (as kept in the store's meta) for ``status``: the last
    kappas between successive models and whether predictions have stabilised."""
    if not isinstance(state, dict):
        return None
    return {key: state[key] for key in ("kappas", "stop", "threshold", "window") if key in state}


# --------------------------------------------------------------------------- helpers


def _single(proba: npt.NDArray[np.float64] | None, multilabel: bool) -> Any:
    """Multi-label probabilities as a per-label binary uncertainty view for the strategies."""
    if proba is None or not multilabel:
        return proba
    # the least certain label decides: a record is as uncertain as its most uncertain label
    p = proba[np.arange(len(proba)), np.abs(proba - 0.5).argmin(axis=1)]
    return np.column_stack([p, 1.0 - p])


def _write_suggestions(
    store: Store,
    q: Labelled,
    agent: str,
    ids: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64],
    decision: npt.NDArray[np.float64],
    labeled: npt.NDArray[np.bool_],
    after: int,
) -> int:
    """Replace the classifier's suggestions on the records after ``after`` up to the
    chunk's last id with one per unlabeled record of the chunk, in one transaction: the
    decision rule's label, scored by its calibrated probability."""
    multilabel = q.many_labels

    def made() -> Iterator[Suggestion]:
        for i in np.flatnonzero(~labeled).tolist():
            p = proba[i]
            if multilabel:
                value: Any = [lab for lab, pi in zip(q.labels, p, strict=True) if pi >= 0.5]
                score = float(np.maximum(p, 1.0 - p).min())
            else:
                best = int(decision[i].argmax())
                value, score = q.labels[best], float(p[best])
            yield Suggestion(int(ids[i]), q.name, value, agent, SuggestionKind.MODEL, score)

    last = int(ids[-1]) if len(ids) else after
    with store.write() as tx:
        tx.delete_suggestions(q.name, agent_prefix=AGENT, id_range=(after, last))
        return tx.add_suggestions(made())


def _committee(
    store: Store,
    q: Labelled,
    ids: npt.NDArray[np.int64],
    proba: npt.NDArray[np.float64] | None,
) -> list[npt.NDArray[np.float64]] | None:
    """The classifier plus every other agent that suggested on this question, as
    probability matrices (a suggestion ``(label, score)`` puts ``score`` on its label and
    spreads the rest evenly; records it did not label get the classifier's row)."""
    if proba is None or q.many_labels:
        return None
    k = len(q.labels)
    index = {label: i for i, label in enumerate(q.labels)}
    row_of = {int(r): i for i, r in enumerate(ids.tolist())}
    members: dict[str, npt.NDArray[np.float64]] = {}
    with store.read() as tx:
        found = tx.suggestions_for(ids.tolist())
    for s in found:
        prefix = next((a for a in COMMITTEE_AGENTS if s.agent.startswith(a)), None)
        if s.question != q.name or prefix is None or s.value not in index:
            continue
        M = members.setdefault(prefix, proba.copy())
        score = 1.0 / k if s.score is None else min(max(float(s.score), 0.0), 1.0)
        row = np.full(k, (1.0 - score) / max(k - 1, 1))
        row[index[s.value]] = score
        M[row_of[s.record_id]] = row
    return [proba, *members.values()] if members else None


def _stopping(
    store: Store,
    ids: npt.NDArray[np.int64],
    model: LoopClassifier | None,
    model_id: str,
    multilabel: bool,
    seed: int,
    *,
    threshold: float = 0.99,
    window: int = 3,
) -> tuple[float | None, bool]:
    """Stabilising predictions, with the stop set and last predictions kept in the store."""
    if model is None:
        return None, False
    with store.read() as tx:
        state = tx.get_meta(META_KEY)
    state = dict(state) if isinstance(state, dict) else {}
    kept = np.asarray(state.get("stop_set", []), dtype=np.int64)
    members = kept[np.isin(kept, ids)].tolist()
    if not members:
        picked = stop_set(len(ids), size=STOP_SET_SIZE, rng=seed)
        members = [int(ids[i]) for i in picked.tolist()]
        state = {"stop_set": members}
    with store.read() as tx:
        pred = model.predict(tx.get_embeddings(model_id, members))
    kappas: list[float] = list(state.get("kappas", []))
    last = state.get("last")
    kappa: float | None = None
    if last is not None and len(last) == len(pred):
        kappa = cohen_kappa(np.asarray(last), pred)
        kappas.append(kappa)
    recent = kappas[-window:]
    stop = bool(state.get("stop")) or (len(recent) == window and min(recent) >= threshold)
    state.update(
        stop_set=members,
        last=pred.tolist(),
        kappas=kappas[-20:],
        stop=stop,
        threshold=threshold,
        window=window,
    )
    with store.write() as tx:
        tx.set_meta(META_KEY, state)
    return kappa, stop
