"""``goldsmith-model.json``: what a trained model folder holds and how it was made.

``goldsmith eval`` reads it to rebuild the exact held-out test split (the ids are listed), to
find the base model to compare against and to check the data still matches.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from goldsmith.errors import ConfigError

MANIFEST = "goldsmith-model.json"
Kind = Literal["classifier", "sft", "dpo"]


@dataclass(slots=True)
class ModelManifest:
    """The description of one trained model folder."""

    kind: Kind
    question: str
    project: str
    data: dict[str, Any]  # TrainingSet.summary()
    test_ids: list[int]
    params: dict[str, Any] = field(default_factory=dict)
    base_model: str | None = None  # sft / dpo: path of the base model (folder or .gguf)
    adapter: str | None = None  # sft / dpo: folder of the LoRA adapter, relative to the model
    merged: str | None = None  # sft / dpo with --merge: folder of the merged model
    train_metrics: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    goldsmith_version: str = field(default_factory=lambda: version("goldsmith"))

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MANIFEST
        tmp = path.with_suffix(".json.partial")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", "utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> ModelManifest:
        path = Path(folder) / MANIFEST
        if not path.is_file():
            raise ConfigError(
                f"{folder}: no {MANIFEST}; is this a folder written by 'goldsmith train'?"
            )
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(**data)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ConfigError(f"{path}: not a goldsmith model manifest ({exc})") from None
