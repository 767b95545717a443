"""Preference formats: rankings of candidate responses become pairs or desirability labels.

A preference question's value is a ranking, candidate indices best first, over the list of
strings in the record field ``candidates_field``. A ranking of k candidates gives:

- ``openai-dpo`` and ``trl-preference``: pairs, by ``ExportOptions.preference_pairs``:
  ``"best"`` (default) pairs the best candidate with each worse one (k - 1 pairs, the best
  answer is always the one preferred); ``"all"`` gives every ordered pair (k(k - 1) / 2);
- ``trl-kto``: unpaired examples, the best candidate with ``label: true`` and each other ranked
  candidate with ``label: false`` (k examples).

======================  ====================================================================
``openai-dpo``          ``{"input": {"messages": [...]}, "preferred_output": [assistant],
                        "non_preferred_output": [assistant]}``
``trl-preference``      ``{"prompt": str, "chosen": str, "rejected": str}``
``trl-kto``             ``{"prompt": str, "completion": str, "label": bool}``
======================  ====================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from goldsmith.export import prompts
from goldsmith.export.exporter import TEXT_GENERATION, ExportContext, Exporter, jsonl_exporter
from goldsmith.schema import FinalLabel, Question, Record, Task

P = TypeVar("P")


def _ranked(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> tuple[list[str], list[int]] | None:
    question = ctx.question
    label = labels.get(question.name)
    if label is None or not question.ranks_candidates:
        return None
    return prompts.candidates(question, record), prompts.ranking(question, label.value, record)


def _pair_rows(
    ctx: ExportContext,
    record: Record,
    labels: Mapping[str, FinalLabel],
    prompt: Callable[[Task, Question, Record, str | None], P],
    row: Callable[[P, str, str], dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """``row(prompt, chosen, rejected)`` for each pair of the record's ranking (by
    ``ctx.pairs``); nothing when the record has no ranking."""
    ranked = _ranked(ctx, record, labels)
    if ranked is None:
        return
    cands, order = ranked
    asked = prompt(ctx.task, ctx.question, record, ctx.system_prompt)
    for chosen, rejected in prompts.preference_pairs(order, ctx.pairs):
        yield row(asked, cands[chosen], cands[rejected])


def dpo_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """OpenAI preference fine-tuning rows, one per pair."""
    return _pair_rows(ctx, record, labels, prompts.prompt_messages, _dpo_row)


def _dpo_row(messages: list[prompts.Message], chosen: str, rejected: str) -> dict[str, Any]:
    return {
        "input": {"messages": messages},
        "preferred_output": [{"role": "assistant", "content": chosen}],
        "non_preferred_output": [{"role": "assistant", "content": rejected}],
    }


def trl_preference_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """TRL DPO/ORPO rows ``{"prompt", "chosen", "rejected"}``, one per pair."""
    return _pair_rows(
        ctx,
        record,
        labels,
        prompts.flat_prompt,
        lambda prompt, chosen, rejected: {"prompt": prompt, "chosen": chosen, "rejected": rejected},
    )


def trl_kto_rows(
    ctx: ExportContext, record: Record, labels: Mapping[str, FinalLabel]
) -> Iterator[dict[str, Any]]:
    """TRL KTO rows: the best candidate is desirable, every other ranked one is not."""
    ranked = _ranked(ctx, record, labels)
    if ranked is None:
        return
    cands, order = ranked
    prompt = prompts.flat_prompt(ctx.task, ctx.question, record, ctx.system_prompt)
    for position, index in enumerate(order):
        yield {"prompt": prompt, "completion": cands[index], "label": position == 0}


def _ranks(question: Question) -> bool:
    return question.ranks_candidates


def preference_exporters() -> list[Exporter]:
    """The built-in preference exporters, ready for :func:`register_exporter`."""
    return [
        jsonl_exporter(
            "openai-dpo",
            dpo_rows,
            accepts=_ranks,
            validator="openai-dpo",
            description="OpenAI preference (DPO) fine-tuning JSONL",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "trl-preference",
            trl_preference_rows,
            accepts=_ranks,
            validator="trl-preference",
            description="TRL preference JSONL: prompt, chosen, rejected",
            task_category=TEXT_GENERATION,
        ),
        jsonl_exporter(
            "trl-kto",
            trl_kto_rows,
            accepts=_ranks,
            validator="trl-kto",
            description="TRL KTO JSONL: prompt, completion, label (bool)",
            task_category=TEXT_GENERATION,
        ),
    ]
