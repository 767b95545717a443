"""The optional ``train`` extra (torch, transformers, peft, trl), imported on first use.

Each accessor imports its package lazily and turns a missing install into
:class:`~goldsmith.errors.MissingExtraError`, which names ``pip install 'goldsmith[train]'``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from goldsmith._lazy import optional


def require(package: str) -> ModuleType:
    """``import package`` or a :class:`MissingExtraError` naming the ``train`` extra.

    transformers' own progress bars ("Loading weights", "Writing model shards") are turned
    off: each step shows goldsmith's progress bar, and theirs leaked into logs and the demo's
    output."""
    module = optional(package, "train")
    if package == "transformers":
        module.utils.logging.disable_progress_bar()
    return module


def available() -> bool:
    """Whether the ``train`` extra is installed (torch, transformers, peft and trl)."""
    try:
        for name in ("torch", "transformers", "peft", "trl"):
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def device_settings() -> dict[str, Any]:
    """Where to train: a GPU in bf16 with gradient checkpointing when one exists, else CPU
    in float32 (bf16 matmuls are slow on most CPUs)."""
    torch = require("torch")
    if torch.cuda.is_available():
        bf16 = bool(torch.cuda.is_bf16_supported())
        return {"device": "cuda", "bf16": bf16, "gradient_checkpointing": True}
    return {"device": "cpu", "bf16": False, "gradient_checkpointing": False}


_LIBRARIES = r"(transformers|trl|peft|accelerate|datasets|torch)(\.|$)"


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the libraries' own deprecation notices (one calls another's renamed API);
    they are not the user's to act on. Our warnings and real errors pass."""
    with warnings.catch_warnings():
        for category in (FutureWarning, DeprecationWarning, UserWarning):
            warnings.filterwarnings("ignore", category=category, module=_LIBRARIES)
        yield
