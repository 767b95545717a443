"""Label Studio JSON exports: a JSON array of tasks, each one record.

``data`` gives the fields (mapped like a tabular row) and ``meta`` joins the metadata; the
external id is ``data.id``, else ``meta.id`` (goldsmith's own exports put it there), else the
task ``id``. Each annotation's ``result`` items of type ``choices``, ``labels`` (spans),
``textarea`` and ``rating`` become labels by ``completed_by``; each prediction becomes
suggestions by its ``model_version`` with its ``score``.

* An annotation that marks no span (an empty ``result``, or one with no ``labels`` item)
  answers the task's span question with ``[]``: "no entity here" is kept.
* A cancelled annotation (``was_cancelled``, a skip in Label Studio) is a discarded response,
  with whatever it holds.
* ``ground_truth`` annotations come first and are ``decided``: imported as gold, they win
  over the task's other annotations.
* goldsmith's own export (its ``meta.record_id`` is the task ``id``) holds the final labels
  as a ``ground_truth`` annotation that names no annotator (no ``completed_by``), beside one
  annotation per annotator. That one is the final label, not anyone's answer: imported as
  gold (or as suggestions) only it is read, and imported as responses it is left out, so
  only the annotators' responses come back.
* Span offsets count UTF-16 code units, as JavaScript does: an emoji before a span counts
  two. They are turned into code points, and a span whose ``value.text`` differs from the
  text it points at is refused.

Errors name the task by its index in the array (from 0) and its ``id``, since a file written
on one line has every task on line 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.interop import QuestionMatcher, as_score, merge_meta
from goldsmith.ingest.mapping import FoundLabel, ImportItem, Row, RowMapper, is_empty
from goldsmith.ingest.options import ImportOptions, LabelsAs
from goldsmith.ingest.readers import ReadContext, iter_json_array, surrogate_error
from goldsmith.kinds._utf16 import Utf16Offsets
from goldsmith.schema import QUESTION_KINDS, Question, ResponseStatus, Task

_LS_KINDS: dict[str, tuple[str, ...]] = {
    typ: tuple(name for name, cls in QUESTION_KINDS.items() if cls.label_studio == typ)
    for typ in dict.fromkeys(cls.label_studio for cls in QUESTION_KINDS.values())
    if typ
}
"""Label Studio result type -> the kinds that read it (their ``label_studio``)."""
_SPAN_TYPES = frozenset(
    typ for typ, kinds in _LS_KINDS.items() if any(QUESTION_KINDS[k].marks_spans for k in kinds)
)

Answer = tuple[str, Any, float | None]  # question, canonical value, score


def read_label_studio(path: Path, ctx: ReadContext) -> Iterator[tuple[int, Any]]:
    """Every item of the task array with the line it starts on, objects or not: the
    converter counts them, so each error names the right task index."""
    return iter_json_array(path, ctx)


def _ls_user(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    return None if is_empty(value) else str(value)


def _final_label(ann: Row) -> bool:
    """Whether an annotation of goldsmith's own export is its final label (not an answer)."""
    return bool(ann.get("ground_truth")) and _ls_user(ann.get("completed_by")) is None


def _named(what: str, index: int, obj: Any) -> str:
    """``"task index 3 (id 17)"``: a part of the file, by position and id."""
    ident = obj.get("id") if isinstance(obj, dict) else None
    return f"{what} {index}" if is_empty(ident) else f"{what} {index} (id {ident})"


def _objects(value: Any) -> list[tuple[int, Row]]:
    """The objects of a list with their positions in it (anything else holds none)."""
    items = value if isinstance(value, list) else []
    return [(k, v) for k, v in enumerate(items) if isinstance(v, dict)]


