"""Converters for annotation-tool exports: Label Studio, Prodigy and Argilla 2.x.

Each converter turns one row of the export into an :class:`ImportItem` whose labels carry
their annotator (stored per ``options.labels_as``) or, for model predictions and Argilla
suggestions, ``predicted=True`` with their agent (always stored as suggestions).

Questions in the file are matched to the task's questions by name. A file question with no
task question of that name goes to ``options.question`` or to the task's only question of a
compatible kind, when no other file question claims that one by name; a question that
matches nothing is skipped, since the task has nowhere to keep its answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.mapping import (
    OWN_EXPORT_META,
    FoundLabel,
    ImportItem,
    LabelResolver,
    Row,
    RowMapper,
    is_empty,
)
from goldsmith.ingest.options import ImportOptions
from goldsmith.schema import QUESTION_KINDS, Question, ResponseStatus, Task

ALL_KINDS = tuple(QUESTION_KINDS)
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
            target = self._fallback(kinds)
            out[name] = None
            if target is not None and target.name not in taken:
                loose.setdefault(target.name, []).append(name)
        for target_name, names in loose.items():
            if len(names) == 1:  # two unmatched file questions for one slot: ambiguous
                out[names[0]] = self.by_name[target_name]
        self._cache[key] = out
        return out

    def _fallback(self, kinds: tuple[str, ...]) -> Question | None:
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

    The keys goldsmith's own exports add (``record_id``, ``provenance``, ``confidence``)
    describe the exporting store and are dropped.
    """
    if not isinstance(meta, dict):
        return
    if item.external_id is None and not is_empty(meta.get("id")):
        item.external_id = str(meta["id"])
    item.metadata.update((k, v) for k, v in meta.items() if k != "id" and k not in OWN_EXPORT_META)


