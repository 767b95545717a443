"""Argilla 2.x exports: records flat (``to_datasets`` / ``to_hub``, as JSON, parquet or a
``save_to_disk`` folder) or nested (``to_json`` / ``to_list``).

Flat columns: ``id`` (external id), fields, metadata (``status`` and ``_server_id`` too), and
per question ``<q>.responses`` / ``.responses.users`` / ``.responses.status`` (one entry per
annotator) and ``<q>.suggestion`` / ``.suggestion.score`` / ``.suggestion.agent``. A null
is an absent value; a discarded response with no value is kept as a discarded response.

``to_datasets()`` stores a label question's suggestions as a ``ClassLabel``: integer codes,
numbered in the order the values first occur (a missing suggestion is a class too). Parquet
files and ``save_to_disk`` folders keep the class names in the dataset's features, and the
readers turn the codes back into names (a null name into no suggestion). JSON written from
the dataset keeps the codes only, so such a file is refused with what to do instead.
"""

from __future__ import annotations

from typing import Any

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.interop import (
    ALL_KINDS,
    QuestionMatcher,
    as_score,
    response_status,
)
from goldsmith.ingest.mapping import FoundLabel, ImportItem, Row, RowMapper, is_empty
from goldsmith.ingest.options import ImportOptions
from goldsmith.kinds.base import choice
from goldsmith.schema import Question, ResponseStatus, Task

_SUFFIXES = (
    ".responses.users",
    ".responses.status",
    ".responses",
    ".suggestion.score",
    ".suggestion.agent",
    ".suggestion",
)


def _flatten_argilla(row: Row) -> Row:
    """The flat form of a nested Argilla record dict (``to_json`` / ``to_list``)."""
    flat: Row = {k: row.get(k) for k in ("id", "status", "_server_id") if k in row}
    flat.update(row.get("fields") or {})
    flat.update(row.get("metadata") or {})
    for q, answers in (row.get("responses") or {}).items():
        answers = [a for a in answers or [] if isinstance(a, dict)]
        flat[f"{q}.responses"] = [a.get("value") for a in answers]
        flat[f"{q}.responses.users"] = [a.get("user_id") for a in answers]
        flat[f"{q}.responses.status"] = [a.get("status") for a in answers]
    for q, sug in (row.get("suggestions") or {}).items():
        if isinstance(sug, dict):
            flat[f"{q}.suggestion"] = sug.get("value")
            flat[f"{q}.suggestion.score"] = sug.get("score")
            flat[f"{q}.suggestion.agent"] = sug.get("agent")
    return flat


def _class_code(q: Question, raw: Any, label_map: dict[str, str]) -> bool:
    """Whether ``raw`` is a ``ClassLabel`` code that lost its names: an integer suggestion
    for a label question that is neither one of its labels nor in ``label_map``."""
    if not isinstance(raw, int) or isinstance(raw, bool) or not choice(q):
        return False
    return str(raw) not in q.labels and str(raw) not in label_map


class ArgillaConverter:
    """One record of an Argilla 2.x export, flat or nested (see the module docs)."""

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
        self.label_map = options.label_map
        self.mapper = RowMapper(task, options, file, labels=False)
        self.matcher = QuestionMatcher(task, options)

    def __call__(self, line: int, row: Row) -> ImportItem:
        if isinstance(row.get("fields"), dict):
            row = _flatten_argilla(row)
        questions: set[str] = set()
        exclude: set[str] = {"vectors"}
        for key in row:
            for suffix in _SUFFIXES:
                if key.endswith(suffix):
                    questions.add(key[: -len(suffix)])
                    exclude.add(key)
                    break
        item = self.mapper.item(line, row, exclude=frozenset(exclude))
        try:
            matched = self.matcher.match((q, ALL_KINDS) for q in questions)
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line) from exc
        for name, q in sorted(matched.items()):
            if q is not None:
                self._responses(line, row, name, q, item)
                self._suggestion(line, row, name, q, item)
        return item

    def _responses(self, line: int, row: Row, name: str, q: Question, item: ImportItem) -> None:
        answers, users, statuses = (
            self._listed(line, row, f"{name}.responses{part}") for part in ("", ".users", ".status")
        )
        for i, raw in enumerate(answers):
            try:
                value = self.matcher.value(q, raw, item.fields)
            except SchemaError as exc:
                raise InputError(
                    str(exc), file=self.file, line=line, field=f"{name}.responses"
                ) from exc
            user = str(users[i]) if i < len(users) and not is_empty(users[i]) else None
            status = response_status(statuses[i]) if i < len(statuses) else None
            if value is not None:
                status = status or ResponseStatus.SUBMITTED
                item.labels.append(FoundLabel(q.name, value, user=user, status=status))
            elif status == ResponseStatus.DISCARDED:  # a skip: kept, with no answer
                item.labels.append(FoundLabel(q.name, None, user=user, status=status))

    def _listed(self, line: int, row: Row, column: str) -> list[Any]:
        """A response column: one entry per annotator, or null for none; else refused."""
        value = row.get(column)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InputError(
                f"expected a list with one entry per annotator (or null), got "
                f"{type(value).__name__} {value!r}; is this an Argilla export?",
                file=self.file,
                line=line,
                field=column,
            )
        return value

    def _suggestion(self, line: int, row: Row, name: str, q: Question, item: ImportItem) -> None:
        column = f"{name}.suggestion"
        raw = row.get(column)
        if _class_code(q, raw, self.label_map):
            raise InputError(
                f"suggestion {raw!r} is a class code of Argilla's to_datasets(), whose class "
                "names this file does not keep (JSON drops the dataset's features). Save the "
                "dataset with to_parquet() or save_to_disk() and import that, or name each "
                "code with --label-map (for example '0=positive,1=negative')",
                file=self.file,
                line=line,
                field=column,
            )
        try:
            value = self.matcher.value(q, raw, item.fields)
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line, field=column) from exc
        if value is not None:
            agent = row.get(f"{name}.suggestion.agent")
            item.labels.append(
                FoundLabel(
                    q.name,
                    value,
                    predicted=True,
                    agent=None if is_empty(agent) else str(agent),
                    score=as_score(row.get(f"{name}.suggestion.score")),
                )
            )
