"""Round QA for questions that are not single-label: multi-label, spans, free text, ratings
and preferences (single-label questions keep the response-matrix path of
:mod:`goldsmith.quality.rounds`).

Each kind's :class:`~goldsmith.quality.by_kind.KindRule` merges the annotators' answers into a
consensus and scores every annotator: on gold records (with an interval) and over all their
work. Closing a round writes the consensus as final labels (``consensus``, or ``human`` for a
single answer) unless gold or a reviewer's decision holds the record, and sends to review the
records whose answers differ and whose consensus is unsure, undecided, or a value nobody gave
(``model_proposed``). Records nobody answered are left alone: they stay in the queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from goldsmith.errors import SchemaError
from goldsmith.models.vectors import embed_records
from goldsmith.quality import label_issues_kinds as _issues
from goldsmith.quality.by_kind import Consensus, KindRule, rule_for
from goldsmith.quality.by_kind.base import canonical
from goldsmith.quality.by_kind.scores import annotator_scores
from goldsmith.schema import FinalLabel, Provenance, Record, ResponseStatus, Role
from goldsmith.store import Store

JudgeFactory = Callable[[Mapping[int, Record]], Callable[[Sequence[str], int], "int | None"]]
"""Builds a free-text judge (:class:`~goldsmith.quality.by_kind.judge.LLMJudge`) over the
records it will read; used only for ``text`` questions."""

LOW_CONFIDENCE = 0.7
"""A consensus below this confidence goes to review when the answers differ."""


@dataclass
class KindAnswers:
    """The submitted answers to one question on a set of records, with gold and decisions."""

    question: Any
    answers: dict[int, dict[str, Any]]
    gold: dict[int, Any] = field(default_factory=dict)
    reviewed: dict[int, Any] = field(default_factory=dict)
    staff: set[str] = field(default_factory=set)  # reviewers and owners: never gold-scored


def collect_answers(store: Store, question: Any, record_ids: list[int]) -> KindAnswers:
    """Every submitted answer to ``question`` on ``record_ids``, keyed by record and user."""
    answers: dict[int, dict[str, Any]] = defaultdict(dict)
    data = KindAnswers(question, {})
    with store.read() as tx:
        for r in tx.responses_for(record_ids, status=ResponseStatus.SUBMITTED):
            if question.name in r.values and r.values[question.name] is not None:
                answers[r.record_id][r.user] = r.values[question.name]
        for f in tx.final_labels_for(record_ids):
            if f.question != question.name:
                continue
            if f.provenance == Provenance.GOLD:
                data.gold[f.record_id] = f.value
            elif f.provenance == Provenance.REVIEW:
                data.reviewed[f.record_id] = f.value
        staff_roles = {str(Role.OWNER), str(Role.REVIEWER)}
        data.staff = {u.name for u in tx.list_users() if str(u.role) in staff_roles}
    data.answers = dict(answers)
    return data


def kind_report(
    store: Store,
    data: KindAnswers,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    judge: JudgeFactory | None = None,
) -> tuple[dict[str, Any], dict[int, Consensus], KindRule]:
    """The report's consensus and annotator sections for a question of any kind; ``judge``
    picks the consensus of free-text answers (the medoid stays the fallback)."""
    options: dict[str, Any] = {}
    if judge is not None and getattr(data.question, "agreement", "") == "text":
        with store.read() as tx:
            records = {int(r.id): r for r in tx.get_records(sorted(data.answers)) if r.id}
        options["judge"] = judge(records)
    rule = rule_for(data.question, **options)
    fixed = {**data.gold, **data.reviewed}  # a reviewer's decision and gold are settled
    consensus = rule.consensus(data.answers, gold=fixed)
    calls = getattr(options.get("judge"), "calls", None)
    judged = None if calls is None else asdict(calls)  # the consensus's calls, not the scores'
    for rid in data.reviewed:
        if rid in consensus:
            consensus[rid] = Consensus(data.reviewed[rid], 1.0, "override")
    scored_gold = {rid: v for rid, v in data.gold.items()}
    # skills compare each annotator with the others' consensus: without the judge, whose
    # budget is for the records' consensus, not for every leave-one-out subset
    scorer = rule_for(data.question) if options else rule
    rows = annotator_scores(
        scorer, data.answers, gold=scored_gold, consensus=consensus, n_boot=n_boot, seed=seed
    )
    with store.read() as tx:
        paused = {r["name"]: tx.is_paused(r["name"]) for r in rows}
    annotators = []
    for row in rows:
        name = row["name"]
        if name in data.staff:  # their answers stay, their gold score does not exist
            row = {**row, "gold_n": 0, "gold_score": None, "gold_low": None, "gold_high": None}
            row["gold_reason"] = "reviewers and owners are not gold-checked"
        annotators.append(
            {
                **row,
                # the report's single-label names, so one table shows every kind
                "gold_accuracy": row["gold_score"],
                "ds_accuracy": row["skill"],
                "paused": paused[name],
            }
        )
    methods = Counter(c.method for c in consensus.values())
    report: dict[str, Any] = {
        "score_metric": rule.metric,
        "annotators": annotators,
        "consensus": {
            "methods": dict(methods),
            "model_proposed": sum(c.model_proposed for c in consensus.values()),
            "undecided": sum(c.value is None for c in consensus.values()),
        },
    }
    if getattr(data.question, "marks_spans", False):
        report["span_types"] = span_types(rule, data, consensus)
    if judged is not None:  # what the judge was asked, and how often the medoid stayed
        report["judge"] = judged
    return report, consensus, rule


def span_types(
    rule: KindRule, data: KindAnswers, consensus: dict[int, Consensus]
) -> list[dict[str, Any]]:
    """Per span label: consensus spans (support), and each annotator's precision and
    recall against the consensus on the records they answered."""
    support: Counter[str] = Counter()
    hit: dict[str, Counter[str]] = defaultdict(Counter)
    marked: dict[str, Counter[str]] = defaultdict(Counter)
    expected: dict[str, Counter[str]] = defaultdict(Counter)
    units = getattr(rule, "units", None)
    if units is None:
        return []
    for rid, c in consensus.items():
        if c.value is None:
            continue
        ref = units(c.value)
        for _, _, label in ref:
            support[label] += 1
        for user, value in data.answers.get(rid, {}).items():
            mine = units(value)
            for unit in mine:
                marked[unit[2]][user] += 1
                hit[unit[2]][user] += unit in ref
            for unit in ref:
                expected[unit[2]][user] += 1
    out = []
    for label in data.question.labels:
        users = sorted(set(marked[label]) | set(expected[label]))
        out.append(
            {
                "label": label,
                "support": support[label],
                "precision": {
                    u: round(hit[label][u] / marked[label][u], 4) if marked[label][u] else None
                    for u in users
                },
                "recall": {
                    u: round(hit[label][u] / expected[label][u], 4) if expected[label][u] else None
                    for u in users
                },
            }
        )
    return out


def write_kind_consensus(
    store: Store,
    data: KindAnswers,
    consensus: dict[int, Consensus],
    round_id: int,
) -> dict[str, int]:
    """Final labels from the consensus and review items for the doubtful records."""
    name = data.question.name
    finals: list[FinalLabel] = []
    reviews: list[dict[str, Any]] = []
    for rid, c in consensus.items():
        answers = data.answers.get(rid, {})
        if c.method in ("gold", "override") or not answers:
            continue
        differ = len({canonical(v) for v in answers.values()}) > 1
        detail = {
            "answers": answers,
            "proposed": c.value,
            "model_proposed": c.model_proposed,
            "confidence": round(c.confidence, 4),
            "method": c.method,
            "support": c.support,
        }
        if c.value is None:
            reviews.append(_review(rid, name, "disagreement", 1.0, round_id, detail))
            continue
        if not c.model_proposed:
            prov = Provenance.HUMAN if len(answers) == 1 else Provenance.CONSENSUS
            finals.append(FinalLabel(rid, name, c.value, prov, c.confidence))
        if c.model_proposed or (differ and c.confidence < LOW_CONFIDENCE):
            kind = "low_confidence" if c.confidence < LOW_CONFIDENCE else "disagreement"
            reviews.append(_review(rid, name, kind, 1.0 - c.confidence, round_id, detail))
    with store.write() as tx:
        tx.set_final_labels(finals)
        n_reviews = tx.add_reviews(reviews)
    return {"final_labels": len(finals), "reviews": n_reviews}


def _review(
    rid: int, question: str, kind: str, priority: float, round_id: int, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "record_id": rid,
        "question": question,
        "kind": kind,
        "priority": priority,
        "round_id": round_id,
        "detail": detail,
    }


HUMAN_GRADE = [str(p) for p in (Provenance.HUMAN, Provenance.CONSENSUS, Provenance.GOLD)]


def queue_kind_issues(
    store: Store, question: Any, embedder: Any, *, limit: int = 100, seed: int = 0
) -> list[dict[str, Any]]:
    """Suspected label errors of a multi-label or span question among the human-grade final
    labels, ranked, sent to review (kind ``issue``); see
    :mod:`goldsmith.quality.label_issues_kinds`."""
    with store.read() as tx:
        labeled: dict[int, Any] = dict(tx.final_values(question.name, HUMAN_GRADE))
    if len(labeled) < 10:
        raise SchemaError(f"label issues need at least 10 labeled records; {len(labeled)} found")
    ids = sorted(labeled)
    if getattr(question, "marks_spans", False):
        with store.read() as tx:
            texts = [str(r.fields.get(question.field) or "") for r in tx.get_records(ids)]
        given = [sorted(question.agreement_value(labeled[r])) for r in ids]
        found = _issues.span_issues(texts, given, list(question.labels), seed=seed)
    else:
        labels = list(question.labels)
        index = {label: j for j, label in enumerate(labels)}
        sets = [[index[v] for v in list(labeled[r] or []) if v in index] for r in ids]
        Y = np.zeros((len(ids), len(labels)), dtype=np.int64)
        for i, s in enumerate(sets):
            Y[i, s] = 1
        X = embed_records(store, embedder, ids).vectors
        P = _issues.multilabel_proba(X, Y, seed=seed)
        found = _issues.multilabel_issues(sets, P, labels)
    items = []
    for rank, i in enumerate(found.indices.tolist()[:limit]):
        detail = {
            "given": labeled[ids[i]],
            "quality": round(float(found.quality[i]), 4),
            "rank": rank + 1,
            **found.detail.get(i, {}),
        }
        items.append(
            {
                "record_id": ids[i],
                "question": question.name,
                "kind": "issue",
                "priority": 1.0 - float(found.quality[i]),
                "detail": detail,
            }
        )
    with store.write() as tx:
        tx.add_reviews(items)
    return items
