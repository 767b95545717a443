"""Annotation-tool formats: Label Studio, Prodigy and CoNLL.

``label-studio``
    A JSON array of tasks ``{"id": record id, "data": {fields}, "meta": {...},
    "annotations": [{"result": [...]}, ...]}``, the shape Label Studio imports and exports, with
    ``label_config.xml`` beside it (:mod:`goldsmith.export.label_config`) so the project can
    be recreated and label-studio-sdk's ``Converter`` reads the export. ``meta`` holds the record's
    metadata, ``record_id``, ``id`` (the external id), provenance and confidence. The first
    annotation holds the final labels and is ``ground_truth: true``, with no ``completed_by``
    (no annotator gave it; Label Studio gives it to whoever imports the file). Then comes one
    annotation per annotator's response (unless ``ExportOptions.responses`` is off), with
    ``completed_by: {"email": user}`` (Label Studio matches annotators by email),
    ``ground_truth: false``, ``was_cancelled`` for a skip (a discarded response) and
    ``lead_time`` for the seconds spent. Every question with a value
    becomes result items, as its kind renders them: ``choices`` (label, multilabel),
    ``labels`` with start/end/text (spans; a span_multilabel span lists all its labels),
    ``textarea`` (text) and ``rating``. ``from_name`` is the question name, ``to_name`` the
    field it annotates (the field a span question marks, else the first field). Span offsets
    count UTF-16 code units, as Label Studio (JavaScript) does: an emoji before a span counts
    two; goldsmith stores code points and converts them here.
``prodigy``
    JSON Lines with ``text``, ``answer: "accept"`` and ``meta`` (as for Label Studio), plus
    ``label`` (label), ``options`` and ``accept`` (multilabel) or ``spans`` (spans). A spans
    line carries ``tokens`` (``text``, ``start``, ``end``, ``id``, ``ws``) and each span its
    ``token_start`` / ``token_end`` (inclusive), as Prodigy's manual NER view needs: tokens
    are words and single punctuation marks, also cut at every span boundary. The first line of
    a record holds its final label and names no annotator. Then, as in a multi-annotator
    Prodigy dataset, comes one line per annotator's response (unless
    ``ExportOptions.responses`` is off) with ``_annotator_id`` and ``_session_id`` in Prodigy's
    named-session form ``<dataset>-<session>``: the dataset is the task's name, which ``meta``
    names as ``prodigy_dataset`` so the importer reads the annotator back without it. A skip
    (a discarded response) is an ``"answer": "ignore"`` line with the text only.
``conll``
    Token per line, ``token<TAB>tag`` with BIO tags, a blank line after each record. Tokens are
    the whitespace-separated pieces of the spans field; a token overlapping a span is tagged
    with it (the first overlapping span wins).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from goldsmith.errors import ExportError
from goldsmith.export import prompts
from goldsmith.export.exporter import (
    ExportContext,
    Exporter,
    Sink,
    json_array_exporter,
    jsonl_exporter,
)
from goldsmith.export.label_config import write_label_config
from goldsmith.kinds._utf16 import Utf16Offsets
from goldsmith.schema import (
    FinalLabel,
    Question,
    Record,
    Response,
    ResponseStatus,
)

TOKEN = re.compile(r"\S+")
WORD = re.compile(r"\w+|[^\w\s]")  # Prodigy tokens: words and single punctuation marks


def _target(ctx: ExportContext, question: Question) -> str:
    return question.target_field(ctx.task.fields[0].name)


def _meta(record: Record, label: FinalLabel | None) -> dict[str, Any]:
    """The record's metadata plus ``record_id``, ``id`` (the external id, which goldsmith's
    importers read back as the external id) and the label's provenance and confidence."""
    meta: dict[str, Any] = dict(record.metadata or {})
    meta["record_id"] = record.id
    if record.external_id is not None:
        meta["id"] = record.external_id
    if label is not None:
        meta.update(provenance=str(label.provenance), confidence=label.confidence)
    return meta


def label_studio_result(
    ctx: ExportContext, record: Record, question: Question, value: Any
) -> list[dict[str, Any]]:
    """The Label Studio result items for one question's final value (none for preference)."""
    target = _target(ctx, question)
    base = {"from_name": question.name, "to_name": target, "origin": "manual"}
    results = question.label_studio_results(value, record, base)
    if question.marks_spans:
        text = str(record.fields.get(target) or "")
        if not text.isascii():
            units = Utf16Offsets(text)
            for res in results:
                v = res["value"]
                v["start"], v["end"] = units.to_utf16(v["start"]), units.to_utf16(v["end"])
    return results


