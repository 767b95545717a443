"""Rounds of annotation and their QA: start, measure, close; and label issues for review.

A round ties together a guideline version, a batch of records, their responses and a report.
:func:`start_round` sets the guidelines, puts the batch at the front of the queue and mixes
gold records into every annotator's queue at the gold rate. :func:`round_report` measures
agreement, annotator accuracy (on gold, and Dawid-Skene over all their work), consensus and
the label distribution. :func:`close_round` resolves the batch's final labels by consensus
(reviewers' decisions and gold win), queues disagreements, low-confidence consensus and gold
failures for review, and freezes the report.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np

from goldsmith.errors import ConflictError, SchemaError
from goldsmith.kinds.base import choice
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import embed_records
from goldsmith.quality import kind_rounds as _kinds
from goldsmith.quality import resolve
from goldsmith.quality.agreement import METRIC_TITLES, agreement_report
from goldsmith.quality.annotators import annotator_confusions, gold_accuracy
from goldsmith.quality.collect import Responses, collect_responses, label_question
from goldsmith.quality.honeypots import GOLD_RATE_KEY, gold_checked
from goldsmith.quality.label_issues import find_issues, out_of_fold_proba
from goldsmith.quality.report_data import QAReportData
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Task
from goldsmith.store import Store
from goldsmith.store.queue import ROUND_FRONT

Method = Literal["dawid-skene", "majority"]
LOW_CONFIDENCE = 0.7
"""Consensus below this confidence goes to review."""


def start_round(
    store: Store,
    task: Task,
    *,
    size: int,
    gold_rate: float = 0.05,
    guidelines: str | None = None,
) -> dict[str, Any]:
    """Open the next round over the ``size`` open records first in the queue."""
    if not 0.0 <= gold_rate < 1.0:
        raise SchemaError(f"gold rate must be in [0, 1), got {gold_rate}")
    with store.write() as tx:
        if tx.open_round() is not None:
            raise ConflictError("a round is already open: close it with `goldsmith round close`")
        version = tx.add_guideline(guidelines) if guidelines else tx.latest_guideline_version()
        gold = [rid for rid, _ in tx.final_values(task.questions[0].name, [str(Provenance.GOLD)])]
        tx.set_honeypots(gold)
        done = tx.done_records() | set(gold)
        ranks = tx.queue_ranks([r.id for b in tx.iter_records() for r in b if r.id is not None])
        batch = sorted((r for r in ranks if r not in done), key=lambda r: (ranks[r], r))[:size]
        tx.set_queue_ranks([(rid, ROUND_FRONT + i) for i, rid in enumerate(batch)])
        tx.set_meta(GOLD_RATE_KEY, gold_rate if gold else 0.0)
        out = tx.create_round(guideline_version=version, gold_rate=gold_rate, record_ids=batch)
    out["honeypots"] = len(gold)
    return out


def round_records(store: Store, number: int | None = None) -> tuple[dict[str, Any], list[int]]:
    """A round (the latest when None) and its batch's record ids."""
    with store.read() as tx:
        info = tx.get_round(number)
        return info, tx.round_record_ids(info["id"])


def round_report(
    store: Store,
    task: Task,
    *,
    number: int | None = None,
    question: str | None = None,
    method: Method = "dawid-skene",
    n_boot: int = 1000,
    seed: int = 0,
    judge: _kinds.JudgeFactory | None = None,
) -> tuple[dict[str, Any], Responses, resolve.Resolution | None]:
    """The QA report data of a round (all answered records when there is no round yet),
    with the responses and the consensus it was computed from; ``judge`` picks free-text
    consensus (see :func:`~goldsmith.quality.kind_rounds.kind_report`)."""
    info: dict[str, Any] = {}
    ids: list[int] | None = None
    with store.read() as tx:
        has_rounds = bool(tx.list_rounds())
    if has_rounds:
        info, ids = round_records(store, number)
        with store.read() as tx:  # the honeypots answered during the round count as gold
            ids = sorted(set(ids) | set(tx.honeypot_ids()))
    q = task.question(question)
    if not choice(q):  # multi-label, spans, text, rating, preference: by the kind's rule
        return _kind_round_report(store, q, info, ids, n_boot=n_boot, seed=seed, judge=judge)
    data = collect_responses(store, task, ids, question=question)
    labels = list(data.labels)
    report: dict[str, Any] = {
        "round": info.get("number"),
        "guideline_version": info.get("guideline_version"),
        "question": data.question.name,
        "labels": labels,
        "n_records": len(data.record_ids),
        "n_responses": int((data.matrix >= 0).sum()),
        "n_annotators": len(data.annotators),
        "pause_threshold": task.settings.pause_below,
    }
    if data.triples:
        report.update(_agreement(data, n_boot=n_boot, seed=seed))
    consensus = None
    if data.annotators:
        consensus = _consensus(data, method)
        report["annotators"] = _staff_unscored(store, _annotators(store, data))
        report["confusions"] = _confusions(data)
    with store.read() as tx:
        report["label_distribution"] = _distribution(tx, data.question, labels)
        report.update(_issues(tx, data.question.name))
    return report, data, consensus


