"""The review queue: disagreements, low-confidence consensus, gold failures and suspected
label errors wait for a reviewer, who accepts, edits or rejects each one.

* **accept** makes the item's proposed value the final label;
* **edit** makes the reviewer's own value the final label;
* **reject** keeps the final label as it is (the proposal was wrong).

An accepted or edited value is stored with provenance ``review`` and overrides every other
label (a later consensus never replaces it). A gold failure is different: accepting it
confirms the gold label (only the feedback goes out), and editing it corrects the gold
itself. Each annotator whose submitted answer differs from the decision gets the reviewer's
comment as feedback, shown on their next visit.
"""

from __future__ import annotations

from typing import Any, Literal

from goldsmith.errors import ConflictError, SchemaError
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Task
from goldsmith.store import Store

Action = Literal["accept", "edit", "reject"]
STATUS = {"accept": "accepted", "edit": "edited", "reject": "rejected"}


def decide(
    store: Store,
    task: Task,
    review_id: int,
    *,
    reviewer: str,
    action: Action,
    value: Any = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Record a reviewer's decision on one review item; returns the decided item.

    Raises
    ------
    SchemaError
        For an unknown action, or a value that does not fit the question.
    ConflictError
        When the item was already decided.
    """
    if action not in STATUS:
        raise SchemaError(f"action must be accept, edit or reject, got {action!r}")
    with store.write() as tx:
        item = tx.get_review(review_id)
        if item["status"] != "open":
            raise ConflictError(f"review item {review_id} was already {item['status']}")
        question = task.question(item["question"])
        final: Any = None
        if action == "accept":
            final = (item["detail"] or {}).get("proposed")
            if final is None:
                raise SchemaError(f"review item {review_id} proposes no value: edit it instead")
        elif action == "edit":
            if value is None:
                raise SchemaError("an edit needs the value to set")
            final = value
        if final is not None:
            final = question.check(final)
            is_gold = item["kind"] == "gold"
            if not (is_gold and action == "accept"):
                prov = Provenance.GOLD if is_gold else Provenance.REVIEW
                tx.set_final_labels([FinalLabel(item["record_id"], question.name, final, prov)])
        tx.decide_review(
            review_id, status=STATUS[action], reviewer=reviewer, value=final, comment=comment
        )
        if final is not None:
            _feedback(tx, item, question.name, final, comment)
        return tx.get_review(review_id)


def _feedback(
    tx: Any, item: dict[str, Any], question: str, final: Any, comment: str | None
) -> None:
    rows = []
    for r in tx.responses_for([item["record_id"]], status=ResponseStatus.SUBMITTED):
        given = r.values.get(question)
        if given == final:
            continue
        message = comment or f"A reviewer set {question} = {final!r}; you answered {given!r}."
        rows.append(
            {
                "user": r.user,
                "record_id": item["record_id"],
                "review_id": item["id"],
                "message": message,
            }
        )
    tx.add_feedback(rows)
