"""Streaming readers: each yields ``(line, row)`` pairs from one file. JSON formats live here,
with the context every reader gets; csv and tsv in ``delimited``; parquet and Hugging Face
folders in ``columnar``.

A reader never holds the whole file. ``line`` is the physical line where a row starts for
text formats (csv, tsv, jsonl, json) and the 1-based row number for columnar formats
(parquet, Hugging Face folders). Problems that only spoil one row are handed to
``ctx.reject``, which raises in strict mode and records the row when invalid rows are
skipped; problems that make the rest of the file unreadable always raise
:class:`~goldsmith.errors.InputError`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError
from goldsmith.ingest.options import ImportOptions

Row = dict[str, Any]
Rejector = Callable[[InputError, Any], None]

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


def decoded_lines(
    path: Path, ctx: ReadContext, *, start: int = 1
) -> Generator[tuple[int, str], None, None]:
    """Decoded physical lines (line ending kept) with their 1-based numbers.

    Each line is decoded on its own so a bad byte is reported on its own line. Lines before
    ``start`` are skipped without decoding (they still count towards ``ctx.pos``).
    """
    encoding = ctx.options.encoding
    if not _is_ascii_compatible(encoding):
        with open(path, encoding=encoding, newline="") as text:
            for number, line in enumerate(text, 1):
                ctx.pos += len(line.encode(encoding))
                if number >= start:
                    yield number, line
        return
    bom = codecs.lookup(encoding).name == "utf-8"
    with open(path, "rb") as raw:
        for number, data in enumerate(raw, 1):
            ctx.pos += len(data)
            if number < start:
                continue
            try:
                line = data.decode(encoding)
            except UnicodeDecodeError as exc:
                ctx.reject(
                    InputError(
                        f"byte {data[exc.start]:#04x} at column {exc.start + 1} is not valid "
                        f"{encoding}; pass the file's encoding with --encoding (for example "
                        "--encoding latin-1; ImportOptions(encoding=...) in Python)",
                        file=ctx.file,
                        line=number,
                    ),
                    data.decode(encoding, "replace"),
                )
                continue
            if bom and number == 1 and line.startswith("\ufeff"):
                line = line[1:]
            yield number, line


# --------------------------------------------------------------------------- json

_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_HINT = (
    "holds a lone surrogate (a JSON escape \\ud800-\\udfff without its pair, such as half "
    "of an emoji) that no text can store; fix the escape or export the file again"
)


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def surrogate_error(value: Any, file: str, line: int) -> InputError | None:
    """The refusal for a decoded JSON value holding a lone surrogate (which UTF-8, and so the
    store, cannot encode), naming the top-level key it sits under; None when it holds none."""
    if not _has_surrogate(value):
        return None
    field = None
    if isinstance(value, dict):
        field = next((str(k) for k, v in value.items() if _has_surrogate([k, v])), None)
    return InputError(SURROGATE_HINT, file=file, line=line, field=field)


def read_jsonl(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """One JSON object per line; blank lines are skipped."""
    for number, line in decoded_lines(path, ctx):
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
        if "\\ud" in line or "\\uD" in line:  # only an escape can make a lone surrogate
            bad = surrogate_error(row, ctx.file, number)
            if bad is not None:
                ctx.reject(bad, row)
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
                    f"bytes are not valid {ctx.options.encoding}; pass the file's encoding with "
                    "--encoding (for example --encoding latin-1)",
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
        bad = surrogate_error(item, ctx.file, line)
        if bad is not None:
            ctx.reject(bad, item)
            continue
        yield line, item
