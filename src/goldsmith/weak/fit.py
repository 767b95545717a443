"""Fit a label model on a project's stored votes and write what it says back.

Every record with at least one vote gets a suggestion (kind ``label_model``, agent
``label-model:NAME``, the most probable label, its probability as the score). Where that
probability reaches ``threshold`` the record also gets a final label with provenance
``weak``, unless it already has a gold, human or consensus one. A new fit replaces the
previous fit's suggestions and weak labels for the question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goldsmith.errors import SchemaError
from goldsmith.schema import FinalLabel, Provenance, Suggestion, SuggestionKind, Task
from goldsmith.store import Store
from goldsmith.weak.label_models.select import CANDIDATES, make_model, select_model
from goldsmith.weak.run import label_array, load_label_matrix

AGENT = "label-model:"
_HUMAN = [str(p) for p in (Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS)]


@dataclass(slots=True)
class FitReport:
    question: str
    model: str
    n_records: int
    n_lfs: int
    n_gold: int
    n_suggestions: int
    n_weak_labels: int
    threshold: float | None
    class_balance: dict[str, float]
    scores: dict[str, float] = field(default_factory=dict)  # auto: cross-fitted gold accuracy
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


def fit_to_store(
    store: Store,
    task: Task,
    *,
    model: str = "auto",
    question: str | None = None,
    threshold: float | None = None,
    seed: int = 0,
) -> FitReport:
    """Fit ``model`` (``auto`` picks by cross-fitted accuracy on gold) and store its output."""
    if threshold is not None and not 0 < threshold <= 1:
        raise SchemaError(f"threshold must be in (0, 1], got {threshold}")
    data = load_label_matrix(store, task, question)
    if not data.lfs:
        raise SchemaError("no labeling functions have been applied; run `goldsmith lf apply`")
    k = len(data.labels)
    index = {name: i for i, name in enumerate(data.labels)}
    with store.read() as tx:
        gold = label_array(data.record_ids, tx.final_values(data.question, ["gold"]), index)
        taken = label_array(data.record_ids, tx.final_values(data.question, _HUMAN), index) >= 0
    has_gold = gold >= 0
    L_train, L_dev, y_dev = data.L[~has_gold], data.L[has_gold], gold[has_gold]
    note, scores = "", {}
    if model == "auto" and int(has_gold.sum()) < 2:
        model, note = "label-model", "auto needs gold labels to choose; used label-model"
    if model == "auto":
        chosen = select_model(L_train, L_dev, y_dev, cardinality=k, seed=seed)
        name, fitted, scores = chosen.name, chosen.model, chosen.scores
    else:
        if model not in CANDIDATES:
            make_model(model, k)  # raises RegistryError naming the known models
        name, fitted = model, make_model(model, k, seed=seed)
        if has_gold.any():
            fitted.fit(L_train, L_dev=L_dev, Y_dev=y_dev)  # type: ignore[attr-defined]
        else:
            fitted.fit(data.L)  # type: ignore[attr-defined]
    proba = fitted.predict_proba(data.L)
    voted = np.diff(data.L.indptr) > 0
    best = proba.argmax(axis=1)
    confidence = proba[np.arange(len(best)), best]
    agent = AGENT + name
    suggestions = [
        Suggestion(
            int(rid),
            data.question,
            data.labels[int(c)],
            agent,
            SuggestionKind.LABEL_MODEL,
            float(p),
        )
        for rid, c, p in zip(data.record_ids[voted], best[voted], confidence[voted], strict=True)
    ]
    weak_rows = voted & ~taken
    if threshold is not None:
        weak_rows &= confidence >= threshold
    finals = (
        [
            FinalLabel(int(rid), data.question, data.labels[int(c)], Provenance.WEAK, float(p))
            for rid, c, p in zip(
                data.record_ids[weak_rows], best[weak_rows], confidence[weak_rows], strict=True
            )
        ]
        if threshold is not None
        else []
    )
    with store.write() as tx:
        tx.delete_suggestions(data.question, agent_prefix=AGENT)
        tx.add_suggestions(suggestions)
        tx.delete_final_labels(data.question, provenance=str(Provenance.WEAK))
        tx.set_final_labels(finals)
    balance = np.asarray(fitted.class_balance_, dtype=float)
    return FitReport(
        question=data.question,
        model=name,
        n_records=int(data.L.shape[0]),
        n_lfs=len(data.lfs),
        n_gold=int(has_gold.sum()),
        n_suggestions=len(suggestions),
        n_weak_labels=len(finals),
        threshold=threshold,
        class_balance={
            lab: round(float(p), 4) for lab, p in zip(data.labels, balance, strict=True)
        },
        scores={n: round(s, 4) for n, s in scores.items()},
        note=note,
    )
