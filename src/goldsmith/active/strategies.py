"""The registry of query strategies and the built-in ones.

:data:`STRATEGIES` maps a name to a :class:`~goldsmith.active.base.QueryStrategy`. The
built-ins register through :func:`register_strategy`, the same call a third party uses;
a name registered twice is an error naming it, an unknown name an error listing the known
ones. Pass ``registry=`` to work with a registry of your own.

=================  ===========================  ==============================================
name               needs                        picks
=================  ===========================  ==============================================
random             nothing                      uniformly at random (the baseline)
least-confidence   proba                        lowest top-class probability
margin             proba                        smallest gap between the two top classes
entropy            proba                        highest entropy of the class distribution
kcenter            embeddings                   greedy k-center / core-set (farthest first)
hybrid             proba, embeddings            most uncertain, round-robin across clusters
committee          committee                    most disagreement between the members
=================  ===========================  ==============================================

For multi-label probabilities pass :func:`~goldsmith.active.scores.binary_view` of them.

>>> import numpy as np
>>> P = np.array([[0.9, 0.1], [0.55, 0.45], [0.7, 0.3]])
>>> get_strategy("margin").select(1, proba=P).tolist()
[1]
>>> get_strategy("margin").rank(proba=P, labeled=[1]).tolist()
[2, 0]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

from goldsmith.active.auto import AutoStrategy, CoverageStrategy
from goldsmith.active.base import FloatArray, IntArray, Pool, QueryStrategy, ScoreStrategy
from goldsmith.active.hybrid import HybridStrategy
from goldsmith.active.kcenter import Metric, greedy_k_center, k_center_order
from goldsmith.active.scores import (
    entropy_scores,
    least_confidence_scores,
    margin_scores,
    mean_kl_to_consensus,
    vote_entropy,
)
from goldsmith.errors import RegistryError, SchemaError

__all__ = [
    "STRATEGIES",
    "AutoStrategy",
    "CoverageStrategy",
    "CommitteeStrategy",
    "HybridStrategy",
    "KCenterStrategy",
    "QueryStrategy",
    "RandomStrategy",
    "ScoreStrategy",
    "StrategyRegistry",
    "builtin_strategies",
    "default_registry",
    "get_strategy",
    "register_strategy",
    "strategy_names",
]


class RandomStrategy(QueryStrategy):
    """Uniformly random rows: the baseline every other strategy must beat."""

    name = "random"
    description = "uniformly at random (the baseline)"

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        return rng.permutation(pool.unlabeled)

    def pick(self, pool: Pool, n: int, *, rng: np.random.Generator) -> IntArray:
        return rng.choice(pool.unlabeled, size=n, replace=False)


class KCenterStrategy(QueryStrategy):
    """Greedy k-center (core-set) on embeddings: each pick is the row farthest from all
    labeled rows and earlier picks. See :mod:`goldsmith.active.kcenter`.

    Parameters
    ----------
    metric : {"euclidean", "cosine"}
        Distance between embeddings.
    head : int
        In :meth:`rank`, how many rows (at least) are ordered greedily; the rest follow by
        decreasing distance to their nearest center.
    max_greedy : int
        Greedy picks at most; each costs a pass over the embeddings, so a larger ``n`` (a
        whole queue rather than a batch) continues by distance as :meth:`rank` does.
    """

    needs = frozenset({"embeddings"})
    description = "greedy k-center / core-set on embeddings (farthest first)"

    def __init__(
        self,
        *,
        name: str = "kcenter",
        metric: Metric = "euclidean",
        head: int = 256,
        max_greedy: int = 4096,
    ) -> None:
        self.name = name
        self.metric: Metric = metric
        self.head = head
        self.max_greedy = max_greedy

    def pick(self, pool: Pool, n: int, *, rng: np.random.Generator) -> IntArray:
        assert pool.embeddings is not None
        if n > self.max_greedy:
            return self.order(pool, n=n, rng=rng)[:n]
        return greedy_k_center(pool.embeddings, n, labeled=pool.labeled, metric=self.metric)

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        assert pool.embeddings is not None
        head = min(max(self.head, n or 0), self.max_greedy)
        return k_center_order(pool.embeddings, labeled=pool.labeled, head=head, metric=self.metric)


class CommitteeStrategy(QueryStrategy):
    """Rows where the members of a committee disagree most.

    Parameters
    ----------
    measure : {"kl", "vote-entropy"}
        ``"kl"``: mean KL divergence of each member to the consensus (soft, no ties).
        ``"vote-entropy"``: entropy of the members' hard votes, ties broken by the KL.
    """

    needs = frozenset({"committee"})
    description = "disagreement between probability matrices (classifier, label model, LLM)"

    def __init__(
        self, *, name: str = "committee", measure: Literal["kl", "vote-entropy"] = "kl"
    ) -> None:
        if measure not in ("kl", "vote-entropy"):
            raise SchemaError(f"measure must be 'kl' or 'vote-entropy', got {measure!r}")
        self.name = name
        self.measure = measure

    def shortlist_scores(self, pool: Pool, rng: np.random.Generator) -> FloatArray:
        assert pool.committee is not None
        kl = mean_kl_to_consensus(pool.committee)
        if self.measure == "kl":
            return kl
        return vote_entropy(pool.committee) * 1e3 + kl  # vote entropy first, as in order

    def order(self, pool: Pool, *, n: int | None, rng: np.random.Generator) -> IntArray:
        assert pool.committee is not None
        unl = pool.unlabeled
        members = pool.committee[:, unl]
        kl = mean_kl_to_consensus(members)
        if self.measure == "kl":
            return unl[np.argsort(-kl, kind="stable")]
        order: IntArray = unl[np.lexsort((-kl, -vote_entropy(members)))]
        return order


def _proba(pool: Pool) -> FloatArray:
    assert pool.proba is not None  # make_pool enforced ``needs``
    return pool.proba


def _least_confidence(pool: Pool) -> FloatArray:
    return least_confidence_scores(_proba(pool))


def _margin(pool: Pool) -> FloatArray:
    return margin_scores(_proba(pool))


def _entropy(pool: Pool) -> FloatArray:
    return entropy_scores(_proba(pool))


class StrategyRegistry:
    """Strategy name → :class:`QueryStrategy`."""

    def __init__(self) -> None:
        self._items: dict[str, QueryStrategy] = {}

    def register(self, strategy: QueryStrategy) -> QueryStrategy:
        """Add ``strategy``; a name already taken raises :class:`RegistryError`."""
        if not strategy.name:
            raise RegistryError(f"{strategy!r} has no name; set its `name` before registering")
        if strategy.name in self._items:
            raise RegistryError(
                f"a query strategy named {strategy.name!r} is already registered; "
                "pick another name for yours"
            )
        self._items[strategy.name] = strategy
        return strategy

    def get(self, name: str) -> QueryStrategy:
        """The strategy called ``name``; an unknown name raises :class:`RegistryError`."""
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown query strategy {name!r}; known strategies: {', '.join(self.names())}"
            ) from None

    def names(self, *, offered: bool = False) -> list[str]:
        """Registered names, sorted; ``offered``: only those without a caveat."""
        return sorted(n for n, s in self._items.items() if not (offered and s.caveat))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[QueryStrategy]:
        return iter(self._items[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._items)


def builtin_strategies() -> list[QueryStrategy]:
    """Fresh instances of the built-in strategies."""
    return [
        AutoStrategy(),
        CoverageStrategy(),
        RandomStrategy(),
        _caveat(
            ScoreStrategy(
                "least-confidence",
                _least_confidence,
                needs={"proba"},
                description="lowest probability of the most likely class",
            ),
            "0.93x random's AULC on a 77-class intent set (issue 16)",
        ),
        ScoreStrategy(
            "margin",
            _margin,
            needs={"proba"},
            description="smallest gap between the two most likely classes",
        ),
        _caveat(
            ScoreStrategy(
                "entropy",
                _entropy,
                needs={"proba"},
                description="highest entropy of the class distribution",
            ),
            "0.91x random's AULC on a 77-class intent set (issue 16)",
        ),
        _caveat(
            KCenterStrategy(),
            "picks outliers at low budgets: 0.86-0.93x random's AULC on the financial "
            "phrasebank (issue 16); use auto",
        ),
        HybridStrategy(),
        _caveat(
            CommitteeStrategy(),
            "0.73x random's AULC on a 77-class intent set with plain bootstrap members "
            "(issue 16); not re-measured since members resample within each class",
        ),
    ]


def _caveat(strategy: QueryStrategy, text: str) -> QueryStrategy:
    strategy.caveat = text
    return strategy


def default_registry() -> StrategyRegistry:
    """A new registry holding the built-in strategies (for isolated use, e.g. in tests)."""
    registry = StrategyRegistry()
    for strategy in builtin_strategies():
        register_strategy(strategy, registry=registry)
    return registry


STRATEGIES = StrategyRegistry()
"""The default registry that the annotation queue and the simulator look names up in."""


def register_strategy(
    strategy: QueryStrategy, *, registry: StrategyRegistry | None = None
) -> QueryStrategy:
    """Register ``strategy`` in ``registry`` (default :data:`STRATEGIES`) and return it.

    Raises
    ------
    RegistryError
        When the name is taken.
    """
    return (STRATEGIES if registry is None else registry).register(strategy)


def get_strategy(name: str, *, registry: StrategyRegistry | None = None) -> QueryStrategy:
    """The strategy called ``name``.

    Raises
    ------
    RegistryError
        When no strategy has that name; the message lists the known ones.
    """
    return (STRATEGIES if registry is None else registry).get(name)


def strategy_names(*, registry: StrategyRegistry | None = None, offered: bool = False) -> list[str]:
    """Names of the registered strategies, sorted; ``offered``: only those offered by default
    (no measured loss to random, see :attr:`QueryStrategy.caveat`)."""
    return (STRATEGIES if registry is None else registry).names(offered=offered)


for _strategy in builtin_strategies():
    register_strategy(_strategy)