def _ls_results(ctx: ExportContext, record: Record, values: Mapping[str, Any]) -> list[Any]:
    """The result items of every task question that ``values`` answers."""
    result: list[dict[str, Any]] = []
    for q in ctx.task.questions:
        if q.name in values:
            result += label_studio_result(ctx, record, q, values[q.name])
    return result


def _ls_annotation(ctx: ExportContext, record: Record, response: Response) -> dict[str, Any]:
    """One annotator's response as a Label Studio annotation by ``completed_by``."""
    annotation: dict[str, Any] = {
        "result": _ls_results(ctx, record, response.values),
        "completed_by": {"email": response.user},
        "ground_truth": False,  # Label Studio's import default is true
        "was_cancelled": response.status == ResponseStatus.DISCARDED,
    }
    if response.time_spent is not None:
        annotation["lead_time"] = response.time_spent
    return annotation


def label_studio_rows(
    ctx: ExportContext,
    record: Record,
    labels: Mapping[str, FinalLabel],
    responses: Sequence[Response] = (),
) -> Iterator[dict[str, Any]]:
    """One Label Studio task: the final labels as its ground-truth annotation, then one
    annotation per response."""
    main = labels.get(ctx.question.name)
    final = {
        "result": _ls_results(ctx, record, {name: lab.value for name, lab in labels.items()}),
        "ground_truth": True,
        "was_cancelled": False,
    }
    yield {
        "id": record.id,
        "data": dict(record.fields),
        "meta": _meta(record, main),
        "annotations": [final, *(_ls_annotation(ctx, record, r) for r in responses)],
    }


def prodigy_session(ctx: ExportContext, user: str) -> str:
    """A named Prodigy session: ``<dataset>-<session>``, the dataset being the task's name.

    >>> from goldsmith.config import template_task
    >>> from goldsmith.schema import Task
    >>> task = Task.model_validate(template_task("reviews", "classification", ["a", "b"]))
    >>> prodigy_session(ExportContext(task, task.questions[0], None), "ann1")
    'reviews-ann1'
    """
    return f"{ctx.task.name}-{user}"


def prodigy_rows(
    ctx: ExportContext,
    record: Record,
    labels: Mapping[str, FinalLabel],
    responses: Sequence[Response] = (),
) -> Iterator[dict[str, Any]]:
    """The accepted Prodigy task of the final label, then one line per response to the
    exported question (a skip: an ``ignore`` line)."""
    q = ctx.question
    label = labels.get(q.name)
    if label is None:
        return
    text = "" if q.marks_spans else prompts.user_text(ctx.task, q, record)
    meta = _meta(record, label)
    if responses:
        meta["prodigy_dataset"] = ctx.task.name
    yield {**_prodigy_task(q, record, label.value, text), "answer": "accept", "meta": meta}
    for response in responses:
        session = {"_annotator_id": prodigy_session(ctx, response.user)}
        session["_session_id"] = session["_annotator_id"]
        if response.status == ResponseStatus.DISCARDED:  # a skip: the text only
            shown = str(record.fields.get(q.target_field("")) or "") if q.marks_spans else text
            yield {"text": shown, "answer": "ignore", "meta": meta, **session}
        elif q.name in response.values:
            task = _prodigy_task(q, record, response.values[q.name], text)
            yield {**task, "answer": "accept", "meta": meta, **session}


def _prodigy_task(q: Question, record: Record, value: Any, text: str) -> dict[str, Any]:
    task = q.prodigy_task(value, record, text)
    return with_tokens(task, record.id) if q.marks_spans else task


