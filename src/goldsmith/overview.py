"""A project's counts at a glance, for ``goldsmith status`` and the overview page."""

from __future__ import annotations

from typing import Any

from goldsmith.active.loop import META_KEY, loop_state
from goldsmith.schema import Task
from goldsmith.store import Store


def project_status(store: Store, task: Task) -> dict[str, Any]:
    """Counts of records by status, final label, provenance and suggestion kind, with the
    guideline version, imports, the model in the loop's stopping state, open reviews and
    the open round."""
    with store.read() as tx:
        labels = {q.name: tx.final_value_counts(q.name) for q in task.questions}
        return {
            "project": task.name,
            "store": store.dialect,
            "records": tx.status_counts(),
            "labels": labels,
            "provenance": tx.provenance_counts(),
            "suggestions": tx.suggestion_counts(),
            "guideline_version": tx.latest_guideline_version(),
            "imports": len(tx.list_imports()),
            "active_learning": loop_state(tx.get_meta(META_KEY)),
            "reviews_open": tx.review_counts(),
            "round": tx.open_round(),
        }
