"""Gold checks inside the annotation queue: honeypots and pausing annotators.

Gold records chosen as honeypots are mixed into every annotator's queue at the project's gold
rate (set by ``round start --gold-rate``). They look like any other record: an annotator never
learns which answers were checked, and nothing in the API marks them. After each honeypot
answer the annotator's gold accuracy is recomputed; with ``settings.pause_below`` set, an
annotator below it (after ``settings.pause_min_gold`` gold answers) is paused until a
reviewer or owner resumes them. The score is the question kind's own
(:func:`~goldsmith.quality.by_kind.rule_for`): exact match for a label, micro F1 for label
sets and spans, similarity for free text, pairwise agreement for rankings, so a spans
annotator who misses one boundary in ten is not paused as if every answer were wrong.

Only annotators are gold-checked. Reviewers and owners who annotate as themselves (through the
same queue) are never served honeypots and never paused, and their answers never count in
gold accuracy (:func:`gold_checked`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from goldsmith.quality.by_kind import rule_for
from goldsmith.schema import Role, Task

GOLD_RATE_KEY = "gold_rate"
NOT_GOLD_CHECKED = frozenset({str(Role.OWNER), str(Role.REVIEWER)})
"""Roles that never meet gold checks: they settle records in the review queue."""


def gold_checked(role: str | None) -> bool:
    """Whether a user of ``role`` meets gold checks (annotators, and names with no account,
    as in library use and simulations)."""
    return role not in NOT_GOLD_CHECKED


def honeypot_draw(rate: float) -> float | None:
    """A draw in [0, 1) when this lease should be a gold check at gold rate ``rate``, else
    None."""
    draw = random.random()
    return draw / rate if rate > 0.0 and draw < rate else None


def gold_score(question: Any, rows: Sequence[tuple[Any, Any, Any, Any]]) -> tuple[float, int]:
    """``(score, answered)`` over ``(record, user, answer, gold)`` rows of gold answers to
    ``question``: the kind's pooled score of the answers against gold, in [0, 1]."""
    pairs = [(answer, gold) for _, _, answer, gold in rows]
    return rule_for(question).aggregate(pairs), len(pairs)


def should_pause(task: Task, rows: Sequence[tuple[Any, Any, Any, Any]]) -> bool:
    """Whether an annotator with these gold answers (``(record, user, answer, gold)`` rows
    of the first question) scores below ``settings.pause_below`` after
    ``settings.pause_min_gold`` answers. Pausing is the caller's; resuming is a reviewer's
    decision, never this rule's."""
    floor = task.settings.pause_below
    if floor is None or len(rows) < task.settings.pause_min_gold or not rows:
        return False
    score, _ = gold_score(task.questions[0], rows)
    return score < floor
