"""The workflow front: one :class:`Project` per project folder.

Every user-facing operation is a method here that delegates to a small module. The CLI, the
server and the SDK call these methods and hold no logic of their own.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from goldsmith import config as _config
from goldsmith.access import users as _users
from goldsmith.active import loop as _loop
from goldsmith.active.loop import LoopReport
from goldsmith.annotation import queue as _queue
from goldsmith.annotation.queue import Item
from goldsmith.augment import run as _augment
from goldsmith.augment.evaluate import AugmentEvalRow
from goldsmith.dedup.store import StoreDedupResult, assign_near_dup_groups
from goldsmith.errors import ConfigError, SchemaError
from goldsmith.export import run as _export
from goldsmith.export import validate as _validate
from goldsmith.export.options import ExportOptions, ExportReport
from goldsmith.ingest import pipeline as _ingest
from goldsmith.ingest import rows as _rows
from goldsmith.ingest.options import ImportOptions, ImportReport
from goldsmith.ingest.rows import AddReport
from goldsmith.llm.cache import DEFAULT_CACHE
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.llm.prompt import Redact
from goldsmith.models.embed import Embedder, make_embedder
from goldsmith.models.vectors import EmbedSummary, ensure_embeddings
from goldsmith.models.vectors_ray import embed_records_ray, ray_scorer
from goldsmith.pii import Redactor, ScanReport
from goldsmith.prelabel.llm_ray import prelabel_with_llm_ray
from goldsmith.prelabel.llm_store import LLMPrelabelReport, prelabel_with_llm
from goldsmith.progress import SILENT, Progress
from goldsmith.quality import review as _review
from goldsmith.quality import rounds as _rounds
from goldsmith.quality.consensus import majority
from goldsmith.quality.gold import sample_gold
from goldsmith.quality.report import write_report
from goldsmith.ray_jobs import JOBS_DIR, use_ray
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Record,
    Response,
    ResponseStatus,
    Role,
    Suggestion,
    Task,
    User,
)
from goldsmith.simulation import SimulationRequest, run_simulation
from goldsmith.store import Store
from goldsmith.train.front import TrainFront
from goldsmith.weak import fit as _fit
from goldsmith.weak import report as _report
from goldsmith.weak import run as _weak
from goldsmith.weak.fit import FitReport
from goldsmith.weak.lf import LF
from goldsmith.weak.loader import load_lf_file
from goldsmith.weak.run import ApplyReport

PII_SALT_ENV = "GOLDSMITH_PII_SALT"


class Project(TrainFront):
    """A project folder: its task (``goldsmith.toml``) and its store."""

    def __init__(self, cfg: _config.ProjectConfig, store: Store) -> None:
        self.config = cfg
        self.store = store

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def init(
        cls,
        root: str | Path,
        *,
        name: str | None = None,
        template: str = "classification",
        labels: Sequence[str] | None = None,
        db_url: str | None = None,
    ) -> Project:
        """Create a project folder with a task from ``template`` and an empty store."""
        root = Path(root)
        if (root / _config.CONFIG_NAME).exists():
            raise ConfigError(f"{root} already holds a project ({_config.CONFIG_NAME} exists)")
        root.mkdir(parents=True, exist_ok=True)
        task = _config.template_task(name or root.resolve().name, template, list(labels or []))
        _config.write_config(root, task, db_url)
        return cls.open(root)

    @classmethod
    def open(cls, root: str | Path = ".", *, db_url: str | None = None) -> Project:
        """Open the project in ``root``, applying pending store migrations."""
        cfg = _config.load_config(Path(root), db_url=db_url)
        store = Store(cfg.db_url)
        overlap = cfg.task.settings.overlap
        with store.read() as tx:
            stale = tx.get_meta("overlap") != overlap
        if stale:  # the task's overlap changed: reopen or close records for the new value
            with store.write() as tx:
                tx.set_overlap(overlap)
        return cls(cfg, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def task(self) -> Task:
        return self.config.task

    @property
    def root(self) -> Path:
        return self.config.root

    # ------------------------------------------------------------------ guidelines

    def set_guidelines(self, text: str) -> int:
        """Store guidelines as a new version (unchanged text keeps its version)."""
        with self.store.write() as tx:
            return tx.add_guideline(text)

    def guidelines(self, version: int | None = None) -> tuple[int, str]:
        """``(version, markdown)`` of the given or the latest guidelines."""
        with self.store.read() as tx:
            return tx.guideline(version)

    # ------------------------------------------------------------------ data in

    def import_records(
        self, path: str | Path, options: ImportOptions | None = None, *, progress: Progress = SILENT
    ) -> ImportReport:
        """Import a file all-or-nothing; exact duplicates are skipped and counted."""
        return _ingest.import_file(
            self.store, self.task, Path(path), options or ImportOptions(), progress=progress
        )

    def add_records(self, items: Iterable[dict[str, Any]]) -> AddReport:
        """Add records given as ``{"fields": ..., "metadata"?: ..., "external_id"?: ...}``."""
        return _rows.add_rows(self.store, self.task, items)

    def records(self, *, offset: int = 0, limit: int = 100) -> list[Record]:
        with self.store.read() as tx:
            return tx.list_records(offset=offset, limit=limit)

    def add_suggestions(self, items: Iterable[Suggestion]) -> int:
        items = list(items)
        for s in items:
            s.value = self.task.question(s.question).check(s.value)
        with self.store.write() as tx:
            tx.require_records({s.record_id for s in items})
            return tx.add_suggestions(items)

    def add_responses(self, items: Iterable[Response]) -> int:
        """Store responses, stamped with the latest guideline version when none is given."""
        items = list(items)
        with self.store.write() as tx:
            version = tx.latest_guideline_version()
            for r in items:
                r.values = self.task.check_values(r.values)
                if r.guideline_version is None:
                    r.guideline_version = version
            return tx.upsert_responses(items)

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

    def responses(
        self,
        *,
        user: str | None = None,
        status: ResponseStatus | None = None,
        record_id: int | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[Response]:
        """Stored responses, filtered by annotator, status or record, in arrival order."""
        with self.store.read() as tx:
            return tx.list_responses(
                user=user, status=status, record_id=record_id, limit=limit, offset=offset
            )

    # ------------------------------------------------------------------ annotating

    def next_item(self, user: str) -> Item | None:
        """Lease the next record for ``user`` (see :mod:`goldsmith.annotation.queue`)."""
        return _queue.next_item(self.store, self.task, user)

    def item(self, record_id: int, user: str) -> Item:
        """A record with its suggestions and ``user``'s own response and lease."""
        return _queue.get_item(self.store, record_id, user)

    def previous_item(self, user: str, before: int | None = None) -> Item | None:
        return _queue.previous_item(self.store, user, before)

    def answer(
        self,
        user: str,
        record_id: int,
        values: dict[str, Any],
        status: ResponseStatus = ResponseStatus.SUBMITTED,
        *,
        time_spent: float | None = None,
        assigned_only: bool = False,
    ) -> Response:
        """Submit, skip (``discarded``) or save a draft of ``user``'s answer to a record.

        With ``assigned_only`` the record must be leased to ``user`` or already answered by
        them (:class:`~goldsmith.errors.PermissionDeniedError` otherwise).
        """
        response, _ = self.answer_and_next(
            user,
            record_id,
            values,
            status,
            time_spent=time_spent,
            assigned_only=assigned_only,
            fetch_next=False,
        )
        return response

    def answer_and_next(
        self,
        user: str,
        record_id: int,
        values: dict[str, Any],
        status: ResponseStatus = ResponseStatus.SUBMITTED,
        *,
        time_spent: float | None = None,
        assigned_only: bool = False,
        fetch_next: bool = True,
    ) -> tuple[Response, Item | None]:
        """:meth:`answer`, then (``fetch_next``) lease ``user``'s next record, in one
        transaction."""
        return _queue.answer_and_next(
            self.store,
            self.task,
            user,
            record_id,
            values,
            status,
            time_spent=time_spent,
            assigned_only=assigned_only,
            fetch_next=fetch_next,
        )

    def progress(self, user: str) -> dict[str, Any]:
        return _queue.progress(self.store, user)

    # ------------------------------------------------------------------ users

    def add_user(self, name: str, role: Role | str, password: str | None = None) -> str:
        """Create a user; returns ``password`` or a generated one-time password."""
        return _users.add_user(self.store, name, role, password)

    def users(self) -> list[User]:
        with self.store.read() as tx:
            return tx.list_users()

    def user(self, name: str) -> User:
        with self.store.read() as tx:
            return tx.user(name)

    def create_api_key(self, name: str) -> str:
        """A new API key for ``name``, stored hashed: this is the only time it is shown."""
        return _users.create_api_key(self.store, name)

    def user_for_key(self, key: str) -> User:
        return _users.user_for_key(self.store, key)

    def check_password(self, name: str, password: str) -> User:
        return _users.check_password(self.store, name, password)

    def open_session(
        self, user: User, *, seconds: float = _users.SESSION_SECONDS
    ) -> tuple[str, str]:
        """``(token, csrf)`` of a new login session for ``user``, valid for ``seconds``."""
        return _users.open_session(self.store, user, seconds=seconds)

    def session_user(self, token: str) -> tuple[User, str]:
        return _users.session_user(self.store, token)

    def close_session(self, token: str) -> None:
        _users.close_session(self.store, token)

    # ------------------------------------------------------------------ weak supervision

    def apply_lfs(
        self,
        lfs: str | Path | Sequence[LF],
        *,
        question: str | None = None,
        workers: int | None = None,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> ApplyReport:
        """Apply labeling functions (a file such as ``lfs.py``, or LF objects) incrementally:
        unchanged LFs run only on new records, changed ones on all."""
        found = load_lf_file(lfs) if isinstance(lfs, str | Path) else list(lfs)
        return _weak.apply_to_store(
            self.store,
            self.task,
            found,
            question=question,
            workers=workers,
            engine=engine,
            ray_address=ray_address,
            progress=progress,
        )

    def lf_report(self, question: str | None = None) -> dict[str, Any]:
        """Coverage, overlaps, conflicts, polarity and accuracy (vs gold and human labels)
        of every applied LF, plus totals, as JSON-ready data."""
        return _report.lf_report(self.store, self.task, question)

    def fit_label_model(
        self,
        model: str = "auto",
        *,
        question: str | None = None,
        threshold: float | None = None,
        seed: int = 0,
    ) -> FitReport:
        """Fit a label model on the applied LFs' votes; write its probabilistic labels as
        suggestions and, at or above ``threshold``, as final labels with provenance weak."""
        return _fit.fit_to_store(
            self.store, self.task, model=model, question=question, threshold=threshold, seed=seed
        )

    # ------------------------------------------------------------------ model in the loop

    def embedder_spec(self) -> str:
        """The spec of the embedder last used (``tfidf`` at first)."""
        with self.store.read() as tx:
            return str(tx.get_meta("embedder") or "tfidf")

    def embedder(self, spec: str | None = None) -> Embedder:
        """The embedder ``spec`` names or, by default, the one last used (``tfidf`` at first)."""
        return make_embedder(spec or self.embedder_spec())

    def embed(
        self,
        spec: str | None = None,
        *,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> EmbedSummary:
        """Embed every record with ``spec`` (cached per record and model id, streaming) and
        make it the project's embedder for the model in the loop. ``engine="ray"`` encodes
        on Ray (local, or at ``ray_address``), resumably: the same vectors."""
        embedder = self.embedder(spec)
        if use_ray(engine):
            jobs = self.root / JOBS_DIR
            embedded = embed_records_ray(
                self.store, embedder, jobs_dir=jobs, address=ray_address, progress=progress
            )
        else:
            embedded = ensure_embeddings(self.store, embedder, progress=progress)
        if spec is not None:
            with self.store.write() as tx:
                tx.set_meta("embedder", spec)
        return embedded

    def retrain(
        self,
        *,
        strategy: str | None = None,
        question: str | None = None,
        seed: int = 0,
        shortlist: int = _loop.SHORTLIST,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> LoopReport:
        """Fit the in-the-loop classifier on the labels so far, write its calibrated
        suggestions, and order the annotation queue with ``strategy`` (default: the last one
        used, ``margin`` at first; at most ``shortlist`` open records, the rest by id).
        ``engine="ray"`` embeds new records and scores every record on Ray."""
        if use_ray(engine):
            self.embed(engine=engine, ray_address=ray_address, progress=progress)
        with self.store.read() as tx:
            chosen = strategy or tx.get_meta("strategy") or "auto"
        report = _loop.retrain(
            self.store,
            self.task,
            self.embedder(),
            question=question,
            strategy=str(chosen),
            seed=seed,
            shortlist=shortlist,
            score=ray_scorer(self.store, self.root / JOBS_DIR, ray_address)
            if use_ray(engine)
            else None,
            progress=progress,
        )
        if strategy is not None:
            with self.store.write() as tx:
                tx.set_meta("strategy", strategy)
        return report

    def redactor(self) -> Redactor:
        """The PII redactor of this project (``settings.redact_mode``; the salt of ``hash``
        and ``fake`` comes from ``GOLDSMITH_PII_SALT``)."""
        return Redactor(self.task.settings.redact_mode, salt=os.environ.get(PII_SALT_ENV))

    def pii_scan(self, *, kinds: Sequence[str] | None = None) -> ScanReport:
        """Count the PII in every record's text fields, per kind, with masked examples."""
        with self.store.read() as tx:
            texts = [
                value
                for batch in tx.iter_records()
                for r in batch
                for value in r.fields.values()
                if isinstance(value, str)
            ]
        return Redactor(kinds=kinds).scan(texts)

    def prelabel_llm(
        self,
        config: LLMConfig,
        *,
        question: str | None = None,
        limit: int | None = None,
        calibrate_on: int = 200,
        shots: int = 4,
        threshold: float = 0.9,
        redact: Redact | None = None,
        seed: int = 0,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> LLMPrelabelReport:
        """Prelabel unlabeled records with an OpenAI-compatible LLM (few-shot by similarity),
        calibrate its confidence on gold, and route: confident answers become final labels
        with provenance llm, the others go to the front of the queue. Answers are cached in
        ``.goldsmith/llm-cache.sqlite``, so a rerun or a resumed run pays only for new ones.
        ``engine="ray"`` embeds and asks from Ray workers (one shared cache and budget)."""
        if redact is None and self.task.settings.redact_before_llm:
            redact = self.redactor()
        options: dict[str, Any] = dict(
            question=question,
            limit=limit,
            calibrate_on=calibrate_on,
            shots=shots,
            threshold=threshold,
            redact=redact,
            seed=seed,
            progress=progress,
        )
        cache = self.root / DEFAULT_CACHE
        if use_ray(engine):
            self.embed(engine=engine, ray_address=ray_address, progress=progress)
            return prelabel_with_llm_ray(
                self.store,
                self.task,
                config,
                self.embedder(),
                cache=cache,
                jobs_dir=self.root / JOBS_DIR,
                address=ray_address,
                **options,
            )
        with LLMClient(config, cache=cache) as client:
            return prelabel_with_llm(self.store, self.task, client, self.embedder(), **options)

    def simulate(
        self,
        out: str | Path,
        request: SimulationRequest | None = None,
        *,
        progress: Progress = SILENT,
        **options: Any,
    ) -> dict[str, Any]:
        """Replay the human-grade labels as the annotator through each strategy; write
        ``curves.csv``, ``curves.png`` and ``summary.json`` into ``out`` and return the
        summary (AULC against random with 95 % intervals, labels needed for 95 % of the
        all-labels macro-F1). ``options`` are the fields of
        :class:`~goldsmith.simulation.SimulationRequest` (``test_file=`` for the honest
        protocol: score on records outside the project)."""
        req = request or SimulationRequest(**options)
        return run_simulation(
            self.store, self.task, self.embedder(), Path(out), req, progress=progress
        )

    # ------------------------------------------------------------------ data hygiene

    def dedup(self, *, near: float = 0.8, seed: int = 0) -> StoreDedupResult:
        """Group near-duplicate records (MinHash LSH, verified by exact Jaccard at ``near``)
        and store the groups; exports keep each group inside one split."""
        return assign_near_dup_groups(self.store, threshold=near, seed=seed)

    # ------------------------------------------------------------------ augmentation

    def augment(
        self,
        method: str,
        *,
        per_record: int = 2,
        llm: LLMConfig | None = None,
        limit: int | None = None,
        seed: int = 0,
        lfs: str | Path | Sequence[LF] | None = None,
        progress: Progress = SILENT,
    ) -> _augment.AugmentReport:
        """Generate synthetic examples from the labeled records (``template``, or with an
        LLM ``paraphrase`` / ``counterfactual``), filter them, and store those that pass
        with provenance ``synthetic``. LLM prompts go through the project's PII redactor.
        With ``lfs`` (a file such as ``lfs.py``, already applied) the label model joins the
        label-consistency filter."""
        redact = self.redactor() if self.task.settings.redact_before_llm else None
        client = LLMClient(llm, cache=self.root / DEFAULT_CACHE) if llm else None
        try:
            return _augment.augment_project(
                self.store,
                self.task,
                self.embedder(),
                method=method,
                per_record=per_record,
                client=client,
                redact=redact,
                limit=limit,
                seed=seed,
                lfs=load_lf_file(lfs) if isinstance(lfs, str | Path) else list(lfs or ()),
                progress=progress,
            )
        finally:
            if client is not None:
                client.close()

    def evaluate_augmentation(
        self, *, budgets: tuple[int, ...] = (50, 100, 200), repeats: int = 10, seed: int = 0
    ) -> list[AugmentEvalRow]:
        """Held-out macro-F1 with and without the synthetic records, per label budget, with
        a 95 % interval on the difference."""
        return _augment.evaluate_project(
            self.store, self.task, self.embedder(), budgets=budgets, repeats=repeats, seed=seed
        )

    # ------------------------------------------------------------------ quality

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
        return write_report(Path(path), data, title=title)

    def close_round(self, *, method: _rounds.Method = "dawid-skene") -> dict[str, Any]:
        """Close the open round: resolve its final labels by consensus, queue its doubtful
        items for review, freeze its report and write it to ``qa/round-N.html``."""
        report, counts = _rounds.close_round(self.store, self.task, method=method)
        html = self.write_qa_report(self.root / "qa" / f"round-{report['round']}.html")
        return {**counts, "round": report["round"], "report": str(html)}

    def label_issues(self, *, limit: int = 100, seed: int = 0) -> list[dict[str, Any]]:
        """Suspected label errors (cleanlab on out-of-fold probabilities), sent to review."""
        return _rounds.queue_label_issues(
            self.store, self.task, self.embedder(), limit=limit, seed=seed
        )

    def reviews(
        self, *, status: str | None = "open", limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Review items, highest priority first, each with its record's ``fields``."""
        with self.store.read() as tx:
            items = tx.list_reviews(status=status, limit=limit, offset=offset)
            fields = tx.record_texts([i["record_id"] for i in items])
        return [{**i, "fields": fields.get(i["record_id"], {})} for i in items]

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
    ) -> dict[str, Any]:
        """Accept, edit or reject a review item; see :mod:`goldsmith.quality.review`."""
        return _review.decide(
            self.store,
            self.task,
            review_id,
            reviewer=reviewer,
            action=action,
            value=value,
            comment=comment,
        )

    def feedback(self, user: str, *, mark_seen: bool = False) -> list[dict[str, Any]]:
        """``user``'s unseen feedback from reviewers (``mark_seen``: then mark it seen)."""
        with self.store.write() as tx:
            items = tx.feedback_for(user)
            if mark_seen:
                tx.mark_feedback_seen(user, [f["id"] for f in items])
            return items

    def mark_feedback_seen(self, user: str, ids: Sequence[int]) -> int:
        """Mark some of ``user``'s feedback seen (others' ids are ignored)."""
        with self.store.write() as tx:
            return tx.mark_feedback_seen(user, ids)

    def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume an annotator (paused annotators get no records)."""
        with self.store.write() as tx:
            tx.set_paused(name, paused)

    # ------------------------------------------------------------------ overview

    def status(self) -> dict[str, Any]:
        """Counts of records by status, final label, provenance and suggestion kind."""
        with self.store.read() as tx:
            labels = {q.name: tx.final_value_counts(q.name) for q in self.task.questions}
            return {
                "project": self.task.name,
                "store": self.store.dialect,
                "records": tx.status_counts(),
                "labels": labels,
                "provenance": tx.provenance_counts(),
                "suggestions": tx.suggestion_counts(),
                "guideline_version": tx.latest_guideline_version(),
                "imports": len(tx.list_imports()),
                "active_learning": _loop.loop_state(tx.get_meta(_loop.META_KEY)),
                "reviews_open": tx.review_counts(),
                "round": tx.open_round(),
            }

    # ------------------------------------------------------------------ data out

    def export(self, options: ExportOptions, *, progress: Progress = SILENT) -> ExportReport:
        """Write final labels in ``options.fmt`` with splits and a dataset card."""
        return _export.export(self.store, self.task, options, progress=progress)

    @staticmethod
    def validate(path: str | Path, fmt: str, *, max_tokens: int = 16_384) -> int:
        """Check a training file; return its number of examples or raise DataValidationError."""
        return _validate.validate_file(Path(path), fmt, max_tokens=max_tokens)
