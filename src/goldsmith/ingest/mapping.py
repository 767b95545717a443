"""Turn a row (a dict of columns) into an :class:`ImportItem`: fields, id, metadata, labels.

The row mapper is on the hot path of every tabular import, so it does plain dict work per
row and calls :meth:`Question.check` only when a row carries a label.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from goldsmith.errors import ConfigError, InputError, SchemaError
from goldsmith.ingest.options import AnswerFrom, ImportOptions
from goldsmith.kinds.base import json_list as _json_list
from goldsmith.schema import FieldKind, Question, ResponseStatus, Task

Row = dict[str, Any]
_PLAIN = (str, int, bool, type(None))
# Columns of goldsmith's own tabular export (next to ``id`` and ``external_id``) that describe
# the exporting store, not the record: dropped when such a file is imported back.
OWN_EXPORT_COLUMNS = ("id", "provenance", "confidence")
# Keys goldsmith's Label Studio and Prodigy exports add to ``meta`` (``id`` is the external id;
# ``prodigy_dataset`` names the dataset in the Prodigy annotator ids).
OWN_EXPORT_META = ("record_id", "provenance", "confidence", "prodigy_dataset")


@dataclass(slots=True)
class FoundLabel:
    """A label value found in the input, already canonical for its question.

    ``predicted`` labels (model predictions, suggestions in the file) are always stored as
    suggestions by ``agent``; the others are stored according to ``options.labels_as``.
    ``user`` None means ``options.label_user``. ``decided`` marks the answer the file itself
    names as the reviewed one (Label Studio's ``ground_truth``): imported as gold it wins
    over the record's other answers without a conflict.
    """

    question: str
    value: Any
    user: str | None = None
    status: ResponseStatus = ResponseStatus.SUBMITTED
    predicted: bool = False
    agent: str | None = None
    score: float | None = None
    decided: bool = False


@dataclass(slots=True)
class ImportItem:
    """One record to import, with the labels that came with it."""

    line: int
    fields: dict[str, Any]
    metadata: dict[str, Any]
    external_id: str | None = None
    labels: list[FoundLabel] = field(default_factory=list)


# --------------------------------------------------------------------------- values


def is_empty(value: Any) -> bool:
    """True for None, blank strings and NaN: cells that hold no value."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value or value.isspace()
    return isinstance(value, float) and math.isnan(value)


def jsonable(value: Any) -> Any:
    """``value`` in a form JSON can store (dates as ISO text, NaN as None, bytes as text)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return jsonable(tolist())
    return str(value)


def _json_object(value: Any) -> dict[str, Any] | None:
    """A dict given as a dict or as JSON text; None for anything else."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return {str(k): jsonable(v) for k, v in value.items()} if isinstance(value, dict) else None


class LabelResolver:
    """Canonical values for one question from raw cells (names, label_map, integer codes).

    Parameters
    ----------
    question:
        The question the values answer.
    label_map:
        Raw value -> task label, tried after exact label names.
    code_base:
        Integer codes not found otherwise are read as positions in the question's labels,
        starting at this number.

    Examples
    --------
    >>> from goldsmith.schema import LabelQuestion
    >>> q = LabelQuestion(name="label", labels=("neoplasms", "digestive"))
    >>> LabelResolver(q, label_map={"neo": "neoplasms"}, code_base=1).value("2")
    'digestive'
    """

    def __init__(self, question: Question, *, label_map: dict[str, str], code_base: int) -> None:
        self.question = question
        self._labels: tuple[str, ...] = getattr(question, "labels", ())
        self._map = label_map
        self._base = code_base
        self._cache: dict[Any, str] = {}
        self.coded: dict[str, str] = {}  # integer codes read as positions -> their label
        self.n_coded = 0  # values resolved that way
        known = set(self._labels)
        for raw, target in label_map.items():
            if self._labels and target not in known:
                raise SchemaError(
                    f"label_map sends {raw!r} to {target!r}, which is not a label of question "
                    f"{question.name!r} ({list(self._labels)})"
                )

    def label(self, raw: Any) -> str:
        """One task label for ``raw``, or raise :class:`SchemaError`."""
        key = raw if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        if key is not None and key in self._cache:
            if self.coded and str(key) in self.coded:
                self.n_coded += 1
            return self._cache[key]
        found = self._resolve(raw)
        if key is not None:
            self._cache[key] = found
        return found

    def coded_note(self, column: str) -> str | None:
        """A warning that integer codes were read as label positions, or None."""
        if not self.coded:
            return None
        pairs = ", ".join(f"{c} -> {lab!r}" for c, lab in sorted(self.coded.items())[:6])
        more = ", ..." if len(self.coded) > 6 else ""
        return (
            f"column {column!r} holds integer codes, not label names: {self.n_coded} value(s) "
            f"were read as positions in the labels of {self.question.name!r} counting from "
            f"--code-base {self._base} ({pairs}{more}); if the codes mean other labels, pass "
            "--label-map (e.g. '1=neoplasms,2=digestive')"
        )

    def _resolve(self, raw: Any) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise SchemaError(f"{self.question.name}: {raw!r} is not a label")
        if isinstance(raw, float):
            if not raw.is_integer():
                raise SchemaError(f"{self.question.name}: {raw!r} is not a label")
            raw = int(raw)
        text = raw if isinstance(raw, str) else str(raw)
        for candidate in (text, text.strip()):
            if candidate in self._labels:
                return candidate
            if candidate in self._map:
                return self._map[candidate]
        try:
            code = int(text)
        except ValueError:
            code = None
        labels = self._labels
        codes = f"{self._base}..{self._base + len(labels) - 1}"
        if code is not None:
            if 0 <= code - self._base < len(labels):
                self.coded[str(raw)] = labels[code - self._base]
                self.n_coded += 1
                return labels[code - self._base]
            raise SchemaError(
                f"{self.question.name}: code {code} is outside {codes} (code_base={self._base}) "
                f"for labels {list(labels)}"
            )
        raise SchemaError(
            f"{self.question.name}: {text!r} is not one of {list(labels)}; add it to "
            f"label_map or use a code {codes}"
        )

    def value(self, raw: Any) -> Any:
        """The canonical value of ``raw`` for the question; None when the cell is empty."""
        if is_empty(raw):
            return None
        return self.question.from_cell(raw, label=self.label, label_map=self._map)


# --------------------------------------------------------------------------- fields


def chat_messages(value: Any) -> list[dict[str, str]]:
    messages = _json_list(value)
    if not isinstance(messages, list) or not messages:
        raise SchemaError("expected a list of {role, content} messages")
    out = []
    for m in messages:
        if (
            not isinstance(m, dict)
            or not isinstance(m.get("role"), str)
            or not isinstance(m.get("content"), str)
        ):
            raise SchemaError(f"a chat message needs string role and content, got {m!r}")
        out.append({"role": m["role"], "content": m["content"]})
    return out


def _has_nul(value: Any) -> bool:
    """True when a text (or a list of texts or chat messages) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    return False


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


NUL_HINT = (
    "holds a NUL character (\\x00), which no text field can keep; a file full of them is "
    "usually UTF-16 (pass --encoding utf-16) or binary. Remove them, or skip such rows with "
    "--skip-invalid FILE"
)


def _text(value: Any, list_ok: bool) -> Any:
    """Text, or for a preference question's candidates field a list of texts."""
    if list_ok:
        value = _json_list(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise SchemaError(f"expected text, got {type(value).__name__}")


class RowMapper:
    """Map rows onto a task: fields, ``external_id``, metadata and the label column.

    Parameters
    ----------
    task:
        The project's task.
    options:
        ``text_field`` (the column for the first text field), ``id_field`` (default
        ``id``), ``label_field`` (default: the column named like the question),
        ``metadata_fields`` (default: every column not used otherwise), ``question``,
        ``label_map``, ``code_base``. A file with both ``id`` and ``external_id`` columns is
        read as goldsmith's own export: ``external_id`` is the id, the exporting store's
        ``id``, ``provenance`` and ``confidence`` are dropped, and a ``metadata`` column of
        JSON text is unpacked.
    file:
        Named in errors.
    labels:
        False to map fields only (interop formats read labels themselves).
    """

    def __init__(
        self, task: Task, options: ImportOptions, file: str, *, labels: bool = True
    ) -> None:
        self.file = file
        self.task = task
        self.options = options
        self.question = task.question(options.question)
        self.resolver = LabelResolver(
            self.question, label_map=options.label_map, code_base=options.code_base
        )
        first_text = task.text_fields[0] if task.text_fields else None
        candidates = {name for q in task.questions for name in q.list_fields()}
        self._plan = [
            (
                f.name,
                options.text_field if f.name == first_text and options.text_field else f.name,
                f.kind == FieldKind.CHAT,
                f.name in candidates,
            )
            for f in task.fields
        ]
        self._with_labels = labels
        self._texts = [n for n, _, chat, lst in self._plan if not chat and not lst]
        self._sources = {name: src for name, src, _, _ in self._plan}
        self._numeric = dict.fromkeys(self._texts, True)  # every value so far a number
        self._blank: dict[str, int] = {}  # records with this text field empty
        self.n_items = 0
        self._chat_field = next((n for n, _, chat, _ in self._plan if chat), None)
        self._answer_from = options.answer_from if labels else None
        if self._answer_from is not None:
            self._check_answer_from(options)
        self._label_col = options.label_field
        self._id_col = options.id_field
        self._meta_cols = options.metadata_fields
        self._used: frozenset[str] = frozenset()
        self._meta_json = False
        self._checked = False

    def _check_answer_from(self, options: ImportOptions) -> None:
        if self._answer_from != AnswerFrom.LAST_ASSISTANT:
            raise ConfigError(f"--answer-from must be last-assistant, got {self._answer_from!r}")
        if self._chat_field is None:
            raise ConfigError(
                "--answer-from last-assistant takes the answer from a chat field, and the task "
                "has none; add a field with kind = 'chat' to goldsmith.toml, or import a file "
                "of OpenAI messages into text fields with --format openai-chat"
            )
        if options.label_field is not None:
            raise ConfigError(
                "pass --label-field or --answer-from, not both: each says where the label is"
            )

    def warnings(self) -> list[str]:
        """Questionable input seen so far (for the import report), one line each."""
        out: list[str] = []
        if self._with_labels and self._label_col is not None:
            note = self.resolver.coded_note(self._label_col)
            if note:
                out.append(note)
        for name in self._numeric:
            if self.n_items:
                src = self._sources[name]
                out.append(
                    f"field {name!r} (column {src!r}) holds only numbers in all "
                    f"{self.n_items} record(s); is it the text? Pick the text column with "
                    "--text-field"
                )
        for name, n in self._blank.items():
            out.append(
                f"{n} record(s) have an empty {name!r} field (column {self._sources[name]!r})"
            )
        return out

    def _observe(self, line: int, fields: dict[str, Any]) -> None:
        """Refuse a record whose every text is empty; count numbers and partly empty texts."""
        if not self._texts:
            self.n_items += 1
            return
        empty = [n for n in self._texts if not fields[n] or fields[n].isspace()]
        if empty:
            if len(empty) == len(self._texts) and not (
                self._chat_field and fields.get(self._chat_field)
            ):
                src = self._sources[empty[0]]
                raise InputError(
                    "the text is empty, so annotators would have nothing to read; fill it in "
                    "or drop the row (--skip-invalid FILE skips such rows and lists them)",
                    file=self.file,
                    line=line,
                    field=src,
                )
            for n in empty:
                self._blank[n] = self._blank.get(n, 0) + 1
        self.n_items += 1
        if self._numeric:  # a field leaves once a value is not a number
            for name in [n for n in self._numeric if not _is_number(fields[n])]:
                del self._numeric[name]

    def _check_columns(self, line: int, row: Row) -> None:
        """On the first row: every named column must exist (a typo fails fast)."""
        cols = list(row)
        named: list[str | None] = [src for _, src, _, _ in self._plan]
        named += [self._label_col if self._with_labels else None, self._id_col]
        named += list(self._meta_cols or ())
        for col in named:
            if col is not None and col not in row:
                raise InputError(
                    f"no column {col!r}; the columns are {cols} (set text_field=, "
                    f"label_field=, id_field= or metadata_fields= to match){_sft_hint(row)}",
                    file=self.file,
                    line=line,
                    field=col,
                )
        if self._label_col is None and self._with_labels and self._answer_from is None:
            self._label_col = self.question.name
        # goldsmith's own tabular export: ``id`` is the exporting store's record id
        own_export = self._id_col is None and "id" in row and "external_id" in row
        if self._id_col is None:
            self._id_col = "external_id" if own_export else "id"
        used = {src for _, src, _, _ in self._plan} | {self._label_col, self._id_col}
        if own_export:
            used |= set(OWN_EXPORT_COLUMNS)
        self._meta_json = own_export and self._meta_cols is None and "metadata" in row
        self._used = frozenset(c for c in used if c is not None)
        self._checked = True

    def fields(self, line: int, row: Row) -> dict[str, Any]:
        """The task's fields from ``row``; a missing (absent or null) one is an InputError,
        and so is a text holding a NUL character.

        An empty string is a text here; :meth:`item` (an import) refuses a record whose
        every text is empty.
        """
        out: dict[str, Any] = {}
        for name, src, chat, list_ok in self._plan:
            value = row.get(src)
            if value is None:
                what = "is missing" if src not in row else "is null"
                raise InputError(
                    f"the text for field {name!r} {what}{_sft_hint(row)}",
                    file=self.file,
                    line=line,
                    field=src,
                )
            if value.__class__ is not str or chat or list_ok:
                try:
                    value = chat_messages(value) if chat else _text(value, list_ok)
                except SchemaError as exc:
                    raise InputError(str(exc), file=self.file, line=line, field=src) from exc
                if _has_nul(value):
                    raise InputError(NUL_HINT, file=self.file, line=line, field=src)
            elif "\x00" in value:
                raise InputError(NUL_HINT, file=self.file, line=line, field=src)
            out[name] = value
        return out

    def item(self, line: int, row: Row, *, exclude: frozenset[str] = frozenset()) -> ImportItem:
        """Fields, id and metadata of ``row`` (no labels); ``exclude`` keeps columns out."""
        if not self._checked:
            self._check_columns(line, row)
        fields = self.fields(line, row)
        self._observe(line, fields)
        ext = row.get(self._id_col) if self._id_col is not None else None
        if is_empty(ext):
            external_id = None
        elif isinstance(ext, float) and ext.is_integer():
            external_id = str(int(ext))
        else:
            external_id = str(ext)
        used = self._used
        if self._meta_cols is None:
            metadata = {
                k: (v if v.__class__ is str else jsonable(v))
                for k, v in row.items()
                if k not in used and k not in exclude
            }
        else:
            metadata = {k: jsonable(row[k]) for k in self._meta_cols if k in row}
        if self._meta_json:
            packed = metadata.pop("metadata", None)
            unpacked = _json_object(packed)
            if unpacked is None:
                if packed is not None:
                    metadata["metadata"] = packed
            else:
                metadata = {**unpacked, **metadata}
        return ImportItem(line, fields, metadata, external_id)

    def __call__(self, line: int, row: Row) -> ImportItem:
        item = self.item(line, row)
        if self._answer_from is not None:
            self._answer(line, item)
            return item
        col = self._label_col
        if col is not None and self._with_labels:
            try:
                value = self.resolver.value(row.get(col))
                if value is not None:
                    self.question.check_fields(value, item.fields)
            except SchemaError as exc:
                raise InputError(str(exc), file=self.file, line=line, field=col) from exc
            if value is not None:
                item.labels.append(FoundLabel(self.question.name, value))
        return item

    def _answer(self, line: int, item: ImportItem) -> None:
        """Move the chat field's final assistant turn into the question's label."""
        name = self._chat_field
        assert name is not None
        src = self._sources[name]
        messages = item.fields[name]
        role = messages[-1]["role"]
        if role != "assistant":
            raise InputError(
                f"the conversation ends with a {role!r} turn, so it has no answer to take "
                "(--answer-from last-assistant); end it with the assistant's turn, or skip "
                "such rows with --skip-invalid FILE",
                file=self.file,
                line=line,
                field=src,
            )
        if len(messages) < 2:
            raise InputError(
                "the conversation holds only the assistant's answer; there is nothing for "
                "annotators to read before it",
                file=self.file,
                line=line,
                field=src,
            )
        try:
            found = answer_label(self.question, self.resolver, messages[-1]["content"])
            self.question.check_fields(found, item.fields)
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line, field=src) from exc
        item.fields[name] = messages[:-1]
        item.labels.append(FoundLabel(self.question.name, found))


def answer_label(question: Question, resolver: LabelResolver, text: str) -> Any:
    """The canonical value of an SFT answer for ``question``; SchemaError when it is not one.

    An empty answer is refused: it would store "nothing" as the gold completion.
    """
    if is_empty(text):
        raise SchemaError(f"{question.name}: the answer is empty")
    if "\x00" in text:
        raise SchemaError(f"{question.name}: the answer {NUL_HINT}")
    value = resolver.value(text)
    if value is None:
        raise SchemaError(f"{question.name}: the answer is empty")
    return value


_SFT_KEYS = {
    "messages": "openai-chat",
    "conversations": "sharegpt",
    "completion": "trl-sft",
    "output": "alpaca",
}


def _sft_hint(row: Row) -> str:
    """A hint naming the SFT import format a row seems to be written in."""
    for key, fmt in _SFT_KEYS.items():
        if key in row:
            return f"; the row looks like an SFT training file: try --format {fmt}"
    return ""
