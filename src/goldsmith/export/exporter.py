"""What an exporter is: a plain object naming a writer, a file extension and a validator.

An :class:`Exporter` opens one :class:`Sink` per split file. The sink receives records with
their final labels, one at a time, and writes them out as it goes, so no format needs the whole
dataset in memory. Most formats are JSON Lines with one or more rows per record;
:func:`jsonl_exporter` builds those from a single row function::

    def rows(ctx, record, labels):
        yield {"text": record.fields["text"], "y": labels[ctx.question.name].value}

    register_exporter(jsonl_exporter("my-jsonl", rows, kinds={"label"}))

A format that also writes the annotators' answers (Label Studio, Prodigy) says so with
``responses=True``: its row function then takes a fourth argument, the record's submitted and
skipped (discarded) responses in the order they came, and the export hands them over unless
``ExportOptions.responses`` is off (then it gets none).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol, cast

from goldsmith.schema import FinalLabel, Question, Record, Response, Task


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What a writer needs to know besides the records.

    Attributes
    ----------
    task
        The project's task.
    question
        The question being exported (``ExportOptions.question`` or the task's first one).
    system_prompt
        ``task.settings.system_prompt`` or one generated from the question; None when the
        question is free-form (text, preference) and the task sets none.
    pairs
        How a preference ranking becomes pairs: ``"best"`` (the best candidate against each
        worse one) or ``"all"`` (every ordered pair of the ranking).
    """

    task: Task
    question: Question
    system_prompt: str | None
    pairs: Literal["best", "all"] = "best"


class Sink(Protocol):
    """An open output file of one split."""

    def write(self, record: Record, labels: Mapping[str, FinalLabel]) -> int:
        """Write one record; return how many examples (lines, rows, tasks) it gave."""
        ...

    def close(self) -> None:
        """Flush and close the file."""
        ...


class ResponseSink(Sink, Protocol):
    """The sink of a format that also writes annotators' responses (``Exporter.responses``)."""

    def write(
        self,
        record: Record,
        labels: Mapping[str, FinalLabel],
        responses: Sequence[Response] = (),
    ) -> int:
        """Write one record with its responses; return how many examples it gave."""
        ...


SinkFactory = Callable[[Path, ExportContext], Sink]
RowFunction = Callable[[ExportContext, Record, Mapping[str, FinalLabel]], Iterable[dict[str, Any]]]
ResponseRowFunction = Callable[
    [ExportContext, Record, Mapping[str, FinalLabel], Sequence[Response]],
    Iterable[dict[str, Any]],
]
Accepts = Callable[[Question], bool]
Companions = Callable[[Path, ExportContext], list[Path]]


@dataclass(frozen=True, slots=True)
class Exporter:
    """A registered output format.

    Attributes
    ----------
    name
        The format name users pass (``--format NAME``).
    writer
        Opens a :class:`Sink` for one split file: ``writer(path, context)``.
    extension
        File extension without the dot; split files are named ``{split}.{extension}``.
    kinds
        Names of the question kinds the format fits (``label``, ``spans``, ...); None fits
        every kind.
    accepts
        What a question must offer for the format to fit it, asked of the question's kind
        (``lambda q: q.trains_sft``): the built-in formats say this instead of naming kinds,
        so a new kind fits every format whose capabilities it has. None accepts any.
    validator
        The validator kind of :func:`goldsmith.export.validate.validate_file` that checks
        the files, or None.
    description
        One line for listings and errors.
    companions
        Writes the files that go beside the split files once per export (Label Studio's
        ``label_config.xml``): ``companions(out_folder, context)`` returns their paths.
    task_category
        The dataset card's ``task_categories`` entry for files of this format (e.g.
        ``text-generation`` for the training formats); None: the question's own.
    responses
        The format also writes each annotator's responses beside the final label (Label
        Studio, Prodigy): its sinks are :class:`ResponseSink` and their ``write`` takes the
        record's submitted and discarded responses (none when ``ExportOptions.responses`` is
        off). The training formats write final labels only.
    """

    name: str
    writer: SinkFactory
    extension: str
    kinds: frozenset[str] | None = None
    validator: str | None = None
    description: str = ""
    accepts: Accepts | None = None
    companions: Companions | None = None
    task_category: str | None = None
    responses: bool = False

    def fits(self, question: Question) -> bool:
        """Whether this format can express answers to ``question``."""
        if self.kinds is not None and question.kind not in self.kinds:
            return False
        return self.accepts is None or self.accepts(question)