def _score(value: Any) -> float | None:
    if isinstance(value, list | tuple):
        nums = [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
        return sum(nums) / len(nums) if nums else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _status(value: Any) -> ResponseStatus:
    try:
        return ResponseStatus(str(value))
    except ValueError:
        return ResponseStatus.SUBMITTED


# --------------------------------------------------------------------------- Label Studio

_LS_KINDS: dict[str, tuple[str, ...]] = {
    typ: tuple(name for name, cls in QUESTION_KINDS.items() if cls.label_studio == typ)
    for typ in dict.fromkeys(cls.label_studio for cls in QUESTION_KINDS.values())
    if typ
}
"""Label Studio result type -> the kinds that read it (their ``label_studio``)."""


def _ls_user(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    return None if is_empty(value) else str(value)


class LabelStudioConverter:
    """One task of a Label Studio JSON export.

    ``data`` gives the fields (mapped like a tabular row) and ``meta`` joins the metadata;
    the external id is ``data.id``, else ``meta.id`` (goldsmith's own exports put it there),
    else the task ``id``. Each annotation's ``result`` items of type ``choices``,
    ``labels`` (spans), ``textarea`` and ``rating`` become labels by ``completed_by``
    (cancelled annotations are discarded responses; ``ground_truth`` annotations are
    preferred for gold). Each
    prediction becomes suggestions by its ``model_version`` with its ``score``.
    """

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
        self.mapper = RowMapper(task, options, file, labels=False)
        self.matcher = QuestionMatcher(task, options)

    def __call__(self, line: int, row: Row) -> ImportItem:
        data = row.get("data")
        if not isinstance(data, dict):
            raise InputError(
                "a Label Studio task needs a 'data' object", file=self.file, line=line, field="data"
            )
        item = self.mapper.item(line, data)
        merge_meta(item, row.get("meta"))
        if item.external_id is None and not is_empty(row.get("id")):
            item.external_id = str(row["id"])
        annotations = [a for a in row.get("annotations") or [] if isinstance(a, dict)]
        annotations.sort(key=lambda a: not a.get("ground_truth"))  # stable: ground truth first
        for ann in annotations:
            status = ResponseStatus.DISCARDED if ann.get("was_cancelled") else None
            user = _ls_user(ann.get("completed_by"))
            for q, value, _ in self._results(line, ann.get("result"), item.fields):
                item.labels.append(
                    FoundLabel(q, value, user=user, status=status or ResponseStatus.SUBMITTED)
                )
        for pred in row.get("predictions") or []:
            if not isinstance(pred, dict):
                continue  # some exports list prediction ids only
            agent = None if is_empty(pred.get("model_version")) else str(pred["model_version"])
            for q, value, score in self._results(line, pred.get("result"), item.fields):
                score = score if score is not None else _score(pred.get("score"))
                item.labels.append(FoundLabel(q, value, predicted=True, agent=agent, score=score))
        return item

    def _results(self, line: int, results: Any, fields: Row) -> list[tuple[str, Any, float | None]]:
        if not results:
            return []
        if not isinstance(results, list):
            raise InputError("'result' must be a list", file=self.file, line=line, field="result")
        raw: dict[str, list[dict[str, Any]]] = {}
        kinds: dict[str, tuple[str, ...]] = {}
        scores: dict[str, float | None] = {}
        for res in results:
            if not isinstance(res, dict):
                continue
            typ, name = str(res.get("type")), str(res.get("from_name") or res.get("type"))
            got = res.get("value")
            value: dict[str, Any] = got if isinstance(got, dict) else {}
            if typ not in _LS_KINDS:
                continue  # regions, relations, images...: nothing a text task can hold
            kinds[name] = _LS_KINDS[typ]
            scores[name] = _score(res.get("score"))
            raw.setdefault(name, []).append(value)
        try:
            matched = self.matcher.match(kinds.items())
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line) from exc
        out = []
        for name, q in matched.items():
            if q is None:
                continue
            try:
                answer = q.from_label_studio(raw[name])
            except SchemaError as exc:
                raise InputError(str(exc), file=self.file, line=line, field=name) from exc
            if q.classifies() and isinstance(answer, list):
                if len(answer) != 1:
                    raise InputError(
                        f"question {q.name!r} takes one label, the result has {answer!r}",
                        file=self.file,
                        line=line,
                        field=name,
                    )
                answer = answer[0]
            try:
                canonical = self.matcher.value(q, answer, fields)
            except SchemaError as exc:
                raise InputError(str(exc), file=self.file, line=line, field=name) from exc
            if canonical is not None:
                out.append((q.name, canonical, scores[name]))
        return out


# --------------------------------------------------------------------------- Prodigy

_PRODIGY_KEYS = frozenset(
    {"label", "accept", "spans", "answer", "meta", "options", "tokens", "html", "_view_id"}
)


class ProdigyConverter:
    """One line of a Prodigy JSONL export (``prodigy db-out``).

    ``text`` (or ``text_field``) is the text; ``meta`` joins the metadata (``meta.id`` is
    the external id unless the line has an ``id``). With ``answer``
    ``accept``, the ``accept`` list (choice), ``label`` (binary textcat) and ``spans`` are
    labels by ``_annotator_id`` (else ``_session_id``); ``reject`` and ``ignore`` bring no
    label. Lines without ``answer`` are unannotated input whose labels are pre-annotations
    (suggestions). Keys the task has no question for are ignored.
    """

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
        self.mapper = RowMapper(task, options, file, labels=False)
        self.matcher = QuestionMatcher(task, options)

    def __call__(self, line: int, row: Row) -> ImportItem:
        exclude = _PRODIGY_KEYS | {k for k in row if k.startswith("_")}
        item = self.mapper.item(line, row, exclude=exclude)
        merge_meta(item, row.get("meta"))
        answer = row.get("answer")
        if answer is not None and answer != "accept":
            return item
        user = row.get("_annotator_id") or row.get("_session_id")
        found: dict[str, tuple[tuple[str, ...], Any]] = {}
        if isinstance(row.get("accept"), list):
            found["accept"] = (_CHOICE_KINDS, row["accept"])
        elif not is_empty(row.get("label")):
            found["label"] = (_CHOICE_KINDS, [row["label"]])
        spans = row.get("spans")
        if isinstance(spans, list) and spans:
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
                item.labels.append(FoundLabel(q.name, canonical, user=str(user) if user else None))
        return item


# --------------------------------------------------------------------------- Argilla

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


class ArgillaConverter:
    """One record of an Argilla 2.x export, flat (``to_datasets``/``to_hub``) or nested.

    Flat columns: ``id`` (external id), fields, metadata (``status`` and ``_server_id``
    too), and per question ``<q>.responses`` / ``.responses.users`` / ``.responses.status``
    (one entry per annotator) and ``<q>.suggestion`` / ``.suggestion.score`` /
    ``.suggestion.agent``.
    """

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
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
                self._labels(line, row, name, q, item)
        return item

    def _labels(self, line: int, row: Row, name: str, q: Question, item: ImportItem) -> None:
        answers = row.get(f"{name}.responses")
        users = row.get(f"{name}.responses.users") or []
        statuses = row.get(f"{name}.responses.status") or []
        column = f"{name}.responses"
        try:
            for i, raw in enumerate(answers if isinstance(answers, list) else []):
                value = self.matcher.value(q, raw, item.fields)
                if value is None:
                    continue
                user = str(users[i]) if i < len(users) and not is_empty(users[i]) else None
                status = _status(statuses[i]) if i < len(statuses) else ResponseStatus.SUBMITTED
                item.labels.append(FoundLabel(q.name, value, user=user, status=status))
            column = f"{name}.suggestion"
            value = self.matcher.value(q, row.get(column), item.fields)
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
                    score=_score(row.get(f"{name}.suggestion.score")),
                )
            )
