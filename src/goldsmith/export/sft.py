"""Supervised fine-tuning formats: one example per record, prompt in, answer out.

======================  ====================================================================
``openai-chat``         ``{"messages": [system, user, assistant]}``
``trl-sft``             ``{"prompt": str, "completion": str}`` (TRL prompt-completion); the
                        prompt is the system prompt, a blank line, then the user text
``trl-sft-chat``        ``{"messages": [...]}`` (TRL conversational, same as openai-chat)
``alpaca``              ``{"instruction", "input", "output"}``: the instruction is the system
                        prompt and the input the user text (with no system prompt the user
                        text is the instruction and the input is empty)
``sharegpt``            ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}]}``
======================  ====================================================================

Each fits every question kind except ``preference``; see :mod:`goldsmith.export.prompts` for
the wording.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from goldsmith.export import prompts
from goldsmith.export.exporter import TEXT_GENERATION, ExportContext, Exporter, jsonl_exporter
from goldsmith.schema import FinalLabel, Question, Record

SHAREGPT_ROLES = {"system": "system", "user": "human", "assistant": "gpt"}


def _messages(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> list[dict[str, Any]] | None:
    label = labels.get(ctx.question.name)
    if label is None:
        return None
    head = prompts.prompt_messages(ctx.task, ctx.question, record, ctx.system_prompt)
    reply = prompts.answer(ctx.question, label.value, record)
    return [*head, {"role": "assistant", "content": reply}]


def chat_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """``{"messages": [system, user, assistant]}``."""
    messages = _messages(ctx, record, labels)
    if messages is not None:
        yield {"messages": messages}


def prompt_completion_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """``{"prompt": str, "completion": str}``."""
    label = labels.get(ctx.question.name)
    if label is None:
        return
    yield {
        "prompt": prompts.flat_prompt(ctx.task, ctx.question, record, ctx.system_prompt),
        "completion": prompts.answer(ctx.question, label.value, record),
    }


def alpaca_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """``{"instruction": str, "input": str, "output": str}``."""
    label = labels.get(ctx.question.name)
    if label is None:
        return
    body = prompts.flat_prompt(ctx.task, ctx.question, record, None)
    output = prompts.answer(ctx.question, label.value, record)
    if ctx.system_prompt:
        yield {"instruction": ctx.system_prompt, "input": body, "output": output}
    else:
        yield {"instruction": body, "input": "", "output": output}


def sharegpt_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """``{"conversations": [{"from": ..., "value": ...}, ...]}``."""
    messages = _messages(ctx, record, labels)
    if messages is not None:
        turns = [
            {"from": SHAREGPT_ROLES.get(m["role"], m["role"]), "value": m["content"]}
            for m in messages
        ]
        yield {"conversations": turns}


def _trains_sft(question: Question) -> bool:
    return question.trains_sft


def sft_exporters() -> list[Exporter]:
    """The built-in SFT exporters, ready for :func:`register_exporter`."""
    return [
        jsonl_exporter(
            "openai-chat",
            chat_rows,
            accepts=_trains_sft,
            validator="openai-chat",
            description="OpenAI chat fine-tuning JSONL: messages [system, user, assistant]",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "trl-sft",
            prompt_completion_rows,
            accepts=_trains_sft,
            validator="trl-sft",
            description="TRL SFT prompt-completion JSONL: prompt, completion",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "trl-sft-chat",
            chat_rows,
            accepts=_trains_sft,
            validator="trl-sft",
            description="TRL SFT conversational JSONL: messages",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "alpaca",
            alpaca_rows,
            accepts=_trains_sft,
            description="Alpaca JSONL: instruction, input, output",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "sharegpt",
            sharegpt_rows,
            accepts=_trains_sft,
            description="ShareGPT JSONL: conversations of system/human/gpt turns",
            task_category=TEXT_GENERATION,
        ),
    ]
