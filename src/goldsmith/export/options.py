"""What an export is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from goldsmith.schema import Provenance

DEFAULT_PROVENANCE = (Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Options for :func:`goldsmith.export.run.export`.

    ``split`` are the train/validation/test fractions (one value: no split, all in
    ``train``). Only final labels pass, filtered by ``provenance`` and ``min_confidence``.
    """

    fmt: str
    out: Path
    split: tuple[float, ...] = (1.0,)
    seed: int = 0
    provenance: tuple[Provenance, ...] = DEFAULT_PROVENANCE
    min_confidence: float = 0.0
    question: str | None = None
    validate: bool = True
    max_tokens: int = 16_384
    command: str = ""  # the command line recorded in the dataset card


@dataclass(slots=True)
class ExportReport:
    out: Path
    fmt: str
    files: dict[str, Path] = field(default_factory=dict)  # split name -> file
    counts: dict[str, int] = field(default_factory=dict)  # split name -> records
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> n
    provenance_counts: dict[str, int] = field(default_factory=dict)
    card: Path | None = None
    validated: bool = False
