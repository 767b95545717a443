"""Query strategies on constructed probabilities and embeddings whose right answer is known."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from goldsmith.active.base import Pool, ScoreStrategy
from goldsmith.active.hybrid import HybridStrategy
from goldsmith.active.kcenter import greedy_k_center, k_center_order
from goldsmith.active.scores import binary_view, margin_scores, rank_chunks
from goldsmith.active.strategies import (
    STRATEGIES,
    CommitteeStrategy,
    KCenterStrategy,
    StrategyRegistry,
    default_registry,
    get_strategy,
    register_strategy,
    strategy_names,
)
from goldsmith.errors import RegistryError, SchemaError

BUILTINS = [
    "auto",
    "committee",
    "coverage",
    "entropy",
    "hybrid",
    "kcenter",
    "least-confidence",
    "margin",
    "random",
]

# Row 0: the two top classes nearly tie (margin .02) though the top class is fairly sure.
# Row 1: the top class is least sure (.40) and the entropy highest, but the margin is .10.
P = np.array(
    [
        [0.50, 0.48, 0.02],
        [0.40, 0.30, 0.30],
        [0.90, 0.05, 0.05],
        [0.70, 0.20, 0.10],
    ]
)


# ---------------------------------------------------------------- registry


def test_builtins_are_registered_by_name() -> None:
    assert strategy_names() == BUILTINS
    assert default_registry().names() == BUILTINS
    assert [s.name for s in STRATEGIES] == BUILTINS


def test_duplicate_name_is_an_error_naming_it() -> None:
    registry = default_registry()
    with pytest.raises(RegistryError, match="'margin' is already registered"):
        register_strategy(ScoreStrategy("margin", lambda p: np.zeros(p.n_rows)), registry=registry)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="unknown query strategy 'margn'.*margin"):
        get_strategy("margn")


def test_third_party_strategy_registers_like_the_builtins() -> None:
    registry = StrategyRegistry()

    def lowest_first_column(pool: Pool) -> np.ndarray:
        assert pool.proba is not None
        return -pool.proba[:, 0]

    register_strategy(ScoreStrategy("low-first", lowest_first_column), registry=registry)
    assert "low-first" in registry and len(registry) == 1
    assert get_strategy("low-first", registry=registry).select(2, proba=P).tolist() == [1, 0]
    assert "low-first" not in STRATEGIES


def test_score_strategy_rejects_unknown_needs() -> None:
    with pytest.raises(SchemaError, match="unknown needs"):
        ScoreStrategy("x", lambda p: np.zeros(p.n_rows), needs={"logits"})


# ---------------------------------------------------------------- uncertainty


def test_margin_picks_the_closest_top_two() -> None:
    assert get_strategy("margin").select(1, proba=P).tolist() == [0]
    assert get_strategy("margin").rank(proba=P).tolist() == [0, 1, 3, 2]


def test_least_confidence_and_entropy_pick_the_flattest_row() -> None:
    assert get_strategy("least-confidence").select(1, proba=P).tolist() == [1]
    assert get_strategy("entropy").select(1, proba=P).tolist() == [1]


@pytest.mark.parametrize("name", ["margin", "least-confidence", "entropy"])
def test_select_is_the_head_of_rank_and_skips_labeled_rows(name: str) -> None:
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(5), size=500)
    labeled = rng.random(500) < 0.3
    strategy = get_strategy(name)
    order = strategy.rank(proba=proba, labeled=labeled)
    assert sorted(order.tolist()) == np.flatnonzero(~labeled).tolist()
    picks = strategy.select(25, proba=proba, labeled=labeled)
    assert picks.tolist() == order[:25].tolist()
    by_index = strategy.select(25, proba=proba, labeled=np.flatnonzero(labeled))
    assert by_index.tolist() == picks.tolist()


def test_margin_agrees_with_a_full_sort() -> None:
    proba = np.random.default_rng(0).dirichlet(np.ones(7), size=1000)
    top = np.sort(proba, axis=1)
    assert np.allclose(margin_scores(proba), top[:, -2] - top[:, -1])


def test_batch_larger_than_the_pool_returns_every_unlabeled_row() -> None:
    labeled = np.array([True, False, False, True])
    assert sorted(get_strategy("margin").select(10, proba=P, labeled=labeled)) == [1, 2]
    assert get_strategy("margin").select(0, proba=P).size == 0
    with pytest.raises(SchemaError, match="n must be >= 0"):
        get_strategy("margin").select(-1, proba=P)


def test_multilabel_view_ranks_by_the_most_uncertain_label() -> None:
    multi = np.array([[0.99, 0.02], [0.9, 0.45], [0.7, 0.1]])
    view = binary_view(multi)
    assert np.allclose(view, [[0.02, 0.98], [0.45, 0.55], [0.7, 0.3]])
    assert get_strategy("margin").select(1, proba=view).tolist() == [1]


# ---------------------------------------------------------------- random


def test_random_is_seeded_and_never_repeats() -> None:
    strategy = get_strategy("random")
    a = strategy.select(50, n_rows=200, labeled=np.arange(100), rng=7)
    b = strategy.select(50, n_rows=200, labeled=np.arange(100), rng=7)
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 50 and a.min() >= 100
    assert sorted(strategy.rank(n_rows=10, rng=1).tolist()) == list(range(10))


# ---------------------------------------------------------------- kcenter


def _reference_k_center(X: np.ndarray, labeled: list[int], n: int) -> list[int]:
    """Textbook greedy k-center with a full distance matrix (small inputs only)."""
    D = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2)
    centers = list(labeled)
    picks: list[int] = []
    for _ in range(n):
        mind = D[:, centers].min(axis=1)
        mind[centers] = -1
        picks.append(int(np.argmax(mind)))
        centers.append(picks[-1])
    return picks


def test_kcenter_picks_the_far_outlier_first() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(scale=0.1, size=(50, 8))
    X[17] += 10.0  # far from everything
    X[33] -= 5.0  # second farthest
    picks = get_strategy("kcenter").select(2, embeddings=X, labeled=[0, 1, 2])
    assert picks.tolist() == [17, 33]


def test_kcenter_matches_the_textbook_greedy() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 16))
    ours = greedy_k_center(X, 20, labeled=np.array([5, 50, 150]), chunk_rows=64)
    assert ours.tolist() == _reference_k_center(X, [5, 50, 150], 20)


def test_kcenter_without_labels_starts_at_the_centre() -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 9.0]])
    X = X - X.mean(axis=0)
    assert greedy_k_center(X, 2).tolist()[1] == 3
    assert greedy_k_center(X + 0.0, 1).tolist() != [3]


def test_kcenter_rank_covers_every_unlabeled_row() -> None:
    X = np.random.default_rng(2).normal(size=(400, 4))
    order = k_center_order(X, labeled=np.arange(10), head=30)
    assert sorted(order.tolist()) == list(range(10, 400))
    assert order[:30].tolist() == greedy_k_center(X, 30, labeled=np.arange(10)).tolist()
    ranked = KCenterStrategy(head=5).rank(embeddings=X, labeled=np.arange(10), n=30)
    assert ranked[:30].tolist() == order[:30].tolist()


def test_kcenter_cosine_ignores_vector_length() -> None:
    X = np.array([[1.0, 0.0], [2.0, 0.1], [0.0, 1.0], [50.0, 0.0]])
    assert greedy_k_center(X, 1, labeled=[0], metric="cosine").tolist() == [2]
    assert greedy_k_center(X, 1, labeled=[0], metric="euclidean").tolist() == [3]


def test_kcenter_without_embeddings_says_what_it_needs() -> None:
    with pytest.raises(SchemaError, match="'kcenter' needs record embeddings"):
        get_strategy("kcenter").select(3, proba=P)


# ---------------------------------------------------------------- committee


def test_committee_picks_where_members_disagree() -> None:
    agree = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]])
    other = agree.copy()
    other[2] = [0.95, 0.05]  # row 2: the members vote differently
    third = agree.copy()
    for strategy in (get_strategy("committee"), CommitteeStrategy(measure="vote-entropy")):
        assert strategy.select(1, committee=[agree, other, third]).tolist() == [2]
    assert get_strategy("committee").rank(committee=[agree, agree]).size == 4


def test_committee_needs_two_members() -> None:
    with pytest.raises(SchemaError, match="committee"):
        get_strategy("committee").select(1, proba=P)
    with pytest.raises(SchemaError, match="two or more"):
        get_strategy("committee").select(1, committee=[P])
    with pytest.raises(SchemaError, match="measure"):
        CommitteeStrategy(measure="jsd")  # type: ignore[arg-type]


# ---------------------------------------------------------------- hybrid


def _three_blobs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """30 rows in 3 far-apart blobs; every row of blob 0 is more uncertain than blob 1's,
    and blob 1's more than blob 2's."""
    rng = np.random.default_rng(4)
    blob = np.repeat([0, 1, 2], 10)
    X = rng.normal(scale=0.05, size=(30, 2)) + np.array([[0, 0], [10, 0], [0, 10]])[blob]
    gap = blob * 0.3 + rng.uniform(0, 0.2, 30)  # top-two gap: blob 0 smallest
    proba = np.stack([0.5 + gap / 2, 0.5 - gap / 2], axis=1)
    return X, proba, blob


def test_hybrid_spreads_a_batch_across_clusters() -> None:
    X, proba, blob = _three_blobs()
    margin_picks = get_strategy("margin").select(3, proba=proba)
    assert set(blob[margin_picks].tolist()) == {0}
    picks = HybridStrategy(n_clusters=3).select(3, proba=proba, embeddings=X, rng=0)
    assert sorted(blob[picks].tolist()) == [0, 1, 2]
    for b in range(3):  # and within each cluster, its most uncertain row
        in_blob = np.flatnonzero(blob == b)
        best = in_blob[np.argmin(np.abs(proba[in_blob, 0] - proba[in_blob, 1]))]
        assert best in picks


def test_hybrid_is_seeded_and_ranks_every_row() -> None:
    X, proba, _ = _three_blobs()
    hybrid = get_strategy("hybrid")
    a = hybrid.rank(proba=proba, embeddings=X, labeled=[0, 1], n=3, rng=5)
    b = hybrid.rank(proba=proba, embeddings=X, labeled=[0, 1], n=3, rng=5)
    assert a.tolist() == b.tolist()
    assert sorted(a.tolist()) == list(range(2, 30))


def test_hybrid_needs_both_inputs() -> None:
    X, proba, _ = _three_blobs()
    with pytest.raises(SchemaError, match="needs record embeddings"):
        get_strategy("hybrid").select(2, proba=proba)
    with pytest.raises(SchemaError, match="oversample"):
        HybridStrategy(oversample=0)


# ---------------------------------------------------------------- input checks


def test_inputs_must_agree_on_the_row_count() -> None:
    X = np.zeros((5, 2))
    with pytest.raises(SchemaError, match="embeddings has 5 rows but the other inputs have 4"):
        get_strategy("hybrid").select(1, proba=P, embeddings=X)
    with pytest.raises(SchemaError, match="labeled indices must lie in 0..3"):
        get_strategy("margin").select(1, proba=P, labeled=[4])
    with pytest.raises(SchemaError, match="proba must be 2-D"):
        get_strategy("margin").select(1, proba=P[0])
    with pytest.raises(SchemaError, match="needs n_rows"):
        get_strategy("random").select(1, labeled=[0])


def test_whole_queue_selects_stay_cheap_and_complete() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(3000, 8))
    proba = rng.dirichlet(np.ones(3), size=3000)
    kc = KCenterStrategy(max_greedy=50)
    picks = kc.select(2990, embeddings=X, labeled=np.arange(10))
    assert sorted(picks.tolist()) == list(range(10, 3000))
    assert picks[:50].tolist() == greedy_k_center(X, 50, labeled=np.arange(10)).tolist()
    everything = get_strategy("hybrid").select(3000, proba=proba, embeddings=X, rng=0)
    assert sorted(everything.tolist()) == list(range(3000))


def test_rank_chunks_orders_ids_by_score_from_a_stream() -> None:
    consumed: list[int] = []

    def chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, 10, 4):
            consumed.append(start)
            ids = np.arange(start, min(start + 4, 10), dtype=np.int64)
            yield ids, (ids % 5).astype(float)

    order = rank_chunks(chunks())
    assert consumed == [0, 4, 8]
    assert order.tolist() == [4, 9, 3, 8, 2, 7, 1, 6, 0, 5]  # ties keep stream order
    nan_last = rank_chunks([(np.array([1, 2, 3]), np.array([np.nan, 0.1, 0.2]))])
    assert nan_last.tolist() == [3, 2, 1]
    assert rank_chunks([]).tolist() == []


def test_strategies_that_lose_to_random_are_not_offered_by_default() -> None:
    offered = strategy_names(offered=True)
    assert offered == ["auto", "hybrid", "margin", "random"]
    for name in set(BUILTINS) - set(offered):
        assert "random" in get_strategy(name).caveat  # says where it loses


def test_auto_covers_first_then_hands_over_to_uncertainty() -> None:
    import doctest

    from goldsmith.active import auto, coverage, simulate
    from goldsmith.models import spreading

    for module in (auto, coverage, simulate, spreading):
        assert doctest.testmod(module).failed == 0, module.__name__
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0], [4.0, 4.0, 0]])
    X = np.concatenate([c + rng.normal(scale=0.3, size=(40, 3)) for c in centres])
    blob = np.repeat(np.arange(4), 40)
    P = np.full((160, 2), 0.5)
    P[:, 0] = np.linspace(0.5, 1.0, 160)  # row 0 the most uncertain
    strategy = get_strategy("auto")
    cold = strategy.select(4, proba=P, embeddings=X, rng=1)
    assert sorted(blob[cold].tolist()) == [0, 1, 2, 3]  # no labels: one typical record a blob
    labeled = np.zeros(160, dtype=bool)
    labeled[rng.choice(160, size=40, replace=False)] = True  # 20 per class: past the hand-off
    warm = strategy.select(4, proba=P, embeddings=X, labeled=labeled, rng=1)
    hybrid = get_strategy("hybrid").select(4, proba=P, embeddings=X, labeled=labeled, rng=1)
    assert warm.tolist() == hybrid.tolist()
