"""What the QA functions read from the store, as arrays: the responses to one label question
as an (items × annotators) matrix, the gold and the reviewers' decisions per item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import Labelled, choice
from goldsmith.schema import Provenance, ResponseStatus, Task
from goldsmith.store import Store

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Responses:
    """Submitted answers to one label question on a set of records.

    ``matrix[i, j]`` is annotator ``annotators[j]``'s class index on ``record_ids[i]``
    (``-1``: no answer); ``gold`` and ``reviewed`` hold each item's gold class and the
    reviewer's decision (``-1``: none). ``triples`` keeps the raw answers
    ``(record_id, annotator, value)`` for the agreement metrics.
    """

    question: Labelled
    record_ids: list[int]
    annotators: list[str]
    matrix: IntArray
    gold: IntArray
    reviewed: IntArray
    honeypot: npt.NDArray[np.bool_]
    triples: list[tuple[int, str, Any]]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.question.labels


def label_question(task: Task, name: str | None = None) -> Labelled:
    q = task.question(name)
    if not choice(q):
        raise SchemaError(
            f"question {q.name!r} is a {q.kind} question; consensus, annotator scores and "
            "label issues work on label questions (agreement works on every kind)"
        )
    return q


def collect_responses(
    store: Store,
    task: Task,
    record_ids: list[int] | None = None,
    *,
    question: str | None = None,
) -> Responses:
    """The submitted answers of ``record_ids`` (every answered record when None)."""
    q = label_question(task, question)
    index = {label: i for i, label in enumerate(q.labels)}
    with store.read() as tx:
        ids = (
            list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
            if record_ids is None
            else sorted(set(record_ids))
        )
        answers = tx.responses_for(ids, status=ResponseStatus.SUBMITTED)
        finals = tx.final_labels_for(ids)
        pots = set(tx.honeypot_ids())
    triples = [(r.record_id, r.user, r.values[q.name]) for r in answers if q.name in r.values]
    annotators = sorted({u for _, u, _ in triples})
    row = {rid: i for i, rid in enumerate(ids)}
    col = {u: j for j, u in enumerate(annotators)}
    R = np.full((len(ids), len(annotators)), -1, dtype=np.int64)
    for rid, user, value in triples:
        if value in index:
            R[row[rid], col[user]] = index[value]
    gold = np.full(len(ids), -1, dtype=np.int64)
    reviewed = np.full(len(ids), -1, dtype=np.int64)
    for f in finals:
        if f.question != q.name or f.value not in index or f.record_id not in row:
            continue
        if f.provenance == Provenance.GOLD:
            gold[row[f.record_id]] = index[f.value]
        elif f.provenance == Provenance.REVIEW:
            reviewed[row[f.record_id]] = index[f.value]
    honeypot = np.array([rid in pots for rid in ids], dtype=bool)
    return Responses(q, ids, annotators, R, gold, reviewed, honeypot, triples)
