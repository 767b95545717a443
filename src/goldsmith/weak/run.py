"""Labeling functions against a project's store: incremental apply and the label matrix.

An LF whose version (a digest of its definition) is unchanged is run only on records added
since its last run; a new or changed LF runs on every record; an LF no longer in the file is
dropped. Votes are computed first and written in one transaction, so a failing LF leaves
the stored votes as they were.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from goldsmith.errors import SchemaError
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import LabelQuestion, Task
from goldsmith.store import Store
from goldsmith.store.votes import LFRun
from goldsmith.weak.apply import RecordRow, apply_lfs, votes_matrix
from goldsmith.weak.lf import LF


@dataclass(slots=True)
class ApplyReport:
    """What an apply did: which LFs ran on everything, which only on new records."""

    question: str
    n_records: int
    recomputed: list[str] = field(default_factory=list)
    incremental: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    new_votes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(slots=True)
class LabelMatrixData:
    """``L`` (sparse, entries ``label + 1``) with its row record ids and column LF names."""

    question: str
    record_ids: npt.NDArray[np.int64]
    L: sp.csr_matrix
    lfs: list[str]
    labels: list[str]


def label_question(task: Task, question: str | None) -> LabelQuestion:
    q = task.question(question)
    if not isinstance(q, LabelQuestion):
        raise SchemaError(
            f"weak supervision here needs a single-label question; {q.name!r} is {q.kind!r}"
        )
    return q


def _rows(store: Store, after_id: int, up_to: int) -> Iterator[RecordRow]:
    with store.read() as tx:
        for batch in tx.iter_records(after_id=after_id, up_to_id=up_to):
            for r in batch:
                assert r.id is not None
                yield r.id, r.fields, r.metadata


def apply_to_store(
    store: Store,
    task: Task,
    lfs: Sequence[LF],
    *,
    question: str | None = None,
    workers: int | None = None,
    progress: Progress = SILENT,
) -> ApplyReport:
    started = time.perf_counter()
    q = label_question(task, question)
    labels = list(q.labels)
    with store.read() as tx:
        runs = tx.lf_runs()
        up_to = tx.max_record_id()
        n_records = tx.count_records()
    report = ApplyReport(question=q.name, n_records=n_records)
    start: dict[str, int] = {}  # LF -> votes needed for ids above this
    for lf in lfs:
        run = runs.get(lf.name)
        same = run is not None and run.version == lf.version and run.question == q.name
        start[lf.name] = run.last_record_id if same and run is not None else 0
        if not same:
            report.recomputed.append(lf.name)
        elif start[lf.name] < up_to:
            report.incremental.append(lf.name)
        else:
            report.unchanged.append(lf.name)
    report.removed = [name for name in runs if name not in start]
    todo = [lf for lf in lfs if start[lf.name] < up_to]
    columns = []
    if todo:
        low = min(start[lf.name] for lf in todo)
        with store.read() as tx:
            total = tx.count_records_between(low, up_to)
        columns = apply_lfs(
            todo,
            _rows(store, low, up_to),
            labels,
            total=total,
            workers=workers,
            progress=progress,
        )
    with store.write() as tx:
        tx.drop_lfs(report.removed)
        for position, lf in enumerate(lfs):
            replace = lf.name in report.recomputed
            tx.put_lf_run(
                LFRun(lf.name, q.name, lf.version, str(lf.kind), up_to, position), replace=replace
            )
        for lf, column in zip(todo, columns, strict=True):
            ids, votes = column.arrays()
            keep = ids > start[lf.name]
            tx.add_lf_votes(lf.name, labels, ids[keep], votes[keep])
            report.new_votes[lf.name] = int(keep.sum())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def load_label_matrix(store: Store, task: Task, question: str | None = None) -> LabelMatrixData:
    """The stored votes of every LF applied to ``question`` as a label matrix over all records.

    Records added after an LF last ran count as abstains of that LF: apply again to fill them.
    """
    q = label_question(task, question)
    labels = list(q.labels)
    with store.read() as tx:
        runs = [r for r in tx.lf_runs().values() if r.question == q.name]
        record_ids = tx.record_id_array()
        columns = [tx.lf_column(r.lf, labels) for r in runs]
    for run, (_, votes) in zip(runs, columns, strict=True):
        if (votes < 0).any():
            raise SchemaError(
                f"labeling function {run.lf!r} voted labels that the task no longer has; "
                "apply the LFs again"
            )
    L = votes_matrix(record_ids, columns)
    return LabelMatrixData(q.name, record_ids, L, [r.lf for r in runs], labels)


def label_array(
    record_ids: npt.NDArray[np.int64], found: Sequence[tuple[int, object]], index: dict[str, int]
) -> npt.NDArray[np.int64]:
    """Label index per row of ``record_ids`` from ``(record id, label)`` pairs; -1 elsewhere."""
    y = np.full(len(record_ids), -1, dtype=np.int64)
    if found:
        ids = np.asarray([rid for rid, _ in found], dtype=np.int64)
        values = np.asarray([index.get(str(v), -1) for _, v in found], dtype=np.int64)
        where = np.searchsorted(record_ids, ids)
        ok = (where < len(record_ids)) & (record_ids[np.minimum(where, len(record_ids) - 1)] == ids)
        y[where[ok]] = values[ok]
    return y
