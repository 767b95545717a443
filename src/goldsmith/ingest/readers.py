"""Streaming readers: each yields ``(line, row)`` pairs from one file. Text formats live here
(csv, tsv, jsonl, json arrays); Arrow-based ones (parquet, Hugging Face) in ``columnar``.

A reader never holds the whole file. ``line`` is the physical line where a row starts for
text formats (csv, tsv, jsonl, json) and the 1-based row number for columnar formats
(parquet, Hugging Face folders). Problems that only spoil one row are handed to
``ctx.reject``, which raises in strict mode and records the row when invalid rows are
skipped; problems that make the rest of the file unreadable always raise
:class:`~goldsmith.errors.InputError`.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError
from goldsmith.ingest.options import ImportOptions

Row = dict[str, Any]
Rejector = Callable[[InputError, Any], None]

CSV_FIELD_LIMIT = 2**31 - 1  # cells of 100 KB and more are normal in domain text
JSON_CHUNK = 1 << 20


def _raise(error: InputError, _raw: Any) -> None:
    raise error


@dataclass(slots=True)
class ReadContext:
    """What a reader needs besides the path, and where it reports progress.

    Attributes
    ----------
    file:
        The file name used in error messages (the resolved path).
    options:
        The import options (``encoding`` and ``delimiter`` matter to readers).
    reject:
        Called with an :class:`InputError` and the raw row for a row that cannot be read;
        it raises in strict mode.
    pos:
        Progress so far, in the unit of the format's ``measure`` (bytes or rows).
    """

    file: str
    options: ImportOptions
    reject: Rejector = _raise
    pos: int = 0


Reader = Callable[[Path, ReadContext], Iterator[tuple[int, Row]]]


# --------------------------------------------------------------------------- sizes


def file_size(path: Path) -> int | None:
    """Bytes in ``path``, or in every file under it when it is a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


# --------------------------------------------------------------------------- text lines


def _is_ascii_compatible(encoding: str) -> bool:
    name = codecs.lookup(encoding).name
    return not name.startswith(("utf-16", "utf-32"))


def _lines(path: Path, ctx: ReadContext) -> Iterator[tuple[int, str]]:
    """Decoded physical lines (line ending kept) with their 1-based numbers.

    Each line is decoded on its own so a bad byte is reported on its own line.
    """
    encoding = ctx.options.encoding
    if not _is_ascii_compatible(encoding):
        with open(path, encoding=encoding, newline="") as text:
            for number, line in enumerate(text, 1):
                ctx.pos += len(line.encode(encoding))
                yield number, line
        return
    bom = codecs.lookup(encoding).name == "utf-8"
    with open(path, "rb") as raw:
        for number, data in enumerate(raw, 1):
            ctx.pos += len(data)
            try:
                line = data.decode(encoding)
            except UnicodeDecodeError as exc:
                ctx.reject(
                    InputError(
                        f"byte {data[exc.start]:#04x} at column {exc.start + 1} is not valid "
                        f"{encoding}; pass the file's encoding (for example encoding='latin-1')",
                        file=ctx.file,
                        line=number,
                    ),
                    data.decode(encoding, "replace"),
                )
                continue
            if bom and number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield number, line


class _LineFeed:
    """Feeds decoded lines to :func:`csv.reader` and remembers the last line number."""

    __slots__ = ("_it", "number")

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._it = lines
        self.number = 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        self.number, line = next(self._it)
        return line


# --------------------------------------------------------------------------- csv / tsv


def _read_delimited(path: Path, ctx: ReadContext, delimiter: str) -> Iterator[tuple[int, Row]]:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    feed = _LineFeed(_lines(path, ctx))
    reader = csv.reader(feed, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"cannot read the header: {exc}", file=ctx.file, line=1) from exc
    if header is None:
        return
    _check_header(header, ctx.file, feed.number)
    width = len(header)
    while True:
        start = feed.number + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            ctx.reject(InputError(f"malformed row: {exc}", file=ctx.file, line=start), None)
            continue
        if not values:
            continue
        if len(values) != width:
            ctx.reject(
                InputError(
                    f"{len(values)} values for {width} columns; is the delimiter "
                    f"{delimiter!r} right, and are quotes balanced?",
                    file=ctx.file,
                    line=start,
                ),
                values,
            )
            continue
        yield start, dict(zip(header, values, strict=True))


