"""LLM augmentation through the project's one LLM client: paraphrases, counterfactuals and
new SFT pairs (self-instruct, evol-instruct).

Every request is built by :func:`build_augment_request`, which derives a small task (the
record's text field in, ``n`` free-text answers out) and hands it to
:func:`goldsmith.llm.prompt.build_request`; so augmentation shares prelabeling's prompt
layout, strict JSON schema, fail-closed redaction (``redact_before_llm`` without a redactor
is a :class:`~goldsmith.errors.ConfigError`), and, through
:func:`~goldsmith.llm.batch.answer_many`, its retries, re-asks on invalid JSON,
cache and token budget. A rerun serves every answer from the cache and pays nothing.

Use ``LLMConfig(confidence="none")``: generated text has no useful confidence, and the
default may ask for several samples per request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from goldsmith.augment.synthetic import Synthetic
from goldsmith.errors import SchemaError
from goldsmith.llm.batch import LLMRun, answer_many
from goldsmith.llm.client import LLMClient
from goldsmith.llm.prompt import ChatRequest, Redact, build_request
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import FieldSpec, Question, Record, Settings, Task, TextQuestion

Method = Literal["paraphrase", "counterfactual", "self-instruct", "evol-instruct"]

GENERATOR_PROMPT = (
    "You write training examples for a dataset. You follow the guidelines and the "
    "instructions exactly, and you never copy the input unchanged."
)
_INSTRUCTIONS: dict[str, str] = {
    "paraphrase": (
        "Write {n} different paraphrases of the record's {field}. Each must say the same thing "
        "with different wording, so that its answer to {question!r} stays {label!r}. Keep "
        "every number, name and fact. Put them in the keys {keys}."
    ),
    "counterfactual": (
        "The record's answer to {question!r} is {label!r}. Make the smallest edit to its "
        "{field} (change as few words as possible) so that the correct answer becomes "
        "{target!r}. Write {n} different such edits in the keys {keys}."
    ),
    "self-instruct": (
        "The record holds seed examples of the task, each a prompt and its ideal response. "
        "Write {n} new prompts, different from the seeds and from each other but of the same "
        "kind, each with the ideal response the guidelines ask for. Put them in the keys {keys}."
    ),
    "evol-instruct": (
        "The record holds a prompt and its response. Rewrite the prompt into {n} harder "
        "versions (add a constraint, require more reasoning steps, or make it more specific), "
        "each still answerable, and write the ideal response to each. Put them in the keys "
        "{keys}."
    ),
}


def _text_field(task: Task) -> str:
    if not task.text_fields:
        raise SchemaError(f"task {task.name!r} has no text field to augment")
    return task.text_fields[0]


def _label_question(task: Task, question: str | None) -> Question:
    q = task.question(question)
    if not q.classifies():  # one of its labels per record
        raise SchemaError(f"question {q.name!r} is not a label question; name one with question=")
    return q


def _outputs(method: str, n: int) -> tuple[TextQuestion, ...]:
    if method in {"paraphrase", "counterfactual"}:
        return tuple(TextQuestion(name=f"text_{i}") for i in range(1, n + 1))
    return tuple(
        TextQuestion(name=f"{part}_{i}") for i in range(1, n + 1) for part in ("prompt", "response")
    )


def build_augment_request(
    method: Method,
    task: Task,
    guidelines: str,
    record: Record,
    *,
    n: int = 1,
    label: str | None = None,
    target: str | None = None,
    question: str | None = None,
    redact: Redact | None = None,
) -> ChatRequest:
    """The one builder of augmentation requests: ``n`` outputs of ``method`` for ``record``.

    Parameters
    ----------
    method
        ``paraphrase`` and ``counterfactual`` rewrite the record's first text field;
        ``self-instruct`` and ``evol-instruct`` read a record whose ``seeds`` field holds
        rendered prompt/response examples (see :func:`self_instruct`).
    task, guidelines
        The project's task (its settings decide redaction) and its guidelines.
    record
        The record to rewrite, or the seeds record.
    n
        Outputs asked for in one request (keys ``text_1..n`` or ``prompt_i``/``response_i``).
    label, target, question
        The record's label, a counterfactual's target label, and the label question.
    redact
        Required when ``task.settings.redact_before_llm`` is true.
    """
    if n < 1:
        raise SchemaError(f"n must be at least 1, got {n}")
    if method in {"paraphrase", "counterfactual"}:
        field = _text_field(task)
        fields: tuple[FieldSpec, ...] = (FieldSpec(name=field),)
    elif method in {"self-instruct", "evol-instruct"}:
        field = "seeds"
        fields = (FieldSpec(name="seeds", title="Seed examples"),)
    else:
        raise SchemaError(f"unknown augmentation method {method!r}; known: {list(_INSTRUCTIONS)}")
    outputs = _outputs(method, n)
    derived = Task(
        name=f"{task.name}-{method}",
        fields=fields,
        questions=outputs,
        settings=Settings(
            redact_before_llm=task.settings.redact_before_llm, system_prompt=GENERATOR_PROMPT
        ),
    )
    keys = ", ".join(q.name for q in outputs)
    instructions = _INSTRUCTIONS[method].format(
        n=n, field=field, question=question, label=label, target=target, keys=keys
    )
    return build_request(derived, guidelines, record, instructions=instructions, redact=redact)


@dataclass(frozen=True)
class AugmentRun:
    """What an LLM augmentation produced, and the LLM run under it (tokens, stop reason)."""

    synthetics: list[Synthetic]
    run: LLMRun
    dropped: int = 0  # outputs that were empty, repeated or a copy of their input

    @property
    def stopped(self) -> str | None:
        return self.run.stopped

    @property
    def tokens(self) -> int:
        return self.run.tokens


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def paraphrase(
    client: LLMClient,
    task: Task,
    guidelines: str,
    records: Sequence[Record],
    labels: Sequence[str],
    *,
    per_record: int = 2,
    question: str | None = None,
    redact: Redact | None = None,
    progress: Progress = SILENT,
) -> AugmentRun:
    """``per_record`` paraphrases of each record, each keeping its label.

    Returns
    -------
    AugmentRun
        One :class:`Synthetic` per usable output (method ``paraphrase``).
    """
    q = _label_question(task, question)
    jobs = [(r, str(lab), None) for r, lab in zip(records, labels, strict=True)]
    return _rewrite(client, task, guidelines, jobs, q, "paraphrase", per_record, redact, progress)


def counterfactual(
    client: LLMClient,
    task: Task,
    guidelines: str,
    records: Sequence[Record],
    labels: Sequence[str],
    *,
    targets: Sequence[str] | None = None,
    per_record: int = 1,
    question: str | None = None,
    redact: Redact | None = None,
    progress: Progress = SILENT,
) -> AugmentRun:
    """Minimal edits of each record that flip its label to a named target.

    ``targets`` gives one target per record; by default every other label is a target (one
    request per record and target). Each output is labeled with its target.
    """
    q = _label_question(task, question)
    jobs: list[tuple[Record, str, str | None]] = []
    for i, (rec, lab) in enumerate(zip(records, labels, strict=True)):
        wanted = [targets[i]] if targets is not None else [t for t in q.class_names() if t != lab]
        for t in wanted:
            if t not in q.class_names() or t == lab:
                raise SchemaError(f"target {t!r} must be a label of {q.name!r} other than {lab!r}")
            jobs.append((rec, str(lab), t))
    return _rewrite(
        client, task, guidelines, jobs, q, "counterfactual", per_record, redact, progress
    )


def _rewrite(
    client: LLMClient,
    task: Task,
    guidelines: str,
    jobs: Sequence[tuple[Record, str, str | None]],
    q: Question,
    method: Method,
    n: int,
    redact: Redact | None,
    progress: Progress,
) -> AugmentRun:
    field = _text_field(task)

    def requests() -> Iterator[ChatRequest]:
        for rec, lab, target in jobs:
            yield build_augment_request(
                method,
                task,
                guidelines,
                rec,
                n=n,
                label=lab,
                target=target,
                question=q.name,
                redact=redact,
            )

    run = answer_many(client, requests(), total=len(jobs), progress=progress)
    out, dropped = [], 0
    for (rec, lab, target), result in zip(jobs, run.results, strict=True):
        if result.status != "ok":
            continue
        seen = {_norm(str(rec.fields.get(field, "")))}
        for i in range(1, n + 1):
            text = str(result.values.get(f"text_{i}", "")).strip()
            if not text or _norm(text) in seen:
                dropped += 1
                continue
            seen.add(_norm(text))
            detail: dict[str, Any] = {"model": run.model}
            detail.update({"source_label": lab} if target is not None else {})
            out.append(
                Synthetic(
                    fields={**rec.fields, field: text},
                    values={q.name: target if target is not None else lab},
                    method=method,
                    parent_record_id=rec.id,
                    detail=detail,
                )
            )
    return AugmentRun(out, run, dropped)


def render_seeds(seeds: Sequence[Mapping[str, str]]) -> str:
    """Prompt/response seed pairs as the text of the ``seeds`` field."""
    return "\n\n".join(
        f"### Example {i}\nPrompt: {s['prompt']}\nResponse: {s['response']}"
        for i, s in enumerate(seeds, 1)
    )


def _pairs(
    client: LLMClient,
    task: Task,
    guidelines: str,
    groups: Sequence[Sequence[Mapping[str, Any]]],
    method: Method,
    n: int,
    prompt_field: str,
    response_question: str,
    redact: Redact | None,
    progress: Progress,
) -> AugmentRun:
    requests = [
        build_augment_request(
            method,
            task,
            guidelines,
            Record(fields={"seeds": render_seeds(g) + f"\n\n(request {r + 1})"}),
            n=n,
            redact=redact,
        )
        for r, g in enumerate(groups)
    ]  # the request number keeps requests over the same seeds apart in the cache
    run = answer_many(client, requests, progress=progress)
    out, dropped = [], 0
    known = {_norm(str(s["prompt"])) for g in groups for s in g}
    for group, result in zip(groups, run.results, strict=True):
        if result.status != "ok":
            continue
        parents = [s.get("id") for s in group]
        for i in range(1, n + 1):
            prompt = str(result.values.get(f"prompt_{i}", "")).strip()
            response = str(result.values.get(f"response_{i}", "")).strip()
            if not prompt or not response or _norm(prompt) in known:
                dropped += 1
                continue
            known.add(_norm(prompt))
            out.append(
                Synthetic(
                    fields={prompt_field: prompt},
                    values={response_question: response},
                    method=method,
                    parent_record_id=parents[0] if len(parents) == 1 else None,
                    detail={"seed_record_ids": parents, "model": run.model},
                )
            )
    return AugmentRun(out, run, dropped)


def self_instruct(
    client: LLMClient,
    task: Task,
    guidelines: str,
    seeds: Sequence[Mapping[str, Any]],
    *,
    requests: int = 1,
    per_request: int = 3,
    seeds_per_request: int = 3,
    prompt_field: str = "prompt",
    response_question: str = "response",
    redact: Redact | None = None,
    progress: Progress = SILENT,
) -> AugmentRun:
    """New prompt/response pairs in the style of ``seeds`` (``{"prompt", "response",
    "id"?}``): ``requests`` requests, each showing ``seeds_per_request`` seeds (taken in turn)
    and asking for ``per_request`` new pairs."""
    if not seeds:
        raise SchemaError("self_instruct needs at least one seed example")
    k = min(seeds_per_request, len(seeds))
    groups = [[seeds[(r * k + j) % len(seeds)] for j in range(k)] for r in range(requests)]
    return _pairs(
        client,
        task,
        guidelines,
        groups,
        "self-instruct",
        per_request,
        prompt_field,
        response_question,
        redact,
        progress,
    )


def evol_instruct(
    client: LLMClient,
    task: Task,
    guidelines: str,
    seeds: Sequence[Mapping[str, Any]],
    *,
    per_record: int = 1,
    prompt_field: str = "prompt",
    response_question: str = "response",
    redact: Redact | None = None,
    progress: Progress = SILENT,
) -> AugmentRun:
    """``per_record`` harder versions of each seed prompt, with responses."""
    return _pairs(
        client,
        task,
        guidelines,
        [[s] for s in seeds],
        "evol-instruct",
        per_record,
        prompt_field,
        response_question,
        redact,
        progress,
    )
