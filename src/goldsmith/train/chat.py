"""Training rows for LLM fine-tuning, in TRL's conversational prompt-completion form.

A row is ``{"prompt": [system?, user], "completion": [assistant]}``; TRL renders it through
the tokenizer's chat template and computes the loss on the completion only. Rows come either
from the project (with the exact wording of the ``openai-chat`` / ``trl-sft`` exports, see
:mod:`goldsmith.export.prompts`) or from files those exports wrote, so a dataset exported,
inspected and edited by hand trains the same way.

Preference rows (DPO) are ``{"prompt": [...], "chosen": [assistant], "rejected":
[assistant]}``, the ``trl-preference`` export's conversational twin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goldsmith.errors import InputError, SchemaError
from goldsmith.export import prompts
from goldsmith.schema import Question, Record, Task
from goldsmith.train.data import Example

Row = dict[str, Any]


def prompt_of(task: Task, question: Question, record: Record) -> list[dict[str, Any]]:
    """The chat prompt of one record: system prompt (if any) and user message."""
    return prompts.prompt_messages(task, question, record, prompts.system_prompt(task, question))


def sft_rows(task: Task, question: Question, examples: list[Example]) -> list[Row]:
    """One prompt-completion row per example, with the export's wording."""
    if not question.trains_sft:
        raise SchemaError(
            f"question {question.name!r} is a {question.kind} question: use 'goldsmith train dpo'"
        )
    return [
        {
            "prompt": prompt_of(task, question, e.record),
            "completion": [
                {"role": "assistant", "content": prompts.answer(question, e.value, e.record)}
            ],
        }
        for e in examples
    ]


def preference_rows(task: Task, question: Question, examples: list[Example]) -> list[Row]:
    """DPO rows: the best-ranked candidate against each worse one, per example."""
    if not question.ranks_candidates:
        raise SchemaError(
            f"question {question.name!r} is a {question.kind} question; DPO needs a preference "
            "question"
        )
    rows: list[Row] = []
    for e in examples:
        texts = prompts.candidates(question, e.record)
        order = prompts.ranking(question, e.value, e.record)
        for better, worse in prompts.preference_pairs(order, "best"):
            rows.append(
                {
                    "prompt": prompt_of(task, question, e.record),
                    "chosen": [{"role": "assistant", "content": texts[better]}],
                    "rejected": [{"role": "assistant", "content": texts[worse]}],
                }
            )
    return rows


def read_export(path: str | Path) -> list[Row]:
    """Rows from an ``openai-chat`` / ``trl-sft-chat`` (``messages``) or ``trl-sft``
    (``prompt``/``completion`` strings) JSONL file.

    Raises
    ------
    InputError
        A line is not JSON or has neither form; the message names the file and line.
    """
    rows: list[Row] = []
    file = Path(path)
    with file.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                rows.append(_row(file, n, line))
    if not rows:
        raise InputError("no training rows", file=str(file))
    return rows


def _row(file: Path, n: int, line: str) -> Row:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON ({exc.msg})", file=str(file), line=n) from None
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        messages = data["messages"]
        if not messages or messages[-1].get("role") != "assistant":
            raise InputError(
                "must end with an assistant turn", file=str(file), line=n, field="messages"
            )
        return {"prompt": messages[:-1], "completion": messages[-1:]}
    if isinstance(data, dict) and isinstance(data.get("prompt"), str):
        if not isinstance(data.get("completion"), str):
            raise InputError("expected a string", file=str(file), line=n, field="completion")
        return {
            "prompt": [{"role": "user", "content": data["prompt"]}],
            "completion": [{"role": "assistant", "content": data["completion"]}],
        }
    raise InputError(
        "expected 'messages' (openai-chat) or 'prompt'/'completion' (trl-sft)",
        file=str(file),
        line=n,
    )


def fit_rows(tokenizer: Any, rows: list[Row], max_length: int) -> list[Row]:
    """Shorten the last user message of each row whose rendered form (prompt and its longest
    answer) is over ``max_length`` tokens, so the answer is never what gets cut.

    Training and evaluation both call this with the model's ``max_length``, so the tuned
    model is scored on prompts shaped like the ones it learned from.
    """
    out: list[Row] = []
    for row in rows:
        answers = [row[k] for k in ("completion", "chosen", "rejected") if k in row]
        excess = max(_length(tokenizer, row["prompt"] + a) for a in answers) - max_length
        users = [i for i, m in enumerate(row["prompt"]) if m.get("role") == "user"]
        if excess <= 0 or not users:
            out.append(row)
            continue
        i = users[-1]
        ids = tokenizer(str(row["prompt"][i]["content"]), add_special_tokens=False)["input_ids"]
        keep = max(0, len(ids) - excess - 2)  # 2: tokens may merge differently at the cut
        prompt = list(row["prompt"])
        prompt[i] = {**prompt[i], "content": tokenizer.decode(ids[:keep])}
        out.append({**row, "prompt": prompt})
    return out


def _length(tokenizer: Any, messages: list[dict[str, Any]]) -> int:
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])
