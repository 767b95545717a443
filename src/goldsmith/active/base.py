"""The query-strategy contract: validated inputs (:class:`Pool`) and the base classes.

A strategy sees arrays with one row per record of the pool: class probabilities ``proba``
``(n, k)``, ``embeddings`` ``(n, d)``, a ``committee`` of probability matrices
``(m, n, k)`` and which rows are already ``labeled``. It answers with row indices, never a
labeled one. A new strategy subclasses :class:`QueryStrategy` and implements
:meth:`~QueryStrategy.order`, or wraps a score function in :class:`ScoreStrategy`::

    def my_score(pool: Pool) -> FloatArray:     # higher = more worth labeling
        return -pool.proba.max(axis=1)

    register_strategy(ScoreStrategy("my-strategy", my_score, needs={"proba"}))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError

__all__ = ["INPUTS", "Pool", "QueryStrategy", "ScoreStrategy", "make_pool", "make_rng"]

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
IntArray: TypeAlias = npt.NDArray[np.intp]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
RngLike: TypeAlias = "np.random.Generator | int | None"

INPUTS = frozenset({"proba", "embeddings", "committee"})
"""The inputs a strategy may declare in ``needs``."""

_HINT = {
    "proba": "class probabilities of the current model (proba=, shape records x classes)",
    "embeddings": "record embeddings (embeddings=, shape records x dims)",
    "committee": "two or more probability matrices, e.g. the classifier's, the label "
    "model's and the LLM's (committee=)",
}


@dataclass(frozen=True)
class Pool:
    """The checked inputs of one query. Arrays have ``n_rows`` rows; absent ones are None."""

    n_rows: int
    labeled: BoolArray | None
    proba: FloatArray | None = None
    embeddings: npt.NDArray[Any] | None = None
    committee: FloatArray | None = None

    @property
    def unlabeled(self) -> IntArray:
        """Indices of the rows not yet labeled, ascending."""
        if self.labeled is None:
            return np.arange(self.n_rows, dtype=np.intp)
        return np.flatnonzero(~self.labeled).astype(np.intp)

    @property
    def n_unlabeled(self) -> int:
        """How many rows may still be picked."""
        return self.n_rows - (0 if self.labeled is None else int(self.labeled.sum()))


def make_rng(rng: RngLike) -> np.random.Generator:
    """A generator from a generator, a seed or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _rows(name: str, arr: npt.NDArray[Any], axis: int, n: int | None) -> int:
    rows = int(arr.shape[axis])
    if n is not None and rows != n:
        raise SchemaError(f"{name} has {rows} rows but the other inputs have {n}")
    return rows


def make_pool(
    *,
    proba: npt.ArrayLike | None = None,
    embeddings: npt.ArrayLike | None = None,
    labeled: npt.ArrayLike | None = None,
    committee: npt.ArrayLike | Sequence[npt.ArrayLike] | None = None,
    n_rows: int | None = None,
    needs: Iterable[str] = (),
    strategy: str = "this strategy",
) -> Pool:
    """Check shapes, agree on the row count and convert ``labeled`` to a mask.

    Raises
    ------
    SchemaError
        When an input in ``needs`` is missing, shapes disagree, or ``labeled`` is out of range.
    """
    given = {"proba": proba, "embeddings": embeddings, "committee": committee}
    missing = [need for need in needs if given.get(need) is None]
    if missing:
        raise SchemaError(
            f"strategy {strategy!r} needs " + "; and ".join(_HINT.get(m, m) for m in missing)
        )
    P = E = C = None
    if proba is not None:
        P = np.asarray(proba)
        if P.ndim != 2:
            raise SchemaError(f"proba must be 2-D (records x classes), got shape {P.shape}")
        if not np.issubdtype(P.dtype, np.floating):
            P = P.astype(np.float64)
        n_rows = _rows("proba", P, 0, n_rows)
    if embeddings is not None:
        E = np.asarray(embeddings)
        if E.ndim != 2:
            raise SchemaError(f"embeddings must be 2-D (records x dims), got shape {E.shape}")
        n_rows = _rows("embeddings", E, 0, n_rows)
    if committee is not None:
        C = np.asarray(committee, dtype=np.float64)
        if C.ndim != 3 or C.shape[0] < 2:
            raise SchemaError(
                "committee must hold two or more probability matrices of equal shape "
                f"(members x records x classes), got shape {C.shape}"
            )
        n_rows = _rows("committee", C, 1, n_rows)
    mask = _labeled_mask(labeled, n_rows)
    if n_rows is None:
        n_rows = 0 if mask is None else len(mask)
    return Pool(n_rows=n_rows, labeled=mask, proba=P, embeddings=E, committee=C)


def _labeled_mask(labeled: npt.ArrayLike | None, n_rows: int | None) -> BoolArray | None:
    if labeled is None:
        return None
    arr = np.asarray(labeled)
    if arr.dtype == np.bool_:
        _rows("labeled mask", arr, 0, n_rows)
        return arr if arr.any() else None
    if n_rows is None:
        raise SchemaError("labeled as indices needs n_rows= or another input with one row each")
    idx = arr.astype(np.intp).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        raise SchemaError(f"labeled indices must lie in 0..{n_rows - 1}")
    mask = np.zeros(n_rows, dtype=bool)
    mask[idx] = True
    return mask if idx.size else None


