"""Gold checks inside the annotation queue: honeypots and pausing annotators.

Gold records chosen as honeypots are mixed into every annotator's queue at the project's gold
rate (set by ``round start --gold-rate``). They look like any other record: an annotator never
learns which answers were checked, and nothing in the API marks them. After each honeypot
answer the annotator's gold accuracy is recomputed; with ``settings.pause_below`` set, an
annotator below it (after ``settings.pause_min_gold`` gold answers) is paused until a
reviewer or owner resumes them.
"""

from __future__ import annotations

import json
import random
from typing import Any

from goldsmith.schema import Task
from goldsmith.store.base import StoreTx

GOLD_RATE_KEY = "gold_rate"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):  # multi-label: order does not matter
        return sorted(map(json.dumps, a)) == sorted(map(json.dumps, b))
    return bool(a == b)


def honeypot_draw(tx: StoreTx) -> float | None:
    """A draw in [0, 1) when this lease should be a gold check, else None."""
    rate = tx.gold_rate()
    draw = random.random()
    return draw / rate if rate > 0.0 and draw < rate else None


def gold_accuracy(tx: StoreTx, task: Task, user: str) -> tuple[int, int]:
    """``(right, answered)`` of ``user``'s answers on gold records, first question."""
    rows = tx.gold_answers(task.questions[0].name, user=user)
    return sum(_same(answer, gold) for _, _, answer, gold in rows), len(rows)


def update_pause(tx: StoreTx, task: Task, user: str) -> bool:
    """Pause ``user`` when their gold accuracy fell below ``settings.pause_below``; returns
    whether they are paused now. Never resumes anyone: that is a reviewer's decision."""
    floor = task.settings.pause_below
    if floor is None:
        return tx.is_paused(user)
    right, answered = gold_accuracy(tx, task, user)
    if answered >= task.settings.pause_min_gold and right / answered < floor:
        tx.set_paused(user, True)
        return True
    return tx.is_paused(user)
