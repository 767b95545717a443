"""Prodigy JSONL exports (``prodigy db-out``): one annotated example per line.

``text`` (or ``text_field``) is the text; ``meta`` joins the metadata (``meta.id`` is the
external id unless the line has an ``id``). With ``answer`` ``accept``, the ``accept`` list
(choice), ``label`` (binary textcat) and ``spans`` are labels by ``_annotator_id`` (else
``_session_id``); ``"spans": []`` is an answer too ("no entity here"). ``ignore`` (a skip)
is a discarded response with no answer, and ``reject`` brings no label. Lines without
``answer`` are unannotated input whose labels are pre-annotations (suggestions). Keys the task
has no question for are ignored.

goldsmith's own export (``meta.record_id``) writes each record's final label first, on a line
that names no annotator, then one line per annotator whose ``_annotator_id`` is
``<dataset>-<user>``, the dataset named by ``meta.prodigy_dataset``. The annotator is read
back as ``<user>``. The final-label line is the final label, not anyone's answer: imported as
gold (or as suggestions) only it is read, and imported as responses it is left out, so only
the annotators' responses come back.

A multi-annotator dataset holds one line per annotator for the same text. Those lines are
one record with one response per annotator: :func:`read_prodigy` gathers them onto the first
line of the text (a first pass counts each text's annotated lines, so only texts that repeat
are held back, and the records keep the file's order). The same text answered twice by the
same annotator is a duplicate, which the import counts and skips as for any format.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.interop import QuestionMatcher, merge_meta
from goldsmith.ingest.mapping import FoundLabel, ImportItem, Row, RowMapper, is_empty
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.ingest.readers import ReadContext, decoded_lines, read_jsonl
from goldsmith.schema import QUESTION_KINDS, ResponseStatus, Task

# Prodigy's answers: an ``accept`` list or a ``label`` (record choices), and ``spans`` with
# one label each.
_CHOICE_KINDS = tuple(
    name
    for name, cls in QUESTION_KINDS.items()
    if not cls.marks_spans and (cls.one_label or cls.many_labels)
)
_SPAN_KINDS = tuple(
    name for name, cls in QUESTION_KINDS.items() if cls.marks_spans and cls.one_label
)
_PRODIGY_KEYS = frozenset(
    {"label", "accept", "spans", "answer", "meta", "options", "tokens", "html", "_view_id"}
)
MORE = "_goldsmith_more_answers"
"""The key :func:`read_prodigy` puts further annotators' lines under: ``[[line, row]...]``."""


def _annotator(row: Row) -> str | None:
    user = row.get("_annotator_id") or row.get("_session_id")
    return None if is_empty(user) else str(user)


def _text_key(row: Row, text_key: str) -> str | None:
    """The text an annotated line answers, or None for input lines (no ``answer``)."""
    text = row.get(text_key)
    return text if isinstance(text, str) and row.get("answer") is not None else None


def _ignore(_error: InputError, _raw: Any) -> None:
    """Pass one skips bad lines: pass two reports them."""


def _count_texts(path: Path, ctx: ReadContext, text_key: str) -> Counter[int]:
    """How many annotated lines each text has (by hash: a collision only holds lines back)."""
    counts: Counter[int] = Counter()
    quiet = ReadContext(file=ctx.file, options=ctx.options, reject=_ignore)
    for _, line in decoded_lines(path, quiet):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        key = _text_key(row, text_key) if isinstance(row, dict) else None
        if key is not None:
            counts[hash(key)] += 1
    return counts


@dataclass(slots=True)
class _Pending:
    line: int
    row: Row
    left: int = 0  # annotated lines of this text still to come
    users: set[str | None] = field(default_factory=set)
    more: list[list[Any]] = field(default_factory=list)


def read_prodigy(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Row]]:
    """Lines of a Prodigy JSONL file, each text's annotators gathered onto its first line.

    The lines of other annotators go, with their line numbers, under the key :data:`MORE`
    of the first one; a line repeating an annotator of its text is yielded on its own (a
    duplicate). Rows keep the order of their first line.
    """
    text_key = ctx.options.text_field or "text"
    counts = _count_texts(path, ctx, text_key)
    queue: list[_Pending] = []
    head = 0
    groups: dict[str, _Pending] = {}
    for line, row in read_jsonl(path, ctx):
        key = _text_key(row, text_key)
        total = counts.get(hash(key), 0) if key is not None else 0
        if key is None or total < 2:
            queue.append(_Pending(line, row))
        else:
            group = groups.get(key)
            user = _annotator(row)
            if group is None:
                group = groups[key] = _Pending(line, row, left=total, users={user})
                queue.append(group)
            elif user in group.users:
                queue.append(_Pending(line, row))  # the same annotator again: a duplicate
            else:
                group.users.add(user)
                group.more.append([line, row])
            group.left -= 1
            if group.left <= 0:
                del groups[key]
        while head < len(queue) and queue[head].left <= 0:
            yield _emit(queue[head])
            head += 1
        if head > 1024 and head * 2 > len(queue):
            del queue[:head]
            head = 0
    for pending in queue[head:]:  # texts whose count was off (a hash collision)
        yield _emit(pending)


