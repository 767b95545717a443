"""What an export is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from goldsmith.schema import Provenance
from goldsmith.store.browse import RecordFilter

DEFAULT_PROVENANCE = (
    Provenance.GOLD,
    Provenance.REVIEW,
    Provenance.HUMAN,
    Provenance.CONSENSUS,
)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Options for :func:`goldsmith.export.run.export`.

    ``split`` are the train/validation/test fractions (one value: no split, all in
    ``train``). Only final labels pass, filtered by ``provenance`` and ``min_confidence``.
    ``preference_pairs`` says how a preference ranking becomes DPO pairs: ``"best"`` pairs
    the best candidate with each worse one, ``"all"`` gives every ordered pair.
    ``force`` lets the export remove files in ``out`` that no goldsmith export wrote
    (without it such files make the export refuse; see :mod:`goldsmith.export.folder`).
    ``responses``: the formats that have a place for annotators (``label-studio``,
    ``prodigy``) also write each annotator's submitted and skipped (discarded) responses to
    the exported records, beside the final label; False writes the final labels only. The
    training and tabular formats always write final labels only. ``records``: only the
    records this filter of the records browser matches (None: every record); the other
    filters still apply to them.
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
    preference_pairs: Literal["best", "all"] = "best"  # ranking -> pairs: best vs each, or all
    force: bool = False  # remove files in ``out`` that no goldsmith export wrote
    responses: bool = True  # label-studio / prodigy: annotators' responses too
    records: RecordFilter | None = None  # only the records this browser filter matches


@dataclass(slots=True)
class ExportReport:
    out: Path
    fmt: str
    files: dict[str, Path] = field(default_factory=dict)  # split name -> file
    counts: dict[str, int] = field(default_factory=dict)  # split name -> records
    examples: dict[str, int] = field(default_factory=dict)  # split name -> lines/rows written
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> n
    provenance_counts: dict[str, int] = field(default_factory=dict)
    card: Path | None = None
    validated: bool = False
    skipped: int = 0  # labeled records without a final value for the exported question
    leakage: dict[str, Any] = field(default_factory=dict)  # near duplicates across splits
    companions: list[Path] = field(default_factory=list)  # files beside the splits (configs)
    removed: list[Path] = field(default_factory=list)  # stale or foreign files removed from out
    responses: int = 0  # annotators' responses written beside the final labels

    def summary(self) -> dict[str, Any]:
        """The report as JSON: file names relative to ``out``, counts per split."""
        return {
            "out": str(self.out),
            "format": self.fmt,
            "files": {name: path.name for name, path in self.files.items()},
            "card": None if self.card is None else self.card.name,
            "companions": [p.name for p in self.companions],
            "counts": dict(self.counts),
            "examples": dict(self.examples),
            "provenance_counts": dict(self.provenance_counts),
            "skipped": self.skipped,
            "validated": self.validated,
            "responses": self.responses,
        }
