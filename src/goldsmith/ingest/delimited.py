"""CSV and TSV readers: a fast Arrow path with an exact Python fallback.

Both paths yield ``(line, row)`` with ``line`` the physical line where the row starts, and
every value a string. Arrow's streaming CSV parser (multithreaded, outside the GIL) reads
well-formed files several times faster than :mod:`csv`; the line of each row is the line
after the previous row plus the newlines inside the previous row's values. Arrow reads a
blank line as a row of empty values, so the first row whose values are all empty hands
over to :mod:`csv` before it can skew the count. So does any Arrow error (a ragged row,
bytes that are not valid text, a row larger than a block): the :mod:`csv` reader resumes at
the first row Arrow did not yield; it names the exact line of the problem, and
rejects the row when invalid rows are skipped.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from goldsmith._lazy import lazy_module
from goldsmith.errors import InputError
from goldsmith.ingest.readers import ReadContext, Row, decoded_lines

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
else:
    pa = lazy_module("pyarrow")
    pc = lazy_module("pyarrow.compute")
    pacsv = lazy_module("pyarrow.csv")

CSV_FIELD_LIMIT = 2**31 - 1  # cells of 100 KB and more are normal in domain text
ARROW_BLOCK = 1 << 20  # bytes per Arrow block; Arrow reads dozens ahead, so keep it small


class _LineFeed:
    """Feeds decoded lines to :func:`csv.reader` and remembers the last line number."""

    __slots__ = ("_it", "number")

    def __init__(self, lines: Iterator[tuple[int, str]], number: int = 0) -> None:
        self._it = lines
        self.number = number

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        self.number, line = next(self._it)
        return line


def _header(path: Path, ctx: ReadContext, delimiter: str) -> tuple[list[str], int] | None:
    """The column names and the line the header ends on; None for an empty file."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    lines = decoded_lines(path, ctx)
    feed = _LineFeed(lines)
    try:
        header = next(csv.reader(feed, delimiter=delimiter), None)
    except csv.Error as exc:
        raise InputError(f"cannot read the header: {exc}", file=ctx.file, line=1) from exc
    finally:
        lines.close()
    if header is None:
        return None
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InputError("the header has an empty column name", file=ctx.file, line=1)
        if name in seen:
            raise InputError("the header repeats this column", file=ctx.file, line=1, field=name)
        seen.add(name)
    return header, feed.number


def _csv_rows(
    path: Path, ctx: ReadContext, delimiter: str, header: list[str], start: int
) -> Iterator[tuple[int, Row]]:
    """Rows with :mod:`csv`, from physical line ``start`` on."""
    feed = _LineFeed(decoded_lines(path, ctx, start=start), start - 1)
    reader = csv.reader(feed, delimiter=delimiter)
    width = len(header)
    while True:
        first = feed.number + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            ctx.reject(InputError(f"malformed row: {exc}", file=ctx.file, line=first), None)
            continue
        if not values:
            continue
        if len(values) != width:
            ctx.reject(
                InputError(
                    f"{len(values)} values for {width} columns; is the delimiter "
                    f"{delimiter!r} right, and are quotes balanced?",
                    file=ctx.file,
                    line=first,
                ),
                values,
            )
            continue
        yield first, dict(zip(header, values, strict=True))


def _arrow_rows(
    path: Path, ctx: ReadContext, delimiter: str, header: list[str], start: int
) -> Generator[tuple[int, Row], None, int | None]:
    """Rows with Arrow from line ``start``; returns None at the end, else where to resume."""
    line = start
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=header,
                skip_rows=1,
                block_size=ARROW_BLOCK,
                encoding=ctx.options.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        with reader:
            for batch in reader:
                newlines = pc.count_substring(batch.column(0), "\n")
                size = pc.binary_length(batch.column(0))
                for column in batch.columns[1:]:
                    newlines = pc.add(newlines, pc.count_substring(column, "\n"))
                    size = pc.add(size, pc.binary_length(column))
                blank = pc.index(size, 0).as_py()  # a blank line, or a row of empty values
                rows = batch.slice(0, blank) if blank >= 0 else batch
                for row, n in zip(rows.to_pylist(), newlines.to_pylist(), strict=False):
                    yield line, row
                    line += 1 + n
                if blank >= 0:
                    return line  # only the text can tell a blank line from "","": csv decides
                ctx.pos += batch.nbytes
    except pa.ArrowException:
        return line
    return None


def _arrow_ok(ctx: ReadContext, header: list[str], delimiter: str) -> bool:
    name = codecs.lookup(ctx.options.encoding).name
    # one column: a blank line would read as an empty value, where csv skips it
    return len(header) > 1 and len(delimiter) == 1 and not name.startswith(("utf-16", "utf-32"))


def read_delimited(path: Path, ctx: ReadContext, delimiter: str) -> Iterator[tuple[int, Row]]:
    """Rows of a delimited file with a header line, every value a string."""
    found = _header(path, ctx, delimiter)
    if found is None:
        return
    header, header_end = found
    resume = header_end + 1
    if _arrow_ok(ctx, header, delimiter):
        stopped = yield from _arrow_rows(path, ctx, delimiter, header, resume)
        if stopped is None:
            ctx.pos = path.stat().st_size  # Arrow's batch sizes only approximate the bytes
            return
        resume = stopped
    ctx.pos = 0  # the csv reader counts every line's bytes from the top of the file
    yield from _csv_rows(path, ctx, delimiter, header, resume)


def read_csv(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Rows of a CSV file with a header line (delimiter ``,`` unless set)."""
    return read_delimited(path, ctx, ctx.options.delimiter or ",")


def read_tsv(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Rows of a tab-separated file with a header line."""
    return read_delimited(path, ctx, ctx.options.delimiter or "\t")
