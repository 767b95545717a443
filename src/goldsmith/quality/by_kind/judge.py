"""An LLM judge for free-text consensus: which of the annotators' answers is best.

The judge sees the record (its task fields, redacted when the task says so), the rubric and
the answers numbered 1..n, and answers with one number through the OpenAI-compatible client
(structured output, so the answer can only be one of the numbers). Calls go through the
client's cache, so a rerun costs nothing, and share one token budget: when it is spent, the
judge answers None and the medoid stays the consensus. ``judge.calls`` counts what was
asked, answered and left to the medoid.

Use: ``TextRule(question, judge=LLMJudge(client, task, records, rubric="...")).consensus(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from goldsmith.kinds.label import LabelQuestion
from goldsmith.llm.client import LLMClient, TokenBudget
from goldsmith.llm.prompt import build_request
from goldsmith.schema import Record, Task

DEFAULT_RUBRIC = (
    "Several annotators answered the same record. Pick the answer that best follows the "
    "guidelines: correct, complete, faithful to the record, and no longer than needed. "
    "Answer with its number."
)
ANSWERS_FIELD = "answers"


@dataclass
class JudgeCalls:
    asked: int = 0
    answered: int = 0
    fallback: int = 0  # failed, over budget or out of range: the medoid stays


@dataclass
class LLMJudge:
    """``judge(answers, record_id) -> index`` for :class:`~.text.TextRule`.

    ``records`` maps a record id to its :class:`Record` (the context the judge reads);
    ``redact`` is the project's redactor, required when the task redacts before LLMs.
    """

    client: LLMClient
    task: Task
    records: Mapping[int, Record]
    rubric: str = DEFAULT_RUBRIC
    redact: Callable[[str], str] | None = None
    budget: TokenBudget | None = None
    calls: JudgeCalls = field(default_factory=JudgeCalls)

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = TokenBudget(self.client.config.token_budget)

    def __call__(self, answers: Sequence[str], record_id: int) -> int | None:
        self.calls.asked += 1
        record = self.records.get(record_id)
        if record is None or len(answers) < 2:
            self.calls.fallback += 1
            return None
        numbers = tuple(str(i + 1) for i in range(len(answers)))
        task = self._judge_task(numbers)
        listed = "\n\n".join(f"{n}. {text}" for n, text in zip(numbers, answers, strict=True))
        shown = Record(
            id=record.id,
            fields={**record.fields, ANSWERS_FIELD: listed},
            metadata={},
            content_hash=record.content_hash,
        )
        request = build_request(task, self.rubric, shown, redact=self.redact)
        result = self.client.answer(request, budget=self.budget)
        pick = result.values.get("best") if result.status == "ok" else None
        if pick not in numbers:
            self.calls.fallback += 1
            return None
        self.calls.answered += 1
        return numbers.index(pick)

    def _judge_task(self, numbers: tuple[str, ...]) -> Task:
        data: dict[str, Any] = self.task.model_dump()
        data["fields"] = [
            *[f for f in data["fields"] if f["name"] != ANSWERS_FIELD],
            {"name": ANSWERS_FIELD, "kind": "text"},
        ]
        data["questions"] = [
            LabelQuestion(name="best", title="The best answer's number", labels=numbers)
        ]
        return Task.model_validate(data)
