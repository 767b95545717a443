"""The workflow front: one :class:`Project` per project folder.

Every user-facing operation is a method here that delegates to a small module. The CLI, the
server and the SDK call these methods and hold no logic of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith import config as _config
from goldsmith._lazy import lazy_module
from goldsmith.access.front import AccessFront
from goldsmith.active.scores import SHORTLIST
from goldsmith.annotation.front import AnnotationFront
from goldsmith.browse import jobs as _jobs
from goldsmith.browse.front import BrowseFront
from goldsmith.errors import ConfigError
from goldsmith.export.options import ExportOptions, ExportReport
from goldsmith.ingest import staging as _staging
from goldsmith.ingest.options import ImportOptions, ImportReport
from goldsmith.llm.cache import DEFAULT_CACHE
from goldsmith.overview import project_status
from goldsmith.prelabel.options import LLMPrelabelOptions
from goldsmith.progress import SILENT, Progress
from goldsmith.quality.front import QualityFront
from goldsmith.schema import (
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    Task,
)
from goldsmith.store import Store
from goldsmith.train.front import TrainFront
from goldsmith.weak.front import WeakFront

if TYPE_CHECKING:
    from goldsmith import engines as _engines
    from goldsmith import pii as _pii
    from goldsmith import simulation as _simulation
    from goldsmith.active import loop as _loop
    from goldsmith.active.loop import LoopReport
    from goldsmith.augment import run as _augment
    from goldsmith.augment.evaluate import AugmentEvalRow
    from goldsmith.dedup import store as _dedup
    from goldsmith.dedup.store import StoreDedupResult
    from goldsmith.export import formats as _formats
    from goldsmith.export import run as _export
    from goldsmith.export import validate as _validate
    from goldsmith.ingest import pipeline as _ingest
    from goldsmith.ingest import rows as _rows
    from goldsmith.ingest.rows import AddReport
    from goldsmith.llm import client as _llm_client
    from goldsmith.llm.client import LLMConfig
    from goldsmith.models import embed as _embed
    from goldsmith.models.embed import Embedder
    from goldsmith.models.vectors import EmbedSummary
    from goldsmith.pii import Redactor, ScanReport
    from goldsmith.pii import store_scan as _store_scan
    from goldsmith.prelabel.llm_store import LLMPrelabelReport
    from goldsmith.simulation import SimulationRequest
    from goldsmith.weak import loader as _loader
    from goldsmith.weak.lf import LF
else:  # the stages load when a method first needs them, so `status` starts at once
    _loop = lazy_module("goldsmith.active.loop")
    _embed = lazy_module("goldsmith.models.embed")
    _llm_client = lazy_module("goldsmith.llm.client")
    _pii = lazy_module("goldsmith.pii")
    _augment = lazy_module("goldsmith.augment.run")
    _dedup = lazy_module("goldsmith.dedup.store")
    _engines = lazy_module("goldsmith.engines")
    _export = lazy_module("goldsmith.export.run")
    _formats = lazy_module("goldsmith.export.formats")
    _validate = lazy_module("goldsmith.export.validate")
    _ingest = lazy_module("goldsmith.ingest.pipeline")
    _rows = lazy_module("goldsmith.ingest.rows")
    _store_scan = lazy_module("goldsmith.pii.store_scan")
    _simulation = lazy_module("goldsmith.simulation")
    _loader = lazy_module("goldsmith.weak.loader")

PII_SALT_ENV = "GOLDSMITH_PII_SALT"


class Project(AccessFront, AnnotationFront, WeakFront, QualityFront, TrainFront, BrowseFront):
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
        _staging.recover(store)  # an import whose process died: take it back, with a warning
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

    # ------------------------------------------------------------------ model in the loop

    def embedder_spec(self) -> str:
        """The spec of the embedder last used (``tfidf`` at first)."""
        with self.store.read() as tx:
            return str(tx.get_meta("embedder") or "tfidf")

    def embedder(self, spec: str | None = None) -> Embedder:
        """The embedder ``spec`` names or, by default, the one last used (``tfidf`` at first)."""
        return _embed.make_embedder(spec or self.embedder_spec())

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
        runner = _engines.make_engine(engine, self.root, ray_address)
        embedded = runner.embed(self.store, self.embedder(spec), progress)
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
        shortlist: int = SHORTLIST,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
    ) -> LoopReport:
        """Fit the in-the-loop classifier on the labels so far, write its calibrated
        suggestions, and order the annotation queue with ``strategy`` (default: the last one
        used, ``margin`` at first; at most ``shortlist`` open records, the rest by id).
        ``engine="ray"`` embeds new records and scores every record on Ray."""
        runner = _engines.make_engine(engine, self.root, ray_address)
        if runner.distributed:
            runner.embed(self.store, self.embedder(), progress)
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
            score=runner.scorer(self.store),
            progress=progress,
        )
        if strategy is not None:
            with self.store.write() as tx:
                tx.set_meta("strategy", strategy)
        return report

    def redactor(self) -> Redactor:
        """The PII redactor of this project (``settings.redact_mode``; the salt of ``hash``
        and ``fake`` comes from ``GOLDSMITH_PII_SALT``)."""
        return _pii.Redactor(self.task.settings.redact_mode, salt=os.environ.get(PII_SALT_ENV))

    def pii_scan(self, *, kinds: Sequence[str] | None = None) -> ScanReport:
        """Count the PII in every record's text fields, per kind, with masked examples."""
        return _store_scan.scan_store(self.store, kinds=kinds)

    def prelabel_llm(
        self,
        config: LLMConfig,
        options: LLMPrelabelOptions | None = None,
        *,
        engine: str = "local",
        ray_address: str | None = None,
        progress: Progress = SILENT,
        **fields: Any,
    ) -> LLMPrelabelReport:
        """Prelabel unlabeled records with an OpenAI-compatible LLM (few-shot by similarity),
        calibrate its confidence on gold, and route: confident answers become final labels
        with provenance llm, the others go to the front of the queue. Answers are cached in
        ``.goldsmith/llm-cache.sqlite``, so a rerun or a resumed run pays only for new ones.
        ``fields`` are those of :class:`~goldsmith.prelabel.options.LLMPrelabelOptions`.
        ``engine="ray"`` embeds and asks from Ray workers (one shared cache and budget)."""
        if options is not None and fields:
            raise ConfigError(
                f"pass the prelabeling options either as options= or as {sorted(fields)}, not both"
            )
        opts = options or LLMPrelabelOptions(**fields)
        if opts.redact is None and self.task.settings.redact_before_llm:
            opts = replace(opts, redact=self.redactor())
        runner = _engines.make_engine(engine, self.root, ray_address)
        if runner.distributed:
            runner.embed(self.store, self.embedder(), progress)
        return runner.prelabel_llm(
            self.store, self.task, config, self.embedder(), opts,
            cache=self.root / DEFAULT_CACHE, progress=progress,
        )  # fmt: skip

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
        req = request or _simulation.SimulationRequest(**options)
        return _simulation.run_simulation(
            self.store, self.task, self.embedder(), Path(out), req, progress=progress
        )

    # ------------------------------------------------------------------ data hygiene

    def dedup(self, *, near: float = 0.8, seed: int = 0) -> StoreDedupResult:
        """Group near-duplicate records (MinHash LSH, verified by exact Jaccard at ``near``)
        and store the groups; exports keep each group inside one split."""
        return _dedup.assign_near_dup_groups(self.store, threshold=near, seed=seed)

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
        client = _llm_client.LLMClient(llm, cache=self.root / DEFAULT_CACHE) if llm else None
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
                lfs=_loader.load_lf_file(lfs) if isinstance(lfs, str | Path) else list(lfs or ()),
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

    # ------------------------------------------------------------------ overview

    def status(self) -> dict[str, Any]:
        """Counts of records by status, final label, provenance and suggestion kind."""
        return project_status(self.store, self.task)

    # ------------------------------------------------------------------ data out

    def export(self, options: ExportOptions, *, progress: Progress = SILENT) -> ExportReport:
        """Write final labels in ``options.fmt`` with splits and a dataset card."""
        return _export.export(self.store, self.task, options, progress=progress)

    def export_job(self, job_id: int, options: ExportOptions) -> ExportReport | None:
        """Run an export as background job ``job_id`` (from :meth:`start_job`): its progress
        and then its report, or the error that stopped it, go to the job (:meth:`job`)."""
        return _jobs.run(
            self.store,
            job_id,
            lambda progress: self.export(options, progress=progress),
            ExportReport.summary,
        )

    def export_formats(self, question: str | None = None) -> list[str]:
        """The export formats that fit ``question`` (default: the first)."""
        return _formats.EXPORTERS.fitting(self.task.question(question))

    @staticmethod
    def validate(path: str | Path, fmt: str, *, max_tokens: int = 16_384) -> int:
        """Check a training file; return its number of examples or raise DataValidationError."""
        return _validate.validate_file(Path(path), fmt, max_tokens=max_tokens)
