"""Gold checks inside the annotation queue: honeypots and pausing annotators.

Gold records chosen as honeypots are mixed into every annotator's queue at the project's gold
rate (set by ``round start --gold-rate``). They look like any other record: an annotator never
learns which answers were checked, and nothing in the API marks them. After each honeypot
answer the annotator's gold accuracy is recomputed; with ``settings.pause_below`` set, an
annotator below it (after ``settings.pause_min_gold`` gold answers) is paused until a
reviewer or owner resumes them.

Only annotators are gold-checked. Reviewers and owners who annotate as themselves (through the
same queue) are never served honeypots and never paused, and their answers never count in
gold accuracy (:func:`gold_checked`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from goldsmith.schema import Role, Task

GOLD_RATE_KEY = "gold_rate"
NOT_GOLD_CHECKED = frozenset({str(Role.OWNER), str(Role.REVIEWER)})
"""Roles that never meet gold checks: they settle records in the review queue."""


def gold_checked(role: str | None) -> bool:
    """Whether a user of ``role`` meets gold checks (annotators, and names with no account,
    as in library use and simulations)."""
    return role not in NOT_GOLD_CHECKED


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):  # multi-label: order does not matter
        return sorted(map(json.dumps, a)) == sorted(map(json.dumps, b))
    return bool(a == b)


def honeypot_draw(rate: float) -> float | None:
    """A draw in [0, 1) when this lease should be a gold check at gold rate ``rate``, else
    None."""
    draw = random.random()
    return draw / rate if rate > 0.0 and draw < rate else None


def gold_accuracy(rows: Sequence[tuple[Any, Any, Any, Any]]) -> tuple[int, int]:
    """``(right, answered)`` over ``(record, user, answer, gold)`` rows of gold answers."""
    return sum(_same(answer, gold) for _, _, answer, gold in rows), len(rows)


def should_pause(task: Task, rows: Sequence[tuple[Any, Any, Any, Any]]) -> bool:
    """Whether an annotator with these gold answers (``(record, user, answer, gold)`` rows
    of the first question) falls below ``settings.pause_below`` after
    ``settings.pause_min_gold`` answers. Pausing is the caller's; resuming is a reviewer's
    decision, never this rule's."""
    floor = task.settings.pause_below
    if floor is None:
        return False
    right, answered = gold_accuracy(rows)
    return answered >= task.settings.pause_min_gold and right / answered < floor
