"""The Ray engine: apply labeling functions over Parquet partitions on a Ray cluster.

Each Parquet file is one Ray task, and each task runs the local engine
(:func:`goldsmith.weak.apply.apply_lfs`, inline) on its records, so the votes are the local
engine's by construction. The driver merges each LF's votes of all partitions in id order.

The Parquet layout (what :func:`records_to_parquet` writes): a record-id column (``id``), one
column per record field, and ``__metadata__``. Text fields are string columns; a field with
other values (a chat transcript) and ``__metadata__`` hold JSON text and are named in the
file's schema metadata (``goldsmith.json_columns``). Files written by other tools work too:
their columns are read as Python values (``to_pylist``), and a record without
``__metadata__`` has empty metadata. Record ids must be unique across the files.

Needs the ``ray`` extra (``pip install 'goldsmith[ray]'``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import ArgumentError, InputError, LabelingFunctionError
from goldsmith.ray_jobs import by_value_modules, cluster, import_ray, pickle_by_value
from goldsmith.weak.apply import Column, RecordRow, apply_lfs, batches
from goldsmith.weak.lf import LF, LFKind

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

METADATA_COLUMN = "__metadata__"
JSON_COLUMNS_KEY = b"goldsmith.json_columns"
ROWS_PER_FILE = 50_000

_Votes = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]]
_Failure = tuple[str, str, int | None]  # message, LF name, record id


def records_to_parquet(
    rows: Iterable[RecordRow], out_dir: str | Path, *, rows_per_file: int = ROWS_PER_FILE
) -> list[Path]:
    """Write ``(id, fields, metadata)`` rows as Parquet partitions of ``rows_per_file`` rows.

    Returns the files written (``part-00000.parquet``, ...), in order. ``out_dir`` is created
    if needed; files already there are left alone (use an empty folder).
    """
    if rows_per_file < 1:
        raise ArgumentError("rows_per_file must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, batch in enumerate(batches(rows, rows_per_file)):
        path = out / f"part-{number:05d}.parquet"
        pq.write_table(_table(batch), path)
        paths.append(path)
    return paths


def _table(batch: list[RecordRow]) -> pa.Table:
    names = list(dict.fromkeys(name for _, fields, _ in batch for name in fields))
    columns: dict[str, pa.Array] = {"id": pa.array([rid for rid, _, _ in batch], pa.int64())}
    as_json: list[str] = [METADATA_COLUMN]
    for name in names:
        values = [fields.get(name) for _, fields, _ in batch]
        if all(v is None or isinstance(v, str) for v in values):
            columns[name] = pa.array(values, pa.string())
        else:
            columns[name] = pa.array(
                [None if v is None else json.dumps(v) for v in values], pa.string()
            )
            as_json.append(name)
    columns[METADATA_COLUMN] = pa.array([json.dumps(m) for _, _, m in batch], pa.string())
    table = pa.table(columns)
    return table.replace_schema_metadata({JSON_COLUMNS_KEY: json.dumps(as_json).encode()})


def _read_rows(path: str, id_column: str, columns: list[str] | None) -> list[RecordRow]:
    """The rows of one Parquet file, in ascending id order (``columns``: None reads all)."""
    if columns is not None:  # a missing field is the local engine's error, on its record
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    table = pq.read_table(path, columns=columns)
    table = table.sort_by(id_column)
    raw = (table.schema.metadata or {}).get(JSON_COLUMNS_KEY)
    as_json = set(json.loads(raw)) if raw else set()
    ids = table.column(id_column).to_pylist()
    names = [n for n in table.column_names if n not in (id_column, METADATA_COLUMN)]
    values = {n: table.column(n).to_pylist() for n in names}
    for n in names:
        if n in as_json:
            values[n] = [None if v is None else json.loads(v) for v in values[n]]
    metadata: list[Any] = [{}] * len(ids)
    if METADATA_COLUMN in table.column_names:
        metadata = [
            json.loads(m) if METADATA_COLUMN in as_json and m else (m or {})
            for m in table.column(METADATA_COLUMN).to_pylist()
        ]
    return [
        (rid, {n: values[n][i] for n in names if values[n][i] is not None}, metadata[i])
        for i, rid in enumerate(ids)
    ]


def _apply_partition(
    path: str,
    lfs: list[LF],
    labels: list[str],
    id_column: str,
    columns: list[str] | None,
    multilabel: bool = False,
) -> _Votes | _Failure:
    """One Ray task: the local engine, inline, on one file. A failing LF comes back as data:
    the error's message, LF and record (exceptions with keyword-only arguments do not
    survive pickling)."""
    rows = _read_rows(path, id_column, columns)
    try:
        result = apply_lfs(lfs, rows, labels, total=len(rows), workers=1, multilabel=multilabel)
    except LabelingFunctionError as exc:
        return (_inner_message(exc), exc.lf, exc.record)
    return [column.arrays() for column in result]


def _inner_message(exc: LabelingFunctionError) -> str:
    text = str(exc)
    where = f"labeling function {exc.lf!r}" + (
        "" if exc.record is None else f" on record {exc.record}"
    )
    return text.removeprefix(where + ": ")


def _parquet_files(source: str | Path | Sequence[str | Path]) -> list[str]:
    if isinstance(source, str | Path):
        root = Path(source)
        if root.is_dir():
            files = sorted(str(p) for p in root.rglob("*.parquet"))
            if not files:
                raise InputError("the folder holds no .parquet files", file=str(root))
            return files
        source = [root]
    files = [str(Path(p)) for p in source]
    for f in files:
        if not Path(f).is_file():
            raise InputError("no such Parquet file", file=f)
    return files


def _columns_needed(lfs: Sequence[LF], id_column: str) -> list[str] | None:
    """The columns to read: all when a Python LF may use any field or the metadata."""
    if any(lf.kind == LFKind.PYTHON for lf in lfs):
        return None
    return [id_column, *dict.fromkeys(lf.field for lf in lfs)]


def apply_lfs_ray(
    lfs: Sequence[LF],
    parquet: str | Path | Sequence[str | Path],
    labels: Sequence[str],
    *,
    id_column: str = "id",
    num_cpus: int | None = None,
    address: str | None = None,
    multilabel: bool = False,
) -> list[Column]:
    """Votes of each LF (in ``lfs`` order) over the records in Parquet files, on Ray.

    Parameters
    ----------
    lfs:
        The labeling functions.
    parquet:
        A folder (its ``*.parquet`` files, recursively; none is an error) or a list of files
        (empty: no votes): one Ray task per file.
    labels:
        The question's labels; a vote is stored as the index of its label here.
    id_column:
        The record-id column.
    num_cpus:
        CPUs of the local cluster started when Ray is not connected and ``address`` is None
        (default: the CPU count).
    address:
        A Ray cluster to connect to (``"auto"``, ``"ray://host:10001"``); the default starts a
        local one. A connected Ray (``ray.init`` called before) is used as it is.

    Returns
    -------
    list[Column]
        One column per LF, ids ascending: the same as :func:`~goldsmith.weak.apply.apply_lfs`
        on the same records.
    """
    import_ray()  # fails helpfully before anything else
    files = _parquet_files(parquet)
    lf_list, label_list = list(lfs), list(labels)
    label_index = {name: i for i, name in enumerate(label_list)}
    for lf in lf_list:  # fail before starting anything
        if lf.label is not None and lf.label not in label_index:
            raise LabelingFunctionError(
                f"votes {lf.label!r}, which is not one of {label_list}", lf=lf.name, record=None
            )
    for f in files:  # reads only the footers
        try:
            names = pq.read_schema(f).names
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"not a readable Parquet file: {exc}", file=f) from exc
        if id_column not in names:
            raise InputError(f"no record-id column {id_column!r}; its columns: {names}", file=f)
    if not files:  # an empty list of files: no records, nothing to start
        return [Column() for _ in lf_list]
    columns = _columns_needed(lf_list, id_column)
    with cluster(address, num_cpus) as ray:
        task = ray.remote(num_cpus=1)(_apply_partition)
        with pickle_by_value(by_value_modules([lf.fn for lf in lf_list if lf.fn is not None])):
            shared = ray.put(lf_list)
        args = (shared, label_list, id_column, columns, multilabel)
        pending = [task.remote(f, *args) for f in files]
        results = ray.get(pending)
    parts: list[_Votes] = []
    for result in results:
        if isinstance(result, tuple):
            message, lf_name, record = result
            raise LabelingFunctionError(message, lf=lf_name, record=record)
        parts.append(result)
    return [_merge([part[j] for part in parts]) for j in range(len(lf_list))]


def _merge(parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]]) -> Column:
    if not parts:
        return Column()
    ids = np.concatenate([p[0] for p in parts])
    votes = np.concatenate([p[1] for p in parts])
    order = np.argsort(ids, kind="stable")
    return Column(ids=ids[order].tolist(), labels=votes[order].tolist())
