"""Batches of LLM requests: bounded concurrency, one token budget, a clean stop.

:func:`prelabel_records` turns records into LLM suggestions (agent ``llm:<model>``, score =
the raw confidence); :func:`answer_many` is the loop under it and under ``llm_lf``.

A run never loses paid work: every answer is cached as it arrives. When the budget is spent
the requests still waiting are not sent (cached ones are still served, for free) and the run
says so in :attr:`LLMRun.stopped`; so does a run that stops after
``max_consecutive_failures`` endpoint failures in a row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from goldsmith.errors import SchemaError
from goldsmith.llm.client import LLMClient, LLMResult, TokenBudget
from goldsmith.llm.prompt import ChatRequest, Example, Redact, build_request
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Record, Suggestion, SuggestionKind, Task

log = logging.getLogger("goldsmith.llm.client")


@dataclass(frozen=True, slots=True)
class LLMRun:
    """Every request's result, in input order, and why the run stopped early if it did."""

    results: list[LLMResult]
    model: str
    tokens: int  # paid tokens of this run
    stopped: str | None = None
    budget_exhausted: bool = False

    def count(self, status: str) -> int:
        """How many results have ``status`` (``ok``, ``failed`` or ``not_sent``)."""
        return sum(r.status == status for r in self.results)

    @property
    def agent(self) -> str:
        return f"llm:{self.model}"

    @property
    def suggestions(self) -> list[Suggestion]:
        """One suggestion per answered question of each ``ok`` result with a record id."""
        return [
            Suggestion(
                record_id=r.record_id,
                question=name,
                value=value,
                agent=self.agent,
                kind=SuggestionKind.LLM,
                score=r.confidence.get(name),
            )
            for r in self.results
            if r.status == "ok" and r.record_id is not None
            for name, value in r.values.items()
        ]


def answer_many(
    client: LLMClient,
    requests: Iterable[ChatRequest],
    *,
    total: int | None = None,
    progress: Progress = SILENT,
) -> LLMRun:
    """Answer ``requests`` on ``client.config.concurrency`` threads within one token budget.

    Parameters
    ----------
    client
        The client; its config gives the concurrency, budget and failure limit.
    requests
        From :func:`~goldsmith.llm.prompt.build_request`; consumed lazily, so a
        generator keeps only the requests in flight in memory.
    total
        How many requests there are, for progress (a sequence's length by default).
    progress
        Advanced once per finished request.

    Returns
    -------
    LLMRun
        One result per request, in order. Errors no retry can fix (a refused key, an unknown
        model) raise :class:`~goldsmith.errors.ConfigError` instead; answers so far stay
        cached.
    """
    cfg = client.config
    budget = TokenBudget(cfg.token_budget)
    if total is None and isinstance(requests, Sequence):
        total = len(requests)
    results: dict[int, LLMResult] = {}
    streak, stopped = 0, None
    pending: set[Future[LLMResult]] = set()
    todo = enumerate(requests)
    progress.start(f"asking {cfg.model}", total=total)
    pool = ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="goldsmith-llm")
    try:
        while True:
            while stopped is None and len(pending) < cfg.concurrency:
                item = next(todo, None)
                if item is None:
                    break
                pending.add(pool.submit(client.answer, item[1], index=item[0], budget=budget))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                results[result.index] = result
                streak = streak + 1 if result.transient else 0
                if streak >= cfg.max_consecutive_failures and stopped is None:
                    stopped = (
                        f"stopped after {streak} failed requests in a row, the last: "
                        f"{result.error}; check the endpoint and run again"
                    )
                progress.advance(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        progress.finish()
    for i, req in todo:  # never sent: the run stopped
        results[i] = LLMResult(i, req.record_id, "not_sent", {}, {}, error=stopped)
    final = [results[i] for i in range(len(results))]
    exhausted = not budget.allows() and any(r.status == "not_sent" for r in final)
    if exhausted and stopped is None:
        stopped = (
            f"the token budget of {cfg.token_budget} is spent ({budget.spent} tokens) and "
            f"{sum(r.status == 'not_sent' for r in final)} request(s) were not sent; answers "
            "so far are cached: raise the budget and run again to finish"
        )
    if stopped:
        log.warning("LLM run %s", stopped)
    return LLMRun(final, cfg.model, budget.spent, stopped, exhausted)


ExamplesFor = Callable[[Record], Sequence[Example]]


def prelabel_records(
    client: LLMClient,
    task: Task,
    guidelines: str,
    records: Iterable[Record],
    *,
    questions: Sequence[str] | None = None,
    examples_for: ExamplesFor | None = None,
    instructions: str = "",
    redact: Redact | None = None,
    progress: Progress = SILENT,
) -> LLMRun:
    """Ask the LLM every question of ``task`` about each record; suggestions come back.

    Parameters
    ----------
    client
        The LLM client (with its cache).
    task, guidelines
        What is asked and how (see :func:`~goldsmith.llm.prompt.build_request`).
    records
        Stored records (each with an ``id``); an iterator is read lazily.
    questions
        Names of the questions to ask; all by default.
    examples_for
        ``record -> [(example record, {question: value}), ...]``: few-shot examples for
        each record (say, its nearest gold-labeled neighbours); none by default.
    instructions
        Extra instructions after the guidelines.
    redact
        Redactor applied to record text when ``task.settings.redact_before_llm`` is true.
    progress
        Advanced once per record.

    Returns
    -------
    LLMRun
        ``run.suggestions`` holds the suggestions (score: the raw confidence, to calibrate
        against gold); ``run.stopped`` says why the run ended early, if it did.
    """
    total = len(records) if isinstance(records, Sized) else None

    def requests() -> Iterator[ChatRequest]:
        for record in records:
            if record.id is None:
                raise SchemaError(
                    "prelabel_records needs stored records (with an id); import them first"
                )
            yield build_request(
                task,
                guidelines,
                record,
                questions=questions,
                examples=examples_for(record) if examples_for is not None else (),
                instructions=instructions,
                redact=redact,
            )

    return answer_many(client, requests(), total=total, progress=progress)
