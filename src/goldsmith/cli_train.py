"""CLI commands that close the loop: ``train classifier|sft|dpo|tiny-base`` and ``eval``.

Registered on the main app by :mod:`goldsmith.cli`; each parses its options, calls one
:class:`~goldsmith.project.Project` method (or :mod:`goldsmith.train.tiny`) and prints what
it did. ``sft``, ``dpo`` and ``tiny-base`` need the ``train`` extra.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from goldsmith._cli_common import DbOpt, ProjectOpt, clean_errors, within
from goldsmith._console import RichProgress, console, stdout
from goldsmith._lazy import lazy_module

if TYPE_CHECKING:
    from goldsmith import project as _project
    from goldsmith.train import data as _train_data
    from goldsmith.train import sft as _sft
    from goldsmith.train import tiny as _tiny
    from goldsmith.train.data import WeightPolicy
    from goldsmith.train.evaluate import EvalReport
    from goldsmith.train.sft import LoraSettings
else:
    _project = lazy_module("goldsmith.project")
    _train_data = lazy_module("goldsmith.train.data")
    _sft = lazy_module("goldsmith.train.sft")
    _tiny = lazy_module("goldsmith.train.tiny")

train_app = typer.Typer(help="Train a model on the project's labels (evaluated on held-out gold).")
eval_app = typer.Typer()

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder the model is written to.")]
QuestionOpt = Annotated[str | None, typer.Option(help="Question to train on (default: first).")]
WeightsOpt = Annotated[
    str,
    typer.Option(
        help="Provenance weights overriding the defaults (gold, review, human 1; consensus 0.9 "
        "x confidence; weak, llm 0.5 x confidence; synthetic 0.5), e.g. 'weak=0,llm=0.3'."
    ),
]
MinConfOpt = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Weak and LLM labels below this confidence are not used (default 0: every one "
        "counts, weighted by its confidence).",
    ),
]
TestOpt = Annotated[
    float,
    typer.Option(
        callback=within(0.0, 1.0, low_open=True, high_open=True),
        help="Share of the gold records held out as the test split; in (0, 1).",
    ),
]
BaseOpt = Annotated[
    Path,
    typer.Option(exists=True, help="Base model: a saved transformers folder or a .gguf file."),
]


def _policy(weights: str, min_confidence: float) -> WeightPolicy:
    return _train_data.WeightPolicy.parse(weights, min_machine_confidence=min_confidence)


def print_eval(report: EvalReport) -> None:
    """The evaluation table: one row per model, the key metrics as columns."""
    keys = [
        k
        for k in ("accuracy", "macro_f1", "unparsed", "loss", "perplexity", "preference_accuracy")
        if any(k in r for r in report.rows.values())
    ]
    table = Table(title=f"{report.kind} on {report.n} held-out {report.split} records")
    table.add_column("model")
    for k in keys:
        table.add_column(k, justify="right")
    for name, row in report.rows.items():
        cells = [f"{row[k]:.4f}" if isinstance(row.get(k), float) else str(row.get(k, "–"))
                 for k in keys]  # fmt: skip
        table.add_row(name, *cells)
    stdout.print(table)


@train_app.command("classifier")
def train_classifier(
    project: ProjectOpt = Path("."),
    out: OutOpt = Path("models/classifier"),
    question: QuestionOpt = None,
    embedder: Annotated[
        str | None, typer.Option(help="Embedder spec (default: the project's).")
    ] = None,
    weights: WeightsOpt = "",
    min_confidence: MinConfOpt = 0.0,
    test_fraction: TestOpt = 0.3,
    seed: Annotated[int, typer.Option(help="Seed of the held-out draw.")] = 0,
    learner: Annotated[
        str,
        typer.Option(
            help="logistic (embeddings + calibrated logistic regression) or setfit "
            "(contrastive fine-tuning of the packaged all-MiniLM-L6-v2; extra 'train')."
        ),
    ] = "logistic",
    db: DbOpt = None,
) -> None:
    """A classifier weighted by provenance (embeddings + calibrated logistic regression, or
    SetFit); evaluated at once on held-out gold."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        manifest, report = proj.train_classifier(
            out,
            question=question,
            embedder=embedder,
            policy=_policy(weights, min_confidence),
            test_fraction=test_fraction,
            seed=seed,
            learner=learner,
            progress=RichProgress(),
        )
    print_eval(report)
    console.print(
        f"trained on {manifest.data['n_train']} records (data version "
        f"{manifest.data['version']}); model, card and eval report in {out}"
    )


def _lora_options(
    lora_r: int, epochs: float, max_steps: int, lr: float, batch_size: int, max_length: int
) -> LoraSettings:
    return _sft.LoraSettings(
        r=lora_r,
        epochs=epochs,
        max_steps=max_steps,
        learning_rate=lr,
        batch_size=batch_size,
        max_length=max_length,
    )


def _log(entry: dict[str, float]) -> None:
    console.print(f"step {int(entry['step'])}: loss {entry['loss']:.4f}", highlight=False)


