"""Leakage report: near-duplicate pairs and groups that straddle dataset splits."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import ArgumentError

__all__ = ["leakage_report"]


def leakage_report(
    groups: Sequence[int] | npt.NDArray[np.int64],
    splits: Sequence[Hashable],
    *,
    pairs: npt.NDArray[np.int64] | None = None,
    ids: Sequence[Any] | None = None,
    max_examples: int = 10,
) -> dict[str, Any]:
    """Count near duplicates that cross splits (train/validation/test).

    Parameters
    ----------
    groups
        Group id per item (e.g. ``NearDupResult.groups`` or ``records.dup_group``); items
        with equal ids are near duplicates of each other. ``-1`` or ``None`` means no
        group; a group of one item is no group either.
    splits
        Split name per item, aligned with ``groups``.
    pairs
        Optional verified pairs ``(i, j)`` (e.g. ``NearDupResult.pairs``). When given,
        ``pairs_crossing`` counts these pairs; otherwise it counts every within-group
        pair whose two items lie in different splits.
    ids
        Optional item ids to show in the examples instead of positions.
    max_examples
        How many straddling groups to list.

    Returns
    -------
    dict
        ``groups`` (groups with at least two items), ``groups_crossing``, ``pairs``,
        ``pairs_crossing``, ``items_in_crossing_groups``, ``by_split_pair`` (e.g.
        ``{"test|train": 3}``) and ``examples`` (group id, item ids, their splits).
        Every count is 0 after a group-aware split.

    Examples
    --------
    >>> r = leakage_report([0, 0, -1, 3, 3], ["train", "test", "test", "train", "train"])
    >>> r["groups_crossing"], r["pairs_crossing"]
    (1, 1)
    """
    g = np.array([-1 if x is None else int(x) for x in groups], dtype=np.int64)
    if len(splits) != g.size:
        raise ArgumentError(f"{g.size} groups but {len(splits)} splits")
    names = sorted({str(s) for s in splits})
    code = {s: c for c, s in enumerate(names)}
    s = np.array([code[str(x)] for x in splits], dtype=np.int64)
    label = [str(i) for i in (ids if ids is not None else range(g.size))]

    member = np.flatnonzero(g >= 0)
    order = member[np.lexsort((member, g[member]))]
    by_group: dict[int, list[int]] = {}
    for i in order.tolist():
        by_group.setdefault(int(g[i]), []).append(i)
    multi = {k: v for k, v in by_group.items() if len(v) > 1}

    if pairs is None:
        counts: dict[str, int] = {}
        n_pairs = crossing = 0
        for members in multi.values():
            per = np.bincount(s[members], minlength=len(names))
            m = len(members)
            n_pairs += m * (m - 1) // 2
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    if per[a] and per[b]:
                        counts[f"{names[a]}|{names[b]}"] = counts.get(
                            f"{names[a]}|{names[b]}", 0
                        ) + int(per[a] * per[b])
                        crossing += int(per[a] * per[b])
    else:
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n_pairs = len(p)
        sa, sb = s[p[:, 0]], s[p[:, 1]]
        cross = sa != sb
        crossing = int(cross.sum())
        lo, hi = np.minimum(sa[cross], sb[cross]), np.maximum(sa[cross], sb[cross])
        keys, cnt = np.unique(lo * len(names) + hi, return_counts=True)
        counts = {
            f"{names[k // len(names)]}|{names[k % len(names)]}": int(c)
            for k, c in zip(keys.tolist(), cnt.tolist(), strict=True)
        }

    straddling = [k for k, v in multi.items() if np.unique(s[v]).size > 1]
    examples = [
        {
            "group": k,
            "items": [label[i] for i in multi[k]],
            "splits": [names[s[i]] for i in multi[k]],
        }
        for k in straddling[:max_examples]
    ]
    return {
        "groups": len(multi),
        "groups_crossing": len(straddling),
        "pairs": n_pairs,
        "pairs_crossing": crossing,
        "items_in_crossing_groups": int(sum(len(multi[k]) for k in straddling)),
        "by_split_pair": dict(sorted(counts.items())),
        "examples": examples,
    }
