"""From a project's labels to a trained, documented model folder (what ``Project.train_*``
and ``goldsmith train`` call).

Each run builds the :class:`~goldsmith.train.data.TrainingSet` (held-out gold, provenance
weights, no leak), trains, writes ``goldsmith-model.json`` with the test ids and a model
card naming the dataset version. The classifier is evaluated at once (it takes a second);
an LLM is evaluated by ``goldsmith eval``, which generates with both the base and the tuned
model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.models.embed import Embedder
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Task
from goldsmith.store import Store
from goldsmith.train import chat
from goldsmith.train.card import write_model_card
from goldsmith.train.classifier import classifier_question, fit_classifier, save_classifier
from goldsmith.train.data import TrainingSet, WeightPolicy, build_training_set
from goldsmith.train.evaluate import EvalReport, evaluate_classifier
from goldsmith.train.manifest import ModelManifest
from goldsmith.train.report import write_eval
from goldsmith.train.sft import LogFn, LoraSettings, train_dpo, train_sft


def train_classifier(
    store: Store,
    task: Task,
    project: str,
    out: str | Path,
    embedder: Embedder,
    spec: str,
    *,
    question: str | None = None,
    policy: WeightPolicy | None = None,
    test_fraction: float = 0.3,
    C: float = 3.0,
    seed: int = 0,
    learner: str = "logistic",
    progress: Progress = SILENT,
) -> tuple[ModelManifest, EvalReport]:
    """Fit, save and evaluate the classifier: embeddings + calibrated logistic regression,
    or (``learner="setfit"``) a SetFit-tuned sentence encoder with a logistic head."""
    q = classifier_question(task, question)
    policy = policy or WeightPolicy()
    data = build_training_set(
        store, task, q.name, policy=policy, test_fraction=test_fraction, seed=seed
    )
    fitted = fit_classifier(
        store, data, embedder, spec, C=C, seed=seed, learner=learner, progress=progress
    )
    folder = Path(out)
    save_classifier(folder, fitted)
    params = {"embedder": spec, "C": C, "learner": learner}
    manifest = _manifest("classifier", project, data, params, policy)
    manifest.save(folder)
    report = evaluate_classifier(store, task, folder, embedder, progress=progress)
    write_eval(report, folder / "eval")
    write_model_card(folder, manifest, report.as_dict())
    return manifest, report


def train_llm(
    store: Store,
    task: Task,
    project: str,
    out: str | Path,
    base_model: str | Path,
    *,
    kind: Literal["sft", "dpo"] = "sft",
    question: str | None = None,
    data_file: str | Path | None = None,
    policy: WeightPolicy | None = None,
    test_fraction: float = 0.3,
    settings: LoraSettings | None = None,
    merge: bool = False,
    resume: bool = True,
    progress: Progress = SILENT,
    log: LogFn | None = None,
) -> ModelManifest:
    """LoRA SFT (or DPO) of ``base_model`` on the project's labels.

    The rows are written to ``out/data/train.jsonl`` first, in the conversational
    prompt-completion form (prompt/chosen/rejected for DPO), with the export's wording.
    ``data_file`` trains on an ``openai-chat`` or ``trl-sft`` export file instead; rows whose
    prompt is a held-out test prompt are dropped from it.
    """
    q = task.question(question)
    if kind == "dpo" and not q.ranks_candidates:
        raise SchemaError(f"question {q.name!r} is a {q.kind} question; DPO needs a preference one")
    settings = settings or LoraSettings()
    policy = policy or WeightPolicy()
    data = build_training_set(
        store, task, q.name, policy=policy, test_fraction=test_fraction, seed=settings.seed
    )
    rows = _rows(task, data, kind, data_file)
    folder = Path(out)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    with (folder / "data" / "train.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    params: dict[str, Any] = {
        "lora_r": settings.r,
        "epochs": settings.epochs,
        "max_steps": settings.max_steps,
        "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "max_length": settings.max_length,
        "rows": len(rows),
        "data_file": str(data_file) if data_file else None,
    }
    trainer = train_sft if kind == "sft" else train_dpo
    metrics = trainer(
        base_model,
        rows,
        folder,
        settings=settings,
        merge=merge,
        resume=resume,
        progress=progress,
        log=log,
    )
    manifest = _manifest(kind, project, data, params, policy)
    manifest.base_model = str(Path(base_model).resolve())
    manifest.adapter = "adapter"
    manifest.merged = "merged" if merge else None
    manifest.train_metrics = metrics
    manifest.save(folder)
    write_model_card(folder, manifest)
    return manifest


def _rows(task: Task, data: TrainingSet, kind: str, data_file: str | Path | None) -> list[chat.Row]:
    if kind == "dpo":
        return chat.preference_rows(task, data.question, data.train)
    if data_file is None:
        return chat.sft_rows(task, data.question, data.train)

    held_out = {_user_turns(r) for r in chat.sft_rows(task, data.question, data.test)}
    rows = [r for r in chat.read_export(data_file) if _user_turns(r) not in held_out]
    if not rows:
        raise SchemaError(f"{data_file}: every row is a held-out test prompt")
    return rows


def _user_turns(row: chat.Row) -> str:
    """What identifies a prompt across wordings: its user messages (system prompts differ)."""
    return json.dumps([m for m in row["prompt"] if m["role"] == "user"])


def _manifest(
    kind: Literal["classifier", "sft", "dpo"],
    project: str,
    data: TrainingSet,
    params: dict[str, Any],
    policy: WeightPolicy,
) -> ModelManifest:
    return ModelManifest(
        kind=kind,
        question=data.question.name,
        project=project,
        data=data.summary(),
        test_ids=sorted(e.record_id for e in data.test),
        params={**params, "weights": policy.as_dict()},
    )
