"""``lf report``: the diagnostics of every applied LF for one question, as JSON-ready data.

Single-label questions are measured against gold and human labels; multi-label questions get
one binary report per label; span questions are measured per token.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.kinds.base import choice, span_choice
from goldsmith.schema import Provenance, Task
from goldsmith.store import Store
from goldsmith.weak import run as _run
from goldsmith.weak.analysis import lf_summary, totals
from goldsmith.weak.label_models.spans import spans_to_token_matrix


def known_labels(
    store: Store, data: _run.LabelMatrixData, provenances: list[Provenance]
) -> npt.NDArray[np.int64]:
    """Label index of each row of ``data`` from final labels of these provenances, or -1."""
    index = {name: i for i, name in enumerate(data.labels)}
    with store.read() as tx:
        found = tx.final_values(data.question, [str(p) for p in provenances])
    return _run.label_array(data.record_ids, found, index)


def lf_report(store: Store, task: Task, question: str | None = None) -> dict[str, Any]:
    q = task.question(question)
    if choice(q, many=True):  # one binary report per label
        ml = _run.load_multilabel_matrices(store, task, q.name)
        return {
            "question": q.name,
            "records": len(ml.record_ids),
            "labels": {
                lab: {
                    "totals": totals(L),
                    "lfs": [s.as_dict() for s in lf_summary(L, ml.lfs, ["absent", "present"])],
                }
                for lab, L in zip(ml.labels, ml.Ls, strict=True)
            },
        }
    if span_choice(q):  # token level
        sv = _run.load_span_votes(store, task, q.name)
        M = spans_to_token_matrix(sv.lengths, sv.token_spans, sv.labels)
        return {
            "question": q.name,
            "records": len(sv.record_ids),
            "tokens": int(M.shape[0]),
            "totals": totals(M),
            "lfs": [s.as_dict() for s in lf_summary(M, sv.lfs, ["O", *sv.labels])],
        }
    data = _run.load_label_matrix(store, task, question)
    gold = known_labels(store, data, [Provenance.GOLD])
    human = known_labels(store, data, [Provenance.HUMAN, Provenance.CONSENSUS])
    stats = lf_summary(data.L, data.lfs, data.labels, gold=gold, human=human)
    return {
        "question": data.question,
        "records": int(data.L.shape[0]),
        "gold": int((gold >= 0).sum()),
        "human": int((human >= 0).sum()),
        "totals": totals(data.L),
        "lfs": [s.as_dict() for s in stats],
    }