def _offset(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def code_point_spans(values: Sequence[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Label Studio span values with ``start``/``end`` turned from UTF-16 code units into
    code points of ``text``, each checked against its ``text`` when it has one.

    Raises
    ------
    SchemaError
        An offset lies outside the text or inside a character, or a span's ``text`` is not
        the text its offsets point at.
    """
    offsets = Utf16Offsets(text)
    out = []
    for v in values:
        start, end = _offset(v.get("start")), _offset(v.get("end"))
        if start is None or end is None:
            out.append(v)  # the kind says what is wrong with it
            continue
        try:
            cp_start, cp_end = offsets.to_code_points(start), offsets.to_code_points(end)
        except SchemaError as exc:
            raise SchemaError(f"span [{start}, {end}): {exc}") from None
        said = v.get("text")
        if isinstance(said, str) and text[cp_start:cp_end] != said:
            if text[start:end] == said:
                why = (
                    "its offsets count characters (code points), not UTF-16 code units as "
                    "Label Studio does (an older goldsmith export, or a tool that counts "
                    "Python characters): re-export it, or correct the offsets"
                )
            else:
                why = "fix its offsets or text, or check that data holds the annotated text"
            raise SchemaError(
                f"span [{start}, {end}) (UTF-16 code units) reads {text[cp_start:cp_end]!r}, "
                f"but its value.text is {said!r}: {why}"
            )
        out.append({**v, "start": cp_start, "end": cp_end})
    return out


class LabelStudioConverter:
    """One task of a Label Studio JSON export (see the module docs)."""

    def __init__(self, task: Task, options: ImportOptions, file: str) -> None:
        self.file = file
        self.mapper = RowMapper(task, options, file, labels=False)
        self.matcher = QuestionMatcher(task, options)
        self.index = -1  # of the task being read, in the file's array
        # where an annotation that marks no span puts its "no entity" answer
        kinds = tuple(k for typ in _SPAN_TYPES for k in _LS_KINDS[typ])
        self.span_target = self.matcher.fallback(kinds)
        self.any_question = task.questions[0].name  # carries an answer-less skip
        self.as_responses = options.labels_as == LabelsAs.RESPONSE

    def __call__(self, line: int, row: Any) -> ImportItem:
        self.index += 1
        try:
            return self._task(line, row)
        except InputError as exc:
            where = _named("task index", self.index, row)
            raise InputError(
                f"{where}: {exc.reason}", file=exc.file, line=exc.line, field=exc.field
            ) from exc

    def _task(self, line: int, row: Any) -> ImportItem:
        if not isinstance(row, dict):
            raise InputError(
                f"a Label Studio task is a JSON object, got {type(row).__name__}",
                file=self.file,
                line=line,
            )
        bad = surrogate_error(row, self.file, line)
        if bad is not None:
            raise bad
        data = row.get("data")
        if not isinstance(data, dict):
            raise InputError(
                "a Label Studio task needs a 'data' object", file=self.file, line=line, field="data"
            )
        item = self.mapper.item(line, data)
        merge_meta(item, row.get("meta"))
        meta = row.get("meta")
        own_export = isinstance(meta, dict) and meta.get("record_id") == row.get("id")
        if item.external_id is None and not is_empty(row.get("id")) and not own_export:
            item.external_id = str(row["id"])  # goldsmith's own task id is not an external id
        found = _objects(row.get("annotations"))
        found.sort(key=lambda pair: not pair[1].get("ground_truth"))  # stable: ground truth first
        if own_export:  # the final label for gold or suggestions, the annotators' answers else
            finals = [(k, ann) for k, ann in found if _final_label(ann)]
            if self.as_responses:
                found = [(k, ann) for k, ann in found if not _final_label(ann)]
            elif finals:
                found = finals
        for k, ann in found:
            self._annotation(line, _named("annotation", k, ann), ann, item)
        for k, pred in _objects(row.get("predictions")):  # some exports list prediction ids
            agent = None if is_empty(pred.get("model_version")) else str(pred["model_version"])
            answers, _ = self._results(line, _named("prediction", k, pred), pred, item.fields)
            for q, value, score in answers:
                score = score if score is not None else as_score(pred.get("score"))
                item.labels.append(FoundLabel(q, value, predicted=True, agent=agent, score=score))
        return item

    def _annotation(self, line: int, name: str, ann: Row, item: ImportItem) -> None:
        user = _ls_user(ann.get("completed_by"))
        cancelled = bool(ann.get("was_cancelled"))
        status = ResponseStatus.DISCARDED if cancelled else ResponseStatus.SUBMITTED
        decided = bool(ann.get("ground_truth")) and not cancelled
        answers, marked_spans = self._results(line, name, ann, item.fields)
        for q, value, _ in answers:
            item.labels.append(FoundLabel(q, value, user=user, status=status, decided=decided))
        target = self.span_target
        if not cancelled and not marked_spans and target is not None:
            empty = target.empty()
            item.labels.append(FoundLabel(target.name, empty, user=user, decided=decided))
        elif cancelled and not answers:  # a skip: a discarded response with no answer
            item.labels.append(FoundLabel(self.any_question, None, user=user, status=status))

    def _fail(self, message: str, line: int, field: str | None = None) -> InputError:
        return InputError(message, file=self.file, line=line, field=field)

    def _results(self, line: int, name: str, holder: Row, fields: Row) -> tuple[list[Answer], bool]:
        """The answers in ``holder``'s ``result``, and whether it holds any span item."""
        results = holder.get("result")
        if not results:
            return [], False
        if not isinstance(results, list):
            raise self._fail(f"{name}: 'result' must be a list", line, "result")
        raw: dict[str, list[dict[str, Any]]] = {}
        kinds: dict[str, tuple[str, ...]] = {}
        scores: dict[str, float | None] = {}
        marked_spans = False
        for res in results:
            if not isinstance(res, dict):
                continue
            typ, src = str(res.get("type")), str(res.get("from_name") or res.get("type"))
            got = res.get("value")
            value: dict[str, Any] = got if isinstance(got, dict) else {}
            if typ not in _LS_KINDS:
                continue  # regions, relations, images...: nothing a text task can hold
            marked_spans = marked_spans or typ in _SPAN_TYPES
            kinds[src] = _LS_KINDS[typ]
            scores[src] = as_score(res.get("score"))
            raw.setdefault(src, []).append(value)
        try:
            matched = self.matcher.match(kinds.items())
        except SchemaError as exc:
            raise self._fail(f"{name}: {exc}", line) from exc
        out = []
        for src, q in matched.items():
            if q is None:
                continue
            try:
                answer = self._answer(q, raw[src], fields)
                canonical = self.matcher.value(q, answer, fields)
            except SchemaError as exc:
                raise self._fail(f"{name}: {exc}", line, src) from exc
            if canonical is not None:
                out.append((q.name, canonical, scores[src]))
        return out, marked_spans

    def _answer(self, q: Question, values: list[dict[str, Any]], fields: Row) -> Any:
        """The raw answer of ``q`` in its result values (span offsets in code points)."""
        if q.marks_spans:
            text = fields.get(q.target_field(""))
            if isinstance(text, str):
                values = code_point_spans(values, text)
        try:
            answer = q.from_label_studio(values)
        except (TypeError, AttributeError) as exc:  # e.g. "labels": 7, "choices": {}
            kind = getattr(q, "kind", type(q).__name__)
            raise SchemaError(
                f"the result's value does not have the shape of a {kind} answer ({exc}); "
                "check the value's keys against the labeling config"
            ) from exc
        if q.classifies() and isinstance(answer, list):
            if len(answer) != 1:
                raise SchemaError(f"question {q.name!r} takes one label, the result has {answer!r}")
            answer = answer[0]
        return answer
