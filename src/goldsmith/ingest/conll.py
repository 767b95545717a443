"""CoNLL token-per-line files with BIO tags: one record per sentence, tags become spans.

Each non-blank line holds a token and, in its last column, a tag (``O``, ``B-X``, ``I-X``);
a blank line ends a sentence and ``-DOCSTART-`` lines are skipped. The record's text is the
tokens joined by single spaces, and each ``B-``/``I-`` run becomes a character span of the
task's spans question. An ``I-X`` that does not continue an ``X`` opens a new span (IOB1).
This is the layout of the NCBI-disease corpus and of goldsmith's own ``conll`` export.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError
from goldsmith.ingest.mapping import NUL_HINT, FoundLabel, ImportItem, Row
from goldsmith.ingest.options import ImportOptions
from goldsmith.ingest.readers import ReadContext, decoded_lines
from goldsmith.kinds.base import span_choice
from goldsmith.schema import Task


def read_conll(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Sentences as ``(line of the first token, {"tokens", "tags", "lines"})``."""
    tokens: list[str] = []
    tags: list[str] = []
    lines: list[int] = []
    for number, line in decoded_lines(path, ctx):
        text = line.rstrip("\r\n")
        if not text.strip():
            if tokens:
                yield lines[0], {"tokens": tokens, "tags": tags, "lines": lines}
                tokens, tags, lines = [], [], []
            continue
        if text.startswith("-DOCSTART-"):
            continue
        parts = text.split("\t") if "\t" in text else text.split()
        if len(parts) < 2 or not parts[0]:
            ctx.reject(
                InputError("expected a token and a tag", file=ctx.file, line=number, field="tag"),
                text,
            )
            continue
        tokens.append(parts[0])
        tags.append(parts[-1].strip())
        lines.append(number)
    if tokens:
        yield lines[0], {"tokens": tokens, "tags": tags, "lines": lines}


class ConllConverter:
    """One sentence -> a record with its text and its spans (stored per ``labels_as``)."""

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        spans = [q for q in task.questions if span_choice(q)]  # BIO: one label a span
        chosen = [q for q in spans if options.question in (None, q.name)]
        if not chosen:
            raise InputError(
                "CoNLL tags need a spans question; the task has "
                f"{[q.name for q in task.questions]} (see template 'ner')",
                file=file,
            )
        self.question = chosen[0]
        self.file = file

    def __call__(self, line: int, row: Row) -> ImportItem:
        tokens: list[str] = row["tokens"]
        for token, number in zip(tokens, row["lines"], strict=True):
            if "\x00" in token:  # the text is built from tokens, not read by the row mapper
                raise InputError(NUL_HINT, file=self.file, line=number, field="token")
        text = " ".join(tokens)
        spans = self._spans(tokens, row["tags"], row["lines"])
        item = ImportItem(line, {self.question.field: text}, {})
        item.labels.append(FoundLabel(self.question.name, spans))
        return item

    def _spans(self, tokens: list[str], tags: list[str], lines: list[int]) -> list[dict[str, Any]]:
        spans: list[dict[str, Any]] = []
        offset = 0
        for token, tag, number in zip(tokens, tags, lines, strict=True):
            start, end = offset, offset + len(token)
            offset = end + 1
            if tag == "O":
                continue
            prefix, _, label = tag.partition("-")
            if prefix not in ("B", "I") or not label:
                raise InputError(
                    f"tag {tag!r} is not O, B-LABEL or I-LABEL",
                    file=self.file,
                    line=number,
                    field="tag",
                )
            if label not in self.question.labels:
                raise InputError(
                    f"label {label!r} is not one of {list(self.question.labels)}",
                    file=self.file,
                    line=number,
                    field="tag",
                )
            last = spans[-1] if spans else None
            if (
                prefix == "I"
                and last is not None
                and last["label"] == label
                and (last["end"] == start - 1)
            ):
                last["end"] = end
            else:
                spans.append({"start": start, "end": end, "label": label})
        return spans
