"""The training half of :class:`goldsmith.project.Project`: train and evaluate models on the
project's labels (mixed into ``Project``; each method delegates to :mod:`goldsmith.train`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import Task
from goldsmith.store import Store
from goldsmith.train.manifest import ModelManifest

if TYPE_CHECKING:
    from goldsmith.models import embed as _embed
    from goldsmith.train import evaluate as _evaluate
    from goldsmith.train import report as _report
    from goldsmith.train import run as _train
    from goldsmith.train.data import WeightPolicy
    from goldsmith.train.evaluate import EvalReport
else:
    _embed = lazy_module("goldsmith.models.embed")
    _evaluate = lazy_module("goldsmith.train.evaluate")
    _train = lazy_module("goldsmith.train.run")
    _report = lazy_module("goldsmith.train.report")


class TrainFront:
    """``train_classifier``, ``train_llm`` and ``evaluate``; needs ``store``, ``task`` and
    ``embedder_spec`` from the class it is mixed into."""

    store: Store

    @property
    def task(self) -> Task:
        raise NotImplementedError

    def embedder_spec(self) -> str:
        raise NotImplementedError

    def train_classifier(
        self,
        out: str | Path,
        *,
        question: str | None = None,
        embedder: str | None = None,
        policy: WeightPolicy | None = None,
        test_fraction: float = 0.3,
        seed: int = 0,
        learner: str = "logistic",
        progress: Progress = SILENT,
    ) -> tuple[ModelManifest, EvalReport]:
        """Train the classifier (embeddings + calibrated LR, or ``learner="setfit"``) into
        ``out``; evaluate it on held-out gold (see :mod:`goldsmith.train.run`)."""
        spec = embedder or self.embedder_spec()
        return _train.train_classifier(
            self.store, self.task, self.task.name, out, _embed.make_embedder(spec), spec,
            question=question, policy=policy, test_fraction=test_fraction, seed=seed,
            learner=learner, progress=progress,
        )  # fmt: skip

    def train_llm(self, out: str | Path, base_model: str | Path, **options: Any) -> ModelManifest:
        """LoRA SFT (``kind="sft"``) or DPO (``kind="dpo"``) of ``base_model`` on the labels;
        ``options`` are those of :func:`goldsmith.train.run.train_llm`."""
        return _train.train_llm(self.store, self.task, self.task.name, out, base_model, **options)

    def evaluate(
        self,
        model: str | Path,
        *,
        split: str = "test",
        out: str | Path | None = None,
        limit: int | None = None,
        max_new_tokens: int = 32,
        progress: Progress = SILENT,
    ) -> tuple[EvalReport, dict[str, Path]]:
        """Score a trained model folder on held-out gold and write its report (JSON, HTML,
        figures) into ``out`` (default ``<model>/eval``)."""
        manifest = ModelManifest.load(model)
        if manifest.kind == "classifier":
            embedder = _embed.make_embedder(str(manifest.params.get("embedder", "tfidf")))
            report = _evaluate.evaluate_classifier(
                self.store, self.task, model, embedder, split=split, progress=progress
            )
        else:
            report = _evaluate.evaluate_llm(
                self.store, self.task, model, split=split, limit=limit,
                max_new_tokens=max_new_tokens, progress=progress,
            )  # fmt: skip
        losses = manifest.train_metrics.get("losses", [])
        return report, _report.write_eval(report, out or Path(model) / "eval", losses=losses)
