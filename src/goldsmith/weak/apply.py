"""Run labeling functions over records and collect their votes, column by column.

* Keyword and regex LFs are merged: per text field, all their patterns form one RE2 pattern
  set, and each text is scanned once for every such LF together.
* Python LFs run in a process pool when there is enough work (``workers``), otherwise inline.
* Model and similarity LFs run in this process, once per batch of texts.
* The result maps each LF to the ids of the records it voted on and the label index of each
  vote: one sparse column of the label matrix ``L``. :func:`votes_matrix` assembles ``L``.
* On a multi-label question an LF may vote several labels on a record, so a record id can
  repeat in a column. A positive vote for label ``c`` is stored as ``c``, a negative one
  (``NOT(label)``) as ``k + c`` with ``k`` labels: the label names of such a column are
  :func:`multilabel_names` of the question's labels.
* Span LFs go through :func:`apply_span_lfs`, which returns spans instead.

An LF that raises, or returns something that is not one of the labels or ``ABSTAIN``, stops
the run with a :class:`~goldsmith.errors.LabelingFunctionError` naming the LF and the record;
nothing is returned or stored for a failed run.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import re2

from goldsmith._lazy import lazy_module
from goldsmith.errors import LabelingFunctionError
from goldsmith.progress import SILENT, Progress
from goldsmith.weak.lf import (
    ABSTAIN,
    BATCH_KINDS,
    DECLARATIVE_KINDS,
    LF,
    NOT,
    SPAN_KINDS,
    LFKind,
    LFRecord,
)
from goldsmith.weak.span_lfs import SpanColumn, scan_spans

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

RecordRow = tuple[int, dict[str, Any], dict[str, Any]]  # (id, fields, metadata)
INLINE_BELOW = 5_000  # records: below this, Python LFs run in this process
CHUNK = 2_000
NEGATIVE = "\x1fnot:"  # prefix of a negative vote's label name in a multi-label column


def multilabel_names(labels: Sequence[str]) -> list[str]:
    """The label names a multi-label column's votes index: the labels, then their negations."""
    return [*labels, *(NEGATIVE + name for name in labels)]


@dataclass(slots=True)
class Column:
    """The votes of one LF: record ids (ascending) and label indices.

    Both are packed machine arrays (``array('q')`` and ``array('h')``: 10 bytes a vote, a
    quarter of Python ints in a list), so the votes of millions of records stay small;
    lists or numpy arrays given to the constructor are packed.
    """

    ids: array[int] = field(default_factory=lambda: array("q"))
    labels: array[int] = field(default_factory=lambda: array("h"))

    def __post_init__(self) -> None:
        self.ids = _packed("q", self.ids)
        self.labels = _packed("h", self.labels)

    def arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        return np.array(self.ids, dtype=np.int64), np.array(self.labels, dtype=np.int16)

    def sort(self) -> None:
        """Order the votes by record id (stable); pool results may arrive out of order."""
        ids, labels = self.arrays()
        if len(ids) > 1 and bool((ids[1:] < ids[:-1]).any()):
            order = np.argsort(ids, kind="stable")
            self.ids = _packed("q", ids[order])
            self.labels = _packed("h", labels[order])


def _packed(code: str, values: Any) -> array[int]:
    if isinstance(values, array) and values.typecode == code:
        return values
    out = array(code)
    if isinstance(values, np.ndarray):
        out.frombytes(values.astype(np.int64 if code == "q" else np.int16).tobytes())
    else:
        out.extend(int(v) for v in values)
    return out


# --------------------------------------------------------------------------- declarative