def _emit(pending: _Pending) -> tuple[int, Row]:
    if not pending.more:
        return pending.line, pending.row
    return pending.line, {**pending.row, MORE: pending.more}


def _own_dataset(row: Row) -> str | None:
    """The Prodigy dataset a goldsmith export names (``meta.prodigy_dataset``), else None;
    ``""`` for goldsmith's own export that names none."""
    meta = row.get("meta")
    if not isinstance(meta, dict) or "record_id" not in meta:
        return None
    dataset = meta.get("prodigy_dataset")
    return dataset if isinstance(dataset, str) else ""


class ProdigyConverter:
    """One record of a Prodigy JSONL export: its line and other annotators' (module docs)."""

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
        self.mapper = RowMapper(task, options, file, labels=False)
        self.matcher = QuestionMatcher(task, options)
        self.as_responses = options.labels_as == LabelsAs.RESPONSE
        self.any_question = task.questions[0].name  # carries an answer-less skip

    def __call__(self, line: int, row: Row) -> ImportItem:
        exclude = _PRODIGY_KEYS | {k for k in row if k.startswith("_")}
        item = self.mapper.item(line, row, exclude=exclude)
        dataset = _own_dataset(row)
        merge_meta(item, row.get("meta"))
        lines: list[tuple[int, Row]] = [(line, row)]
        for more in row.get(MORE) or []:
            if isinstance(more, list) and len(more) == 2 and isinstance(more[1], dict):
                lines.append((int(more[0]), more[1]))
        finals = dataset is not None and any(_annotator(r) is None for _, r in lines)
        for number, answered in lines:
            user = _annotator(answered)
            final = dataset is not None and user is None  # goldsmith's final-label line
            if final and self.as_responses:
                continue  # nobody's answer
            if finals and not final and not self.as_responses:
                continue  # as gold or suggestions, the final label is what counts
            if dataset and user is not None and user.startswith(f"{dataset}-"):
                user = user[len(dataset) + 1 :]
            self._answer(number, answered, item, user, decided=final)
        return item

    def _answer(
        self, line: int, row: Row, item: ImportItem, user: str | None, *, decided: bool
    ) -> None:
        """Add the labels of one line (an answer or a pre-annotation) by ``user`` to ``item``."""
        answer = row.get("answer")
        if answer == "ignore":  # a skip: a discarded response with no answer
            skip = ResponseStatus.DISCARDED
            item.labels.append(FoundLabel(self.any_question, None, user=user, status=skip))
            return
        if answer is not None and answer != "accept":
            return
        found: dict[str, tuple[tuple[str, ...], Any]] = {}
        if isinstance(row.get("accept"), list):
            found["accept"] = (_CHOICE_KINDS, row["accept"])
        elif not is_empty(row.get("label")):
            found["label"] = (_CHOICE_KINDS, [row["label"]])
        spans = row.get("spans")
        if isinstance(spans, list) and (spans or answer is not None):  # [] answers "none"
            default = row.get("label")
            found["spans"] = (
                _SPAN_KINDS,
                [{**s, "label": s.get("label", default)} for s in spans if isinstance(s, dict)],
            )
        try:
            matched = self.matcher.match((name, kinds) for name, (kinds, _) in found.items())
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line) from exc
        for name, q in matched.items():
            if q is None:
                continue
            value = found[name][1]
            if q.classifies():
                if not value:
                    continue
                if len(value) != 1:
                    raise InputError(
                        f"question {q.name!r} takes one label, the line accepts {value!r}",
                        file=self.file,
                        line=line,
                        field=name,
                    )
                value = value[0]
            try:
                canonical = self.matcher.value(q, value, item.fields)
            except SchemaError as exc:
                raise InputError(str(exc), file=self.file, line=line, field=name) from exc
            if canonical is None:
                continue
            if answer is None:
                item.labels.append(FoundLabel(q.name, canonical, predicted=True))
            else:
                item.labels.append(FoundLabel(q.name, canonical, user=user, decided=decided))