class QueryStrategy(ABC):
    """Picks the records most worth a human label.

    Subclasses set :attr:`name`, declare the inputs they need in :attr:`needs` (a subset of
    :data:`INPUTS`) and implement :meth:`order`; :meth:`pick` may be overridden when choosing
    ``n`` is cheaper than ordering every row.
    """

    name: str = ""
    needs: frozenset[str] = frozenset()
    description: str = ""
    caveat: str = ""
    """Where the strategy is measured to lose to random; a strategy with one is not offered
    by default (``strategy_names(offered=True)`` leaves it out, and using it warns)."""

    @abstractmethod
    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        """Every unlabeled row, most informative first; ``n`` is the batch size, if known."""

    def pick(self, pool: Pool, n: int, *, rng: np.random.Generator) -> IntArray:
        """``n`` unlabeled rows (``n`` at most ``pool.n_unlabeled``), best first."""
        return self.order(pool, n=n, rng=rng)[:n]

    def shortlist_scores(self, pool: Pool, rng: np.random.Generator) -> FloatArray:
        """Scores that pick the rows :meth:`order` sees when a queue is too large to order
        at once (higher = keep); by default uniform random keys, so the order runs on a
        uniform sample. ``pool`` is one chunk of a stream of records: a row's score may
        depend only on that row's inputs, and ``embeddings`` is never given."""
        return rng.random(pool.n_rows)

    def select(
        self,
        n: int,
        *,
        proba: npt.ArrayLike | None = None,
        embeddings: npt.ArrayLike | None = None,
        labeled: npt.ArrayLike | None = None,
        committee: npt.ArrayLike | Sequence[npt.ArrayLike] | None = None,
        n_rows: int | None = None,
        rng: RngLike = None,
    ) -> IntArray:
        """The ``n`` rows to label next (fewer if fewer are unlabeled), best first.

        Parameters
        ----------
        n : int
            Batch size.
        proba, embeddings, committee : array-like, optional
            One row per record of the pool (``committee``: members x records x classes).
        labeled : bool mask or int indices, optional
            Rows already labeled; they are never returned.
        n_rows : int, optional
            Pool size, needed only when nothing else tells it (e.g. ``random`` with indices).
        rng : Generator or int, optional
            Randomness for ties, clustering and the ``random`` strategy.

        Returns
        -------
        ndarray of int
            Row indices into the pool.
        """
        if n < 0:
            raise SchemaError(f"n must be >= 0, got {n}")
        pool = self.pool(proba, embeddings, labeled, committee, n_rows)
        n = min(int(n), pool.n_unlabeled)
        if n == 0:
            return np.empty(0, dtype=np.intp)
        return np.asarray(self.pick(pool, n, rng=make_rng(rng)), dtype=np.intp)

    def rank(
        self,
        *,
        proba: npt.ArrayLike | None = None,
        embeddings: npt.ArrayLike | None = None,
        labeled: npt.ArrayLike | None = None,
        committee: npt.ArrayLike | Sequence[npt.ArrayLike] | None = None,
        n_rows: int | None = None,
        n: int | None = None,
        rng: RngLike = None,
    ) -> IntArray:
        """Every unlabeled row, most informative first (the annotation queue's order).

        Takes the same inputs as :meth:`select`; ``n`` (the batch size, if known) lets
        batch-aware strategies such as ``kcenter`` and ``hybrid`` shape the head.
        """
        pool = self.pool(proba, embeddings, labeled, committee, n_rows)
        return np.asarray(self.order(pool, n=n, rng=make_rng(rng)), dtype=np.intp)

    def pool(
        self,
        proba: npt.ArrayLike | None,
        embeddings: npt.ArrayLike | None,
        labeled: npt.ArrayLike | None,
        committee: npt.ArrayLike | Sequence[npt.ArrayLike] | None,
        n_rows: int | None,
    ) -> Pool:
        """The checked :class:`Pool` for this strategy's needs."""
        return make_pool(
            proba=proba,
            embeddings=embeddings,
            labeled=labeled,
            committee=committee,
            n_rows=n_rows,
            needs=sorted(self.needs),
            strategy=self.name,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class ScoreStrategy(QueryStrategy):
    """A strategy that scores every row and takes the highest scores.

    ``score(pool)`` returns one float per pool row, higher = more informative. Choosing
    ``n`` uses :func:`numpy.argpartition` (linear time); ties fall in index order.
    """

    def __init__(
        self,
        name: str,
        score: Callable[[Pool], npt.ArrayLike],
        *,
        needs: Iterable[str] = ("proba",),
        description: str = "",
    ) -> None:
        unknown = set(needs) - INPUTS
        if unknown:
            raise SchemaError(f"unknown needs {sorted(unknown)}; pick from {sorted(INPUTS)}")
        self.name = name
        self.score = score
        self.needs = frozenset(needs)
        self.description = description

    def scores(self, pool: Pool) -> npt.NDArray[np.float64]:
        """The score of every row, ``-inf`` for labeled rows."""
        s = np.array(self.score(pool), dtype=np.float64)
        if s.shape != (pool.n_rows,):
            raise SchemaError(
                f"score of strategy {self.name!r} returned shape {s.shape}, "
                f"expected ({pool.n_rows},)"
            )
        s[np.isnan(s)] = -np.inf
        if pool.labeled is not None:
            s[pool.labeled] = -np.inf
        return s

    def shortlist_scores(self, pool: Pool, rng: np.random.Generator) -> FloatArray:
        """The strategy's own scores when they need no embeddings (a score function must then
        be row-wise to rank a queue in chunks), else random keys."""
        if "embeddings" in self.needs:
            return super().shortlist_scores(pool, rng)
        return self.scores(pool)

    def pick(self, pool: Pool, n: int, *, rng: np.random.Generator) -> IntArray:
        neg = -self.scores(pool)
        idx = np.sort(np.argpartition(neg, n - 1)[:n]) if n < len(neg) else np.arange(len(neg))
        return idx[np.argsort(neg[idx], kind="stable")].astype(np.intp)

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        unl = pool.unlabeled
        return unl[np.argsort(-self.scores(pool)[unl], kind="stable")]