class _PatternScan:
    """All keyword/regex LFs on one field, scanned together with one RE2 set."""

    def __init__(self, lfs: list[tuple[int, LF]], label_index: dict[str, int]) -> None:
        """``label_index`` maps vote names (``NEGATIVE + label`` for a negative LF) to indices."""
        options = re2.Options()
        options.case_sensitive = True  # each pattern carries its own (?i)
        options.log_errors = False  # a pattern RE2 refuses falls back quietly to Python re
        self._set = re2.Set.SearchSet(options)
        self._owner: list[int] = []  # pattern number -> LF position
        self._label: dict[int, int] = {}
        self.fallback: list[tuple[int, re.Pattern[str]]] = []  # patterns RE2 cannot run
        for pos, lf in lfs:
            assert lf.label is not None
            self._label[pos] = label_index[(NEGATIVE if lf.negative else "") + lf.label]
            for re2_pattern, py_pattern in zip(lf.re2_patterns, lf.patterns, strict=True):
                try:
                    self._set.Add(re2_pattern)
                except re2.error:
                    self.fallback.append((pos, re.compile(py_pattern)))
                    continue
                self._owner.append(pos)
        self._empty = not self._owner
        if not self._empty:
            self._set.Compile()

    def votes(self, text: str) -> dict[int, int]:
        """LF position -> label index for every LF that matches ``text``."""
        found: dict[int, int] = {}
        if not self._empty:
            for number in self._set.Match(text) or ():
                pos = self._owner[number]
                found[pos] = self._label[pos]
        for pos, pattern in self.fallback:
            if pos not in found and pattern.search(text):
                found[pos] = self._label[pos]
        return found


def _scan_declarative(
    lfs: list[tuple[int, LF]],
    rows: Sequence[RecordRow],
    label_index: dict[str, int],
    columns: list[Column],
) -> None:
    by_field: dict[str, list[tuple[int, LF]]] = {}
    for pos, lf in lfs:
        by_field.setdefault(lf.field, []).append((pos, lf))
    for field_name, group in by_field.items():
        scan = _PatternScan(group, label_index)
        for rid, fields, _ in rows:
            value = fields.get(field_name)
            if value is None:
                raise LabelingFunctionError(
                    f"record {rid} has no field {field_name!r}", lf=group[0][1].name, record=rid
                )
            for pos, label in scan.votes(value if isinstance(value, str) else str(value)).items():
                columns[pos].ids.append(rid)
                columns[pos].labels.append(label)


# --------------------------------------------------------------------------- python LFs

_worker_lfs: list[LF] = []  # set in each pool worker by _init_worker


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 0.5


def _init_worker(lfs: list[LF], parent: int) -> None:
    global _worker_lfs
    _worker_lfs = lfs
    _die_with(parent)


