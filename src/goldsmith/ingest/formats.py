"""The registry of import formats, and format detection from a path.

An :class:`ImportFormat` pairs a streaming reader (rows with line numbers) with a converter
factory (row -> :class:`~goldsmith.ingest.mapping.ImportItem`). The built-ins are
registered through :meth:`FormatRegistry.register`, the same call a plug-in would use:

>>> registry = default_formats()
>>> registry.get("csv").name
'csv'
>>> sorted(registry)[:3]
['alpaca', 'argilla', 'conll']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from goldsmith._lazy import lazy_module
from goldsmith.errors import InputError, RegistryError
from goldsmith.ingest import columnar, delimited, readers
from goldsmith.ingest.argilla import ArgillaConverter
from goldsmith.ingest.conll import ConllConverter, read_conll
from goldsmith.ingest.label_studio import LabelStudioConverter, read_label_studio
from goldsmith.ingest.mapping import ImportItem, Row, RowMapper
from goldsmith.ingest.options import ImportOptions
from goldsmith.ingest.prodigy import ProdigyConverter, read_prodigy
from goldsmith.ingest.readers import ReadContext, Reader
from goldsmith.ingest.sft import sft_converter
from goldsmith.schema import Task

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq
else:
    pa = lazy_module("pyarrow")
    ipc = lazy_module("pyarrow.ipc")
    pq = lazy_module("pyarrow.parquet")

Converter = Callable[[int, Row], ImportItem]
ConverterFactory = Callable[[Task, ImportOptions, str], Converter]
Measure = Callable[[Path], "int | None"]


@dataclass(frozen=True, slots=True)
class ImportFormat:
    """A named input format.

    Attributes
    ----------
    name:
        What ``ImportOptions.fmt`` says.
    read:
        ``read(path, ctx)`` yields ``(line, row)``.
    convert:
        ``convert(task, options, file)`` returns ``f(line, row) -> ImportItem``.
    measure:
        ``measure(path)`` gives the progress total in the unit the reader advances
        ``ctx.pos`` by (bytes or rows), or None when unknown.
    answer_from:
        Whether ``ImportOptions.answer_from`` means something for this format (the row
        mapper's formats); it is refused for the others.
    """

    name: str
    read: Reader
    convert: ConverterFactory = RowMapper
    measure: Measure = readers.file_size
    description: str = ""
    answer_from: bool = True


class FormatRegistry:
    """Format name -> :class:`ImportFormat`. A duplicate or unknown name is a RegistryError."""

    def __init__(self) -> None:
        self._formats: dict[str, ImportFormat] = {}

    def register(self, fmt: ImportFormat) -> ImportFormat:
        """Add ``fmt``; a name already taken raises :class:`RegistryError` naming it."""
        if fmt.name in self._formats:
            raise RegistryError(
                f"an import format named {fmt.name!r} is already registered; pick another name"
            )
        self._formats[fmt.name] = fmt
        return fmt

    def get(self, name: str) -> ImportFormat:
        try:
            return self._formats[name]
        except KeyError:
            raise RegistryError(
                f"unknown import format {name!r}; choose one of {', '.join(sorted(self))}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)


def default_formats() -> FormatRegistry:
    """A fresh registry holding the built-in formats."""
    reg = FormatRegistry()
    for fmt in (
        ImportFormat("csv", delimited.read_csv, description="comma-separated, header line"),
        ImportFormat("tsv", delimited.read_tsv, description="tab-separated, header line"),
        ImportFormat("jsonl", readers.read_jsonl, description="one JSON object per line"),
        ImportFormat("json", readers.read_json, description="a JSON array of objects"),
        ImportFormat(
            "parquet", columnar.read_parquet, measure=columnar.parquet_rows, description="parquet"
        ),
        ImportFormat(
            "hf",
            columnar.read_hf,
            measure=columnar.hf_measure,
            description="Hugging Face save_to_disk folder or folder of parquet files",
        ),
        ImportFormat(
            "label-studio",
            read_label_studio,
            LabelStudioConverter,
            description="Label Studio JSON export",
            answer_from=False,
        ),
        ImportFormat(
            "prodigy",
            read_prodigy,
            ProdigyConverter,
            description="Prodigy JSONL (db-out)",
            answer_from=False,
        ),
        ImportFormat(
            "conll",
            read_conll,
            ConllConverter,
            description="CoNLL token-per-line BIO tags; one record per sentence",
            answer_from=False,
        ),
        ImportFormat(
            "argilla",
            columnar.read_table,
            ArgillaConverter,
            measure=columnar.table_measure,
            description="Argilla 2.x records (JSON, JSONL, parquet or a datasets folder)",
            answer_from=False,
        ),
        *_sft_formats(),
    ):
        reg.register(fmt)
    return reg


def _sft_formats() -> list[ImportFormat]:
    """goldsmith's SFT export formats read back (:mod:`goldsmith.ingest.sft`)."""
    shapes = (
        (
            "openai-chat",
            "chat",
            "OpenAI chat JSONL: messages; the last assistant turn is the answer",
        ),
        ("trl-sft-chat", "chat", "TRL conversational JSONL: messages (as openai-chat)"),
        ("trl-sft", "prompt-completion", "TRL prompt-completion JSONL: prompt, completion"),
        ("alpaca", "alpaca", "Alpaca JSONL: instruction, input, output"),
        ("sharegpt", "sharegpt", "ShareGPT JSONL: conversations of system/human/gpt turns"),
    )
    return [
        ImportFormat(
            name, readers.read_jsonl, sft_converter(shape), description=text, answer_from=False
        )
        for name, shape, text in shapes
    ]


# --------------------------------------------------------------------------- detection

_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".conll": "conll",
    ".bio": "conll",
}