def prodigy_tokens(text: str, cuts: set[int]) -> list[dict[str, Any]]:
    """Prodigy tokens of ``text``: words and punctuation marks, also split at ``cuts``.

    Examples
    --------
    >>> [t["text"] for t in prodigy_tokens("Paris, France", {1})]
    ['P', 'aris', ',', 'France']
    >>> prodigy_tokens("Hi you", set())[0]
    {'text': 'Hi', 'start': 0, 'end': 2, 'id': 0, 'ws': True}
    """
    tokens: list[dict[str, Any]] = []
    for m in WORD.finditer(text):
        bounds = [m.start(), *sorted(c for c in cuts if m.start() < c < m.end()), m.end()]
        for start, end in zip(bounds, bounds[1:], strict=False):
            tokens.append({"text": text[start:end], "start": start, "end": end})
    for i, tok in enumerate(tokens):
        tok["id"] = i
        tok["ws"] = text[tok["end"] : tok["end"] + 1].isspace()
    return tokens


def with_tokens(task: dict[str, Any], record_id: int | None) -> dict[str, Any]:
    """A Prodigy spans task with ``tokens`` and each span's inclusive token range."""
    text, spans = str(task["text"]), list(task.get("spans") or [])
    tokens = prodigy_tokens(text, {int(s[k]) for s in spans for k in ("start", "end")})
    ends = [t["end"] for t in tokens]
    starts = [t["start"] for t in tokens]
    out = []
    for span in spans:
        start, end = int(span["start"]), int(span["end"])
        first = bisect_right(ends, start)  # the first token ending after the span starts
        last = bisect_left(starts, end) - 1  # the last token starting before it ends
        if first > last:  # whitespace only: no token to select
            raise ExportError(
                f"record {record_id}: span [{start}, {end}) {text[start:end]!r} holds no word "
                "or mark; fix or relabel the record"
            )
        out.append({**span, "token_start": first, "token_end": last})
    return {**task, "tokens": tokens, "spans": out}


def bio_tags(text: str, spans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Whitespace tokens of ``text`` with BIO tags from character ``spans``.

    Examples
    --------
    >>> bio_tags("New York is big", [{"start": 0, "end": 8, "label": "LOC"}])
    [('New', 'B-LOC'), ('York', 'I-LOC'), ('is', 'O'), ('big', 'O')]
    """
    tokens = [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]
    tags = ["O"] * len(tokens)
    for span in sorted(spans, key=lambda s: (s["start"], s["end"])):
        inside = False
        for i, (start, end, _) in enumerate(tokens):
            if start < span["end"] and end > span["start"] and tags[i] == "O":
                tags[i] = ("I-" if inside else "B-") + str(span["label"])
                inside = True
    return [(tok, tag) for (_, _, tok), tag in zip(tokens, tags, strict=True)]


class ConllSink:
    """Writes ``token<TAB>tag`` lines, a blank line after each record."""

    def __init__(self, path: Path, ctx: ExportContext) -> None:
        self._ctx = ctx
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")

    def write(self, record: Record, labels: Mapping[str, FinalLabel]) -> int:
        q = self._ctx.question
        label = labels.get(q.name)
        if label is None or not q.conll:
            return 0
        text = str(record.fields.get(q.target_field("")) or "")
        pairs = bio_tags(text, q.spans_with_text(label.value, record))
        if not pairs:
            return 0
        self._file.write("".join(f"{tok}\t{tag}\n" for tok, tag in pairs))
        self._file.write("\n")
        return 1

    def close(self) -> None:
        self._file.close()


def _conll(path: Path, ctx: ExportContext) -> Sink:
    return ConllSink(path, ctx)


def _label_studio(question: Question) -> bool:
    return question.label_studio is not None


def _prodigy(question: Question) -> bool:
    return question.prodigy


def _conll_tags(question: Question) -> bool:
    return question.conll


def interop_exporters() -> list[Exporter]:
    """The built-in annotation-tool exporters, ready for :func:`register_exporter`."""
    return [
        replace(
            json_array_exporter(
                "label-studio",
                label_studio_rows,
                accepts=_label_studio,
                description="Label Studio JSON: tasks with data, the final labels as the "
                "ground-truth annotation and one annotation per annotator, and label_config.xml",
                responses=True,
            ),
            companions=write_label_config,
        ),
        jsonl_exporter(
            "prodigy",
            prodigy_rows,
            accepts=_prodigy,
            description="Prodigy JSONL: text with label, accept or spans; the final label, "
            "then one line per annotator",
            responses=True,
        ),
        Exporter(
            "conll",
            _conll,
            "conll",
            accepts=_conll_tags,
            description="CoNLL token-per-line BIO tags",
        ),
    ]
