"""Stratified, seeded, group-aware splits.

Records in one group (exact or near duplicates) always land in the same split, so no
duplicate leaks from train into test. Within each stratum (label) groups are shuffled
with the seed and dealt to the split that is furthest below its target size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.errors import ArgumentError

SPLIT_NAMES = ("train", "validation", "test")


def split_names(n: int) -> tuple[str, ...]:
    """Names for ``n`` splits: train, validation, test, then split3, split4, ..."""
    return tuple(SPLIT_NAMES[i] if i < 3 else f"split{i}" for i in range(n))


def parse_fractions(spec: str) -> tuple[float, ...]:
    """Parse ``"0.8,0.1,0.1"``; fractions must be positive and sum to 1."""
    try:
        parts = tuple(float(p) for p in spec.split(","))
    except ValueError as exc:
        raise ArgumentError(f"split {spec!r}: expected comma-separated fractions") from exc
    if any(p <= 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
        raise ArgumentError(f"split {spec!r}: fractions must be > 0 and sum to 1")
    return parts


def stratified_assign(
    strata: Sequence[Hashable],
    fractions: Sequence[float],
    *,
    groups: Sequence[Hashable] | None = None,
    seed: int = 0,
) -> npt.NDArray[np.int64]:
    """Assign each item to a split index.

    Parameters
    ----------
    strata
        One stratum (for example the label) per item.
    fractions
        Target share of each split; they sum to 1.
    groups
        Optional group key per item; a group is never divided. A group's stratum is that
        of its first item.
    seed
        Seed of the shuffle; the same inputs and seed give the same assignment.

    Returns
    -------
    numpy.ndarray
        ``int`` array of split indices, one per item.

    Examples
    --------
    >>> stratified_assign(["a"] * 8 + ["b"] * 2, [0.5, 0.5], seed=1).tolist().count(0)
    5
    """
    n = len(strata)
    fr = np.asarray(fractions, dtype=float)
    group_keys: Sequence[Hashable] = groups if groups is not None else range(n)
    members: dict[Hashable, list[int]] = defaultdict(list)
    for i, g in enumerate(group_keys):
        members[g].append(i)
    by_stratum: dict[Hashable, list[Hashable]] = defaultdict(list)
    for g, idx in members.items():
        by_stratum[strata[idx[0]]].append(g)

    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=np.int64)
    for stratum in sorted(by_stratum, key=repr):
        gs = by_stratum[stratum]
        order = rng.permutation(len(gs))
        total = sum(len(members[gs[j]]) for j in order)
        target = fr * total
        filled = np.zeros(len(fr))
        for j in order:
            size = len(members[gs[j]])
            # the split with the largest unmet share of its target takes the group
            need = (target - filled) / np.maximum(target, 1e-9)
            k = int(np.argmax(need))
            out[members[gs[j]]] = k
            filled[k] += size
    return out
