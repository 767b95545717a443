"""Augmenting a project: generate, filter, store as ``synthetic``, and measure.

:func:`augment_project` takes the records with a gold, review, human or consensus label of a
label question as parents, generates with a rule (``template``) or the LLM (``paraphrase``,
``counterfactual``), filters the outputs (near-duplicates of existing texts, labels the
in-the-loop classifier confidently contradicts, length, language), and stores the kept ones
as new records whose final label has provenance ``synthetic``, with their method and parent
in the record's metadata. Exports leave them out unless asked, and never put them outside the
training split. :func:`evaluate_project` measures whether they help: held-out macro-F1 at a
few label budgets, with and without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from goldsmith.augment.evaluate import AugmentEvalRow, evaluate_augmentation
from goldsmith.augment.filters import FilterReport, filter_synthetic
from goldsmith.augment.label_check import label_model_proba
from goldsmith.augment.llm import counterfactual, evol_instruct, paraphrase, self_instruct
from goldsmith.augment.rules import entity_swap, template_augment
from goldsmith.augment.synthetic import Synthetic
from goldsmith.errors import SchemaError
from goldsmith.labels import HUMAN, labeled_targets
from goldsmith.llm.client import LLMClient
from goldsmith.llm.prompt import Redact
from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import embed_records, record_text
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import FinalLabel, Provenance, Question, Record, Task
from goldsmith.store import Store
from goldsmith.weak.lf import LF

Method = Literal[
    "template", "paraphrase", "counterfactual", "entity-swap", "self-instruct", "evol-instruct"
]
METHODS: tuple[str, ...] = (
    "template",
    "paraphrase",
    "counterfactual",
    "entity-swap",
    "self-instruct",
    "evol-instruct",
)


@dataclass
class AugmentReport:
    """What one augmentation run generated, kept and stored."""

    method: str
    n_parents: int
    n_generated: int
    n_kept: int
    rejected: dict[str, int] = field(default_factory=dict)
    record_ids: list[int] = field(default_factory=list)
    tokens: int = 0
    stopped: str | None = None


def augment_project(
    store: Store,
    task: Task,
    embedder: Embedder,
    *,
    method: str,
    per_record: int = 2,
    client: LLMClient | None = None,
    redact: Redact | None = None,
    limit: int | None = None,
    seed: int = 0,
    lfs: Sequence[LF] = (),
    progress: Progress = SILENT,
) -> AugmentReport:
    """Generate synthetic examples from the labeled records and store those that pass.

    With ``lfs`` (the project's labeling functions, already applied) the label model joins
    the in-the-loop classifier in the label-consistency filter."""
    if method not in METHODS:
        raise SchemaError(f"unknown augmentation method {method!r}; use one of {list(METHODS)}")
    if method == "entity-swap":
        return _entity_swap_project(store, task, per_record=per_record, limit=limit, seed=seed)
    if method in ("self-instruct", "evol-instruct"):
        return _instruct_project(
            store,
            task,
            method,
            per_record=per_record,
            client=client,
            redact=redact,
            limit=limit,
            progress=progress,
        )
    q = task.question()
    if not q.classifies():  # one of its labels per record
        raise SchemaError("augmentation of a project needs a label question (the first one)")
    targets = labeled_targets(store, task, q.name)
    if not targets:
        raise SchemaError("nothing to augment: no record has a human-grade label yet")
    with store.read() as tx:
        parents = tx.get_records(sorted(targets)[:limit] if limit else sorted(targets))
        _, guidelines = tx.guideline() if tx.latest_guideline_version() else (None, "")
    labels = [q.class_names()[targets[r.id]] for r in parents if r.id is not None]
    rng = np.random.default_rng(seed)
    tokens, stopped = 0, None
    if method == "template":
        field_name = task.fields[0].name
        made = [
            s
            for r, lab in zip(parents, labels, strict=True)
            for s in template_augment(
                r, lab, rng=rng, per_record=per_record, field=field_name, question=q.name
            )
        ]
    else:
        if client is None:
            raise SchemaError(f"--method {method} needs an LLM: pass --with llm and --model")
        fn = paraphrase if method == "paraphrase" else counterfactual
        run = fn(
            client,
            task,
            guidelines,
            parents,
            labels,
            per_record=per_record,
            question=q.name,
            redact=redact,
            progress=progress,
        )
        made, tokens, stopped = run.synthetics, run.tokens, run.stopped
    kept = _filter(store, task, embedder, q, made, targets, lfs=lfs, seed=seed)
    return _stored(store, q.name, method, parents, made, kept, tokens, stopped)


def _entity_swap_project(
    store: Store, task: Task, *, per_record: int, limit: int | None, seed: int
) -> AugmentReport:
    """Entity swap on a spans question: each labeled entity is replaced by another surface
    form of its label seen in the labeled data; spans are re-mapped (code points)."""
    q = task.question()
    if not (q.marks_spans and q.one_label):  # spans of one label each
        raise SchemaError("entity-swap needs a spans question (the first one), e.g. template ner")
    field = q.target_field(task.fields[0].name)  # the field the spans mark
    with store.read() as tx:
        labeled: dict[int, list[dict[str, Any]]] = {
            rid: list(value) if isinstance(value, list) else []
            for rid, value in tx.final_values(q.name, HUMAN)
        }
        parents = tx.get_records(sorted(labeled)[:limit] if limit else sorted(labeled))
        existing = [record_text(r) for batch in tx.iter_records() for r in batch]
    gazetteer: dict[str, set[str]] = {}
    for rec in parents:
        text = str(rec.fields.get(field, ""))
        for span in labeled.get(rec.id or 0, []):
            gazetteer.setdefault(span["label"], set()).add(text[span["start"] : span["end"]])
    forms = {label: sorted(v) for label, v in gazetteer.items()}
    rng = np.random.default_rng(seed)
    made: list[Synthetic] = []
    for rec in parents:
        for _ in range(per_record):
            syn = entity_swap(
                rec,
                labeled[rec.id or 0] or [],
                gazetteer=forms,
                rng=rng,
                field=field,
                question=q.name,
            )
            if syn is not None:
                made.append(syn)
    kept = filter_synthetic([s.text for s in made], existing=existing)
    return _stored(store, q.name, "entity-swap", parents, made, kept)


def _instruct_project(
    store: Store,
    task: Task,
    method: str,
    *,
    per_record: int,
    client: LLMClient | None,
    redact: Redact | None,
    limit: int | None,
    progress: Progress,
) -> AugmentReport:
    """New prompt/response pairs for an SFT task (a text question), from its labeled pairs:
    self-instruct writes new ones in their style, evol-instruct harder versions of each."""
    q = task.question()
    if not q.free_text:
        raise SchemaError(f"{method} needs an SFT task (a text question first), e.g. template sft")
    if client is None:
        raise SchemaError(f"--method {method} needs an LLM: pass --with llm and --model")
    prompt_field = task.fields[0].name
    with store.read() as tx:
        answers = dict(tx.final_values(q.name, HUMAN))
        parents = tx.get_records(sorted(answers)[:limit] if limit else sorted(answers))
        existing = [record_text(r) for batch in tx.iter_records() for r in batch]
        _, guidelines = tx.guideline() if tx.latest_guideline_version() else (None, "")
    seeds = [
        {"prompt": r.fields.get(prompt_field, ""), "response": answers[r.id], "id": r.id}
        for r in parents
        if r.id is not None
    ]
    if not seeds:
        raise SchemaError(f"{method} needs labeled prompt/response pairs; none found")
    if method == "self-instruct":
        run = self_instruct(
            client,
            task,
            guidelines,
            seeds,
            requests=max(1, len(seeds) // 3),
            per_request=per_record,
            prompt_field=prompt_field,
            response_question=q.name,
            redact=redact,
            progress=progress,
        )
    else:
        run = evol_instruct(
            client,
            task,
            guidelines,
            seeds,
            per_record=per_record,
            prompt_field=prompt_field,
            response_question=q.name,
            redact=redact,
            progress=progress,
        )
    made = run.synthetics
    kept = filter_synthetic([s.text for s in made], existing=existing)
    return _stored(store, q.name, method, parents, made, kept, run.tokens, run.stopped)


def _stored(
    store: Store,
    question: str,
    method: str,
    parents: list[Record],
    made: list[Synthetic],
    kept: FilterReport,
    tokens: int = 0,
    stopped: str | None = None,
) -> AugmentReport:
    """Store the synthetics ``made`` that the filters ``kept`` as answers to ``question``,
    and report the run."""
    passed = [s for s, ok in zip(made, kept.keep.tolist(), strict=True) if ok]
    ids = _store_values(store, question, passed)
    return AugmentReport(
        method=method,
        n_parents=len(parents),
        n_generated=len(made),
        n_kept=len(ids),
        rejected=dict(kept.rejected),
        record_ids=ids,
        tokens=tokens,
        stopped=stopped,
    )


def _filter(
    store: Store,
    task: Task,
    embedder: Embedder,
    q: Question,
    made: list[Synthetic],
    targets: dict[int, Any],
    *,
    lfs: Sequence[LF] = (),
    seed: int = 0,
) -> Any:
    """Near-duplicates of existing texts, and labels the in-the-loop classifier confidently
    contradicts (it is fitted on the labeled records' embeddings)."""
    with store.read() as tx:
        records = {r.id: r for batch in tx.iter_records() for r in batch}
    existing = [record_text(r) for r in records.values()]
    texts = [s.text for s in made]
    intended = np.array([q.class_names().index(s.values[q.name]) for s in made], dtype=np.int64)
    probas: list[Any] = []
    if made and len({*targets.values()}) >= 2:
        fit = getattr(embedder, "fit", None)
        if fit is not None and not getattr(embedder, "fitted", True):  # tfidf: fit first
            fit(existing)
        ids = sorted(targets)
        X = embedder.encode([record_text(records[i]) for i in ids])
        y = np.array([targets[i] for i in ids], dtype=np.int64)
        model = LoopClassifier(n_classes=len(q.class_names())).fit(X, y)
        probas.append(model.predict_proba(embedder.encode(texts)))
    if made and lfs:
        field_name = task.fields[0].name
        probas.append(label_model_proba(store, task, lfs, texts, field=field_name, seed=seed))
    return filter_synthetic(texts, existing=existing, intended=intended, probas=probas)


def _store_values(store: Store, question: str, kept: list[Synthetic]) -> list[int]:
    with store.write() as tx:
        seen = tx.existing_hashes([s.to_record().content_hash for s in kept])
        unique: dict[str, Synthetic] = {}
        for s in kept:  # an exact copy of a stored text, or of another output, is dropped
            unique.setdefault(s.to_record().content_hash, s)
        kept = [s for h, s in unique.items() if h not in seen]
        if not kept:
            return []
        ids = tx.insert_records([s.to_record() for s in kept])
        tx.close_records(ids)  # labeled already: never served to annotators
        tx.set_final_labels(
            [
                FinalLabel(rid, question, s.values[question], Provenance.SYNTHETIC)
                for rid, s in zip(ids, kept, strict=True)
            ]
        )
    return list(ids)


def evaluate_project(
    store: Store,
    task: Task,
    embedder: Embedder,
    *,
    budgets: tuple[int, ...] = (50, 100, 200),
    repeats: int = 10,
    seed: int = 0,
) -> list[AugmentEvalRow]:
    """Held-out macro-F1 with and without the stored synthetic records, per label budget;
    synthetic records only join when their parent is among the labeled ones."""
    q = task.question()
    if not q.classifies():
        raise SchemaError("evaluation needs a label question (the first one)")
    real = labeled_targets(store, task, q.name)
    with store.read() as tx:
        syn = {r: v for r, v in tx.final_values(q.name, [str(Provenance.SYNTHETIC)])}
        syn_records = tx.get_records(sorted(syn))
    real_ids = sorted(r for r in real if r not in syn)
    parents = {r.id: p for r in syn_records if r.id is not None and (p := _parent(r)) is not None}
    keep = [rid for rid, p in parents.items() if p in set(real_ids)]
    if not keep:
        raise SchemaError("no synthetic records with a labeled parent: run `augment` first")
    X = embed_records(store, embedder, [*real_ids, *keep]).vectors
    row = {rid: i for i, rid in enumerate(real_ids)}
    return evaluate_augmentation(
        X[: len(real_ids)],
        np.array([real[r] for r in real_ids], dtype=np.int64),
        X[len(real_ids) :],
        np.array([q.class_names().index(syn[r]) for r in keep], dtype=np.int64),
        np.array([row[parents[r]] for r in keep], dtype=np.int64),
        budgets=budgets,
        repeats=repeats,
        seed=seed,
        n_classes=len(q.class_names()),
    )


def _parent(record: Record) -> int | None:
    info = record.metadata.get("synthetic") if isinstance(record.metadata, dict) else None
    parent = info.get("parent_record_id") if isinstance(info, dict) else None
    return int(parent) if parent is not None else None