def _die_with(parent: int) -> None:
    """End this pool worker when ``parent`` ends, even by ``kill -9``, which runs no cleanup.

    A worker blocks on its task queue, whose write end it shares with its siblings, so it
    never sees end-of-file: without this it would keep the store and its WAL open forever.
    On Linux the kernel sends a parent-death ``SIGKILL``; everywhere, a daemon thread polls
    the parent's pid and exits the worker once it changes (the worker was re-parented).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl to call: the thread below still watches
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    watch = threading.Thread(target=_watch, args=(parent,), name="goldsmith-parent", daemon=True)
    watch.start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _is_abstain(value: Any) -> bool:
    return value is None or (isinstance(value, int) and value == ABSTAIN)


def _vote_indices(value: Any, labels: dict[str, int], lf: LF, rid: int) -> list[int]:
    """The stored vote indices of one returned value; ``labels`` holds every vote name (with
    ``NEGATIVE`` names on a multi-label question, which also allows lists)."""
    multilabel = bool(labels) and next(reversed(labels)).startswith(NEGATIVE)
    if _is_abstain(value):
        return []
    if isinstance(value, str):
        index = labels.get(value)
        if index is not None and not value.startswith(NEGATIVE):
            return [index]
    elif isinstance(value, NOT) and multilabel:
        index = labels.get(NEGATIVE + value.label)
        if index is not None:
            return [index]
    elif isinstance(value, list | tuple | set | frozenset) and multilabel:
        found = sorted({i for item in value for i in _vote_indices(item, labels, lf, rid)})
        k = len(labels) // 2
        both = sorted({i for i in found if i < k} & {i - k for i in found if i >= k})
        if both:
            names = [n for n, i in labels.items() if i in both]
            raise LabelingFunctionError(
                f"returned both {names[0]!r} and NOT({names[0]!r})", lf=lf.name, record=rid
            )
        return found
    known = sorted(n for n in labels if not n.startswith(NEGATIVE))
    allowed = "ABSTAIN, NOT(label), a list, or one of" if multilabel else "ABSTAIN or one of"
    raise LabelingFunctionError(
        f"returned {value!r}, which is not {allowed} {known}", lf=lf.name, record=rid
    )


def _run_python(
    lfs: Sequence[LF], rows: Sequence[RecordRow], labels: dict[str, int]
) -> list[tuple[list[int], list[int]]]:
    out: list[tuple[list[int], list[int]]] = [([], []) for _ in lfs]
    for rid, fields, metadata in rows:
        record = LFRecord(rid, fields, metadata)
        for j, lf in enumerate(lfs):
            try:
                value = lf(record)
            except Exception as exc:
                raise LabelingFunctionError(
                    f"raised {type(exc).__name__}: {exc}", lf=lf.name, record=rid
                ) from exc
            for index in _vote_indices(value, labels, lf, rid):
                out[j][0].append(rid)
                out[j][1].append(index)
    return out


def _run_batch(
    lfs: list[tuple[int, LF]],
    rows: Sequence[RecordRow],
    labels: dict[str, int],
    task_labels: Sequence[str],
    columns: list[Column],
) -> None:
    """Model and similarity LFs: one call per LF for the whole batch of ``rows``."""
    for pos, lf in lfs:
        assert lf.batch_fn is not None
        texts = []
        for rid, fields, _ in rows:
            value = fields.get(lf.field)
            if value is None:
                raise LabelingFunctionError(
                    f"record {rid} has no field {lf.field!r}", lf=lf.name, record=rid
                )
            texts.append(value if isinstance(value, str) else str(value))
        try:
            values = list(lf.batch_fn(texts, task_labels))
        except LabelingFunctionError:
            raise
        except Exception as exc:
            raise LabelingFunctionError(
                f"raised {type(exc).__name__}: {exc} (on records {rows[0][0]}..{rows[-1][0]})",
                lf=lf.name,
                record=None,
            ) from exc
        if len(values) != len(rows):
            raise LabelingFunctionError(
                f"gave {len(values)} votes for {len(rows)} records", lf=lf.name, record=None
            )
        for (rid, _, _), value in zip(rows, values, strict=True):
            for index in _vote_indices(value, labels, lf, rid):
                columns[pos].ids.append(rid)
                columns[pos].labels.append(index)


def _run_python_in_worker(
    rows: Sequence[RecordRow], labels: dict[str, int]
) -> list[tuple[list[int], list[int]]]:
    return _run_python(_worker_lfs, rows, labels)


def _pool(workers: int, lfs: list[LF]) -> ProcessPoolExecutor:
    # fork: workers inherit the user's LF module, which may not be importable by name
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(lfs, os.getpid())
    )


# --------------------------------------------------------------------------- the run


def batches(rows: Iterable[RecordRow], size: int) -> Iterator[list[RecordRow]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    batch: list[RecordRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def apply_lfs(
    lfs: Sequence[LF],
    rows: Iterable[RecordRow],
    labels: Sequence[str],
    *,
    total: int | None = None,
    workers: int | None = None,
    multilabel: bool = False,
    progress: Progress = SILENT,
) -> list[Column]:
    """Votes of each LF (in ``lfs`` order) over ``rows`` of ``(id, fields, metadata)``.

    Parameters
    ----------
    lfs:
        The labeling functions.
    rows:
        Records in ascending id order.
    labels:
        The question's labels; a vote is stored as the index of its label here.
    total:
        The number of rows, for progress only.
    workers:
        Processes for Python LFs (default: the CPU count; 1 runs them inline).
    multilabel:
        Votes are per label of a multi-label question: lists and ``NOT`` are allowed, and a
        vote is stored as an index into :func:`multilabel_names` of ``labels``.
    """
    names = multilabel_names(labels) if multilabel else list(labels)
    label_index = {name: i for i, name in enumerate(names)}
    for lf in lfs:
        if lf.kind in SPAN_KINDS:
            raise LabelingFunctionError(
                "emits spans, which only a spans question takes", lf=lf.name, record=None
            )
        if lf.label is not None and lf.label not in label_index:
            raise LabelingFunctionError(
                f"votes {lf.label!r}, which is not one of {list(labels)}", lf=lf.name, record=None
            )
        if lf.negative and not multilabel:
            raise LabelingFunctionError(
                "votes NOT(label), which only a multilabel question takes", lf=lf.name, record=None
            )
    columns = [Column() for _ in lfs]
    declarative = [(j, lf) for j, lf in enumerate(lfs) if lf.kind in DECLARATIVE_KINDS]
    batched = [(j, lf) for j, lf in enumerate(lfs) if lf.kind in BATCH_KINDS]
    python = [(j, lf) for j, lf in enumerate(lfs) if lf.kind == LFKind.PYTHON]
    workers = workers or os.cpu_count() or 1
    use_pool = python and workers > 1 and (total is None or total >= INLINE_BELOW)
    pool = _pool(workers, [lf for _, lf in python]) if use_pool else None
    progress.start("applying labeling functions", total=total)
    try:
        pending: list[Any] = []
        for batch in batches(rows, CHUNK):
            _scan_declarative(declarative, batch, label_index, columns)
            _run_batch(batched, batch, label_index, labels, columns)
            if python and pool is None:
                _merge(columns, python, _run_python([lf for _, lf in python], batch, label_index))
            elif pool is not None:
                pending.append(pool.submit(_run_python_in_worker, batch, label_index))
                while len(pending) > 2 * workers:  # bound memory: keep a few batches in flight
                    _merge(columns, python, pending.pop(0).result())
            progress.advance(len(batch))
        for future in pending:
            _merge(columns, python, future.result())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        progress.finish()
    for column in columns:  # pool results arrive per batch: keep ids ascending
        column.sort()
    return columns


def apply_span_lfs(
    lfs: Sequence[LF],
    rows: Iterable[RecordRow],
    labels: Sequence[str],
    *,
    total: int | None = None,
    progress: Progress = SILENT,
) -> list[SpanColumn]:
    """The spans of each span LF (in ``lfs`` order) over ``rows``, labels as indices.

    Span LFs on one field are scanned together (see :mod:`goldsmith.weak.span_lfs`).
    """
    label_index = {name: i for i, name in enumerate(labels)}
    for lf in lfs:
        if lf.kind not in SPAN_KINDS:
            raise LabelingFunctionError(
                "votes a label per record; a spans question takes span LFs "
                "(regex_span_lf, gazetteer_lf)",
                lf=lf.name,
                record=None,
            )
        if lf.label not in label_index:
            raise LabelingFunctionError(
                f"tags {lf.label!r}, which is not one of {list(labels)}", lf=lf.name, record=None
            )
    columns = [SpanColumn() for _ in lfs]
    by_field: dict[str, list[int]] = {}
    for j, lf in enumerate(lfs):
        by_field.setdefault(lf.field, []).append(j)
    progress.start("applying span labeling functions", total=total)
    try:
        for batch in batches(rows, CHUNK):
            for positions in by_field.values():
                scan_spans(
                    [lfs[j] for j in positions],
                    batch,
                    labels,
                    [columns[j] for j in positions],
                )
            progress.advance(len(batch))
    finally:
        progress.finish()
    return columns


def _merge(
    columns: list[Column],
    python: list[tuple[int, LF]],
    result: list[tuple[list[int], list[int]]],
) -> None:
    for (pos, _), (ids, labels) in zip(python, result, strict=True):
        columns[pos].ids.extend(ids)
        columns[pos].labels.extend(labels)


def votes_matrix(
    record_ids: npt.NDArray[np.int64],
    columns: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]],
) -> sp.csr_matrix:
    """The sparse label matrix (rows: ``record_ids``; entries ``label + 1``) of LF columns.

    Votes on records outside ``record_ids`` are dropped.
    """
    rows, cols, data = [], [], []
    for j, (ids, labels) in enumerate(columns):
        where = np.searchsorted(record_ids, ids)
        inside = (where < len(record_ids)) & (
            record_ids[np.minimum(where, len(record_ids) - 1)] == ids
        )
        rows.append(where[inside])
        cols.append(np.full(int(inside.sum()), j, dtype=np.int64))
        data.append(labels[inside].astype(np.int16) + 1)
    shape = (len(record_ids), len(columns))
    if not rows:
        return sp.csr_matrix(shape, dtype=np.int16)
    return sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )
