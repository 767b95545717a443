"""Labeling functions against a project's store: incremental apply and the label matrix.

An LF whose version (a digest of its definition) is unchanged is run only on records added
since its last run; a new or changed LF runs on every record; an LF no longer in the file is
dropped. Votes are computed first and written in one transaction, so a failing LF leaves
the stored votes as they were.

Three kinds of question take LFs:

* ``label``: :func:`load_label_matrix` gives ``L``;
* ``multilabel``: votes per label (see :mod:`goldsmith.weak.apply`);
  :func:`load_multilabel_matrices` gives one binary ``L`` per label (class 1 = present,
  0 = absent) for :class:`~goldsmith.weak.label_models.multilabel.MultiLabelModel`;
* ``spans``: span LFs; :func:`load_span_votes` gives each record's token offsets and each
  LF's token spans for :class:`~goldsmith.weak.label_models.spans.SpanLabelModel`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.kinds.base import Labelled, SpanLabelled, choice, span_choice
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Task
from goldsmith.store import Store
from goldsmith.store.votes import LFRun
from goldsmith.weak.apply import (
    Column,
    RecordRow,
    apply_lfs,
    apply_span_lfs,
    multilabel_names,
    votes_matrix,
)
from goldsmith.weak.label_models.spans import Span
from goldsmith.weak.lf import LF, SPAN_KINDS
from goldsmith.weak.ray_engine import apply_lfs_ray, records_to_parquet
from goldsmith.weak.span_matrix import Offsets, to_token_spans, tokenize

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

WeakQuestion = Labelled | SpanLabelled


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


def label_question(task: Task, question: str | None) -> Labelled:
    q = task.question(question)
    if not choice(q):
        raise SchemaError(
            f"weak supervision here needs a single-label question; {q.name!r} is {q.kind!r}"
        )
    return q


def weak_question(task: Task, question: str | None, lfs: Sequence[LF] = ()) -> WeakQuestion:
    """The question LFs vote on; checks that ``lfs`` are of a kind it takes."""
    q = task.question(question)
    if not (choice(q, many=None) or span_choice(q)):
        raise SchemaError(
            f"weak supervision needs a single-label, multilabel or spans question; "
            f"{q.name!r} is {q.kind!r}"
        )
    spans = span_choice(q)
    for lf in lfs:
        if spans and lf.kind not in SPAN_KINDS:
            raise SchemaError(
                f"{lf.name!r} votes a label per record, for a single-label question or a "
                f"multilabel one; {q.name!r} is a spans question: use regex_span_lf or "
                "gazetteer_lf"
            )
        if span_choice(q) and lf.field != q.field:
            raise SchemaError(
                f"{lf.name!r} tags field {lf.field!r}, but {q.name!r} marks spans of {q.field!r}"
            )
        if not spans and lf.kind in SPAN_KINDS:
            raise SchemaError(f"{lf.name!r} emits spans, for a spans question; {q.name!r} is not")
    return q


def _rows(store: Store, after_id: int, up_to: int) -> Iterator[RecordRow]:
    with store.read() as tx:
        for batch in tx.iter_records(after_id=after_id, up_to_id=up_to):
            for r in batch:
                assert r.id is not None
                yield r.id, r.fields, r.metadata


def _apply_on_ray(
    lfs: Sequence[LF],
    rows: Iterator[RecordRow],
    labels: list[str],
    workers: int | None,
    address: str | None,
    multilabel: bool,
) -> list[Column]:
    with tempfile.TemporaryDirectory(prefix="goldsmith-ray-") as tmp:
        records_to_parquet(rows, tmp)
        return apply_lfs_ray(
            lfs, tmp, labels, num_cpus=workers, address=address, multilabel=multilabel
        )


def apply_to_store(
    store: Store,
    task: Task,
    lfs: Sequence[LF],
    *,
    question: str | None = None,
    workers: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    progress: Progress = SILENT,
) -> ApplyReport:
    """Apply ``lfs`` to the records of ``question`` (incrementally: see the module docstring).

    ``engine="ray"`` writes the records to be labeled as Parquet partitions in a temporary
    folder and runs the same code per partition on Ray (local, or at ``ray_address``: the
    folder must then be on storage the cluster sees); the votes are the same.
    """
    if engine not in ("local", "ray"):
        raise SchemaError(f"engine must be 'local' or 'ray', got {engine!r}")
    started = time.perf_counter()
    q = weak_question(task, question, lfs)
    labels = list(q.labels)
    spans = q.marks_spans
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
    columns: list[Any] = []
    if todo:
        low = min(start[lf.name] for lf in todo)
        with store.read() as tx:
            total = tx.count_records_between(low, up_to)
        rows = _rows(store, low, up_to)
        if spans:
            if engine == "ray":
                raise SchemaError("the ray engine runs label and multi-label LFs, not span LFs")
            columns = apply_span_lfs(todo, rows, labels, total=total, progress=progress)
        else:
            multilabel = q.many_labels
            if engine == "ray":
                columns = _apply_on_ray(todo, rows, labels, workers, ray_address, multilabel)
            else:
                columns = apply_lfs(
                    todo,
                    rows,
                    labels,
                    total=total,
                    workers=workers,
                    multilabel=multilabel,
                    progress=progress,
                )
            labels = multilabel_names(labels) if multilabel else labels
    with store.write() as tx:
        tx.drop_lfs(report.removed)
        for position, lf in enumerate(lfs):
            replace = lf.name in report.recomputed
            tx.put_lf_run(
                LFRun(lf.name, q.name, lf.version, str(lf.kind), up_to, position), replace=replace
            )
        for lf, column in zip(todo, columns, strict=True):
            arrays = column.arrays()
            keep = arrays[0] > start[lf.name]
            if spans:
                ids, starts, ends, votes = (a[keep] for a in arrays)
                tx.add_lf_spans(lf.name, labels, ids, starts, ends, votes)
            else:
                tx.add_lf_votes(lf.name, labels, arrays[0][keep], arrays[1][keep])
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
    _check_known(runs, [votes for _, votes in columns])
    L = votes_matrix(record_ids, columns)
    return LabelMatrixData(q.name, record_ids, L, [r.lf for r in runs], labels)


@dataclass(slots=True)
class MultiLabelData:
    """One binary label matrix per label (entries ``class + 1``: 2 = present, 1 = absent)."""

    question: str
    record_ids: npt.NDArray[np.int64]
    Ls: list[sp.csr_matrix]
    lfs: list[str]
    labels: list[str]


def load_multilabel_matrices(
    store: Store, task: Task, question: str | None = None
) -> MultiLabelData:
    """The stored votes on a multilabel ``question``: for label ``c``, an LF's positive vote
    for ``c`` is class 1, its ``NOT(c)`` class 0, and anything else an abstain."""
    q = task.question(question)
    if not choice(q, many=True):
        raise SchemaError(f"{q.name!r} is {q.kind!r}, not a multilabel question")
    labels = list(q.labels)
    k = len(labels)
    with store.read() as tx:
        runs = [r for r in tx.lf_runs().values() if r.question == q.name]
        record_ids = tx.record_id_array()
        columns = [tx.lf_column(r.lf, multilabel_names(labels)) for r in runs]
    _check_known(runs, [votes for _, votes in columns])
    Ls = []
    for c in range(k):
        per_label = []
        for ids, votes in columns:
            mine = (votes == c) | (votes == c + k)
            per_label.append((ids[mine], (votes[mine] == c).astype(np.int16)))
        Ls.append(votes_matrix(record_ids, per_label))
    return MultiLabelData(q.name, record_ids, Ls, [r.lf for r in runs], labels)


@dataclass(slots=True)
class SpanVotes:
    """The stored spans of a spans ``question``, per record (rows ``record_ids``).

    ``token_starts[d]`` / ``token_ends[d]`` are the code-point offsets of record ``d``'s
    tokens (see :mod:`goldsmith.weak.span_matrix`); ``token_spans[d][s]`` lists LF ``s``'s
    spans on it in tokens, ``(first, last + 1, label)``.
    """

    question: str
    record_ids: npt.NDArray[np.int64]
    token_starts: list[Offsets]
    token_ends: list[Offsets]
    token_spans: list[list[list[Span]]]
    lfs: list[str]
    labels: list[str]

    @property
    def lengths(self) -> list[int]:
        return [len(s) for s in self.token_starts]


def load_span_votes(store: Store, task: Task, question: str | None = None) -> SpanVotes:
    """Every record's tokens and every span LF's spans on them, in tokens."""
    q = task.question(question)
    if not span_choice(q):
        raise SchemaError(f"{q.name!r} is {q.kind!r}, not a spans question")
    labels = list(q.labels)
    with store.read() as tx:
        runs = [r for r in tx.lf_runs().values() if r.question == q.name]
        found = [tx.lf_span_column(r.lf, labels) for r in runs]
        record_ids: list[int] = []
        starts: list[Offsets] = []
        ends: list[Offsets] = []
        for batch in tx.iter_records():
            for record in batch:
                assert record.id is not None
                record_ids.append(record.id)
                a, b = tokenize(str(record.fields.get(q.field, "")))
                starts.append(a)
                ends.append(b)
    _check_known(runs, [votes for *_, votes in found])
    ids = np.asarray(record_ids, dtype=np.int64)
    spans: list[list[list[Span]]] = [[[] for _ in runs] for _ in record_ids]
    for s, (rid, first, end, votes) in enumerate(found):
        rows = np.searchsorted(ids, rid)
        ok = (rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == rid)
        picked = (rows[ok].tolist(), first[ok].tolist(), end[ok].tolist(), votes[ok].tolist())
        for row, x, y, v in zip(*picked, strict=True):
            spans[row][s].append((x, y, labels[v]))
    token_spans = [
        [to_token_spans(per_lf, starts[d], ends[d]) for per_lf in spans[d]]
        for d in range(len(record_ids))
    ]
    return SpanVotes(q.name, ids, starts, ends, token_spans, [r.lf for r in runs], labels)


def _check_known(runs: Sequence[LFRun], votes: Sequence[npt.NDArray[np.int16]]) -> None:
    for run, v in zip(runs, votes, strict=True):
        if (v < 0).any():
            raise SchemaError(
                f"labeling function {run.lf!r} voted labels that the task no longer has; "
                "apply the LFs again"
            )


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
