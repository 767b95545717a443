"""The shape of an LLM's answer: a JSON schema for the endpoint and a validator for the reply.

Both are built from the same task questions, so what the endpoint is told to produce and what
goldsmith accepts cannot drift apart.

=============  ==================================================================
question       JSON schema of its value
=============  ==================================================================
label          ``string`` with ``enum`` = the labels
multilabel     ``array`` of label ``enum`` items (repeats are dropped on parse)
rating         ``integer`` with ``enum`` = min..max (``minimum``/``maximum`` if wide)
text           ``string``
spans          ``array`` of ``{text, start, end, label}``; offsets are re-aligned on the
               record's text by the span's ``text`` when the model miscounts
preference     ``array`` of ``integer`` candidate indices, best first
=============  ==================================================================

The schema keeps to the subset that OpenAI's strict structured outputs and llama.cpp grammars
both accept: every property is required, objects forbid extra properties, and an optional
question is ``anyOf [value, null]``. ``uniqueItems`` is left out (strict mode rejects it).

>>> from goldsmith.schema import Task, FieldSpec, LabelQuestion
>>> task = Task(name="t", fields=(FieldSpec(name="text"),),
...             questions=(LabelQuestion(name="sentiment", labels=("pos", "neg")),))
>>> fmt = AnswerFormat.for_task(task)
>>> fmt.schema["properties"]["sentiment"]
{'type': 'string', 'enum': ['pos', 'neg']}
>>> fmt.parse('{"sentiment": "neg"}')
{'sentiment': 'neg'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic import Field as PydField

from goldsmith.errors import SchemaError
from goldsmith.schema import (
    LabelQuestion,
    MultiLabelQuestion,
    PreferenceQuestion,
    Question,
    RatingQuestion,
    SpansQuestion,
    Task,
    TextQuestion,
)

ENUM_RATINGS = 100  # a rating range up to this wide is an enum (accepted everywhere)


class _Span(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    start: int
    end: int
    label: str


def _value_schema(q: Question) -> dict[str, Any]:
    if isinstance(q, LabelQuestion):
        return {"type": "string", "enum": list(q.labels)}
    if isinstance(q, MultiLabelQuestion):
        return {"type": "array", "items": {"type": "string", "enum": list(q.labels)}}
    if isinstance(q, RatingQuestion):
        if q.max - q.min < ENUM_RATINGS:
            return {"type": "integer", "enum": list(range(q.min, q.max + 1))}
        return {"type": "integer", "minimum": q.min, "maximum": q.max}
    if isinstance(q, TextQuestion):
        return {"type": "string"}
    if isinstance(q, SpansQuestion):
        span = {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "start": {"type": "integer"},
                "end": {"type": "integer"},
                "label": {"type": "string", "enum": list(q.labels)},
            },
            "required": ["text", "start", "end", "label"],
            "additionalProperties": False,
        }
        return {"type": "array", "items": span}
    assert isinstance(q, PreferenceQuestion)
    return {"type": "array", "items": {"type": "integer"}}


def _value_type(q: Question) -> Any:
    """The pydantic type of a question's value (``Literal`` built from runtime labels)."""
    if isinstance(q, LabelQuestion):
        return Literal.__getitem__(q.labels)
    if isinstance(q, MultiLabelQuestion):
        return list[Literal.__getitem__(q.labels)]  # type: ignore[misc]
    if isinstance(q, RatingQuestion):
        return int
    if isinstance(q, TextQuestion):
        return str
    if isinstance(q, SpansQuestion):
        return list[_Span]
    return list[int]


def align_spans(spans: Sequence[Mapping[str, Any]], text: str) -> list[dict[str, Any]]:
    """Spans whose offsets point at their ``text`` in ``text``; a miscounted span is moved to
    the nearest occurrence of its text, and one whose text does not occur is dropped.

    >>> align_spans([{"text": "Paris", "start": 0, "end": 5, "label": "LOC"}], "in Paris")
    [{'start': 3, 'end': 8, 'label': 'LOC'}]
    """
    out = []
    for span in spans:
        piece, start = str(span["text"]), int(span["start"])
        if not piece:
            continue
        if text[start : start + len(piece)] != piece:
            found = [m.start() for m in re.finditer(re.escape(piece), text)]
            if not found:
                continue
            start = min(found, key=lambda at: (abs(at - start), at))
        out.append({"start": start, "end": start + len(piece), "label": span["label"]})
    return out


@dataclass(frozen=True)
class AnswerFormat:
    """The JSON schema of an answer to ``questions`` and the validator of replies to it."""

    questions: tuple[Question, ...]
    name: str = "answer"
    schema: dict[str, Any] = field(init=False, compare=False)
    model: type[BaseModel] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.questions:
            raise SchemaError("an LLM answer needs at least one question")
        props: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for i, q in enumerate(self.questions):
            value, kind = _value_schema(q), _value_type(q)
            if not q.required:
                value, kind = {"anyOf": [value, {"type": "null"}]}, kind | None
            props[q.name] = value
            # positional attribute names: a question may be called "json" or "model_config"
            fields[f"q{i}"] = (kind, PydField(alias=q.name))
        schema = {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }
        model = create_model("Answer", __config__=ConfigDict(extra="forbid"), **fields)
        object.__setattr__(self, "schema", schema)
        object.__setattr__(self, "model", model)

    @classmethod
    def for_task(cls, task: Task, questions: Sequence[str] | None = None) -> AnswerFormat:
        """The format for ``questions`` (names) of ``task``; all of them by default."""
        chosen = tuple(task.question(n) for n in questions) if questions else task.questions
        name = re.sub(r"[^A-Za-z0-9_-]", "_", task.name)[:64] or "answer"
        return cls(questions=chosen, name=name)

    @property
    def response_format(self) -> dict[str, Any]:
        """The ``response_format`` of a chat-completions request (strict JSON schema)."""
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "schema": self.schema, "strict": True},
        }

    def parse(self, content: str, fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate a reply and return ``{question: canonical value}``.

        Parameters
        ----------
        content
            The assistant message: a JSON object.
        fields
            The record's fields, to align spans on their text and bound candidate indices.

        Raises
        ------
        SchemaError
            The reply is not JSON or breaks the schema; the message names the field.
        """
        try:
            data = json.loads(content)
        except (json.JSONDecodeError, TypeError) as exc:
            raise SchemaError(
                f"the answer is not valid JSON ({exc}): {str(content)[:200]!r}"
            ) from None
        try:
            answer = self.model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "top level"
            raise SchemaError(
                f"the answer's field {where!r}: {first['msg']} (got {first.get('input')!r})"
            ) from None
        dumped = answer.model_dump(by_alias=True)
        out: dict[str, Any] = {}
        for q in self.questions:
            value = dumped[q.name]
            if value is None:
                continue
            if isinstance(q, SpansQuestion):
                value = align_spans(value, str((fields or {}).get(q.field, "")))
            elif isinstance(q, PreferenceQuestion) and fields is not None:
                n = len(fields.get(q.candidates_field) or ())
                if any(not 0 <= i < n for i in value):
                    raise SchemaError(
                        f"the answer's field {q.name!r}: indices {value} outside 0..{n - 1}"
                    )
            out[q.name] = q.check(value)
        return out
