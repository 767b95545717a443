"""Checks of training files, after OpenAI's fine-tuning data-preparation guide.

:func:`validate_file` reads a JSON Lines file and returns its number of examples, or raises
:class:`~goldsmith.errors.DataValidationError` listing every problem as ``(line, kind,
message)``. Line 0 stands for the whole file. The problem kinds are stable names:

=====================  =========================================================================
``empty_file``         the file holds no example
``invalid_json``       a line is not JSON (or is blank, or not UTF-8)
``not_an_object``      a line is JSON but not an object
``unknown_key``        a key the format does not know, at the top level or in a message
``missing_messages``   no ``messages`` list (or it is empty)
``message_not_object`` a message is not an object
``bad_role``           a message has no role, an unknown role, or the wrong role for its place
``missing_content``    a message has no string content (assistant tool calls excepted)
``no_assistant``       a chat example has no assistant message
``missing_field``      a required key is absent (``prompt``, ``input``, ``preferred_output``…)
``wrong_type``         a value has the wrong type (a prompt not a string, a label not a bool…)
``mixed_style``        trl-sft lines mix prompt-completion and conversational examples
``too_many_tokens``    an example is longer than ``max_tokens`` (cl100k_base, offline)
=====================  =========================================================================

Validator kinds: ``openai-chat``, ``openai-dpo``, ``trl-sft`` (prompt/completion or messages),
``trl-preference`` and ``trl-kto``. ``fmt`` may also be the name of an exporter that has one
(``trl-sft-chat`` uses ``trl-sft``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldsmith.errors import DataValidationError, ExportError, RegistryError
from goldsmith.export import formats
from goldsmith.export.tokens import bounded_count, message_texts

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "function_call", "tool_call_id"}
)
CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
DPO_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
DPO_INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
MAX_PROBLEMS = 1000

Sequence_ = tuple[list[str], int]  # the texts of one training sequence and their overhead


class _Line:
    """The problems found on one line, and the state shared between lines."""

    def __init__(self, number: int, state: dict[str, str]) -> None:
        self.number = number
        self.state = state
        self.problems: list[tuple[int, str, str]] = []

    def add(self, kind: str, message: str) -> None:
        self.problems.append((self.number, kind, message))


Checker = Callable[[dict[str, Any], _Line], list[Sequence_]]


def _unknown(obj: dict[str, Any], allowed: frozenset[str], where: str, line: _Line) -> None:
    for key in sorted(set(obj) - allowed):
        line.add("unknown_key", f"unknown key {key!r} in {where}; expected {sorted(allowed)}")


def _messages(
    value: Any, where: str, line: _Line, *, need_assistant: bool, only_role: str | None = None
) -> list[dict[str, Any]]:
    """Check a message list; return its valid messages."""
    if not isinstance(value, list) or not value:
        line.add("missing_messages", f"{where} must be a non-empty list of messages")
        return []
    good: list[dict[str, Any]] = []
    for i, m in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(m, dict):
            line.add("message_not_object", f"{at} is {type(m).__name__}, expected an object")
            continue
        _unknown(m, MESSAGE_KEYS, at, line)
        role = m.get("role")
        if role not in ROLES:
            what = "has no role" if role is None else f"has unknown role {role!r}"
            line.add("bad_role", f"{at} {what}; roles: {sorted(ROLES)}")
            continue
        if only_role is not None and role != only_role:
            line.add("bad_role", f"{at} has role {role!r}; expected {only_role!r}")
        tool_call = role == "assistant" and ("tool_calls" in m or "function_call" in m)
        content = m.get("content")
        if not isinstance(content, str) and not (tool_call and content is None):
            line.add("missing_content", f"{at} ({role}) needs string content")
            continue
        good.append(m)
    if need_assistant and not any(
        m.get("role") == "assistant" for m in value if isinstance(m, dict)
    ):
        line.add("no_assistant", f"{where} has no assistant message to learn from")
    return good


def _text(obj: dict[str, Any], key: str, line: _Line) -> Sequence_ | None:
    """A required field that is a string or a list of messages (TRL conversational)."""
    if key not in obj:
        line.add("missing_field", f"missing {key!r}")
        return None
    value = obj[key]
    if isinstance(value, str):
        return [value], 0
    if isinstance(value, list):
        return message_texts(_messages(value, key, line, need_assistant=False))
    line.add("wrong_type", f"{key!r} is {type(value).__name__}, expected a string or messages")
    return None


def _join(*parts: Sequence_ | None) -> list[Sequence_]:
    if any(p is None for p in parts):
        return []
    texts = [t for p in parts if p is not None for t in p[0]]
    return [(texts, sum(p[1] for p in parts if p is not None))]


def check_chat(obj: dict[str, Any], line: _Line) -> list[Sequence_]:
    """``{"messages": [...]}`` with at least one assistant message."""
    _unknown(obj, CHAT_KEYS, "the example", line)
    if "messages" not in obj:
        line.add("missing_messages", "missing 'messages'")
        return []
    return [message_texts(_messages(obj["messages"], "messages", line, need_assistant=True))]


def check_dpo(obj: dict[str, Any], line: _Line) -> list[Sequence_]:
    """OpenAI preference rows: input.messages, preferred_output, non_preferred_output."""
    _unknown(obj, DPO_KEYS, "the example", line)
    prompt: Sequence_ | None = None
    if "input" not in obj:
        line.add("missing_field", "missing 'input'")
    elif not isinstance(obj["input"], dict):
        line.add("wrong_type", f"'input' is {type(obj['input']).__name__}, expected an object")
    elif "messages" not in obj["input"]:
        _unknown(obj["input"], DPO_INPUT_KEYS, "'input'", line)
        line.add("missing_messages", "missing 'input.messages'")
    else:
        _unknown(obj["input"], DPO_INPUT_KEYS, "'input'", line)
        msgs = _messages(obj["input"]["messages"], "input.messages", line, need_assistant=False)
        prompt = message_texts(msgs)
    outputs: list[Sequence_ | None] = []
    for key in ("preferred_output", "non_preferred_output"):
        if key not in obj:
            line.add("missing_field", f"missing {key!r}")
            outputs.append(None)
            continue
        msgs = _messages(obj[key], key, line, need_assistant=False, only_role="assistant")
        texts, overhead = message_texts(msgs)
        outputs.append((texts, overhead))
    return [seq for out in outputs for seq in _join(prompt, out)]


def check_trl_sft(obj: dict[str, Any], line: _Line) -> list[Sequence_]:
    """TRL SFT rows: ``{"prompt", "completion"}`` or ``{"messages"}``, one style per file."""
    style = "conversational" if "messages" in obj else "prompt-completion"
    first = line.state.setdefault("style", style)
    if style != first:
        line.add("mixed_style", f"a {style} example in a file of {first} examples")
    if style == "conversational":
        _unknown(obj, frozenset({"messages"}), "the example", line)
        return check_chat(obj, line)
    _unknown(obj, frozenset({"prompt", "completion"}), "the example", line)
    return _join(_text(obj, "prompt", line), _text(obj, "completion", line))


def check_trl_preference(obj: dict[str, Any], line: _Line) -> list[Sequence_]:
    """TRL preference rows: prompt, chosen, rejected."""
    _unknown(obj, frozenset({"prompt", "chosen", "rejected"}), "the example", line)
    prompt = _text(obj, "prompt", line)
    chosen, rejected = _text(obj, "chosen", line), _text(obj, "rejected", line)
    return _join(prompt, chosen) + _join(prompt, rejected)


def check_trl_kto(obj: dict[str, Any], line: _Line) -> list[Sequence_]:
    """TRL KTO rows: prompt, completion, label (a bool)."""
    _unknown(obj, frozenset({"prompt", "completion", "label"}), "the example", line)
    if "label" not in obj:
        line.add("missing_field", "missing 'label'")
    elif not isinstance(obj["label"], bool):
        line.add("wrong_type", f"'label' is {obj['label']!r}, expected true or false")
    return _join(_text(obj, "prompt", line), _text(obj, "completion", line))


VALIDATORS: dict[str, Checker] = {
    "openai-chat": check_chat,
    "openai-dpo": check_dpo,
    "trl-sft": check_trl_sft,
    "trl-preference": check_trl_preference,
    "trl-kto": check_trl_kto,
}


def validator_kind(fmt: str) -> str:
    """The validator kind for ``fmt``: a validator kind itself or an exporter that has one."""
    if fmt in VALIDATORS:
        return fmt
    if fmt in formats.EXPORTERS:
        kind = formats.get_exporter(fmt).validator
        if kind is not None:
            return kind
    checkable = sorted({*VALIDATORS, *(e.name for e in formats.EXPORTERS if e.validator)})
    raise RegistryError(
        f"no validator for format {fmt!r}; formats with one: {', '.join(checkable)}"
    )


def validate_file(path: Path, fmt: str, *, max_tokens: int = 16_384) -> int:
    """Check a training file and return its number of examples.

    Parameters
    ----------
    path
        A JSON Lines file.
    fmt
        A validator kind or a format name (see the module docstring).
    max_tokens
        The longest example allowed, in cl100k_base tokens.

    Raises
    ------
    DataValidationError
        With every problem found, as ``(line, kind, message)``.
    RegistryError
        When ``fmt`` has no validator.
    """
    check = VALIDATORS[validator_kind(fmt)]
    problems: list[tuple[int, str, str]] = []
    state: dict[str, str] = {}
    n = 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if len(problems) >= MAX_PROBLEMS:
                break
            line = _Line(number, state)
            if raw.strip():
                n += 1
                _check_line(raw, line, check, max_tokens)
            else:
                line.add("invalid_json", "blank line; every line must hold one JSON object")
            problems += line.problems
    if n == 0:
        problems.append((0, "empty_file", "the file holds no examples"))
    if problems:
        raise DataValidationError(str(path), problems)
    return n


def _check_line(raw: bytes, line: _Line, check: Checker, max_tokens: int) -> None:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line.add("invalid_json", f"not valid JSON: {exc}")
        return
    if not isinstance(obj, dict):
        line.add("not_an_object", f"expected a JSON object, got {type(obj).__name__}")
        return
    sequences = check(obj, line)
    if line.problems:
        return
    longest = max((bounded_count(texts, over, max_tokens) for texts, over in sequences), default=0)
    if longest > max_tokens:
        line.add("too_many_tokens", f"{longest} tokens, more than max_tokens={max_tokens}")
