"""``goldsmith train classifier``: record embeddings + calibrated logistic regression.

The classifier is the model in the loop (:class:`~goldsmith.models.classifier.
LoopClassifier`) fitted once on every usable final label, each weighted by its provenance
(:class:`~goldsmith.train.data.WeightPolicy`), and scored on held-out gold. The folder it
writes holds ``classifier.pkl`` (the fitted model), the manifest and a model card; the
embeddings come from the project's store cache, so the model is evaluated and applied inside
its project.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.models.classifier import LoopClassifier
from goldsmith.models.embed import Embedder
from goldsmith.models.setfit import SetFitClassifier
from goldsmith.models.vectors import ensure_embeddings, record_text
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Question, Task
from goldsmith.store import Store
from goldsmith.train.data import Example, TrainingSet
from goldsmith.train.manifest import ModelManifest

MODEL_FILE = "classifier.pkl"
LEARNERS = ("logistic", "setfit")


@dataclass(frozen=True, slots=True)
class FittedClassifier:
    """A fitted classifier with what it needs to predict label names."""

    model: Any  # LoopClassifier, or SetFitClassifier for learner "setfit"
    labels: tuple[str, ...]
    multilabel: bool
    embedder: str  # the embedder spec
    embedder_id: str  # the model id of the vectors it was trained on
    learner: str = "logistic"  # "setfit": the model reads texts, not stored vectors

    @property
    def reads_texts(self) -> bool:
        """True when the model takes texts (SetFit) rather than the store's vectors."""
        return getattr(self, "learner", "logistic") == "setfit"  # older pickles: logistic

    def predict_labels(self, X: Any) -> list[Any]:
        """Label names (single-label) or sorted label lists (multilabel), one per row of
        ``X``: vectors, or texts when :attr:`reads_texts`."""
        pred = self.model.predict(X)
        if self.multilabel:
            return [[self.labels[j] for j in np.flatnonzero(row)] for row in pred]
        return [self.labels[int(i)] for i in pred]


def trains_classifier(question: Question) -> bool:
    """Whether a classifier can learn ``question``: one or any number of its labels per
    record (label, multilabel), asked of its kind."""
    return question.classifies() or question.classifies(many=True)


def classifier_question(task: Task, name: str | None) -> Question:
    q: Question = task.question(name)
    if not trains_classifier(q):
        raise SchemaError(
            f"question {q.name!r} is a {q.kind} question; a classifier needs a label or "
            "multilabel question (use 'goldsmith train sft' for the others)"
        )
    return q


def embed_examples(
    store: Store, embedder: Embedder, examples: list[Example], *, progress: Progress = SILENT
) -> tuple[str, npt.NDArray[np.float32]]:
    """Vectors of ``examples`` in their order, through the store's cache (every record is
    embedded, so a corpus embedder's fit and id match the model in the loop's; only the
    examples' vectors are read back)."""
    model_id = ensure_embeddings(store, embedder, progress=progress).model_id
    with store.read() as tx:
        return model_id, tx.get_embeddings(model_id, [e.record_id for e in examples])


def fit_classifier(
    store: Store,
    data: TrainingSet,
    embedder: Embedder,
    spec: str,
    *,
    C: float = 3.0,
    seed: int = 0,
    learner: str = "logistic",
    progress: Progress = SILENT,
) -> FittedClassifier:
    """Fit on ``data.train`` with provenance weights as sample weights.

    ``learner`` is ``"logistic"`` (the in-loop classifier on the embedder's vectors) or
    ``"setfit"`` (:class:`~goldsmith.models.setfit.SetFitClassifier`, contrastive
    fine-tuning of the packaged all-MiniLM-L6-v2 on the texts; extra ``train``,
    single-label only).

    Under the default policy a weak or LLM label of a single-label question trains as a soft
    label: one row per class, weighted by its provenance weight times the class's posterior
    (:meth:`goldsmith.train.data.WeightPolicy.targets`).
    """
    q = data.question
    if not trains_classifier(q):
        raise SchemaError(f"question {q.name!r}: a classifier needs a label or multilabel one")
    multilabel = q.classifies(many=True)
    labels = q.class_names()
    if learner not in LEARNERS:
        raise ConfigError(f"unknown learner {learner!r}; pick one of {', '.join(LEARNERS)}")
    if learner == "setfit" and multilabel:
        raise SchemaError(f"question {q.name!r} is multilabel; --learner setfit is single-label")
    if learner == "setfit":
        model_id, X = (
            "setfit:all-MiniLM-L6-v2",
            np.array([record_text(e.record) for e in data.train]),
        )
    else:
        model_id, X = embed_examples(store, embedder, data.train, progress=progress)
    index = {label: i for i, label in enumerate(labels)}
    if multilabel:
        y: npt.NDArray[np.int64] = np.zeros((len(data.train), len(labels)), dtype=np.int64)
        for i, e in enumerate(data.train):
            y[i, [index[v] for v in e.value]] = 1
    else:
        y = np.array([index[e.value] for e in data.train], dtype=np.int64)
    if multilabel:
        w = np.array([e.weight for e in data.train], dtype=np.float64)
    else:  # soft machine labels become one row per class (see WeightPolicy.targets)
        conf = np.array([e.confidence for e in data.train], dtype=np.float64)
        provenance = [e.provenance for e in data.train]
        rows, y, w = data.policy.targets(y, conf, provenance, len(labels))
        X = X[rows]
    if learner == "setfit":
        model: Any = SetFitClassifier(n_classes=len(labels), random_state=seed)
        model.fit(X.tolist(), y, sample_weight=w)
        return FittedClassifier(model, tuple(labels), False, learner, model_id, learner)
    model = LoopClassifier(n_classes=len(labels), multilabel=multilabel, C=C, random_state=seed)
    model.fit(X, y, sample_weight=w)
    return FittedClassifier(model, tuple(labels), multilabel, spec, model_id)


def save_classifier(folder: Path, fitted: FittedClassifier) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    tmp = path.with_suffix(".partial")
    tmp.write_bytes(pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)
    return path


def load_classifier(folder: str | Path, manifest: ModelManifest) -> FittedClassifier:
    """The fitted classifier of a model folder (a pickle: load only folders you trust)."""
    path = Path(folder) / MODEL_FILE
    if manifest.kind != "classifier" or not path.is_file():
        raise ConfigError(f"{folder}: not a classifier folder (no {MODEL_FILE})")
    fitted = pickle.loads(path.read_bytes())
    if not isinstance(fitted, FittedClassifier):
        raise ConfigError(f"{path}: does not hold a goldsmith classifier")
    return fitted
