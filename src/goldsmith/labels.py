"""Human-grade labels of a label or multi-label question, as the learners read them.

The owner of "what have people said so far": the model in the loop, the simulator, LLM
prelabeling's calibration and augmentation all read their targets here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import Labelled, choice
from goldsmith.schema import Provenance, ResponseStatus, Task
from goldsmith.store import Store

HUMAN = [
    str(p) for p in (Provenance.GOLD, Provenance.REVIEW, Provenance.HUMAN, Provenance.CONSENSUS)
]
"""Final-label provenances that count as a human answer."""


def loop_question(task: Task, name: str | None) -> Labelled:
    """The label or multi-label question ``name`` (the first when None)."""
    q = task.question(name)
    if not choice(q, many=None):
        raise SchemaError(
            f"question {q.name!r} is a {q.kind} question; the model in the loop needs a "
            "label or multilabel question"
        )
    return q


def target_array(values: list[Any], k: int, multilabel: bool) -> npt.NDArray[np.int64]:
    """Class indices, or an (n, k) 0/1 indicator matrix of label-index sets."""
    if not multilabel:
        return np.asarray(values, dtype=np.int64)
    Y = np.zeros((len(values), k), dtype=np.int64)
    for i, labels in enumerate(values):
        Y[i, sorted(labels)] = 1
    return Y


def labeled_targets(store: Store, task: Task, question: str | None = None) -> dict[int, Any]:
    """Human-grade labels of a label or multi-label question: record id -> class index, or
    the set of label indices for multi-label.

    A gold, human or consensus final label counts first; a record without one counts its
    submitted responses (the most frequent answer), so labels submitted while serving teach
    the model before they are resolved.
    """
    q = loop_question(task, question)
    index = {label: i for i, label in enumerate(q.labels)}
    multilabel = q.many_labels

    def target(value: Any) -> Any:
        if multilabel:
            names = value if isinstance(value, list) else [value]
            return frozenset(index[v] for v in names if v in index)
        return index.get(value) if isinstance(value, str) else None

    with store.read() as tx:
        finals = tx.final_values(q.name, HUMAN)
        answered = list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
        have = {rid for rid, _ in finals}
        answers = tx.responses_for(
            [r for r in answered if r not in have], status=ResponseStatus.SUBMITTED
        )
    votes: dict[int, Counter[Any]] = defaultdict(Counter)
    for response in answers:
        t = target(response.values.get(q.name))
        if t is not None:
            votes[response.record_id][t] += 1
    out: dict[int, Any] = {rid: c.most_common(1)[0][0] for rid, c in votes.items()}
    for rid, value in finals:
        t = target(value)
        if t is not None:
            out[rid] = t
    return out
