"""Owners' bulk actions on records chosen in the records browser.

Each action takes record ids, changes them in one write transaction, keeps one
``record_events`` row per record it changed (who, when, what it replaced) and returns a small
report: how many records it changed and which it left alone, and why.

* :func:`send_to_front`: the records go ahead of everything else in the annotation queue
  (:data:`~goldsmith.store.queue.OWNER_FRONT`), the latest sent first; a retrain keeps them
  there.
* :func:`send_to_review`: one ``manual`` review item per record, proposing its current final
  label with the annotators' answers beside it.
* :func:`set_gold` / :func:`clear_gold`: the final label of the question becomes gold, or
  stops being gold (its provenance before comes back; ``human`` when goldsmith never saw one)
  and the record stops being a gold check in annotators' queues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from goldsmith.errors import ArgumentError
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus
from goldsmith.store import Store
from goldsmith.store.queue import OWNER_FRONT

MAX_IDS = 10_000  # records per action
MANUAL = "manual"  # the review kind of a record an owner sent to review
MANUAL_PRIORITY = 1.0  # ahead of computed items (their priorities fall in [0, 1])
SHOWN = 20  # ids listed per reason in a report


def _ids(ids: Sequence[int]) -> list[int]:
    """``ids`` once each, in the order given; empty or too many is an error."""
    unique = list(dict.fromkeys(int(i) for i in ids))
    if not unique:
        raise ArgumentError("choose at least one record")
    if len(unique) > MAX_IDS:
        raise ArgumentError(f"{len(unique)} records: act on at most {MAX_IDS} at a time")
    return unique


def _report(action: str, changed: int, left: dict[str, list[int]], **more: Any) -> dict[str, Any]:
    return {
        "action": action,
        "changed": changed,
        "unchanged": {why: {"n": len(ids), "ids": ids[:SHOWN]} for why, ids in left.items() if ids},
        **more,
    }


def send_to_front(store: Store, ids: Sequence[int], *, actor: str) -> dict[str, Any]:
    """Put ``ids`` first in the annotation queue, in the order given, ahead of any record
    sent before. Records that already have all their responses keep their place in the
    report's ``complete`` (the queue serves them to nobody)."""
    chosen = _ids(ids)
    with store.write() as tx:
        tx.require_records(chosen)
        first = min(tx.min_queue_rank(), OWNER_FRONT)
        start = first - len(chosen)
        tx.set_queue_ranks([(rid, start + i) for i, rid in enumerate(chosen)])
        open_ = tx.open_record_ids(chosen)
        tx.add_record_events(
            [
                {"record_id": rid, "action": "front", "actor": actor, "question": None,
                 "detail": {"position": i + 1, "open": rid in open_}}
                for i, rid in enumerate(chosen)
            ]
        )  # fmt: skip
    complete = [rid for rid in chosen if rid not in open_]
    return _report("front", len(chosen), {}, complete={"n": len(complete), "ids": complete[:SHOWN]})


def send_to_review(
    store: Store, ids: Sequence[int], *, actor: str, question: str
) -> dict[str, Any]:
    """Queue one ``manual`` review item of ``question`` per record: it proposes the current
    final label (none: the reviewer sets one) beside the annotators' submitted answers. A
    record with a manual item still open is left as it is."""
    chosen = _ids(ids)
    with store.write() as tx:
        tx.require_records(chosen)
        finals = {f.record_id: f for f in tx.final_labels_for(chosen) if f.question == question}
        answers: dict[int, dict[str, Any]] = {}
        for r in tx.responses_for(chosen, status=ResponseStatus.SUBMITTED):
            if question in r.values:
                answers.setdefault(r.record_id, {})[r.user] = r.values[question]
        items = []
        for rid in chosen:
            detail: dict[str, Any] = {"sent_by": actor}
            final = finals.get(rid)
            if final is not None:
                detail.update(proposed=final.value, given=final.value)
            if answers.get(rid):
                detail["answers"] = answers[rid]
            items.append(
                {"record_id": rid, "question": question, "kind": MANUAL,
                 "priority": MANUAL_PRIORITY, "detail": detail}
            )  # fmt: skip
        before = tx.open_review_keys(chosen, question, MANUAL)
        tx.add_reviews(items)
        added = [rid for rid in chosen if rid not in before]
        tx.add_record_events(
            [{"record_id": rid, "action": "review", "actor": actor, "question": question,
              "detail": {"proposed": finals[rid].value if rid in finals else None}}
             for rid in added]
        )  # fmt: skip
    already = [rid for rid in chosen if rid in before]
    return _report("review", len(added), {"already in review": already})


def set_gold(store: Store, ids: Sequence[int], *, actor: str, question: str) -> dict[str, Any]:
    """Make the final label of ``question`` gold on each record that has one; the
    provenance it replaces is kept, so :func:`clear_gold` can bring it back."""
    chosen = _ids(ids)
    with store.write() as tx:
        tx.require_records(chosen)
        finals = {f.record_id: f for f in tx.final_labels_for(chosen) if f.question == question}
        missing = [rid for rid in chosen if rid not in finals]
        already = [rid for rid in chosen if rid in finals and finals[rid].provenance == "gold"]
        change = [finals[rid] for rid in chosen if rid in finals and rid not in already]
        tx.set_final_labels(
            [
                FinalLabel(f.record_id, question, f.value, Provenance.GOLD, f.confidence)
                for f in change
            ]
        )
        tx.add_record_events(
            [{"record_id": f.record_id, "action": "gold", "actor": actor, "question": question,
              "detail": {"from": str(f.provenance), "value": f.value}} for f in change]
        )  # fmt: skip
    return _report("gold", len(change), {"no final label": missing, "already gold": already})


def clear_gold(store: Store, ids: Sequence[int], *, actor: str, question: str) -> dict[str, Any]:
    """Take gold off the final label of ``question``: the provenance it had before it was
    made gold here comes back (``human`` when it was gold from the start, e.g. imported),
    and the record is no longer mixed into queues as a gold check."""
    chosen = _ids(ids)
    with store.write() as tx:
        tx.require_records(chosen)
        finals = {f.record_id: f for f in tx.final_labels_for(chosen) if f.question == question}
        gold = [finals[rid] for rid in chosen if rid in finals and finals[rid].provenance == "gold"]
        was = tx.last_gold_events([f.record_id for f in gold], question)
        back = []
        for f in gold:
            before = was.get(f.record_id, {}).get("from")
            prov = Provenance(before) if before in set(Provenance) - {"gold"} else Provenance.HUMAN
            back.append(FinalLabel(f.record_id, question, f.value, prov, f.confidence))
        tx.set_final_labels(back)
        tx.drop_honeypots([f.record_id for f in back])
        tx.add_record_events(
            [{"record_id": f.record_id, "action": "ungold", "actor": actor, "question": question,
              "detail": {"to": str(f.provenance), "value": f.value}} for f in back]
        )  # fmt: skip
    cleared = {f.record_id for f in back}
    left = [rid for rid in chosen if rid not in cleared]
    return _report("ungold", len(back), {"not gold": left})


ACTIONS = {"gold": set_gold, "ungold": clear_gold}
