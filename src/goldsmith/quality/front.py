"""The quality half of :class:`goldsmith.project.Project`: final labels from responses, gold,
rounds, agreement, review and annotator scores (mixed into ``Project``; each method delegates
to a module of :mod:`goldsmith.quality`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.errors import NotFoundError, SchemaError
from goldsmith.llm.cache import DEFAULT_CACHE
from goldsmith.quality import review as _review
from goldsmith.quality.consensus import majority
from goldsmith.quality.gold import sample_gold
from goldsmith.schema import FinalLabel, Provenance, Response, ResponseStatus, Task
from goldsmith.store import Store

if TYPE_CHECKING:
    from goldsmith.llm import client as _llm_client
    from goldsmith.llm.client import LLMConfig
    from goldsmith.models.embed import Embedder
    from goldsmith.quality import report as _report
    from goldsmith.quality import rounds as _rounds
    from goldsmith.quality.by_kind import judge as _judge
else:
    _rounds = lazy_module("goldsmith.quality.rounds")
    _report = lazy_module("goldsmith.quality.report")
    _llm_client = lazy_module("goldsmith.llm.client")
    _judge = lazy_module("goldsmith.quality.by_kind.judge")


class QualityFront:
    """Consensus, gold, rounds and review; needs ``store``, ``task``, ``root`` and
    ``embedder`` from the class it is mixed into."""

    store: Store

    @property
    def task(self) -> Task:
        raise NotImplementedError

    @property
    def root(self) -> Path:
        raise NotImplementedError

    def embedder(self, spec: str | None = None) -> Embedder:
        raise NotImplementedError

    def resolve_final_labels(self) -> int:
        """Turn submitted responses into final labels by strict majority.

        A record needs ``settings.overlap`` submitted responses. Gold labels and reviewers'
        decisions are never overwritten. One response gives provenance ``human``; several
        give ``consensus``.
        """
        need = self.task.settings.overlap
        finals: list[FinalLabel] = []
        with self.store.write() as tx:
            ids = list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
            gold = {
                (f.record_id, f.question)
                for f in tx.final_labels_for(ids)
                if f.provenance in (Provenance.GOLD, Provenance.REVIEW)
            }
            by_record: dict[int, list[Response]] = defaultdict(list)
            for r in tx.responses_for(ids, status=ResponseStatus.SUBMITTED):
                by_record[r.record_id].append(r)
            for rid, resps in by_record.items():
                for q in self.task.questions:
                    votes = [r.values[q.name] for r in resps if q.name in r.values]
                    won = majority(votes, min_votes=need)
                    if won is None or (rid, q.name) in gold:
                        continue
                    prov = Provenance.HUMAN if len(votes) == 1 else Provenance.CONSENSUS
                    finals.append(FinalLabel(rid, q.name, won[0], prov, won[1]))
            return tx.set_final_labels(finals)

    def mark_gold(self, fraction: float, *, seed: int = 0, question: str | None = None) -> int:
        """Promote a stratified ``fraction`` of human-labeled records to gold."""
        q = self.task.question(question)
        with self.store.write() as tx:
            candidates: list[FinalLabel] = []
            for batch in tx.iter_labeled(provenance=[Provenance.HUMAN, Provenance.CONSENSUS]):
                candidates.extend(labels[q.name] for _, labels in batch if q.name in labels)
            if not candidates:
                raise SchemaError(f"no human labels for question {q.name!r} to promote to gold")
            strata = [json.dumps(f.value, sort_keys=True) for f in candidates]
            chosen = [candidates[i] for i in sample_gold(strata, fraction, seed=seed)]
            for f in chosen:
                f.provenance = Provenance.GOLD
            return tx.set_final_labels(chosen)

    def start_round(
        self, *, size: int, gold_rate: float = 0.05, guidelines: str | None = None
    ) -> dict[str, Any]:
        """Open the next round: new guidelines (when given), the ``size`` open records first
        in the queue as its batch, and gold records mixed into every queue at ``gold_rate``."""
        return _rounds.start_round(
            self.store, self.task, size=size, gold_rate=gold_rate, guidelines=guidelines
        )

    def qa_report(self, *, number: int | None = None, n_boot: int = 1000) -> dict[str, Any]:
        """The QA report data of round ``number`` (the latest; a closed round's is frozen)."""
        with self.store.read() as tx:
            closed = [r for r in tx.list_rounds() if r["status"] == "closed"]
            pick = [r for r in closed if number is None or r["number"] == number]
            if pick and (number is not None or tx.open_round() is None):
                frozen = tx.round_report(pick[-1]["id"])
                if isinstance(frozen, dict):
                    return frozen
        report, _, _ = _rounds.round_report(self.store, self.task, number=number, n_boot=n_boot)
        return report

    def agreement(
        self, *, question: str | None = None, number: int | None = None, n_boot: int = 1000
    ) -> dict[str, Any]:
        """Inter-annotator agreement on ``question`` (any kind) for round ``number`` (the
        latest), per label and per annotator pair, with bootstrap intervals."""
        return _rounds.question_agreement(
            self.store, self.task, question=question, number=number, n_boot=n_boot
        )

    def write_qa_report(self, path: str | Path, *, number: int | None = None) -> Path:
        """Write the self-contained HTML QA report of a round to ``path``."""
        data = self.qa_report(number=number)
        title = f"{self.task.name}: QA report" + (
            f", round {data['round']}" if data.get("round") else ""
        )
        return _report.write_report(Path(path), data, title=title)

    def close_round(
        self,
        *,
        method: _rounds.Method = "dawid-skene",
        judge: LLMConfig | None = None,
        rubric: str | None = None,
    ) -> dict[str, Any]:
        """Close the open round: resolve its final labels by consensus, queue its doubtful
        items for review, freeze its report and write it to ``qa/round-N.html``.

        With ``judge`` (an OpenAI-compatible endpoint), an LLM picks the best of differing
        free-text answers by ``rubric`` (through the LLM cache and its token budget; the
        records are redacted first when the task says so); the most central answer stays
        the consensus wherever the judge cannot answer. ``judge`` in the result counts its
        calls."""
        client = _llm_client.LLMClient(judge, cache=self.root / DEFAULT_CACHE) if judge else None
        factory = None
        if client is not None:
            redact = None
            if self.task.settings.redact_before_llm:
                redact = self.redactor()  # type: ignore[attr-defined]
            rubric = rubric or _judge.DEFAULT_RUBRIC
            factory = partial(_judge.LLMJudge, client, self.task, rubric=rubric, redact=redact)
        try:
            report, counts = _rounds.close_round(
                self.store, self.task, method=method, judge=factory
            )
        finally:
            if client is not None:
                client.close()
        html = self.write_qa_report(self.root / "qa" / f"round-{report['round']}.html")
        out: dict[str, Any] = {**counts, "round": report["round"], "report": str(html)}
        if report.get("judge") is not None:
            out["judge"] = report["judge"]
        return out

    def label_issues(self, *, limit: int = 100, seed: int = 0) -> list[dict[str, Any]]:
        """Suspected label errors (cleanlab on out-of-fold probabilities), sent to review."""
        return _rounds.queue_label_issues(
            self.store, self.task, self.embedder(), limit=limit, seed=seed
        )

    def reviews(
        self, *, status: str | None = "open", limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Review items, highest priority first, each with its record's ``fields`` and its
        ``history`` (earlier decisions and undos, oldest first)."""
        with self.store.read() as tx:
            items = tx.list_reviews(status=status, limit=limit, offset=offset)
            return _in_context(tx, items)

    def review_history(self, review_id: int) -> list[dict[str, Any]]:
        """Every decision and undo of review item ``review_id``, oldest first: ``action``,
        ``actor``, ``at``, and the final label ``before`` and ``after`` (value, provenance,
        confidence; None for no label)."""
        with self.store.read() as tx:
            tx.get_review(review_id)  # NotFoundError for an unknown item
            return tx.review_history([review_id]).get(review_id, [])

    def annotator_scores(
        self, report: dict[str, Any] | None = None, *, n_boot: int = 200
    ) -> list[dict[str, Any]]:
        """Each annotator's scores from ``report`` (default: the latest QA report), with
        whether they are paused now (a closed round's report is frozen), plus paused
        annotators it does not list, so each can be resumed."""
        data = self.qa_report(n_boot=n_boot) if report is None else report
        rows = list(data.get("annotators") or [])
        with self.store.read() as tx:
            paused = {u.name: tx.is_paused(u.name) for u in tx.list_users()}
        out = [{**r, "paused": paused.get(r["name"], bool(r.get("paused")))} for r in rows]
        listed = {r["name"] for r in rows}
        return out + [
            {"name": n, "paused": True} for n, p in paused.items() if p and n not in listed
        ]

    def decide_review(
        self,
        review_id: int,
        *,
        reviewer: str,
        action: _review.Action,
        value: Any = None,
        comment: str | None = None,
        confirm: bool = False,
    ) -> dict[str, Any]:
        """Accept, edit or reject a review item (``confirm``: accept a model-proposed value);
        see :mod:`goldsmith.quality.review`."""
        return _review.decide(
            self.store,
            self.task,
            review_id,
            reviewer=reviewer,
            action=action,
            value=value,
            comment=comment,
            confirm=confirm,
        )

    def undo_review(self, review_id: int, *, reviewer: str) -> dict[str, Any]:
        """Take back the latest decision on a review item: the final label before it returns
        and the item is open again; returns it as :meth:`reviews` lists it."""
        _review.undo(self.store, self.task, review_id, reviewer=reviewer)
        with self.store.read() as tx:
            return _in_context(tx, [tx.get_review(review_id)])[0]

    def feedback(self, user: str, *, mark_seen: bool = False) -> list[dict[str, Any]]:
        """``user``'s unseen feedback from reviewers (``mark_seen``: then mark it seen).

        Each item has the reviewed ``question``, the reviewer's ``comment`` (None when the
        ``message`` is the default one), ``user``'s own submitted ``answer`` to the question
        and the record's ``final`` value for it now (None when there is none)."""
        with self.store.write() as tx:
            items = _with_answers(tx, user, tx.feedback_for(user))
            if mark_seen:
                tx.mark_feedback_seen(user, [f["id"] for f in items])
            return items

    def feedback_record(self, user: str, record_id: int) -> dict[str, Any]:
        """A record ``user`` got feedback on, as they may see it (read-only): the ``record``,
        their own submitted ``response``, their number for it (``seq``) and every
        ``feedback`` item on it, seen or not, as :meth:`feedback` gives them.

        Raises :class:`~goldsmith.errors.NotFoundError` when ``user`` has no feedback on the
        record (they did not answer it, or no reviewer decided against their answer), so
        nobody can open a record through this that they were not told about."""
        with self.store.read() as tx:
            items = tx.feedback_for(user, unseen_only=False, record_id=record_id)
            if not items:
                raise NotFoundError(f"you have no feedback on record {record_id}")
            record = tx.get_records([record_id])[0]
            mine = tx.list_responses(
                user=user, record_id=record_id, status=ResponseStatus.SUBMITTED, limit=1
            )
            seq = tx.sequence_numbers(user, [record_id]).get(record_id)
            return {
                "record": record,
                "response": mine[0] if mine else None,
                "seq": seq,
                "feedback": _with_answers(tx, user, items),
            }

    def mark_feedback_seen(self, user: str, ids: Sequence[int]) -> int:
        """Mark some of ``user``'s feedback seen (others' ids are ignored)."""
        with self.store.write() as tx:
            return tx.mark_feedback_seen(user, ids)

    def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume an annotator (paused annotators get no records)."""
        with self.store.write() as tx:
            tx.set_paused(name, paused)


def _with_answers(tx: Any, user: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feedback items with ``user``'s submitted ``answer`` and the ``final`` value now."""
    ids = sorted({int(i["record_id"]) for i in items})
    if not ids:
        return items
    answers = {
        r.record_id: r.values
        for r in tx.responses_for(ids, status=ResponseStatus.SUBMITTED)
        if r.user == user
    }
    finals = {(f.record_id, f.question): f.value for f in tx.final_labels_for(ids)}
    return [
        {
            **i,
            "answer": answers.get(i["record_id"], {}).get(i["question"]),
            "final": finals.get((i["record_id"], i["question"])),
        }
        for i in items
    ]


def _in_context(tx: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Review items with their record's ``fields`` and ``metadata``, and their ``history``."""
    ids = [i["record_id"] for i in items]
    fields, meta = tx.record_texts(ids), tx.record_metadata(ids)
    history = tx.review_history([i["id"] for i in items])
    return [
        {
            **i,
            "fields": fields.get(i["record_id"], {}),
            "metadata": meta.get(i["record_id"], {}),
            "history": history.get(i["id"], []),
        }
        for i in items
    ]
