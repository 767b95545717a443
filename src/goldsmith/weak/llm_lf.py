"""A labeling function that asks an LLM.

:func:`llm_lf` builds a batch LF: the applier hands it a batch of texts, each becomes a
request built by :func:`goldsmith.llm.prompt.build_request` (the one prompt builder),
the batch is answered concurrently, and each answer is a vote where the model is sure
enough. Answers are cached on disk, so applying the LF again costs nothing; its ``version``
changes whenever the prompt (system prompt, guidelines, instructions, examples, question),
the model or the decoding settings change, so a changed LF is re-applied.

It votes on a ``label`` question (the label) or a ``multilabel`` one (the chosen labels, and
``NOT`` of every other label: the model judged them all). It abstains below ``threshold``,
on a failed or unsent request, and on anything else that is not an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import choice
from goldsmith.llm.batch import answer_many
from goldsmith.llm.cache import DEFAULT_CACHE
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.llm.prompt import Example, Redact, build_request
from goldsmith.schema import FieldSpec, LabelQuestion, Record, Task
from goldsmith.weak.lf import ABSTAIN, LF, NOT, LFKind, digest, source_of

log = logging.getLogger(__name__)

_ANSWER_SETTINGS = (  # the config fields that change answers (and so the version)
    "model",
    "temperature",
    "max_tokens",
    "response_format",
    "confidence",
    "top_logprobs",
    "samples",
    "sample_temperature",
    "max_reasks",
)


def _task_for(task: Task | None, name: str, field: str, question: str | None, labels: Any) -> Task:
    if task is not None:
        return task
    q = LabelQuestion(name=question or "label", labels=tuple(labels))
    return Task(name=name, fields=(FieldSpec(name=field),), questions=(q,))


def llm_lf(
    name: str,
    *,
    config: LLMConfig | None = None,
    client: LLMClient | None = None,
    task: Task | None = None,
    question: str | None = None,
    instructions: str = "",
    guidelines: str = "",
    examples: Sequence[Example] = (),
    threshold: float = 0.5,
    field: str = "text",
    cache: str | Path | None = DEFAULT_CACHE,
    redact: Redact | None = None,
    version: str | None = None,
) -> LF:
    """An LF that votes what an LLM answers, where its confidence reaches ``threshold``.

    Parameters
    ----------
    name
        The LF's name.
    config, client
        Exactly one: an :class:`~goldsmith.llm.client.LLMConfig` (a client is opened for
        each batch, with ``cache``) or an open :class:`~goldsmith.llm.client.LLMClient`
        (its own cache is used and it is not closed).
    task
        The task: its question, system prompt and redaction setting are used. Without it a
        single-label question over the labels the applier passes is asked, and redaction
        is on (pass ``redact``).
    question
        The question to vote on (``label`` or ``multilabel``); the task's first by default.
    instructions, guidelines, examples
        What the prompt says besides the record: extra instructions, the guidelines and
        few-shot ``(record, {question: value})`` examples.
    threshold
        Vote only when the confidence (logprob or self-consistency) reaches it; an answer
        without a confidence (``confidence="none"``) always votes.
    field
        The record field sent to the model.
    cache
        The answer cache file, relative to the working folder (the project's); None: none.
    redact
        Applied to every text sent when the task's ``redact_before_llm`` is true.
    version
        Extra text for the version digest (change it to force re-applying).
    """
    if (config is None) == (client is None):
        raise SchemaError(f"llm_lf {name!r}: pass exactly one of config= or client=")
    cfg = client.config if client is not None else config
    assert cfg is not None
    if not 0 <= threshold <= 1:
        raise SchemaError(f"llm_lf {name!r}: threshold must be in [0, 1], got {threshold}")
    if task is not None and field not in {f.name for f in task.fields}:
        raise SchemaError(f"llm_lf {name!r}: {field!r} is not a field of task {task.name!r}")
    shape = _task_for(task, name, field, question, ["{labels}"])
    q = shape.question(question)
    if not choice(q, many=None):
        raise SchemaError(
            f"llm_lf {name!r}: question {q.name!r} is a {q.kind} question; an LLM LF votes on "
            "label or multilabel questions (use prelabel for the others)"
        )
    ask = [q.name]
    # the prompt with a placeholder record stands for every prompt: digest it
    template = build_request(
        shape,
        guidelines,
        Record(fields={field: "{text}"}),
        questions=ask,
        examples=examples,
        instructions=instructions,
        redact=redact,
    )
    settings = cfg.model_dump(include=set(_ANSWER_SETTINGS))
    redactor = source_of(redact) if redact is not None else None
    prompt = (template.messages, template.response_format)
    lf_version = digest("llm", settings, prompt, threshold, field, redactor, version)

    def votes(texts: Sequence[str], labels: Sequence[str]) -> list[Any]:
        full = _task_for(task, name, field, question, labels)
        requests = [
            build_request(
                full,
                guidelines,
                Record(fields={field: text}),
                questions=ask,
                examples=examples,
                instructions=instructions,
                redact=redact,
            )
            for text in texts
        ]
        if client is not None:
            run = answer_many(client, requests)
        else:
            with LLMClient(cfg, cache=cache) as own:
                run = answer_many(own, requests)
        if run.stopped:
            log.warning("llm_lf %r abstains where unanswered: %s", name, run.stopped)
        out: list[Any] = []
        for result in run.results:
            value = result.values.get(q.name)
            sure = result.confidence.get(q.name)
            if result.status != "ok" or value is None or (sure is not None and sure < threshold):
                out.append(ABSTAIN)
            elif q.many_labels:
                out.append([*value, *(NOT(lab) for lab in q.labels if lab not in value)])
            else:
                out.append(value)
        return out

    return LF(
        name=name,
        kind=LFKind.LLM,
        version=lf_version,
        field=field,
        batch_fn=votes,
        meta={"llm": cfg.model, "question": q.name, "threshold": threshold},
    )
