"""The one place an LLM request is built: every prompt goldsmith sends goes through
:func:`build_request`.

A request is a system message (the system prompt, the guidelines, extra instructions and the
questions), few-shot examples as user/assistant turns, then the record as the last user turn.
It is deterministic: the same inputs give byte-identical messages, which the answer cache
keys on.

Only the task's fields (and the candidates a preference question ranks) are sent; metadata
never is. When ``task.settings.redact_before_llm`` is true every piece of record text (of the
record and of each example, including example answers that quote it) passes through
``redact`` first, and building a request without a redactor is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.llm.structured import AnswerFormat
from goldsmith.schema import Record, Task

DEFAULT_SYSTEM_PROMPT = (
    "You are a careful annotator. You read one record at a time and answer the questions "
    "about it exactly as the guidelines say."
)

Redact = Callable[[str], str]
Example = tuple[Record, Mapping[str, Any]]
"""A labeled example: a record and its answer ``{question: value}``."""


@dataclass(frozen=True)
class ChatRequest:
    """A chat-completions request for one record: its messages and its ``response_format``.

    ``answer`` validates the reply; ``fields`` are the record's original (unredacted) fields,
    on which returned spans are aligned. Neither is sent.
    """

    messages: tuple[dict[str, str], ...]
    response_format: dict[str, Any]
    answer: AnswerFormat = field(compare=False, repr=False)
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    record_id: int | None = None


def _system(task: Task, fmt: AnswerFormat, guidelines: str, instructions: str) -> str:
    parts = [task.settings.system_prompt or DEFAULT_SYSTEM_PROMPT]
    if guidelines.strip():
        parts.append("# Guidelines\n\n" + guidelines.strip())
    if instructions.strip():
        parts.append("# Instructions\n\n" + instructions.strip())
    questions = "\n".join(q.describe() for q in fmt.questions)
    parts.append("# Answer\n\nReply with only a JSON object that has these keys:\n" + questions)
    return "\n\n".join(parts)


def _sent_fields(task: Task, fmt: AnswerFormat) -> list[tuple[str, str]]:
    """``(field name, heading)`` of what is sent, in task order; then candidate lists."""
    out = [(f.name, f.title or f.name) for f in task.fields]
    for q in fmt.questions:
        for name in q.llm_fields():
            if name not in dict(out):
                out.append((name, name))
    return out


def _render_value(value: Any, redact: Redact) -> str:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        lines = []
        for i, item in enumerate(value):
            if isinstance(item, Mapping):  # a chat message
                lines.append(f"{item.get('role', 'user')}: {redact(str(item.get('content', '')))}")
            else:  # a candidate
                lines.append(f"[{i}] {redact(str(item))}")
        return "\n".join(lines)
    return redact(str(value))


def _render_record(record: Record, sent: list[tuple[str, str]], redact: Redact) -> str:
    blocks = [
        f"## {heading}\n{_render_value(record.fields[name], redact)}"
        for name, heading in sent
        if record.fields.get(name) is not None
    ]
    if not blocks:
        raise SchemaError(
            f"record {record.id} has none of the fields {[n for n, _ in sent]} to send"
        )
    return "\n\n".join(blocks)


def _render_answer(
    fmt: AnswerFormat, values: Mapping[str, Any], record: Record, redact: Redact
) -> str:
    out: dict[str, Any] = {}
    for q in fmt.questions:
        if q.name not in values or values[q.name] is None:
            if q.required:
                raise SchemaError(
                    f"few-shot example (record {record.id}) has no value for {q.name!r}; "
                    "give examples that answer every question asked"
                )
            out[q.name] = None
            continue
        out[q.name] = q.to_llm(q.check(values[q.name]), record.fields, redact)
    return json.dumps(out, ensure_ascii=False)


def _no_redaction(text: str) -> str:
    return text


def build_request(
    task: Task,
    guidelines: str,
    record: Record,
    *,
    questions: Sequence[str] | None = None,
    examples: Sequence[Example] = (),
    instructions: str = "",
    redact: Redact | None = None,
) -> ChatRequest:
    """The chat request that asks an LLM to answer ``questions`` about ``record``.

    Parameters
    ----------
    task
        Its fields say what is sent, its questions what is asked, and its settings give the
        system prompt and whether text is redacted before it leaves.
    guidelines
        The annotation guidelines (Markdown), shown to the model as to annotators.
    record
        The record to answer about.
    questions
        Names of the questions to ask; all of the task's by default.
    examples
        Few-shot ``(record, {question: value})`` pairs, sent in the order given.
    instructions
        Extra instructions after the guidelines (a labeling function's prompt, say).
    redact
        ``text -> text`` applied to every piece of record and example text when
        ``task.settings.redact_before_llm`` is true (then it is required).

    Returns
    -------
    ChatRequest
        Messages, ``response_format`` (strict JSON schema) and the answer validator.
    """
    if task.settings.redact_before_llm:
        if redact is None:
            raise ConfigError(
                "settings.redact_before_llm is true, so record text must be redacted before "
                "it is sent to an LLM, but no redactor was given: pass redact=..., or set "
                "redact_before_llm = false under [task.settings] in goldsmith.toml"
            )
        scrub = redact
    else:
        scrub = _no_redaction
    fmt = AnswerFormat.for_task(task, questions)
    sent = _sent_fields(task, fmt)
    messages = [{"role": "system", "content": _system(task, fmt, guidelines, instructions)}]
    for example, values in examples:
        messages.append({"role": "user", "content": _render_record(example, sent, scrub)})
        messages.append(
            {"role": "assistant", "content": _render_answer(fmt, values, example, scrub)}
        )
    messages.append({"role": "user", "content": _render_record(record, sent, scrub)})
    return ChatRequest(
        messages=tuple(messages),
        response_format=fmt.response_format,
        answer=fmt,
        fields=dict(record.fields),
        record_id=record.id,
    )
