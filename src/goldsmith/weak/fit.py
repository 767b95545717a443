"""Fit a label model on a project's stored votes and write what it says back.

Every record with at least one vote gets a suggestion (kind ``label_model``, agent
``label-model:NAME``, the most probable label, its probability as the score). Where that
probability reaches ``threshold`` the record also gets a final label with provenance
``weak``, unless it already has a gold, human or consensus one. A new fit replaces the
previous fit's suggestions and weak labels for the question.

* A ``multilabel`` question gets one binary model per label
  (:class:`~goldsmith.weak.label_models.multilabel.MultiLabelModel`). A label no LF voted on
  for a record counts as absent there. The suggestion is the list of labels with
  ``P(present) >= 0.5``; its score is the confidence of its least sure decision,
  ``min over voted labels of max(P, 1 - P)``.
* A ``spans`` question gets the sequence model ``hmm``
  (:class:`~goldsmith.weak.label_models.hmm.SpanHMM`, fitted without gold) or, with a
  single-label model's name, a token-level model
  (:class:`~goldsmith.weak.label_models.spans.SpanLabelModel`). The suggestion is the list
  of predicted spans (``{"start", "end", "label"}``, code points); its score is the
  confidence of its least sure token among those some LF tagged.

``auto`` means ``label-model`` for multilabel questions and ``hmm`` for spans (selection by
gold is for single-label questions).

Gold (single-label questions): the gold records are the label model's dev set, and they fix
its class balance (their class frequencies). With at least 30 of them the scores are also
*calibrated*: an isotonic map, learned out of fold on the gold, turns the model's top
probability into how often such a label is right (:mod:`goldsmith.weak.calibration`); the
suggestion's score and the weak label's confidence are the calibrated value, which is what
training weighs them by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.kinds.base import choice, span_choice
from goldsmith.labels import HUMAN
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Suggestion,
    SuggestionKind,
    Task,
)
from goldsmith.store import Store
from goldsmith.weak.calibration import apply_calibration, calibrate_on_gold
from goldsmith.weak.label_models._base import BaseLabelModel
from goldsmith.weak.label_models.hmm import SpanHMM
from goldsmith.weak.label_models.multilabel import MultiLabelModel
from goldsmith.weak.label_models.select import CANDIDATES, make_model, select_model
from goldsmith.weak.label_models.spans import Span, SpanLabelModel, token_labels_to_spans
from goldsmith.weak.run import (
    SpanVotes,
    label_array,
    load_label_matrix,
    load_multilabel_matrices,
    load_span_votes,
)
from goldsmith.weak.span_matrix import to_char_spans, to_token_spans

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

AGENT = "label-model:"
PREDICT_CHUNK = 200_000
"""Rows of the label matrix scored at once when writing a fit's output."""


def _need_lfs(lfs: Sequence[str]) -> None:
    """SchemaError saying what to run when no labeling function has voted yet."""
    if not lfs:
        raise SchemaError("no labeling functions have been applied; run `goldsmith lf apply`")


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
    calibrated: bool = False  # scores mapped to accuracy on gold (see weak.calibration)

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
    q = task.question(question)
    if choice(q, many=True) or span_choice(q):
        spans = span_choice(q)
        if model != "auto" and model not in CANDIDATES and not (spans and model == "hmm"):
            make_model(model, 2)  # raises RegistryError naming the known models
        default = "hmm" if spans else "label-model"
        name = default if model == "auto" else model
        note = f"auto picks by gold only for single-label questions; used {default}"
        fit = _fit_spans if spans else _fit_multilabel
        report = fit(store, task, q.name, name, threshold, seed)
        report.note = note if model == "auto" else ""
        return report
    data = load_label_matrix(store, task, question)
    _need_lfs(data.lfs)
    k = len(data.labels)
    index = {name: i for i, name in enumerate(data.labels)}
    with store.read() as tx:
        gold = label_array(data.record_ids, tx.final_values(data.question, ["gold"]), index)
        taken = label_array(data.record_ids, tx.final_values(data.question, HUMAN), index) >= 0
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
    best, confidence = predict_best(fitted, data.L)
    calibrated = False
    if has_gold.any():  # confidences calibrated on gold, scored out of fold
        calibrator = calibrate_on_gold(
            lambda: make_model(name, k, seed=seed), L_train, L_dev, y_dev, seed=seed
        )
        confidence = apply_calibration(calibrator, confidence, k)
        calibrated = calibrator is not None
    voted = np.diff(data.L.indptr) > 0
    agent = AGENT + name
    suggestions = (
        Suggestion(
            int(rid),
            data.question,
            data.labels[int(c)],
            agent,
            SuggestionKind.LABEL_MODEL,
            float(p),
        )
        for rid, c, p in zip(data.record_ids[voted], best[voted], confidence[voted], strict=True)
    )
    weak_rows = voted & ~taken
    if threshold is not None:
        weak_rows &= confidence >= threshold
    finals = (
        FinalLabel(int(rid), data.question, data.labels[int(c)], Provenance.WEAK, float(p))
        for rid, c, p in zip(
            data.record_ids[weak_rows], best[weak_rows], confidence[weak_rows], strict=True
        )
    )
    with store.write() as tx:  # the generators are written a chunk at a time
        tx.delete_suggestions(data.question, agent_prefix=AGENT)
        n_suggestions = tx.add_suggestions(suggestions)
        tx.delete_final_labels(data.question, provenance=str(Provenance.WEAK))
        n_weak = tx.set_final_labels(finals) if threshold is not None else 0
    balance = np.asarray(fitted.class_balance_, dtype=float)
    return FitReport(
        question=data.question,
        model=name,
        n_records=int(data.L.shape[0]),
        n_lfs=len(data.lfs),
        n_gold=int(has_gold.sum()),
        n_suggestions=n_suggestions,
        n_weak_labels=n_weak,
        threshold=threshold,
        class_balance={
            lab: round(float(p), 4) for lab, p in zip(data.labels, balance, strict=True)
        },
        scores={n: round(s, 4) for n, s in scores.items()},
        note=note,
        calibrated=calibrated,
    )


