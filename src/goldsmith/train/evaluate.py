"""``goldsmith eval``: score a trained model on the held-out gold it never saw.

The test split is rebuilt from the ids in the model's manifest, so an evaluation always
scores the records the model was trained without. What is measured depends on the model:

=====================  ==================================================================
model                  rows of the table (each also has a per-class table)
=====================  ==================================================================
classifier             the classifier, and the training majority class as a floor
sft, label questions   base model and tuned model: each generates an answer per test
                       record, read with the prelabeling schema, scored against gold
sft, other questions   base and tuned: loss and perplexity on the gold completions, plus
                       a table of samples (reference, base answer, tuned answer)
dpo                    base and tuned: preference accuracy (chosen likelier than rejected)
                       on the held-out preference pairs
=====================  ==================================================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.export import prompts
from goldsmith.models.embed import Embedder
from goldsmith.models.vectors import record_text
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Question, Task
from goldsmith.store import Store
from goldsmith.train.chat import fit_rows, preference_rows, sft_rows
from goldsmith.train.classifier import embed_examples, load_classifier
from goldsmith.train.data import Example, TrainingSet, WeightPolicy, build_training_set
from goldsmith.train.generate import (
    adapter_off,
    completion_loss,
    generate,
    load_tuned,
    parse_answer,
    preference_accuracy,
)
from goldsmith.train.manifest import ModelManifest
from goldsmith.train.metrics import classification_scores, multilabel_scores

SPLITS = ("test", "train")
SAMPLES = 8  # rows of the sample table of free-text evaluations


@dataclass(slots=True)
class EvalReport:
    """One evaluation: a row of metrics per model, per-class scores, samples."""

    kind: str
    question: str
    split: str
    n: int
    labels: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> scores
    samples: list[dict[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        """The key number per model, e.g. ``macro_f1 base 0.21 -> tuned 0.74``."""
        key = _key_metric(self.kind, self.rows)
        parts = [f"{name} {row.get(key, float('nan')):.4f}" for name, row in self.rows.items()]
        return f"{key} on {self.n} held-out {self.split} records: " + ", ".join(parts)


def _key_metric(kind: str, rows: dict[str, dict[str, Any]]) -> str:
    first = next(iter(rows.values()), {})
    for key in ("macro_f1", "preference_accuracy", "perplexity"):
        if key in first:
            return key
    return "n"


def examples_for(
    store: Store, task: Task, manifest: ModelManifest, split: str
) -> tuple[TrainingSet, list[Example]]:
    """The training set of ``manifest`` rebuilt with its own test ids, and ``split``'s side."""
    if split not in SPLITS:
        raise SchemaError(f"split {split!r}: choose one of {', '.join(SPLITS)}")
    policy = manifest.params.get("weights")
    data = build_training_set(
        store,
        task,
        manifest.question,
        policy=WeightPolicy.from_dict(policy) if policy else None,
        test_fraction=float(manifest.data.get("test_fraction_of_gold", 0.3)),
        test_ids=manifest.test_ids,
    )
    return data, data.test if split == "test" else data.train


def _scores(question: Question, truth: list[Any], predicted: list[Any]) -> dict[str, Any]:
    if question.classifies(many=True):
        return multilabel_scores(truth, predicted, question.class_names())
    labels = list(question.class_names())
    return classification_scores(
        [str(t) for t in truth], [None if p is None else str(p) for p in predicted], labels
    )


def evaluate_classifier(
    store: Store,
    task: Task,
    folder: str | Path,
    embedder: Embedder,
    *,
    split: str = "test",
    progress: Progress = SILENT,
) -> EvalReport:
    """Score a ``goldsmith train classifier`` folder against the training majority class."""
    manifest = ModelManifest.load(folder)
    fitted = load_classifier(folder, manifest)
    data, examples = examples_for(store, task, manifest, split)
    if fitted.reads_texts:
        X: Any = [record_text(e.record) for e in examples]
        model_id = fitted.embedder_id
    else:
        model_id, X = embed_examples(store, embedder, examples, progress=progress)
    if model_id != fitted.embedder_id:
        raise ConfigError(
            f"the project's {fitted.embedder!r} vectors changed since training ({model_id} vs "
            f"{fitted.embedder_id}: the corpus changed); retrain the classifier"
        )
    truth = [e.value for e in examples]
    report = EvalReport("classifier", data.question.name, split, len(examples))
    report.labels = list(data.question.class_names())
    report.rows["classifier"] = _scores(data.question, truth, fitted.predict_labels(X))
    majority = _majority(data.train)
    report.rows["majority class"] = _scores(data.question, truth, [majority] * len(truth))
    report.data = manifest.data
    return report


def _majority(train: list[Example]) -> Any:
    """The most frequent training value (multilabel values are lists: counted by repr)."""
    top = Counter(repr(e.value) for e in train).most_common(1)[0][0]
    return next(e.value for e in train if repr(e.value) == top)


def evaluate_llm(
    store: Store,
    task: Task,
    folder: str | Path,
    *,
    split: str = "test",
    limit: int | None = None,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    progress: Progress = SILENT,
) -> EvalReport:
    """Score a ``goldsmith train sft|dpo`` folder: base model against the tuned one."""
    manifest = ModelManifest.load(folder)
    if manifest.kind not in ("sft", "dpo") or not manifest.base_model or not manifest.adapter:
        raise ConfigError(f"{folder}: not an SFT or DPO model folder")
    data, examples = examples_for(store, task, manifest, split)
    examples = examples[:limit] if limit else examples
    q = data.question
    model, tokenizer = load_tuned(manifest.base_model, Path(folder) / manifest.adapter)
    report = EvalReport(manifest.kind, q.name, split, len(examples), labels=list(q.class_names()))
    report.data = manifest.data
    max_length = int(manifest.params.get("max_length", 512))
    if manifest.kind == "dpo":
        rows = fit_rows(tokenizer, preference_rows(task, q, examples), max_length)
        with adapter_off(model):
            base = preference_accuracy(model, tokenizer, rows)
        tuned = preference_accuracy(model, tokenizer, rows)
        report.rows = {
            "base": {"preference_accuracy": base, "pairs": len(rows)},
            "tuned": {"preference_accuracy": tuned, "pairs": len(rows)},
        }
        return report
    rows = fit_rows(tokenizer, sft_rows(task, q, examples), max_length)
    prompts_ = [r["prompt"] for r in rows]

    def answers() -> list[str]:
        return generate(
            model,
            tokenizer,
            prompts_,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            progress=progress,
        )

    with adapter_off(model):
        base_text = answers()
        base_loss = completion_loss(model, tokenizer, rows)
    tuned_text = answers()
    tuned_loss = completion_loss(model, tokenizer, rows)
    if q.categorical:  # answers are scored as classes
        truth = [e.value for e in examples]
        for name, texts, loss in (
            ("base", base_text, base_loss),
            ("tuned", tuned_text, tuned_loss),
        ):
            report.rows[name] = {
                **_scores(q, truth, [parse_answer(q, t) for t in texts]),
                **loss,
            }
    else:
        report.rows = {"base": dict(base_loss), "tuned": dict(tuned_loss)}
    report.samples = [
        {
            "input": prompts.user_text(task, q, e.record),
            "reference": r["completion"][0]["content"],
            "base": b,
            "tuned": t,
        }
        for e, r, b, t in list(zip(examples, rows, base_text, tuned_text, strict=True))[:SAMPLES]
    ]
    return report
