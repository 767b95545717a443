"""What a causal LM says and how surprised it is: greedy generation, completion loss, and
reading a generated answer with the prelabeling schema.

The tuned model is the base with its LoRA adapter; :func:`load_tuned` loads both once and
:func:`adapter_off` gives the base back without a second copy in memory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from goldsmith.errors import SchemaError
from goldsmith.llm.structured import AnswerFormat
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Question
from goldsmith.train.base_model import load_base
from goldsmith.train.extra import quiet, require

Messages = list[dict[str, Any]]


def load_tuned(base_model: str | Path, adapter: str | Path) -> tuple[Any, Any]:
    """The base model with the LoRA adapter of ``adapter`` on top, and the tokenizer."""
    peft = require("peft")
    with quiet():
        model, tokenizer = load_base(base_model)
        tuned = peft.PeftModel.from_pretrained(model, str(adapter))
    tuned.eval()
    return tuned, tokenizer


def adapter_off(model: Any) -> Any:
    """A context in which a PEFT model behaves as its base (a no-op for plain models)."""
    disable = getattr(model, "disable_adapter", None)
    return disable() if callable(disable) else nullcontext()


@contextmanager
def _inference() -> Iterator[None]:
    torch = require("torch")
    with torch.inference_mode(), quiet():
        yield


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Messages],
    *,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    progress: Progress = SILENT,
) -> list[str]:
    """Greedy completions of chat ``prompts`` (rendered with the chat template)."""
    tokenizer.padding_side = "left"
    out: list[str] = []
    progress.start("Generating", total=len(prompts))
    with _inference():
        for i in range(0, len(prompts), batch_size):
            texts = [
                tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                for p in prompts[i : i + batch_size]
            ]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = enc.to(model.device)
            ids = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
            new = ids[:, enc["input_ids"].shape[1] :]
            out.extend(t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True))
            progress.advance(len(texts))
    progress.finish()
    return out


def completion_nll(
    model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], *, max_length: int = 1024
) -> list[tuple[float, int]]:
    """``(summed negative log-likelihood, tokens)`` of each row's completion given its prompt
    (prompt-completion chat rows); the prompt tokens are context, not scored."""
    torch = require("torch")
    out: list[tuple[float, int]] = []
    with _inference():
        for row in rows:
            prompt = tokenizer.apply_chat_template(
                row["prompt"], tokenize=False, add_generation_prompt=True
            )
            full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
            p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            f_ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
            if len(f_ids) <= len(p_ids):
                out.append((0.0, 0))
                continue
            ids = torch.tensor([f_ids], device=model.device)
            logits = model(input_ids=ids).logits[0, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
            scored = nll[len(p_ids) - 1 :]
            out.append((float(scored.sum()), int(scored.numel())))
    return out


def completion_loss(
    model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], *, max_length: int = 1024
) -> dict[str, float]:
    """Mean negative log-likelihood per completion token over ``rows``, and its perplexity."""
    scored = completion_nll(model, tokenizer, rows, max_length=max_length)
    total, count = sum(s for s, _ in scored), sum(n for _, n in scored)
    mean = total / count if count else float("nan")
    return {"loss": mean, "perplexity": math.exp(mean) if count else float("nan"), "tokens": count}


def preference_accuracy(model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]]) -> float:
    """Share of DPO rows whose chosen answer the model finds likelier than the rejected one
    (summed log-probabilities, the quantity DPO raises)."""
    chosen = completion_nll(
        model, tokenizer, [{"prompt": r["prompt"], "completion": r["chosen"]} for r in rows]
    )
    rejected = completion_nll(
        model, tokenizer, [{"prompt": r["prompt"], "completion": r["rejected"]} for r in rows]
    )
    wins = sum(1 for (c, _), (r, _) in zip(chosen, rejected, strict=True) if c < r)
    return wins / len(rows) if rows else float("nan")


def parse_answer(question: Question, text: str) -> Any:
    """Read a generated answer as a value of ``question`` through the prelabeling schema
    (:class:`~goldsmith.llm.structured.AnswerFormat`); None when it is not one.

    A bare label is matched exactly, then case-insensitively, then as the first line; a JSON
    answer (``{"labels": [...]}`` of the multilabel export, or ``{question: value}``) is
    validated as it is.

    Examples
    --------
    >>> from goldsmith.schema import LabelQuestion
    >>> q = LabelQuestion(name="sentiment", labels=("positive", "negative"))
    >>> parse_answer(q, " Negative\\n"), parse_answer(q, "maybe")
    ('negative', None)
    """
    fmt = AnswerFormat((question,))
    for candidate in _candidates(question, text.strip()):
        try:
            return fmt.parse(json.dumps({question.name: candidate}))[question.name]
        except SchemaError:
            continue
    return None


def _candidates(question: Question, text: str) -> Iterator[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        yield data.get(question.name, data.get("labels"))
    yield from question.guesses(text)
