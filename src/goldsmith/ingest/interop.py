"""What the annotation-tool importers share: question matching, task ``meta``, scores.

The converters themselves live one module per tool: :mod:`goldsmith.ingest.label_studio`,
:mod:`goldsmith.ingest.prodigy` and :mod:`goldsmith.ingest.argilla`. Each turns one row of
the export into an :class:`ImportItem` whose labels carry their annotator (stored per
``options.labels_as``) or, for model predictions and Argilla suggestions, ``predicted=True``
with their agent (always stored as suggestions). An answer that marks no span ("nothing
here") is an answer: it is kept as the empty list.

Questions in the file are matched to the task's questions by name. A file question with no
task question of that name goes to ``options.question`` or to the task's only question of a
compatible kind, when no other file question claims that one by name; a question that
matches nothing is skipped, since the task has nowhere to keep its answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from goldsmith.errors import SchemaError
from goldsmith.ingest.mapping import (
    OWN_EXPORT_META,
    ImportItem,
    LabelResolver,
    Row,
    is_empty,
)
from goldsmith.ingest.options import ImportOptions
from goldsmith.schema import QUESTION_KINDS, Question, ResponseStatus, Task

ALL_KINDS = tuple(QUESTION_KINDS)


class QuestionMatcher:
    """Match question names found in a file to the task's questions (see module docs)."""

    def __init__(self, task: Task, options: ImportOptions) -> None:
        self.task = task
        self.preferred = task.question(options.question) if options.question else None
        self.by_name = {q.name: q for q in task.questions}
        self.resolvers = {
            q.name: LabelResolver(q, label_map=options.label_map, code_base=options.code_base)
            for q in task.questions
        }
        self._cache: dict[frozenset[tuple[str, tuple[str, ...]]], dict[str, Question | None]] = {}

    def match(self, found: Iterable[tuple[str, tuple[str, ...]]]) -> dict[str, Question | None]:
        """``{file name: task question or None}`` for ``(name, compatible kinds)`` pairs."""
        key = frozenset(found)
        if key in self._cache:
            return self._cache[key]
        out: dict[str, Question | None] = {}
        taken = {name for name, _ in key if name in self.by_name}
        loose: dict[str, list[str]] = {}
        for name, kinds in sorted(key):
            q = self.by_name.get(name)
            if q is not None:
                if q.kind not in kinds:
                    raise SchemaError(
                        f"question {name!r} is a {q.kind} question in the task, but the file "
                        f"gives it a {'/'.join(kinds)} answer"
                    )
                out[name] = q
                continue
            target = self.fallback(kinds)
            out[name] = None
            if target is not None and target.name not in taken:
                loose.setdefault(target.name, []).append(name)
        for target_name, names in loose.items():
            if len(names) == 1:  # two unmatched file questions for one slot: ambiguous
                out[names[0]] = self.by_name[target_name]
        self._cache[key] = out
        return out

    def fallback(self, kinds: tuple[str, ...]) -> Question | None:
        """The question a file question of one of ``kinds`` fills when no name matches:
        ``options.question`` if it is of such a kind, else the task's only one."""
        if self.preferred is not None and self.preferred.kind in kinds:
            return self.preferred
        compatible = [q for q in self.task.questions if q.kind in kinds]
        return compatible[0] if len(compatible) == 1 else None

    def value(self, q: Question, raw: Any, fields: Row) -> Any:
        """Canonical value of ``raw`` for ``q``, span bounds checked against ``fields``."""
        value = self.resolvers[q.name].value(raw)
        if value is not None:
            q.check_fields(value, fields)
        return value


def merge_meta(item: ImportItem, meta: Any) -> None:
    """Add a task's ``meta`` to the item's metadata; ``meta.id`` is the external id.

    The keys goldsmith's own exports add (``record_id``, ``provenance``, ``confidence``,
    ``prodigy_dataset``) describe the exporting store and are dropped.
    """
    if not isinstance(meta, dict):
        return
    if item.external_id is None and not is_empty(meta.get("id")):
        item.external_id = str(meta["id"])
    item.metadata.update((k, v) for k, v in meta.items() if k != "id" and k not in OWN_EXPORT_META)


def as_score(value: Any) -> float | None:
    """A suggestion score: a number, or the mean of a list of numbers; else None."""
    if isinstance(value, list | tuple):
        nums = [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(nums) / len(nums) if nums else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def response_status(value: Any) -> ResponseStatus:
    """A response status by name; anything else (None included) is ``submitted``."""
    try:
        return ResponseStatus(str(value))
    except ValueError:
        return ResponseStatus.SUBMITTED