def _check_header(header: list[str], file: str, line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InputError("the header has an empty column name", file=file, line=line)
        if name in seen:
            raise InputError("the header repeats this column", file=file, line=line, field=name)
        seen.add(name)


def read_csv(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Rows of a CSV file with a header line (delimiter ``,`` unless set)."""
    return _read_delimited(path, ctx, ctx.options.delimiter or ",")


def read_tsv(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Rows of a tab-separated file with a header line."""
    return _read_delimited(path, ctx, ctx.options.delimiter or "\t")


# --------------------------------------------------------------------------- json


def read_jsonl(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """One JSON object per line; blank lines are skipped."""
    for number, line in _lines(path, ctx):
        if not line or line.isspace():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            ctx.reject(
                InputError(
                    f"malformed JSON: {exc.msg} at column {exc.colno}", file=ctx.file, line=number
                ),
                line.rstrip("\r\n"),
            )
            continue
        if not isinstance(row, dict):
            ctx.reject(
                InputError(
                    f"expected a JSON object, got {type(row).__name__}",
                    file=ctx.file,
                    line=number,
                ),
                row,
            )
            continue
        yield number, row


def iter_json_array(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Any]]:
    """Items of a top-level JSON array, decoded one at a time with their start line."""
    decoder = json.JSONDecoder()
    incremental = codecs.getincrementaldecoder(ctx.options.encoding)()
    buf = ""
    pos = 0
    line = 1  # line of buf[pos]
    eof = False
    opened = False
    with open(path, "rb") as raw:

        def fill(size: int = JSON_CHUNK) -> bool:
            nonlocal buf, pos, eof
            data = raw.read(size)
            ctx.pos += len(data)
            try:
                text = incremental.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                bad_line = line + buf.count("\n", pos) + data[: exc.start].count(b"\n")
                raise InputError(
                    f"bytes are not valid {ctx.options.encoding}; pass the file's encoding",
                    file=ctx.file,
                    line=bad_line,
                ) from exc
            buf = buf[pos:] + text
            pos = 0
            eof = not data
            return bool(data)

        while True:
            # skip whitespace and separators
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    if buf[pos] == "\n":
                        line += 1
                    pos += 1
                if pos < len(buf) or not fill():
                    break
            if pos == len(buf):
                if not opened:
                    raise InputError("expected a JSON array, found an empty file", file=ctx.file)
                raise InputError("the JSON array is not closed", file=ctx.file, line=line)
            char = buf[pos]
            if not opened:
                if char == "\ufeff":
                    pos += 1
                    continue
                if char != "[":
                    raise InputError(
                        f"expected a JSON array ('['), found {char!r}", file=ctx.file, line=line
                    )
                opened = True
                pos += 1
                continue
            if char == "]":
                return
            if char == ",":
                pos += 1
                continue
            size = JSON_CHUNK
            while True:
                try:
                    item, end = decoder.raw_decode(buf, pos)
                    if end < len(buf) or eof:
                        break
                except json.JSONDecodeError as exc:
                    if eof:
                        at = line + buf.count("\n", pos, exc.pos)
                        raise InputError(
                            f"malformed JSON: {exc.msg}", file=ctx.file, line=at
                        ) from exc
                if not fill(size):
                    continue  # at end of file: the next try decides
                size *= 2
            yield line, item
            line += buf.count("\n", pos, end)
            pos = end


def read_json(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Objects of a JSON array (streamed); ``line`` is where each object starts."""
    for line, item in iter_json_array(path, ctx):
        if not isinstance(item, dict):
            ctx.reject(
                InputError(
                    f"expected a JSON object, got {type(item).__name__}", file=ctx.file, line=line
                ),
                item,
            )
            continue
        yield line, item
