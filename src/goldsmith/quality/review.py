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

A proposal that no annotator chose (Dawid-Skene can propose a third label when two
annotators' known confusions both point to it) is marked ``model_proposed`` in the item's
detail; accepting it needs ``confirm=True``, so a single key never sets it.

Every decision goes into the item's history (who, when, the final label before and after),
and :func:`undo` takes the latest one back: the final label before it returns, its feedback
is withdrawn and the item is open again.
"""

from __future__ import annotations

from typing import Any, Literal

from goldsmith.errors import ConflictError, SchemaError
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Task
from goldsmith.store import Store

Action = Literal["accept", "edit", "reject"]
STATUS = {"accept": "accepted", "edit": "edited", "reject": "rejected"}
UNDO = "undo"


def decide(
    store: Store,
    task: Task,
    review_id: int,
    *,
    reviewer: str,
    action: Action,
    value: Any = None,
    comment: str | None = None,
    confirm: bool = False,
) -> dict[str, Any]:
    """Record a reviewer's decision on one review item; returns the decided item.

    ``confirm`` must be True to accept a ``model_proposed`` value (one no annotator chose).

    Raises
    ------
    SchemaError
        For an unknown action, a value that does not fit the question, or an unconfirmed
        accept of a model-proposed value.
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
        detail = item["detail"] or {}
        final: Any = None
        if action == "accept":
            final = detail.get("proposed")
            if final is None:
                raise SchemaError(f"review item {review_id} proposes no value: edit it instead")
            if detail.get("model_proposed") and not confirm:
                raise SchemaError(
                    f"review item {review_id} proposes {final!r}, which no annotator chose "
                    "(model-proposed): accept it with confirm set, or edit it to the value "
                    "you pick"
                )
        elif action == "edit":
            if value is None:
                raise SchemaError("an edit needs the value to set")
            final = value
        before = after = tx.final_label(item["record_id"], question.name)
        if final is not None:
            final = question.check(final)
            rid = item["record_id"]  # spans must lie in the record's text
            question.check_fields(final, tx.record_texts([rid]).get(rid, {}))
            is_gold = item["kind"] == "gold"
            if not (is_gold and action == "accept"):
                prov = Provenance.GOLD if is_gold else Provenance.REVIEW
                after = FinalLabel(item["record_id"], question.name, final, prov)
                tx.set_final_labels([after])
        tx.decide_review(
            review_id, status=STATUS[action], reviewer=reviewer, value=final, comment=comment
        )
        tx.add_review_history(
            review_id, action=action, actor=reviewer, before=before, after=after, comment=comment
        )
        if final is not None:
            _feedback(tx, item, question.name, final, comment)
        return tx.get_review(review_id)


def undo(store: Store, task: Task, review_id: int, *, reviewer: str) -> dict[str, Any]:
    """Take back the latest decision on a review item; returns the item, open again.

    The final label the decision replaced comes back (or none, if there was none), the
    feedback it sent is withdrawn, and the undo itself goes into the item's history.

    Raises
    ------
    ConflictError
        When the item is open (nothing to undo), was decided before decisions were kept,
        or its final label changed since the decision (decide it again instead).
    """
    with store.write() as tx:
        item = tx.get_review(review_id)
        if item["status"] == "open":
            raise ConflictError(f"review item {review_id} is open: there is no decision to undo")
        history = tx.review_history([review_id]).get(review_id, [])
        last = history[-1] if history and history[-1]["action"] != UNDO else None
        if last is None:
            raise ConflictError(
                f"review item {review_id} was decided before goldsmith kept the label it "
                "replaced, so it cannot be undone: set the label you want on the record instead"
            )
        rid, question = int(item["record_id"]), task.question(item["question"]).name
        now = tx.final_label(rid, question)
        if not _same(now, last["after"]):
            shown = "none" if now is None else f"{now.value!r} ({now.provenance})"
            raise ConflictError(
                f"the final label of record {rid} changed since review item {review_id} was "
                f"decided (it is now {shown}): decide the record again instead of undoing"
            )
        before = last["before"]
        restored = (
            None
            if before is None
            else FinalLabel(
                rid,
                question,
                before["value"],
                Provenance(before["provenance"]),
                float(before.get("confidence", 1.0)),
            )
        )
        if restored is None:
            tx.drop_final_label(rid, question)
        elif last["before"] != last["after"]:
            tx.set_final_labels([restored])
        tx.drop_feedback(review_id)
        tx.reopen_review(review_id)
        tx.add_review_history(review_id, action=UNDO, actor=reviewer, before=now, after=restored)
        return tx.get_review(review_id)


def _same(label: FinalLabel | None, stored: dict[str, Any] | None) -> bool:
    """Whether a final label is the one a history entry recorded (value and provenance)."""
    if label is None or stored is None:
        return label is None and stored is None
    return bool(label.value == stored["value"] and str(label.provenance) == stored["provenance"])


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