def predict_best(
    model: Any, L: sp.csr_matrix, *, chunk: int = PREDICT_CHUNK
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The most probable class of each row of ``L`` and its probability, predicted
    ``chunk`` rows at a time: only one chunk's ``(chunk, k)`` probabilities exist at once,
    never the ``(n, k)`` matrix."""
    n = L.shape[0]
    best = np.zeros(n, dtype=np.int64)
    confidence = np.zeros(n, dtype=np.float64)
    for start in range(0, n, chunk):
        proba = model.predict_proba(L[start : start + chunk])
        top = proba.argmax(axis=1)
        best[start : start + chunk] = top
        confidence[start : start + chunk] = proba[np.arange(len(top)), top]
    return best, confidence


def _base(name: str) -> Callable[[int, int], BaseLabelModel]:
    def build(cardinality: int, seed: int) -> BaseLabelModel:
        return make_model(name, cardinality, seed=seed)

    return build


def _taken(store: Store, question: str) -> set[int]:
    with store.read() as tx:
        return {rid for rid, _ in tx.final_values(question, HUMAN)}


def _write(
    store: Store,
    question: str,
    agent: str,
    rows: list[tuple[int, Any, float]],
    threshold: float | None,
) -> tuple[int, int]:
    """Replace the suggestions and weak labels of ``question``; returns their counts."""
    taken = _taken(store, question)
    suggestions = [
        Suggestion(rid, question, value, agent, SuggestionKind.LABEL_MODEL, score)
        for rid, value, score in rows
    ]
    finals = (
        [
            FinalLabel(rid, question, value, Provenance.WEAK, score)
            for rid, value, score in rows
            if score >= threshold and rid not in taken
        ]
        if threshold is not None
        else []
    )
    with store.write() as tx:
        tx.delete_suggestions(question, agent_prefix=AGENT)
        tx.add_suggestions(suggestions)
        tx.delete_final_labels(question, provenance=str(Provenance.WEAK))
        tx.set_final_labels(finals)
    return len(suggestions), len(finals)


def _fit_multilabel(
    store: Store, task: Task, question: str, name: str, threshold: float | None, seed: int
) -> FitReport:
    data = load_multilabel_matrices(store, task, question)
    _need_lfs(data.lfs)
    # gold label lists become a dev set: 1 where the label is present, 0 where it is absent
    with store.read() as tx:
        gold = {
            rid: set(value) if isinstance(value, list) else {value}
            for rid, value in tx.final_values(data.question, [str(Provenance.GOLD)])
        }
    row_of = {int(rid): i for i, rid in enumerate(data.record_ids)}
    gold_rows = sorted(row_of[rid] for rid in gold if rid in row_of)
    model = MultiLabelModel(len(data.labels), base=_base(name), seed=seed)
    if gold_rows:
        is_gold = np.zeros(len(data.record_ids), dtype=bool)
        is_gold[gold_rows] = True
        Y = np.array(
            [[int(lab in gold[int(data.record_ids[i])]) for lab in data.labels] for i in gold_rows],
            dtype=np.int64,
        )
        fitted = model.fit(
            [L[~is_gold] for L in data.Ls], L_dev=[L[is_gold] for L in data.Ls], Y_dev=Y
        )
    else:
        fitted = model.fit(data.Ls)
    voted = np.column_stack([np.diff(L.indptr) > 0 for L in data.Ls])  # (n, k)
    proba = np.where(voted, fitted.predict_proba(data.Ls), 0.0)  # unvoted: absent
    present = proba >= 0.5
    sure = np.where(voted, np.maximum(proba, 1 - proba), 1.0).min(axis=1)
    rows = [
        (
            int(data.record_ids[i]),
            [lab for lab, p in zip(data.labels, present[i], strict=True) if p],
            float(sure[i]),
        )
        for i in np.flatnonzero(voted.any(axis=1)).tolist()
    ]
    n_suggestions, n_weak = _write(store, data.question, AGENT + name, rows, threshold)
    balance = [float(m.class_balance_[1]) for m in fitted.models_]
    return FitReport(
        question=data.question,
        model=name,
        n_records=len(data.record_ids),
        n_lfs=len(data.lfs),
        n_gold=len(gold_rows),
        n_suggestions=n_suggestions,
        n_weak_labels=n_weak,
        threshold=threshold,
        class_balance={lab: round(p, 4) for lab, p in zip(data.labels, balance, strict=True)},
    )


def _span_gold(store: Store, data: SpanVotes) -> dict[int, list[Span]]:
    """Gold spans of the records in ``data``, in tokens, by row of ``data``."""
    with store.read() as tx:
        gold = dict(tx.final_values(data.question, [str(Provenance.GOLD)]))
    out: dict[int, list[Span]] = {}
    for d, rid in enumerate(data.record_ids):
        value = gold.get(int(rid))
        if isinstance(value, list):
            chars = [(int(v["start"]), int(v["end"]), str(v["label"])) for v in value]
            out[d] = to_token_spans(chars, data.token_starts[d], data.token_ends[d])
    return out


def _fit_spans(
    store: Store, task: Task, question: str, name: str, threshold: float | None, seed: int
) -> FitReport:
    data = load_span_votes(store, task, question)
    _need_lfs(data.lfs)
    lengths = data.lengths
    if name == "hmm":
        return _fit_span_hmm(store, data, threshold, seed)
    model = SpanLabelModel(data.labels, base=_base(name), seed=seed)
    gold_rows = _span_gold(store, data)
    train = [d for d in range(len(lengths)) if d not in gold_rows]
    dev = (
        (
            [lengths[d] for d in gold_rows],
            [data.token_spans[d] for d in gold_rows],
            list(gold_rows.values()),
        )
        if gold_rows
        else None
    )
    model.fit([lengths[d] for d in train], [data.token_spans[d] for d in train], dev=dev)
    proba = model.predict_proba_tokens(lengths, data.token_spans)
    best = proba.argmax(axis=1)
    confidence: npt.NDArray[np.float64] = proba[np.arange(len(best)), best]
    predicted = token_labels_to_spans(best, lengths, data.labels)
    rows = _span_rows(data, predicted, confidence)
    n_suggestions, n_weak = _write(store, data.question, AGENT + name, rows, threshold)
    balance = np.asarray(model.model_.class_balance_, dtype=float)
    return _span_report(data, name, len(gold_rows), n_suggestions, n_weak, threshold, balance)


def _fit_span_hmm(store: Store, data: SpanVotes, threshold: float | None, seed: int) -> FitReport:
    """The sequence model: fitted on every record's source spans, without gold."""
    model = SpanHMM(data.labels, seed=seed).fit(data.lengths, data.token_spans)
    proba = model.predict_proba_tokens(data.lengths, data.token_spans)
    confidence: npt.NDArray[np.float64] = proba.max(axis=1)
    predicted = model.predict_spans(data.lengths, data.token_spans)
    rows = _span_rows(data, predicted, confidence)
    n_suggestions, n_weak = _write(store, data.question, AGENT + "hmm", rows, threshold)
    n_gold = len(_span_gold(store, data))
    return _span_report(data, "hmm", n_gold, n_suggestions, n_weak, threshold, model.class_balance_)


def _span_rows(
    data: SpanVotes, predicted: list[list[Span]], confidence: npt.NDArray[np.float64]
) -> list[tuple[int, Any, float]]:
    """Suggestion rows (record id, spans in code points, least confident tagged token)."""
    offsets = np.concatenate([[0], np.cumsum(data.lengths)]).astype(np.int64)
    rows = []
    for d, spans in enumerate(predicted):
        tagged = sorted(
            {t for per_lf in data.token_spans[d] for a, b, _ in per_lf for t in range(a, b)}
        )
        if not tagged:
            continue
        chars = to_char_spans(spans, data.token_starts[d], data.token_ends[d])
        value = [{"start": a, "end": b, "label": lab} for a, b, lab in chars]
        score = float(confidence[offsets[d] + np.asarray(tagged)].min())
        rows.append((int(data.record_ids[d]), value, score))
    return rows


def _span_report(
    data: SpanVotes,
    name: str,
    n_gold: int,
    n_suggestions: int,
    n_weak: int,
    threshold: float | None,
    balance: npt.NDArray[np.float64],
) -> FitReport:
    return FitReport(
        question=data.question,
        model=name,
        n_records=len(data.record_ids),
        n_lfs=len(data.lfs),
        n_gold=n_gold,
        n_suggestions=n_suggestions,
        n_weak_labels=n_weak,
        threshold=threshold,
        class_balance={
            lab: round(float(p), 4) for lab, p in zip(["O", *data.labels], balance, strict=True)
        },
    )
