"""Choosing a gold set: a stratified, seeded sample of labeled records."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.errors import ArgumentError
from goldsmith.export.splits import stratified_assign


def sample_gold(
    strata: Sequence[Hashable], fraction: float, *, seed: int = 0
) -> npt.NDArray[np.int64]:
    """Indices of a stratified sample of ``fraction`` of the items.

    >>> len(sample_gold(["a"] * 50 + ["b"] * 50, 0.1, seed=3))
    10
    """
    if not 0 < fraction < 1:
        raise ArgumentError(f"gold fraction must be in (0, 1), got {fraction}")
    assign = stratified_assign(strata, [fraction, 1 - fraction], seed=seed)
    return np.flatnonzero(assign == 0)