def _taking_responses(
    rows: RowFunction | ResponseRowFunction, responses: bool
) -> ResponseRowFunction:
    """``rows`` as a function of (context, record, labels, responses)."""
    if responses:
        return cast(ResponseRowFunction, rows)
    plain = cast(RowFunction, rows)

    def without(
        ctx: ExportContext,
        record: Record,
        labels: Mapping[str, FinalLabel],
        _responses: Sequence[Response],
    ) -> Iterable[dict[str, Any]]:
        return plain(ctx, record, labels)

    return without


class JsonlSink:
    """Writes the rows of a row function as JSON Lines (UTF-8, one object per line)."""

    def __init__(self, path: Path, ctx: ExportContext, rows: ResponseRowFunction) -> None:
        self._ctx = ctx
        self._rows = rows
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")

    def write(
        self,
        record: Record,
        labels: Mapping[str, FinalLabel],
        responses: Sequence[Response] = (),
    ) -> int:
        n = 0
        for row in self._rows(self._ctx, record, labels, responses):
            self._file.write(json.dumps(row, ensure_ascii=False))
            self._file.write("\n")
            n += 1
        return n

    def close(self) -> None:
        self._file.close()


class JsonArraySink:
    """Writes the rows of a row function as one JSON array, streamed item by item."""

    def __init__(self, path: Path, ctx: ExportContext, rows: ResponseRowFunction) -> None:
        self._ctx = ctx
        self._rows = rows
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._file.write("[")
        self._first = True

    def write(
        self,
        record: Record,
        labels: Mapping[str, FinalLabel],
        responses: Sequence[Response] = (),
    ) -> int:
        n = 0
        for row in self._rows(self._ctx, record, labels, responses):
            self._file.write("\n" if self._first else ",\n")
            self._file.write(json.dumps(row, ensure_ascii=False))
            self._first = False
            n += 1
        return n

    def close(self) -> None:
        self._file.write("\n]\n")
        self._file.close()


TEXT_GENERATION = "text-generation"
"""The card's task category of the training formats (chat, SFT and preference files)."""


def jsonl_exporter(
    name: str,
    rows: RowFunction | ResponseRowFunction,
    *,
    kinds: Iterable[str] | None = None,
    validator: str | None = None,
    description: str = "",
    accepts: Accepts | None = None,
    task_category: str | None = None,
    responses: bool = False,
) -> Exporter:
    """An :class:`Exporter` writing ``rows(ctx, record, labels)`` as JSON Lines.

    Parameters
    ----------
    name
        Format name.
    rows
        Yields the JSON objects (dicts) of one record; zero rows skips the record.
    kinds
        Names of the question kinds the format fits; None: every kind.
    validator
        Validator kind for the written files, if any.
    description
        One line for listings.
    accepts
        What a question must offer for the format to fit it (see :class:`Exporter`).
    task_category
        The dataset card's task category of the files (see :class:`Exporter`).
    responses
        True: ``rows(ctx, record, labels, responses)`` also gets the record's responses
        (see :class:`Exporter`).
    """

    both = _taking_responses(rows, responses)

    def writer(path: Path, ctx: ExportContext) -> Sink:
        return JsonlSink(path, ctx, both)

    return Exporter(
        name, writer, "jsonl", _names(kinds), validator, description, accepts,
        task_category=task_category, responses=responses,
    )  # fmt: skip


def json_array_exporter(
    name: str,
    rows: RowFunction | ResponseRowFunction,
    *,
    kinds: Iterable[str] | None = None,
    validator: str | None = None,
    description: str = "",
    accepts: Accepts | None = None,
    task_category: str | None = None,
    responses: bool = False,
) -> Exporter:
    """Like :func:`jsonl_exporter`, but the file is one JSON array (extension ``json``)."""

    both = _taking_responses(rows, responses)

    def writer(path: Path, ctx: ExportContext) -> Sink:
        return JsonArraySink(path, ctx, both)

    return Exporter(
        name, writer, "json", _names(kinds), validator, description, accepts,
        task_category=task_category, responses=responses,
    )  # fmt: skip


def _names(kinds: Iterable[str] | None) -> frozenset[str] | None:
    return None if kinds is None else frozenset(kinds)
