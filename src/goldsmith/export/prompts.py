"""From a task and a labeled record to a prompt and an answer.

The wording is fixed by the task, never by the format, so every format of one export says the
same thing:

- the system prompt is ``task.settings.system_prompt``, or one generated from the question
  ("Classify the text into one of: a, b, c. Answer with the label only."); free-form
  questions (``text``, ``preference``) get none unless the question has a title;
- the user message is the record's text field(s): one field as it is, several as
  ``Title:\\nvalue`` blocks; a spans question shows only the field its offsets refer to,
  a preference question leaves out its candidates; a chat field is the transcript itself;
- the answer is the kind's training-row form (``QuestionKind.sft_answer``): the label for
  ``label``, ``{"labels": [...]}`` for ``multilabel``, ``[{"start", "end", "label",
  "text"}, ...]`` for ``spans`` (``"labels"`` for ``span_multilabel``), the text for
  ``text``, the rating as a string for ``rating`` and the best candidate for ``preference``.
"""

from __future__ import annotations

from typing import Any

from goldsmith.errors import ExportError
from goldsmith.schema import (
    FieldKind,
    Question,
    Record,
    Task,
)

Message = dict[str, Any]


def system_prompt(task: Task, question: Question) -> str | None:
    """The system prompt of ``question``: the task's own, or one generated from the question.

    Examples
    --------
    >>> from goldsmith.schema import FieldSpec, LabelQuestion
    >>> q = LabelQuestion(name="label", labels=("a", "b", "c"))
    >>> system_prompt(Task(name="t", fields=(FieldSpec(name="text"),), questions=(q,)), q)
    'Classify the text into one of: a, b, c. Answer with the label only.'
    """
    if task.settings.system_prompt:
        return task.settings.system_prompt
    return question.sft_system_prompt()


def _text_fields(task: Task, question: Question) -> list[str]:
    return question.prompt_fields([f.name for f in task.fields if f.kind == FieldKind.TEXT])


def _chat_field(task: Task, question: Question) -> str | None:
    if question.marks_spans:  # the prompt is the field the spans mark, without a transcript
        return None
    return next((f.name for f in task.fields if f.kind == FieldKind.CHAT), None)


def user_text(task: Task, question: Question, record: Record) -> str:
    """The record's text fields as one user message (without any chat transcript)."""
    names = [n for n in _text_fields(task, question) if record.fields.get(n) is not None]
    if len(names) == 1:
        return str(record.fields[names[0]])
    titles = {f.name: f.title or f.name for f in task.fields}
    return "\n\n".join(f"{titles.get(n, n)}:\n{record.fields[n]}" for n in names)


def transcript(task: Task, question: Question, record: Record) -> list[Message]:
    """The conversation shown to the model: text fields as a user turn, then any chat field."""
    messages: list[Message] = []
    text = user_text(task, question, record)
    chat = _chat_field(task, question)
    if text or chat is None:
        messages.append({"role": "user", "content": text})
    if chat is not None:
        value = record.fields.get(chat) or []
        if not isinstance(value, list):
            raise ExportError(f"record {record.id}: chat field {chat!r} is not a list of messages")
        for m in value:
            if not isinstance(m, dict) or "role" not in m:
                raise ExportError(
                    f"record {record.id}: chat field {chat!r} holds {m!r}, "
                    "expected {'role': ..., 'content': ...}"
                )
            messages.append({"role": str(m["role"]), "content": str(m.get("content") or "")})
    return messages


def prompt_messages(
    task: Task, question: Question, record: Record, system: str | None
) -> list[Message]:
    """System message (when there is one) followed by :func:`transcript`."""
    head = [{"role": "system", "content": system}] if system else []
    return head + transcript(task, question, record)


def flat_prompt(task: Task, question: Question, record: Record, system: str | None) -> str:
    """The prompt as one string for prompt/completion formats: system, blank line, user.

    A chat transcript is written as ``role: content`` lines.
    """
    turns = transcript(task, question, record)
    if len(turns) == 1 and turns[0]["role"] == "user":
        body = str(turns[0]["content"])
    else:
        body = "\n".join(f"{m['role']}: {m['content']}" for m in turns)
    return f"{system}\n\n{body}" if system else body


def answer(question: Question, value: Any, record: Record) -> str:
    """The assistant's answer for ``value``, a final label of ``question``."""
    return question.sft_answer(value, record)


def spans_with_text(question: Question, value: Any, record: Record) -> list[dict[str, Any]]:
    """Spans as ``{"start", "end", <label keys>, "text"}``; a span past the text is an error."""
    return question.spans_with_text(value, record)


def candidates(question: Question, record: Record) -> list[str]:
    """The candidate responses of a preference record (a list of strings)."""
    return question.candidates_of(record)


def ranking(question: Question, value: Any, record: Record) -> list[int]:
    """The ranking (candidate indices, best first), checked against the candidates."""
    return question.ranking_of(value, record)


def preference_pairs(order: list[int], how: str) -> list[tuple[int, int]]:
    """``(chosen, rejected)`` index pairs from a ranking, best first.

    ``"best"`` pairs the best candidate with each worse one (k - 1 pairs); ``"all"`` gives
    every ordered pair (k(k - 1) / 2 pairs).

    Examples
    --------
    >>> preference_pairs([2, 0, 1], "best")
    [(2, 0), (2, 1)]
    >>> preference_pairs([2, 0, 1], "all")
    [(2, 0), (2, 1), (0, 1)]
    """
    if how == "best":
        return [(order[0], worse) for worse in order[1:]]
    return [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
