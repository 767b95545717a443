"""Resolve a final value from several responses by majority vote."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def majority(values: Sequence[Any], *, min_votes: int = 1) -> tuple[Any, float] | None:
    """The strict-majority value and its share of votes, or None on a tie or too few votes.

    >>> majority(["a", "b", "a"])
    ('a', 0.6666666666666666)
    >>> majority(["a", "b"]) is None
    True
    """
    if len(values) < max(min_votes, 1):
        return None
    counts = Counter(_key(v) for v in values)
    (top, n_top), *rest = counts.most_common()
    if rest and rest[0][1] == n_top:
        return None
    first = next(v for v in values if _key(v) == top)
    return first, n_top / len(values)
