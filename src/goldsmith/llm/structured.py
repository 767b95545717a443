"""The shape of an LLM's answer: a JSON schema for the endpoint and a validator for the reply.

Both are built from the same task questions, so what the endpoint is told to produce and what
goldsmith accepts cannot drift apart. Each question kind gives the schema of its value
(:meth:`~goldsmith.kinds.base.QuestionKind.json_schema`), its pydantic type and how a valid
answer becomes its canonical value (:meth:`~goldsmith.kinds.base.QuestionKind.from_llm`):

===============  ================================================================
question         JSON schema of its value
===============  ================================================================
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
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic import Field as PydField

from goldsmith.errors import SchemaError
from goldsmith.kinds._spans import align_spans as align_spans
from goldsmith.kinds.rating import ENUM_RATINGS as ENUM_RATINGS
from goldsmith.schema import Question, Task


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
            value, kind = q.json_schema(), q.value_type()
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
            out[q.name] = q.from_llm(value, fields)
        return out
