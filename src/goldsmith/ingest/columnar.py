"""Arrow-based readers: parquet files and Hugging Face dataset folders, batch by batch.

``line`` is the 1-based row number (running on across the files of a folder), and progress
(``ctx.pos``) counts rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.errors import InputError
from goldsmith.ingest.readers import ReadContext, Row, file_size, read_json, read_jsonl

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    ipc = lazy_module("pyarrow.ipc")
    pq = lazy_module("pyarrow.parquet")


def parquet_rows(path: Path) -> int | None:
    """Row count of a parquet file from its footer, without reading data."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        return None


def _class_labels(features: Any) -> dict[str, list[str | None]]:
    """Top-level ``ClassLabel`` columns of a Hugging Face features dict, with their names.

    A null name (Argilla's ``to_datasets()`` makes "no suggestion" a class) stays None: the
    cell reads as empty."""
    out: dict[str, list[str | None]] = {}
    if isinstance(features, dict):
        for name, feat in features.items():
            if isinstance(feat, dict) and feat.get("_type") == "ClassLabel" and feat.get("names"):
                out[name] = [None if n is None else str(n) for n in feat["names"]]
    return out


def _hf_schema_labels(schema: pa.Schema) -> dict[str, list[str | None]]:
    meta = schema.metadata or {}
    blob = meta.get(b"huggingface")
    if not blob:
        return {}
    try:
        info = json.loads(blob)
    except ValueError:
        return {}
    return _class_labels(info.get("info", {}).get("features"))


def _bad_text(batch: pa.RecordBatch, file: str, start: int) -> InputError:
    """The error for the first cell of ``batch`` that is not valid UTF-8 (a damaged file)."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        for k in range(len(column)):
            try:
                column[k].as_py()
            except UnicodeDecodeError:
                return InputError(
                    "the text is not valid UTF-8, so the file is damaged; export it again",
                    file=file,
                    line=start + k + 1,
                    field=name,
                )
    return InputError("a text is not valid UTF-8, so the file is damaged", file=file)


def _batch_rows(
    batches: Iterator[pa.RecordBatch],
    ctx: ReadContext,
    start: int,
    names: dict[str, list[str | None]],
    file: str,
) -> Iterator[tuple[int, Row]]:
    number = start
    for batch in batches:
        try:
            rows = batch.to_pylist()
        except UnicodeDecodeError as exc:
            raise _bad_text(batch, file, number) from exc
        for row in rows:
            number += 1
            for col, labels in names.items():
                code = row.get(col)
                if isinstance(code, int) and 0 <= code < len(labels):
                    row[col] = labels[code]
            yield number, row
        ctx.pos += batch.num_rows


def _parquet(path: Path, ctx: ReadContext, file: str, start: int) -> Iterator[tuple[int, Row]]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable parquet file: {exc}", file=file) from exc
    names = _hf_schema_labels(pf.schema_arrow)
    batches = pf.iter_batches(batch_size=max(1, min(ctx.options.batch_size, 65_536)))
    try:
        yield from _batch_rows(batches, ctx, start, names, file)
    except pa.ArrowException as exc:
        raise InputError(f"cannot read parquet data: {exc}", file=file) from exc


def read_parquet(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Rows of a parquet file, one record batch at a time; ``line`` is the row number."""
    return _parquet(path, ctx, ctx.file, 0)


def _arrow_stream(
    path: Path, ctx: ReadContext, start: int, names: dict[str, list[str | None]]
) -> Iterator[tuple[int, Row]]:
    try:
        with pa.OSFile(str(path)) as source:
            reader = ipc.open_stream(source)
            yield from _batch_rows(iter(reader), ctx, start, names, str(path))
    except pa.ArrowException as exc:
        raise InputError(f"not a readable Arrow stream: {exc}", file=str(path)) from exc


def _json_file(path: Path, file: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", file=file) from exc


def _hf_saved(path: Path, ctx: ReadContext, start: list[int]) -> Iterator[tuple[int, Row]]:
    """One ``save_to_disk`` split folder: state.json lists its Arrow stream files."""
    state = _json_file(path / "state.json", ctx.file)
    info_path = path / "dataset_info.json"
    info = _json_file(info_path, ctx.file) if info_path.is_file() else {}
    names = _class_labels(info.get("features"))
    files = [d.get("filename") for d in state.get("_data_files", []) if isinstance(d, dict)]
    if not files:
        files = [p.name for p in sorted(path.glob("data-*.arrow"))]
    for name in files:
        for number, row in _arrow_stream(path / str(name), ctx, start[0], names):
            start[0] = number
            yield number, row


def read_hf(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """A Hugging Face dataset folder: ``save_to_disk`` output or a folder of parquet files.

    ``datasets`` itself is not needed: ``save_to_disk`` folders hold Arrow IPC streams
    listed in ``state.json``. A ``DatasetDict`` folder (``dataset_dict.json``) is read split by
    split, and each row gets a ``split`` column unless it has one. ``ClassLabel`` integers are
    turned into their names. Row numbers run on across files.
    """
    start = [0]
    if (path / "dataset_dict.json").is_file():
        splits = _json_file(path / "dataset_dict.json", ctx.file).get("splits", [])
        for split in splits:
            for number, row in _hf_saved(path / str(split), ctx, start):
                row.setdefault("split", split)
                yield number, row
        return
    if (path / "state.json").is_file():
        yield from _hf_saved(path, ctx, start)
        return
    parts = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not parts:
        raise InputError(
            "not a Hugging Face dataset folder: no state.json, dataset_dict.json or *.parquet",
            file=ctx.file,
        )
    for part in parts:
        for number, row in _parquet(part, ctx, str(part), start[0]):
            start[0] = number
            yield number, row


def hf_measure(path: Path) -> int | None:
    """Total rows of a folder of parquet files (from footers); None for Arrow folders."""
    parts = sorted(path.rglob("*.parquet")) if path.is_dir() else []
    if not parts or (path / "state.json").exists() or (path / "dataset_dict.json").exists():
        return None
    counts = [parquet_rows(p) for p in parts]
    return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


def read_table(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Dispatch on the file: a folder, ``.parquet``, ``.json`` or JSON lines."""
    if path.is_dir():
        return read_hf(path, ctx)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return read_parquet(path, ctx)
    if suffix == ".json":
        return read_json(path, ctx)
    return read_jsonl(path, ctx)


def table_measure(path: Path) -> int | None:
    """Progress total for :func:`read_table`: rows for columnar files, else bytes."""
    if path.is_dir():
        return hf_measure(path)
    if path.suffix.lower() == ".parquet":
        return parquet_rows(path)
    return file_size(path)
