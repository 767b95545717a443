"""Tabular formats: one row per record, every field and every question as a column.

``parquet`` columns: ``id`` (the record id), ``external_id``, one column per field, one per
question (its final value; ``rating`` as an integer, ``label`` and ``text`` as strings, lists
as JSON text), then ``provenance`` and ``confidence`` of the exported question's label and
``metadata`` as JSON text. The files load with
``datasets.load_dataset("parquet", data_files=...)``.

``csv`` columns: ``id``, ``external_id``, the fields and the questions, encoded as for parquet:
the same columns the csv importer reads back.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.errors import ExportError
from goldsmith.export.exporter import ExportContext, Exporter, Sink
from goldsmith.schema import FinalLabel, Question, Record, Task

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

RESERVED = ("id", "external_id", "provenance", "confidence", "metadata")
BATCH_ROWS = 5000


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def columns(task: Task) -> tuple[list[str], list[str]]:
    """``(field columns, question columns)``; a name used twice is an error."""
    fields = [f.name for f in task.fields]
    questions = [q.name for q in task.questions]
    seen: set[str] = set()
    for name in [*RESERVED, *fields, *questions]:
        if name in seen:
            raise ExportError(
                f"column {name!r} would appear twice in a tabular export; rename the field "
                f"or question (reserved columns: {', '.join(RESERVED)})"
            )
        seen.add(name)
    return fields, questions


def field_cell(value: Any) -> str | None:
    """A field value as text: strings as they are, lists and others as JSON."""
    if value is None or isinstance(value, str):
        return value
    return _json(value)


def label_cell(question: Question, label: FinalLabel | None) -> str | int | None:
    """A final value as a cell: ratings as int, labels and texts as str, the rest as JSON
    (:meth:`~goldsmith.kinds.base.QuestionKind.table_cell`)."""
    return None if label is None else question.table_cell(label.value)


def row(ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]) -> dict[str, Any]:
    """One record as a row of cells (id, external_id, fields, questions, provenance, ...)."""
    main = labels.get(ctx.question.name) or next(iter(labels.values()), None)
    out: dict[str, Any] = {"id": record.id, "external_id": record.external_id}
    for f in ctx.task.fields:
        out[f.name] = field_cell(record.fields.get(f.name))
    for q in ctx.task.questions:
        out[q.name] = label_cell(q, labels.get(q.name))
    out["provenance"] = str(main.provenance) if main else None
    out["confidence"] = float(main.confidence) if main else None
    out["metadata"] = _json(record.metadata or {})
    return out


def parquet_schema(task: Task) -> pa.Schema:
    """The Arrow schema of a parquet export of ``task``."""
    fields, _ = columns(task)
    cols = [pa.field("id", pa.int64()), pa.field("external_id", pa.string())]
    cols += [pa.field(name, pa.string()) for name in fields]
    cols += [pa.field(q.name, pa.int64() if q.table_int else pa.string()) for q in task.questions]
    cols += [
        pa.field("provenance", pa.string()),
        pa.field("confidence", pa.float64()),
        pa.field("metadata", pa.string()),
    ]
    return pa.schema(cols)


class ParquetSink:
    """Buffers rows and writes them as parquet row groups of ``BATCH_ROWS``."""

    def __init__(self, path: Path, ctx: ExportContext) -> None:
        self._ctx = ctx
        self._schema = parquet_schema(ctx.task)
        self._writer = pq.ParquetWriter(str(path), self._schema)
        self._rows: list[dict[str, Any]] = []

    def write(self, record: Record, labels: Mapping[str, FinalLabel]) -> int:
        self._rows.append(row(self._ctx, record, labels))
        if len(self._rows) >= BATCH_ROWS:
            self._flush()
        return 1

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_batch(pa.RecordBatch.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


class CsvSink:
    """Writes rows as UTF-8 CSV with a header line."""

    def __init__(self, path: Path, ctx: ExportContext) -> None:
        self._ctx = ctx
        fields, questions = columns(ctx.task)
        self._names = ["id", "external_id", *fields, *questions, "provenance", "confidence"]
        self._names.append("metadata")
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=self._names, extrasaction="ignore")
        self._csv.writeheader()

    def write(self, record: Record, labels: Mapping[str, FinalLabel]) -> int:
        self._csv.writerow(row(self._ctx, record, labels))
        return 1

    def close(self) -> None:
        self._file.close()


def _parquet(path: Path, ctx: ExportContext) -> Sink:
    return ParquetSink(path, ctx)


def _csv(path: Path, ctx: ExportContext) -> Sink:
    return CsvSink(path, ctx)


def tabular_exporters() -> list[Exporter]:
    """The built-in tabular exporters, ready for :func:`register_exporter`."""
    return [
        Exporter(
            "parquet",
            _parquet,
            "parquet",
            description="Parquet, one row per record: fields, final values, provenance",
        ),
        Exporter("csv", _csv, "csv", description="CSV: the parquet columns as UTF-8 text"),
    ]
