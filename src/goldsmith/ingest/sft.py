"""Supervised fine-tuning files back in: each row's answer becomes the question's label.

These read the rows :mod:`goldsmith.export.sft` writes (and the same shapes from elsewhere):

======================  ====================================================================
``openai-chat``         ``{"messages": [...]}``; the final turn must be the assistant's
``trl-sft-chat``        the same rows (TRL conversational)
``trl-sft``             ``{"prompt", "completion"}``, as text or (TRL conversational
                        prompt-completion) as message lists
``alpaca``              ``{"instruction", "input", "output"}``: with an input, the instruction
                        is the system prompt and the input the user text; without, the
                        instruction is the user text
``sharegpt``            ``{"conversations": [{"from", "value"}]}`` (``human``, ``gpt``,
                        ``system``; ``user`` and ``assistant`` too)
======================  ====================================================================

The answer (the last assistant turn, ``completion`` or ``output``) becomes the label of
``options.question`` (default: the task's first question) through the question's own cell
reading, so a classification export's answer ``"pos"`` comes back as the label ``pos``. It is
stored per ``options.labels_as``. The rest of the conversation becomes the record:

- a leading system turn equal to the prompt goldsmith's export writes for this task
  (``settings.system_prompt``, else the question's own) is dropped, since the export adds it
  back; another system turn is kept in the chat field, or in the ``system`` metadata key
  for a task without one;
- a task with a chat field gets the remaining turns there;
- otherwise the remaining turns must be one user turn, which fills the question's prompt
  fields (several fields are read back from the export's ``Title:`` blocks).

Other keys of the row (an ``id``, say) are mapped like a tabular row's columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from goldsmith.errors import InputError, SchemaError
from goldsmith.ingest.mapping import (
    FoundLabel,
    ImportItem,
    LabelResolver,
    Row,
    RowMapper,
    answer_label,
    chat_messages,
)
from goldsmith.ingest.options import ImportOptions
from goldsmith.schema import FieldKind, Task

Message = dict[str, str]
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


def _turns_chat(row: Row, key: str) -> list[Message]:
    return chat_messages(row.get(key))


def _turns_sharegpt(row: Row) -> list[Message]:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise SchemaError("expected a list of {from, value} turns")
    out = []
    for t in turns:
        if not isinstance(t, dict) or not isinstance(t.get("value"), str):
            raise SchemaError(f"a ShareGPT turn needs string 'from' and 'value', got {t!r}")
        role = str(t.get("from"))
        out.append({"role": SHAREGPT_ROLES.get(role, role), "content": t["value"]})
    return out


def _text(row: Row, key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise SchemaError(f"expected text in {key!r}, got {type(value).__name__}")
    return value


class SftConverter:
    """Rows of one SFT shape -> records whose answer is the question's label.

    Parameters
    ----------
    task, options, file:
        As for :class:`~goldsmith.ingest.mapping.RowMapper`.
    shape:
        ``chat`` (``messages``), ``prompt-completion``, ``alpaca`` or ``sharegpt``.
    """

    KEYS = {
        "chat": ("messages",),
        "prompt-completion": ("prompt", "completion"),
        "alpaca": ("instruction", "input", "output"),
        "sharegpt": ("conversations",),
    }

    def __init__(self, task: Task, options: ImportOptions, file: str, *, shape: str) -> None:
        self.task = task
        self.file = file
        self.shape = shape
        self.question = task.question(options.question)
        self.resolver = LabelResolver(
            self.question, label_map=options.label_map, code_base=options.code_base
        )
        # the record is built under the task's own field names, then mapped as a row
        plain = dataclasses.replace(options, text_field=None, label_field=None, answer_from=None)
        self.mapper = RowMapper(task, plain, file, labels=False)
        self.chat = next((f.name for f in task.fields if f.kind == FieldKind.CHAT), None)
        texts = [f.name for f in task.fields if f.kind == FieldKind.TEXT]
        self.prompt_fields = self.question.prompt_fields(texts)
        self.titles = {f.name: f.title or f.name for f in task.fields}
        self.system = task.settings.system_prompt or self.question.sft_system_prompt()

    def __call__(self, line: int, row: Row) -> ImportItem:
        key = self.KEYS[self.shape][-1]
        try:
            turns, answer = self._split(row)
            record = self._record(turns, row)
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line, field=key) from exc
        item = self.mapper.item(line, record)
        try:
            value = answer_label(self.question, self.resolver, answer)
            self.question.check_fields(value, item.fields)
        except SchemaError as exc:
            raise InputError(str(exc), file=self.file, line=line, field=key) from exc
        item.labels.append(FoundLabel(self.question.name, value))
        return item

    def warnings(self) -> list[str]:
        """The mapper's notes (number-only or partly empty fields)."""
        return self.mapper.warnings()

    # ------------------------------------------------------------------ shapes

    def _split(self, row: Row) -> tuple[list[Message], str]:
        """The conversation before the answer, and the answer."""
        if self.shape == "prompt-completion":
            prompt, completion = row.get("prompt"), row.get("completion")
            if isinstance(prompt, list) or isinstance(completion, list):  # conversational
                answer_turns = chat_messages(completion)
                return chat_messages(prompt), _last_assistant(answer_turns)[1]
            text = _text(row, "prompt")
            head = f"{self.system}\n\n" if self.system else None
            if head and text.startswith(head):
                turns = [{"role": "system", "content": self.system or ""}]
                return [*turns, {"role": "user", "content": text[len(head) :]}], _text(
                    row, "completion"
                )
            return [{"role": "user", "content": text}], _text(row, "completion")
        if self.shape == "alpaca":
            instruction, extra = _text(row, "instruction"), row.get("input") or ""
            if not isinstance(extra, str):
                raise SchemaError(f"expected text in 'input', got {type(extra).__name__}")
            turns = (
                [{"role": "system", "content": instruction}, {"role": "user", "content": extra}]
                if extra
                else [{"role": "user", "content": instruction}]
            )
            return turns, _text(row, "output")
        messages = (
            _turns_sharegpt(row) if self.shape == "sharegpt" else _turns_chat(row, "messages")
        )
        return _last_assistant(messages)

    def _record(self, turns: list[Message], row: Row) -> Row:
        """The row the mapper reads: the fields under their names, other keys as they are."""
        record: Row = {k: v for k, v in row.items() if k not in self.KEYS[self.shape]}
        if turns and turns[0]["role"] == "system":
            if turns[0]["content"] == self.system:
                turns = turns[1:]
            elif self.chat is None:
                record.setdefault("system", turns[0]["content"])
                turns = turns[1:]
        if self.chat is not None:
            if not turns:
                raise SchemaError("there is no conversation before the answer")
            record[self.chat] = turns
            return record
        if len(turns) != 1 or turns[0]["role"] != "user":
            roles = ", ".join(t["role"] for t in turns) or "none"
            raise SchemaError(
                f"the prompt is {len(turns)} turn(s) ({roles}), and a task without a chat field "
                "holds one user text; add a field with kind = 'chat' to goldsmith.toml to "
                "import conversations"
            )
        record.update(self._fields(turns[0]["content"]))
        return record

    def _fields(self, text: str) -> dict[str, str]:
        """The prompt fields from the user text (several: the export's ``Title:`` blocks)."""
        names = self.prompt_fields
        if len(names) <= 1:
            return {names[0]: text} if names else {}
        out: dict[str, str] = {}
        rest = text
        for i, name in enumerate(names):
            head = f"{self.titles[name]}:\n"
            if not rest.startswith(head):
                raise SchemaError(
                    f"the user text should hold the blocks {', '.join(names)} as "
                    f"'Title:' lines (as goldsmith exports them); {head.strip()!r} is missing"
                )
            rest = rest[len(head) :]
            if i + 1 == len(names):
                out[name] = rest
                break
            sep = f"\n\n{self.titles[names[i + 1]]}:\n"
            at = rest.find(sep)
            if at < 0:
                raise SchemaError(f"no {sep.strip()!r} block after {head.strip()!r}")
            out[name], rest = rest[:at], rest[at + 2 :]
        return out


def _last_assistant(messages: list[Message]) -> tuple[list[Message], str]:
    if messages[-1]["role"] != "assistant":
        raise SchemaError(
            f"the conversation ends with a {messages[-1]['role']!r} turn; the last turn must "
            "be the assistant's answer"
        )
    return messages[:-1], messages[-1]["content"]


def sft_converter(shape: str) -> Callable[[Task, ImportOptions, str], SftConverter]:
    """A converter factory for the format registry."""

    def make(task: Task, options: ImportOptions, file: str) -> SftConverter:
        return SftConverter(task, options, file, shape=shape)

    return make
