"""Which split each exported record goes to, computed from compact per-record keys.

The first pass of an export keeps only ``(record id, stratum, group)`` per record, as
machine integers (strata and groups are interned), then hands them to
:func:`goldsmith.export.splits.stratified_assign` (in slices of a million records for very
large exports, so its per-item Python objects stay bounded). The second pass looks records
up by id.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.export.splits import split_names, stratified_assign
from goldsmith.schema import Question

ASSIGN_CHUNK = 1_000_000  # records per stratified_assign call in very large exports


def stratum(question: Question, value: Any) -> str:
    """The stratum of a final value: the label, the label set, the span labels or the rating.

    Free-form questions (text, preference) have a single stratum. The question's kind says
    which (:meth:`~goldsmith.kinds.base.QuestionKind.stratum`).

    Examples
    --------
    >>> from goldsmith.schema import SpansQuestion
    >>> q = SpansQuestion(name="s", labels=("A", "B"))
    >>> stratum(q, [{"start": 0, "end": 1, "label": "B"}, {"start": 2, "end": 3, "label": "A"}])
    '["A", "B"]'
    """
    return question.stratum(value)


@dataclass(frozen=True, slots=True)
class SplitPlan:
    """Record ids (ascending) and the split index of each.

    Attributes
    ----------
    names
        Split names, ``train`` first.
    ids
        ``int64`` record ids, sorted.
    assignment
        Split index per id.
    """

    names: tuple[str, ...]
    ids: npt.NDArray[np.int64]
    assignment: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    def counts(self) -> dict[str, int]:
        """Records per split name."""
        n = np.bincount(self.assignment, minlength=len(self.names))
        return {name: int(n[i]) for i, name in enumerate(self.names)}

    def splits_of(self, record_ids: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Split index of each of ``record_ids``; -1 for ids not in the plan."""
        query = np.asarray(record_ids, dtype=np.int64)
        if len(self.ids) == 0:
            return np.full(len(query), -1, dtype=np.int64)
        pos = np.searchsorted(self.ids, query)
        pos = np.minimum(pos, len(self.ids) - 1)
        found = self.ids[pos] == query
        return np.where(found, self.assignment[pos], -1)


def plan_splits(
    items: Iterable[tuple[int, Hashable, Hashable | None]],
    fractions: Sequence[float],
    *,
    seed: int = 0,
    chunk: int = ASSIGN_CHUNK,
) -> SplitPlan:
    """Assign records to splits, stratified by label and keeping groups whole.

    Parameters
    ----------
    items
        ``(record id, stratum, group)`` per record; ``group`` None means the record is a
        group of its own (for example, it has no duplicates).
    fractions
        Target share of each split; they sum to 1.
    seed
        Seed of :func:`stratified_assign`.
    chunk
        Above this many records the assignment runs over stratum-sorted slices of this
        size (see :func:`_assign_in_chunks`), which bounds memory for very large exports.

    Returns
    -------
    SplitPlan

    Examples
    --------
    >>> plan = plan_splits([(1, "a", None), (2, "a", 7), (3, "b", 7)], [0.5, 0.5], seed=0)
    >>> plan.splits_of([1, 2, 3, 4]).tolist()[1:]  # records 2 and 3 share group 7
    [1, 1, -1]
    """
    ids = array("q")
    strata = array("q")
    groups = array("q")
    stratum_ids: dict[Hashable, int] = {}
    group_ids: dict[Hashable, int] = {}
    for record_id, key, group in items:
        ids.append(record_id)
        strata.append(stratum_ids.setdefault(key, len(stratum_ids)))
        # shared groups get negative keys so they never meet a record id
        groups.append(
            record_id if group is None else -1 - group_ids.setdefault(group, len(group_ids))
        )
    names = split_names(len(fractions))
    if len(ids) == 0:
        empty = np.empty(0, dtype=np.int64)
        return SplitPlan(names, empty, empty)
    if len(ids) <= chunk:
        assignment = stratified_assign(
            strata, fractions, groups=groups if group_ids else None, seed=seed
        )
    else:
        assignment = _assign_in_chunks(
            np.frombuffer(strata, dtype=np.int64),
            np.frombuffer(groups, dtype=np.int64),
            fractions,
            seed=seed,
            chunk=chunk,
        )
    id_arr = np.frombuffer(ids, dtype=np.int64)
    order = np.argsort(id_arr, kind="stable")
    return SplitPlan(names, id_arr[order].copy(), assignment[order])


def _assign_in_chunks(
    strata: npt.NDArray[Any],
    groups: npt.NDArray[Any],
    fractions: Sequence[float],
    *,
    seed: int,
    chunk: int,
) -> npt.NDArray[np.int64]:
    """:func:`stratified_assign` over slices of at most ``chunk`` records.

    Records of shared groups go in one call of their own, so no group is divided. The others
    are sorted by stratum before slicing, so a stratum spans as few slices as possible and
    even rare labels keep their proportions. Each slice has its own seed derived from
    ``seed``. Peak memory follows ``chunk`` instead of the number of records.
    """
    out = np.empty(len(strata), dtype=np.int64)
    shared = np.flatnonzero(groups < 0)
    single = np.flatnonzero(groups >= 0)
    single = single[np.argsort(strata[single], kind="stable")]
    parts = np.array_split(single, max(1, -(-len(single) // chunk)))
    for i, part in enumerate(parts):
        if len(part):
            sub_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            out[part] = stratified_assign(strata[part].tolist(), fractions, seed=sub_seed)
    if len(shared):
        sub_seed = int(np.random.SeedSequence([seed, len(parts)]).generate_state(1)[0])
        out[shared] = stratified_assign(
            strata[shared].tolist(), fractions, groups=groups[shared].tolist(), seed=sub_seed
        )
    return out