def close_round(
    store: Store,
    task: Task,
    *,
    question: str | None = None,
    method: Method = "dawid-skene",
    n_boot: int = 1000,
    seed: int = 0,
    judge: _kinds.JudgeFactory | None = None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Resolve the open round's final labels, queue its doubtful items for review and store
    its report; returns the report data and the counts of what was written."""
    with store.read() as tx:
        current = tx.open_round()
    if current is None:
        raise ConflictError("no round is open: start one with `goldsmith round start`")
    report, data, consensus = round_report(
        store,
        task,
        number=current["number"],
        question=question,
        method=method,
        n_boot=n_boot,
        seed=seed,
        judge=judge,
    )
    counts = {"final_labels": 0, "reviews": 0}
    if isinstance(data, _kinds.KindAnswers):
        counts = _kinds.write_kind_consensus(store, data, consensus, current["id"])
    elif consensus is not None:
        counts = _write_consensus(store, data, consensus, current["id"])
    if report.get("labels"):  # the frozen report counts the final labels just written
        asked = task.question(report["question"])
        with store.read() as tx:
            report["label_distribution"] = _distribution(tx, asked, report["labels"])
    with store.read() as tx:
        previous = [r for r in tx.list_rounds() if r["number"] < current["number"]]
        before = tx.round_report(previous[-1]["id"]) if previous else None
    if isinstance(before, dict):  # one earlier round plus the trend points, not a chain
        linked = QAReportData.from_dict(report).linked_to(QAReportData.from_dict(before))
        report = {**report, **linked.to_dict()}
    with store.write() as tx:
        tx.close_round(current["id"], report)
        tx.set_meta(GOLD_RATE_KEY, 0.0)
    return report, counts


def _kind_round_report(
    store: Store,
    q: Any,
    info: dict[str, Any],
    ids: list[int] | None,
    *,
    n_boot: int,
    seed: int,
    judge: _kinds.JudgeFactory | None = None,
) -> tuple[dict[str, Any], Any, Any]:
    """The report of a question that is not single-label (see :mod:`.kind_rounds`)."""
    if ids is None:
        with store.read() as tx:
            ids = list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
    data = _kinds.collect_answers(store, q, ids)
    triples = [(rid, u, v) for rid, a in data.answers.items() for u, v in a.items()]
    report: dict[str, Any] = {
        "round": info.get("number"),
        "guideline_version": info.get("guideline_version"),
        "question": q.name,
        "kind": q.kind,
        "labels": list(q.categories() or []),
        "n_records": len(ids),
        "n_responses": len(triples),
        "n_annotators": len({u for _, u, _ in triples}),
        "pause_threshold": None,
    }
    consensus: dict[int, Any] = {}
    if triples:
        result = agreement_report(triples, kind=q, labels=q.categories(), n_boot=n_boot, seed=seed)
        report.update(_shape(result))
        extra, consensus, _ = _kinds.kind_report(store, data, n_boot=n_boot, seed=seed, judge=judge)
        report.update(extra)
    with store.read() as tx:
        report.update(_issues(tx, q.name))
        if report["labels"]:
            report["label_distribution"] = _distribution(tx, q, report["labels"])
    return report, data, consensus


def queue_label_issues(
    store: Store,
    task: Task,
    embedder: Embedder,
    *,
    question: str | None = None,
    limit: int = 100,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Suspected label errors among the human-grade final labels, ranked, sent to review.

    Out-of-fold probabilities of the in-the-loop classifier (5-fold, on the project's
    embeddings) go to cleanlab's confident learning (:func:`~goldsmith.quality.label_issues
    .find_issues`); the ``limit`` most likely errors become review items of kind ``issue``.
    """
    asked = task.question(question)
    if not choice(asked) and (asked.many_labels or asked.marks_spans):
        found = _kinds.queue_kind_issues(store, asked, embedder, limit=limit, seed=seed)
    else:
        found = _single_label_issues(store, task, embedder, question, limit=limit, seed=seed)
    with store.write() as tx:  # a report can then tell "none found" from "never searched"
        tx.set_meta(ISSUES_SEARCHED_KEY + asked.name, {"found": len(found)})
    return found


ISSUES_SEARCHED_KEY = "label_issues_searched:"
"""Meta key prefix, per question: label errors were searched for (``round close`` or
``qa issues``), so an empty list in a report means none were found."""


def _single_label_issues(
    store: Store, task: Task, embedder: Embedder, question: str | None, *, limit: int, seed: int
) -> list[dict[str, Any]]:
    q = label_question(task, question)
    index = {label: i for i, label in enumerate(q.labels)}
    provenances = [str(p) for p in (Provenance.HUMAN, Provenance.CONSENSUS, Provenance.GOLD)]
    with store.read() as tx:
        labeled = {r: v for r, v in tx.final_values(q.name, provenances) if v in index}
    if len(labeled) < 10:
        raise SchemaError(f"label issues need at least 10 labeled records; {len(labeled)} found")
    ids = sorted(labeled)
    X = embed_records(store, embedder, ids).vectors
    y = np.array([index[labeled[r]] for r in ids], dtype=np.int64)
    proba = out_of_fold_proba(X, y, n_classes=len(q.labels), seed=seed)
    issues = find_issues(y, proba)
    found = []
    for rank, i in enumerate(issues.indices.tolist()[:limit]):
        found.append(
            {
                "record_id": ids[i],
                "question": q.name,
                "kind": "issue",
                "priority": 1.0 - float(issues.quality[i]),
                "detail": {
                    "given": q.labels[int(y[i])],
                    "proposed": q.labels[int(issues.suggested[i])],
                    "quality": round(float(issues.quality[i]), 4),
                    "rank": rank + 1,
                },
            }
        )
    with store.write() as tx:
        tx.add_reviews(found)
    return found


# --------------------------------------------------------------------------- parts


def _agreement(data: Responses, *, n_boot: int, seed: int) -> dict[str, Any]:
    result = agreement_report(
        data.triples, kind=data.question, labels=list(data.labels), n_boot=n_boot, seed=seed
    )
    return _shape(result)


def _shape(result: dict[str, Any]) -> dict[str, Any]:
    """Agreement in the report's shape: overall, per label and per annotator pair."""
    metric = result["metric"]
    return {
        "agreement_metric": METRIC_TITLES.get(metric, metric),
        "agreement": _estimate(result["overall"].get(metric)),
        "agreement_by_label": {k: _estimate(v) for k, v in result["per_label"].items()},
        "pairwise": [
            {"a": p["a"], "b": p["b"], **_estimate(p["metrics"].get(p["metric"], p)), "n": p["n"]}
            for p in result["per_pair"]
        ],
        "agreement_notes": result["notes"],
        "agreement_all": {
            METRIC_TITLES.get(k, k): _estimate(v) for k, v in result["overall"].items()
        },
    }


def question_agreement(
    store: Store,
    task: Task,
    *,
    question: str | None = None,
    number: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Agreement on any kind of question (spans, text, rating, preference, multi-label
    too) over a round's records, or every answered record before the first round."""
    q = task.question(question)
    with store.read() as tx:
        has_rounds = bool(tx.list_rounds())
    info: dict[str, Any] = {}
    if has_rounds:
        info, ids = round_records(store, number)
    else:
        with store.read() as tx:
            ids = list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
    with store.read() as tx:
        answers = tx.responses_for(ids, status=ResponseStatus.SUBMITTED)
    triples = [(r.record_id, r.user, r.values[q.name]) for r in answers if q.name in r.values]
    result = agreement_report(triples, kind=q, labels=q.categories(), n_boot=n_boot, seed=seed)
    return {"round": info.get("number"), "question": q.name, "kind": q.kind, **_shape(result)}


def _estimate(est: Any) -> dict[str, Any]:
    """An agreement estimate as the report wants it: value, low, high, n (and why not)."""
    if not isinstance(est, dict):
        return {"value": None, "low": None, "high": None, "n": None}
    ci = est.get("ci") or [None, None]
    out = {"value": est.get("value"), "low": ci[0], "high": ci[1], "n": est.get("n")}
    if est.get("reason"):
        out["reason"] = est["reason"]
    return out


def _consensus(data: Responses, method: Method) -> resolve.Resolution:
    fn = resolve.dawid_skene if method == "dawid-skene" else resolve.majority
    return fn(data.matrix, n_classes=len(data.labels), gold=data.gold, overrides=data.reviewed)


def _annotators(store: Store, data: Responses) -> list[dict[str, Any]]:
    acc = gold_accuracy(data.matrix, data.gold)
    ds = annotator_confusions(data.matrix, n_classes=len(data.labels), gold=data.gold)
    with store.read() as tx:
        paused = {name: tx.is_paused(name) for name in data.annotators}
    shared = ((data.matrix >= 0).sum(axis=1) >= 2)[:, None] & (data.matrix >= 0)
    out = []
    for j, name in enumerate(data.annotators):
        n_gold = int(acc.n_answered[j])
        row = {
            "name": name,
            "n_responses": int((data.matrix[:, j] >= 0).sum()),
            "gold_n": n_gold,
            "gold_accuracy": float(acc.accuracy[j]) if n_gold else None,
            "gold_low": float(acc.low[j]) if n_gold else None,
            "gold_high": float(acc.high[j]) if n_gold else None,
            "ds_accuracy": None,
            "paused": paused[name],
        }
        if not n_gold:
            row["gold_reason"] = "answered no gold record"
        value = float(ds.accuracy[j])
        if len(data.annotators) < 2:
            row["ds_reason"] = "only one annotator: Dawid-Skene needs two or more"
        elif not shared[:, j].any() and not n_gold:
            row["ds_reason"] = "shares no record with another annotator and answered no gold"
        elif not np.isfinite(value):
            row["ds_reason"] = "not enough data to estimate"
        else:
            row["ds_accuracy"] = value
        out.append(row)
    return out


def _staff_unscored(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reviewers and owners who annotated as themselves keep their answers in the report,
    but never a gold score (see :func:`~goldsmith.quality.honeypots.gold_checked`)."""
    with store.read() as tx:
        staff = {r["name"] for r in rows if not gold_checked(tx.user_role(r["name"]))}
    unscored = {"gold_n": 0, "gold_accuracy": None, "gold_low": None, "gold_high": None}
    return [{**r, **unscored} if r["name"] in staff else r for r in rows]


def _confusions(data: Responses) -> list[dict[str, Any]]:
    k = len(data.labels)
    pooled = np.zeros((k, k), dtype=np.int64)
    against_gold = np.zeros((k, k), dtype=np.int64)
    R = data.matrix
    for a in range(R.shape[1]):
        for b in range(a + 1, R.shape[1]):
            both = (R[:, a] >= 0) & (R[:, b] >= 0)
            np.add.at(pooled, (R[both, a], R[both, b]), 1)
            np.add.at(pooled, (R[both, b], R[both, a]), 1)
        g = (R[:, a] >= 0) & (data.gold >= 0)
        np.add.at(against_gold, (data.gold[g], R[g, a]), 1)
    labels = list(data.labels)
    return [
        {
            "kind": "annotators",
            "labels": labels,
            "matrix": pooled.tolist(),
            "title": "between annotators (all pairs)",
            "rows": "annotator",
            "cols": "annotator",
        },
        {
            "kind": "gold",
            "labels": labels,
            "matrix": against_gold.tolist(),
            "title": "annotators against gold",
            "rows": "gold",
            "cols": "annotator",
        },
    ]


def _issues(tx: Any, question: str, *, top: int = 20) -> dict[str, Any]:
    """The open suspected label errors, most suspicious first, for the report; None when
    label errors were never searched for on ``question`` (the report says so instead of
    "none found")."""
    items = [
        i
        for i in tx.list_reviews(status="open", limit=10_000)
        if i["kind"] == "issue" and i["question"] == question
    ]
    if not items and tx.get_meta(ISSUES_SEARCHED_KEY + question) is None:
        return {"label_issues": None, "label_issues_total": None}
    texts = tx.record_texts([i["record_id"] for i in items[:top]])
    shown = []
    for i in items[:top]:
        fields = texts.get(i["record_id"], {})
        text = next((v for v in fields.values() if isinstance(v, str)), "")
        d = i["detail"] or {}
        shown.append(
            {
                "record_id": str(i["record_id"]),
                "text": text,
                "given": str(d.get("given", "")),
                "suggested": d.get("proposed"),
                "quality": d.get("quality"),
            }
        )
    return {"label_issues": shown, "label_issues_total": len(items)}


def _distribution(tx: Any, question: Any, labels: list[str]) -> dict[str, dict[str, int]]:
    """Final labels per label and provenance, each value counted under the labels its kind
    names (``counted_labels``: a label set each of its labels, a span set each span's)."""
    out: dict[str, dict[str, int]] = {}
    for provenance in Provenance:
        values = tx.final_values(question.name, [str(provenance)])
        if values:
            counts = {label: 0 for label in labels}
            for _, v in values:
                for label in question.counted_labels(v):
                    if label in counts:
                        counts[label] += 1
            out[str(provenance)] = counts
    return out


def _write_consensus(
    store: Store, data: Responses, consensus: resolve.Resolution, round_id: int
) -> dict[str, int]:
    labels = data.labels
    finals: list[FinalLabel] = []
    reviews: list[dict[str, Any]] = []
    answered = (data.matrix >= 0).sum(axis=1)
    unanswered = 0
    for i, rid in enumerate(data.record_ids):
        method = str(consensus.method[i])
        label = int(consensus.label[i])
        answers = {
            data.annotators[j]: labels[int(v)]
            for j, v in enumerate(data.matrix[i].tolist())
            if v >= 0
        }
        if method in ("gold", "override"):
            if method == "gold" and data.honeypot[i]:
                wrong = {u: v for u, v in answers.items() if v != labels[int(data.gold[i])]}
                if wrong:
                    reviews.append(
                        _review(
                            rid,
                            data,
                            "gold",
                            0.9,
                            round_id,
                            answers,
                            labels[int(data.gold[i])],
                            wrong=sorted(wrong),
                        )
                    )
            continue
        if method == "none":  # nobody answered: it stays open in the queue, no tie to review
            unanswered += 1
            continue
        if label < 0:  # a tie: a reviewer decides
            reviews.append(_review(rid, data, "disagreement", 1.0, round_id, answers, None))
            continue
        prov = Provenance.HUMAN if answered[i] == 1 else Provenance.CONSENSUS
        conf = float(consensus.confidence[i])
        finals.append(FinalLabel(rid, data.question.name, labels[label], prov, conf))
        if len(set(answers.values())) > 1:
            kind = "low_confidence" if conf < LOW_CONFIDENCE else "disagreement"
            reviews.append(_review(rid, data, kind, 1.0 - conf, round_id, answers, labels[label]))
    with store.write() as tx:
        tx.set_final_labels(finals)
        n_reviews = tx.add_reviews(reviews)
    return {"final_labels": len(finals), "reviews": n_reviews, "unanswered": unanswered}


def _review(
    rid: int,
    data: Responses,
    kind: str,
    priority: float,
    round_id: int,
    answers: dict[str, str],
    proposed: str | None,
    **extra: Any,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"answers": answers, "proposed": proposed, **extra}
    if kind != "gold":  # a gold answer is known, never a model's guess
        detail["model_proposed"] = _model_proposed(proposed, answers)
    return {
        "record_id": rid,
        "question": data.question.name,
        "kind": kind,
        "priority": priority,
        "round_id": round_id,
        "detail": detail,
    }


def _model_proposed(proposed: Any, answers: dict[str, Any]) -> bool:
    """Whether a proposal is one that no annotator gave (Dawid-Skene can propose a third
    label): the review page then never accepts it with a single key."""
    if proposed is None:
        return False
    key = json.dumps(proposed, sort_keys=True)
    return all(json.dumps(v, sort_keys=True) != key for v in answers.values())