def _train_llm(kind: str, project: Path, db: str | None, **kw: Any) -> None:
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        manifest = proj.train_llm(kind=kind, progress=RichProgress(), log=_log, **kw)
    m = manifest.train_metrics
    console.print(
        f"{kind}: {m['steps']} steps on {manifest.params['rows']} rows, final training loss "
        f"{m['train_loss']:.4f} ({m['device']}, {m['runtime_s']:.0f} s); adapter in "
        f"{kw['out']}/adapter. Next: goldsmith eval -p {project} --model {kw['out']}"
    )


LoraR = Annotated[int, typer.Option(min=1, help="LoRA rank.")]
Epochs = Annotated[
    float, typer.Option(callback=within(0.0, math.inf, low_open=True), help="Training epochs.")
]
MaxSteps = Annotated[
    int, typer.Option(min=-1, help="Stop after this many steps (overrides epochs; -1: off).")
]
Lr = Annotated[
    float,
    typer.Option("--lr", callback=within(0.0, math.inf, low_open=True), help="Learning rate."),
]
Batch = Annotated[int, typer.Option(min=1, help="Examples per step.")]
MaxLen = Annotated[int, typer.Option(min=1, help="Tokens per example (longer are truncated).")]
Merge = Annotated[bool, typer.Option(help="Also save the adapter merged into the base.")]
Resume = Annotated[bool, typer.Option(help="Continue from the last checkpoint in OUT/checkpoints.")]


@train_app.command("sft")
def train_sft(
    base_model: BaseOpt,
    project: ProjectOpt = Path("."),
    out: OutOpt = Path("models/sft"),
    question: QuestionOpt = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Train on this openai-chat or trl-sft export file instead."),
    ] = None,
    lora_r: LoraR = 16,
    epochs: Epochs = 2.0,
    max_steps: MaxSteps = -1,
    lr: Lr = 2e-4,
    batch_size: Batch = 8,
    max_length: MaxLen = 512,
    weights: WeightsOpt = "",
    min_confidence: MinConfOpt = 0.0,
    test_fraction: TestOpt = 0.3,
    merge: Merge = False,
    resume: Resume = True,
    db: DbOpt = None,
) -> None:
    """LoRA supervised fine-tuning (TRL SFTTrainer + PEFT) on the project's labels."""
    _train_llm(
        "sft",
        project,
        db,
        out=out,
        base_model=base_model,
        question=question,
        data_file=data,
        policy=_policy(weights, min_confidence),
        test_fraction=test_fraction,
        settings=_lora_options(lora_r, epochs, max_steps, lr, batch_size, max_length),
        merge=merge,
        resume=resume,
    )


@train_app.command("dpo")
def train_dpo(
    base_model: BaseOpt,
    project: ProjectOpt = Path("."),
    out: OutOpt = Path("models/dpo"),
    question: QuestionOpt = None,
    lora_r: LoraR = 16,
    epochs: Epochs = 2.0,
    max_steps: MaxSteps = -1,
    lr: Lr = 5e-5,
    batch_size: Batch = 4,
    max_length: MaxLen = 512,
    test_fraction: TestOpt = 0.3,
    merge: Merge = False,
    resume: Resume = True,
    db: DbOpt = None,
) -> None:
    """LoRA DPO (TRL DPOTrainer) on the project's preference answers."""
    _train_llm(
        "dpo",
        project,
        db,
        out=out,
        base_model=base_model,
        question=question,
        test_fraction=test_fraction,
        settings=_lora_options(lora_r, epochs, max_steps, lr, batch_size, max_length),
        merge=merge,
        resume=resume,
    )


@train_app.command("tiny-base")
def tiny_base(
    project: ProjectOpt = Path("."),
    out: OutOpt = Path("models/tiny-base"),
    db: DbOpt = None,
) -> None:
    """Build a tiny random causal LM with a tokenizer trained on the project's texts, to try
    the SFT pipeline end to end on a CPU in seconds (it is no real language model)."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        texts = [" ".join(str(v) for v in r.fields.values()) for r in proj.records(limit=5000)]
        folder = _tiny.build_tiny_model(texts, out)
    console.print(f"tiny base model in {folder}")


@eval_app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Option(help="A folder written by 'goldsmith train'.")],
    project: ProjectOpt = Path("."),
    split: Annotated[str, typer.Option(help="test (held-out gold) or train.")] = "test",
    out: Annotated[Path | None, typer.Option(help="Report folder (default MODEL/eval).")] = None,
    limit: Annotated[
        int | None, typer.Option(min=0, help="Score only the first N records (LLMs are slow).")
    ] = None,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens an LLM may generate.")] = 32,
    db: DbOpt = None,
) -> None:
    """Score a trained model on held-out gold: base vs tuned, per class, plots, HTML report."""
    with clean_errors(), _project.Project.open(project, db_url=db) as proj:
        report, paths = proj.evaluate(
            model,
            split=split,
            out=out,
            limit=limit,
            max_new_tokens=max_new_tokens,
            progress=RichProgress(),
        )
    print_eval(report)
    console.print(f"report: {paths['html']}")
