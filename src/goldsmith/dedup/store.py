"""Find near duplicates among a store's records and write their ``dup_group``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from goldsmith.dedup.groups import NearDupResult, near_duplicate_groups
from goldsmith.store import Store

__all__ = ["StoreDedupResult", "assign_near_dup_groups", "record_text"]


@dataclass(frozen=True, slots=True)
class StoreDedupResult:
    """What :func:`assign_near_dup_groups` found and wrote.

    Attributes
    ----------
    record_ids
        Record ids in the order the texts were processed (ascending).
    result
        The :class:`~goldsmith.dedup.groups.NearDupResult` over those records (indices,
        not ids).
    groups
        ``{record_id: group_id}`` for every record in a group of two or more; the group
        id is the smallest record id of the group.
    updated
        Number of records whose ``dup_group`` changed.
    """

    record_ids: list[int]
    result: NearDupResult
    groups: dict[int, int]
    updated: int


def record_text(fields: dict[str, Any], names: Sequence[str] | None = None) -> str:
    """The text of a record for deduplication: the named fields (default: every string
    field, in key order) joined by newlines.

    Examples
    --------
    >>> record_text({"b": "world", "a": "hello", "n": 3})
    'hello\\nworld'
    """
    keys = sorted(fields) if names is None else list(names)
    return "\n".join(v for k in keys if isinstance(v := fields.get(k), str))


def assign_near_dup_groups(
    store: Store,
    *,
    threshold: float = 0.8,
    fields: Sequence[str] | None = None,
    num_perm: int = 128,
    seed: int = 0,
    batch_size: int = 5000,
) -> StoreDedupResult:
    """Group near-duplicate records and store the groups in ``records.dup_group``.

    Texts are read batch-wise in one read transaction; the groups are written in one
    write transaction. Grouped records get the smallest record id of their group;
    a record that was grouped before and is alone now gets its own id (a group of one,
    which splits treat like no group). Only records whose value changes are written, so
    a second run with the same settings writes nothing.

    Parameters
    ----------
    store
        The project's store.
    threshold, num_perm, seed
        As in :func:`~goldsmith.dedup.groups.near_duplicate_groups`.
    fields
        Record fields whose text is compared (default: every string field).
    batch_size
        Records per read batch.
    """
    ids: list[int] = []
    texts: list[str] = []
    old: list[int | None] = []
    with store.read() as tx:
        for batch in tx.iter_records(batch_size=batch_size):
            for rec in batch:
                ids.append(int(rec.id))  # type: ignore[arg-type]
                texts.append(record_text(rec.fields, fields))
                old.append(rec.dup_group)
    result = near_duplicate_groups(texts, threshold=threshold, num_perm=num_perm, seed=seed)
    id_arr = np.asarray(ids, dtype=np.int64)
    new = id_arr[result.groups]  # smallest record id of the group (own id when alone)
    groups = {ids[i]: int(new[i]) for i in np.flatnonzero(result.grouped).tolist()}
    changes: dict[int, int] = {}
    for rid, gid, before in zip(ids, new.tolist(), old, strict=True):
        if rid in groups:
            if before != gid:
                changes[rid] = gid
        elif before is not None and before != rid:  # was grouped, now alone
            changes[rid] = rid
    if changes:
        with store.write() as tx:
            tx.set_dup_groups(changes)
    return StoreDedupResult(record_ids=ids, result=result, groups=groups, updated=len(changes))
