"""LoRA fine-tuning with TRL: supervised (``SFTTrainer``) and preference (``DPOTrainer``).

One function per trainer, sharing the settings: a LoRA adapter on every linear layer, bf16
and gradient checkpointing on a GPU, float32 on the CPU, a checkpoint every ``save_steps``
in ``out/checkpoints`` (a rerun with ``resume=True`` continues from the last one), the
adapter in ``out/adapter`` and, with ``merge``, the merged model in ``out/merged``.
Progress goes to a :class:`~goldsmith.progress.Progress`, losses to ``log``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldsmith.progress import SILENT, Progress
from goldsmith.train.base_model import load_base
from goldsmith.train.chat import Row, fit_rows
from goldsmith.train.extra import device_settings, quiet, require

LogFn = Callable[[dict[str, float]], None]


@dataclass(frozen=True, slots=True)
class LoraSettings:
    """What ``goldsmith train sft|dpo`` tunes; the defaults suit a 100M–1B model."""

    r: int = 16
    alpha: int | None = None  # default 2 * r
    dropout: float = 0.05
    epochs: float = 2.0
    max_steps: int = -1  # > 0 overrides epochs
    learning_rate: float = 2e-4
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 512
    save_steps: int = 50
    seed: int = 0
    beta: float = 0.1  # DPO only
    extra: dict[str, Any] = field(default_factory=dict)  # more SFTConfig/DPOConfig fields


def _lora(settings: LoraSettings) -> Any:
    peft = require("peft")
    return peft.LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha or 2 * settings.r,
        lora_dropout=settings.dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def _common(out: Path, settings: LoraSettings) -> dict[str, Any]:
    device = device_settings()
    fields = require("transformers").TrainingArguments.__dataclass_fields__
    # transformers 5 renamed gradient checkpointing; the old name warns
    checkpointing = (
        "activation_checkpointing"
        if "activation_checkpointing" in fields
        else "gradient_checkpointing"
    )
    return {
        "output_dir": str(out / "checkpoints"),
        "num_train_epochs": settings.epochs,
        "max_steps": settings.max_steps,
        "per_device_train_batch_size": settings.batch_size,
        "gradient_accumulation_steps": settings.grad_accum,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "linear",
        "warmup_steps": 0,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": settings.save_steps,
        "save_total_limit": 2,
        "report_to": [],
        "disable_tqdm": True,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "bf16": device["bf16"],
        checkpointing: device["gradient_checkpointing"],
        "use_cpu": device["device"] == "cpu",
        "dataloader_num_workers": 0,
        "max_length": settings.max_length,
        **settings.extra,
    }


def _callback(progress: Progress, log: LogFn | None) -> Any:
    transformers = require("transformers")

    class _Report(transformers.TrainerCallback):  # type: ignore[misc,name-defined]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            progress.start("Fine-tuning", total=int(state.max_steps))
            progress.advance(int(state.global_step))  # resumed steps are already done

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            progress.advance()

        def on_log(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            logs = kw.get("logs") or {}
            if log is not None and "loss" in logs:
                log({"step": float(state.global_step), **{k: float(v) for k, v in logs.items()}})

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            progress.finish()

    return _Report()


def _last_checkpoint(out: Path) -> str | None:
    folder = out / "checkpoints"
    done = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(done[-1]) if done else None


def _finish(trainer: Any, tokenizer: Any, out: Path, merge: bool, resume: bool) -> dict[str, Any]:
    trainer.remove_callback(require("transformers").PrinterCallback)  # losses go to ``log``
    last = _last_checkpoint(out) if resume else None
    result = trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(out / "adapter"))
    tokenizer.save_pretrained(str(out / "adapter"))
    if merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(out / "merged"))
        tokenizer.save_pretrained(str(out / "merged"))
    losses = [
        {"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h
    ]
    return {
        "train_loss": float(result.training_loss),
        "steps": int(trainer.state.global_step),
        "runtime_s": float(result.metrics.get("train_runtime", 0.0)),
        "resumed_from": last,
        "losses": losses,
        "device": device_settings()["device"],
    }


def _tune(
    kind: str,
    base_model: str | Path,
    rows: list[Row],
    out: str | Path,
    settings: LoraSettings | None,
    merge: bool,
    resume: bool,
    progress: Progress,
    log: LogFn | None,
) -> dict[str, Any]:
    """The run both trainers share; ``kind`` picks TRL's SFT or DPO config and trainer."""
    settings = settings or LoraSettings()
    trl = require("trl")
    datasets = require("datasets")
    datasets.disable_progress_bars()
    folder = Path(out)
    with quiet():
        model, tokenizer = load_base(base_model)
        if kind == "sft":
            config = trl.SFTConfig(**_common(folder, settings), completion_only_loss=True)
            trainer_class = trl.SFTTrainer
        else:
            config = trl.DPOConfig(**_common(folder, settings), beta=settings.beta)
            trainer_class = trl.DPOTrainer
        trainer = trainer_class(
            model=model,
            args=config,
            train_dataset=datasets.Dataset.from_list(
                fit_rows(tokenizer, rows, settings.max_length)
            ),
            processing_class=tokenizer,
            peft_config=_lora(settings),
            callbacks=[_callback(progress, log)],
        )
        return _finish(trainer, tokenizer, folder, merge, resume)


def train_sft(
    base_model: str | Path,
    rows: list[Row],
    out: str | Path,
    *,
    settings: LoraSettings | None = None,
    merge: bool = False,
    resume: bool = True,
    progress: Progress = SILENT,
    log: LogFn | None = None,
) -> dict[str, Any]:
    """LoRA SFT of ``base_model`` on prompt-completion ``rows``; returns training metrics."""
    return _tune("sft", base_model, rows, out, settings, merge, resume, progress, log)


def train_dpo(
    base_model: str | Path,
    rows: list[Row],
    out: str | Path,
    *,
    settings: LoraSettings | None = None,
    merge: bool = False,
    resume: bool = True,
    progress: Progress = SILENT,
    log: LogFn | None = None,
) -> dict[str, Any]:
    """LoRA DPO of ``base_model`` on prompt/chosen/rejected ``rows`` (the reference model is
    the base itself, with the adapter switched off)."""
    return _tune("dpo", base_model, rows, out, settings, merge, resume, progress, log)
