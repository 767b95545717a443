"""The training-file validator: one test per problem kind, our own files pass, tokens offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldsmith import DataValidationError, ExportError, ExportOptions, Project, RegistryError
from goldsmith.export.tokens import count_messages, count_text
from goldsmith.export.validate import validate_file

Fill = Callable[..., tuple[list[int], list[dict[str, Any]], list[Any]]]
USER = {"role": "user", "content": "What is 2 + 2?"}
BOT = {"role": "assistant", "content": "4"}
CHAT = {"messages": [USER, BOT]}


def write(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "data.jsonl"
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, fmt: str, lines: list[Any], **kw: Any) -> list[tuple[int, str]]:
    path = write(tmp_path, lines)
    with pytest.raises(DataValidationError) as err:
        validate_file(path, fmt, **kw)
    assert err.value.file == str(path)
    return [(line, kind) for line, kind, _ in err.value.problems]


# --------------------------------------------------------------------------- openai-chat


def test_valid_chat_file_counts_examples(tmp_path: Path) -> None:
    tool = {"role": "assistant", "tool_calls": [{"id": "1", "type": "function"}]}
    sys_msg = {"role": "system", "content": "Be brief.", "name": "cfg"}
    assert (
        validate_file(write(tmp_path, [CHAT, {"messages": [sys_msg, USER, tool]}]), "openai-chat")
        == 2
    )


def test_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", []) == [(0, "empty_file")]


def test_invalid_json(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [CHAT, '{"messages": [']) == [(2, "invalid_json")]


def test_blank_line_is_invalid_json(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [CHAT, "", CHAT]) == [(2, "invalid_json")]


def test_not_utf8_is_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(CHAT).encode() + b"\n" + b'{"messages": "caf\xe9"}\n')
    with pytest.raises(DataValidationError) as err:
        validate_file(path, "openai-chat")
    assert [(ln, kind) for ln, kind, _ in err.value.problems] == [(2, "invalid_json")]


def test_not_an_object(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [CHAT, CHAT, [USER, BOT]]) == [(3, "not_an_object")]


def test_unknown_key_at_top_level(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [{**CHAT, "label": "x"}]) == [(1, "unknown_key")]


def test_unknown_key_in_a_message(tmp_path: Path) -> None:
    row = {"messages": [{**USER, "lang": "en"}, BOT]}
    assert problems(tmp_path, "openai-chat", [CHAT, row]) == [(2, "unknown_key")]


def test_missing_messages(tmp_path: Path) -> None:
    found = problems(tmp_path, "openai-chat", [{"tools": []}, {"messages": []}, {"messages": "hi"}])
    assert found == [(1, "missing_messages"), (2, "missing_messages"), (3, "missing_messages")]


def test_message_not_object(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [{"messages": ["hi", BOT]}]) == [
        (1, "message_not_object")
    ]


def test_bad_role(tmp_path: Path) -> None:
    rows = [
        {"messages": [{"content": "hi"}, BOT]},
        {"messages": [{"role": "robot", "content": "x"}, BOT]},
    ]
    assert problems(tmp_path, "openai-chat", rows) == [(1, "bad_role"), (2, "bad_role")]


def test_missing_content(tmp_path: Path) -> None:
    rows = [
        {"messages": [{"role": "user"}, BOT]},
        {"messages": [{"role": "user", "content": 42}, BOT]},
        {"messages": [USER, {"role": "assistant", "content": None}]},
    ]
    assert problems(tmp_path, "openai-chat", rows) == [
        (1, "missing_content"),
        (2, "missing_content"),
        (3, "missing_content"),
    ]


def test_no_assistant(tmp_path: Path) -> None:
    assert problems(tmp_path, "openai-chat", [CHAT, {"messages": [USER]}]) == [(2, "no_assistant")]


def test_too_many_tokens(tmp_path: Path) -> None:
    long = {"messages": [USER, {"role": "assistant", "content": "word " * 50}]}
    assert problems(tmp_path, "openai-chat", [CHAT, long], max_tokens=40) == [
        (2, "too_many_tokens")
    ]
    path = write(tmp_path, [long])
    n = count_messages(long["messages"])
    with pytest.raises(DataValidationError, match=f"{n} tokens, more than max_tokens=40"):
        validate_file(path, "openai-chat", max_tokens=40)
    assert validate_file(path, "openai-chat", max_tokens=n) == 1


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    rows: list[Any] = [CHAT, "nope", [1], {"messages": [USER]}, CHAT]
    with pytest.raises(DataValidationError) as err:
        validate_file(write(tmp_path, rows), "openai-chat")
    assert [(ln, kind) for ln, kind, _ in err.value.problems] == [
        (2, "invalid_json"),
        (3, "not_an_object"),
        (4, "no_assistant"),
    ]
    assert "3 problem(s): line 2: invalid_json" in str(err.value)


# --------------------------------------------------------------------------- other validators

DPO = {
    "input": {"messages": [USER]},
    "preferred_output": [{"role": "assistant", "content": "4"}],
    "non_preferred_output": [{"role": "assistant", "content": "5"}],
}


def test_dpo_problems(tmp_path: Path) -> None:
    rows: list[Any] = [
        DPO,
        {k: v for k, v in DPO.items() if k != "preferred_output"},
        {**DPO, "input": "2 + 2"},
        {**DPO, "input": {"tools": []}},
        {**DPO, "non_preferred_output": [USER]},
        {**DPO, "preferred_output": "4"},
        {**DPO, "extra": 1},
    ]
    assert problems(tmp_path, "openai-dpo", rows) == [
        (2, "missing_field"),
        (3, "wrong_type"),
        (4, "missing_messages"),
        (5, "bad_role"),
        (6, "missing_messages"),
        (7, "unknown_key"),
    ]


def test_trl_sft_problems(tmp_path: Path) -> None:
    pc = {"prompt": "2 + 2 =", "completion": " 4"}
    assert validate_file(write(tmp_path, [pc, pc]), "trl-sft") == 2
    assert validate_file(write(tmp_path, [CHAT]), "trl-sft-chat") == 1
    rows: list[Any] = [pc, {"prompt": "x"}, {"prompt": 5, "completion": "y"}, {**pc, "label": 1}]
    assert problems(tmp_path, "trl-sft", rows) == [
        (2, "missing_field"),
        (3, "wrong_type"),
        (4, "unknown_key"),
    ]


def test_trl_sft_mixed_style(tmp_path: Path) -> None:
    pc = {"prompt": "2 + 2 =", "completion": " 4"}
    assert problems(tmp_path, "trl-sft", [pc, CHAT]) == [(2, "mixed_style")]


def test_trl_preference_problems(tmp_path: Path) -> None:
    ok = {"prompt": "p", "chosen": "a", "rejected": "b"}
    rows: list[Any] = [
        ok,
        {"prompt": "p", "chosen": "a"},
        {**ok, "rejected": 3},
        {**ok, "score": 1},
    ]
    assert problems(tmp_path, "trl-preference", rows) == [
        (2, "missing_field"),
        (3, "wrong_type"),
        (4, "unknown_key"),
    ]


def test_trl_kto_label_must_be_a_bool(tmp_path: Path) -> None:
    ok = {"prompt": "p", "completion": "a", "label": True}
    rows: list[Any] = [ok, {**ok, "label": "yes"}, {"prompt": "p", "completion": "a"}]
    assert problems(tmp_path, "trl-kto", rows) == [(2, "wrong_type"), (3, "missing_field")]


def test_formats_without_a_validator(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no validator for format 'csv'.*openai-chat"):
        validate_file(write(tmp_path, [CHAT]), "csv")
    with pytest.raises(ExportError, match="cannot read"):
        validate_file(tmp_path / "missing.jsonl", "openai-chat")


# --------------------------------------------------------------------------- our files pass

OURS = [
    ("openai-chat", "classification"),
    ("openai-chat", "ner"),
    ("trl-sft", "multilabel"),
    ("trl-sft-chat", "sft"),
    ("openai-dpo", "preference"),
    ("trl-preference", "preference"),
    ("trl-kto", "preference"),
]


@pytest.mark.parametrize(("fmt", "template"), OURS)
def test_our_files_pass(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path, fmt: str, template: str
) -> None:
    p = blank(template)
    fill(p, template, range(20))
    report = p.export(ExportOptions(fmt=fmt, out=tmp_path / "o", split=(0.5, 0.5)))
    assert report.validated
    for split, path in report.files.items():
        assert validate_file(path, fmt) == report.examples[split] > 0


def test_export_raises_when_its_files_break_the_limits(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("classification")
    fill(p, "classification", range(3))
    with pytest.raises(DataValidationError, match="too_many_tokens"):
        p.export(ExportOptions(fmt="openai-chat", out=tmp_path / "o", max_tokens=10))
    report = p.export(
        ExportOptions(fmt="openai-chat", out=tmp_path / "n", validate=False, max_tokens=10)
    )
    assert not report.validated


# --------------------------------------------------------------------------- tokens


def test_token_counts() -> None:
    assert count_text("hello world") == 2
    assert count_text("<|endoftext|>") > 1  # special tokens are plain text here
    assert count_messages([{"role": "user", "content": "hello world"}]) == 9
    assert (
        count_messages([{"role": "user", "content": "hi", "name": "bob"}]) == 3 + 1 + 1 + 1 + 1 + 3
    )


def test_token_counting_works_offline(tmp_path: Path) -> None:
    """A fresh interpreter with no network and no tiktoken cache still counts tokens."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from goldsmith.export.tokens import count_text\n"
        "print(count_text('The quick brown fox jumps over the lazy dog.'))\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "empty-cache")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "10"