def _sniff(keys: list[str], sample: Row | None = None) -> str | None:
    """An interop format recognised from column names (and one sample row), if any."""
    names = set(keys)
    if "_server_id" in names or any(k.endswith((".responses", ".suggestion")) for k in keys):
        return "argilla"
    nested = sample is not None and isinstance(sample.get("fields"), dict)
    if nested and names & {"responses", "suggestions"}:
        return "argilla"
    if names & {"_input_hash", "_task_hash", "_annotator_id", "answer"}:
        return "prodigy"
    tasky = sample is not None and isinstance(sample.get("data"), dict)
    if tasky and names & {"annotations", "predictions"}:
        return "label-studio"
    return None


def _first_jsonl_row(path: Path) -> Row | None:
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                try:
                    row = json.loads(raw.decode("utf-8", "replace"))
                except json.JSONDecodeError:
                    return None
                return row if isinstance(row, dict) else None
    return None


def _first_json_item(path: Path) -> Row | None:
    ctx = ReadContext(file=str(path), options=ImportOptions())
    try:
        for _, item in readers.iter_json_array(path, ctx):
            return item if isinstance(item, dict) else None
    except InputError:
        return None
    return None


def _schema_names(path: Path) -> list[str]:
    try:
        if path.suffix == ".arrow":
            with pa.OSFile(str(path)) as src:
                return list(ipc.open_stream(src).schema.names)
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError, UnicodeDecodeError):
        return []


def _detect_dir(path: Path) -> str | None:
    if (path / "dataset_dict.json").is_file():
        parts = sorted(path.glob("*/data-*.arrow"))
    elif (path / "state.json").is_file():
        parts = sorted(path.glob("data-*.arrow"))
    else:
        parts = sorted(path.rglob("*.parquet"))
        if not parts:
            return None
    sniffed = _sniff(_schema_names(parts[0])) if parts else None
    return "argilla" if sniffed == "argilla" else "hf"


def detect_format(path: Path) -> str:
    """The format name for ``path``, from its extension or folder contents.

    JSON, JSONL and parquet files and dataset folders are also sniffed for the interop
    formats (Argilla columns, Prodigy keys, Label Studio tasks).

    Raises
    ------
    InputError
        ``path`` does not exist.
    RegistryError
        The format cannot be told; the message says how to name it.
    """
    if not path.exists():
        raise InputError("no such file or folder", file=str(path))
    if path.is_dir():
        found = _detect_dir(path)
    else:
        found = _BY_SUFFIX.get(path.suffix.lower())
        if found == "jsonl":
            row = _first_jsonl_row(path)
            found = (_sniff(list(row), row) if row else None) or found
        elif found == "json":
            item = _first_json_item(path)
            found = (_sniff(list(item), item) if item else None) or found
        elif found == "parquet":
            found = _sniff(_schema_names(path)) or found
    if found is None:
        known = ", ".join(
            sorted(set(_BY_SUFFIX.values()) | {"hf", "label-studio", "prodigy", "conll"})
        )
        raise RegistryError(
            f"cannot tell the format of {path.name!r} from its name or contents; "
            f"pass fmt= one of {known} (or argilla)"
        )
    return found
