"""What an import is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class LabelsAs(StrEnum):
    """How labels found in the input are stored."""

    GOLD = "gold"  # final labels with provenance gold
    RESPONSE = "response"  # submitted responses by ``label_user``
    SUGGESTION = "suggestion"  # suggestions of kind ``import``


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Options for :func:`goldsmith.ingest.pipeline.import_file`.

    ``fmt`` None means detect from the file name. Field mapping (``text_field``,
    ``label_field``, ``id_field``, ``metadata_fields``) applies to tabular formats
    (csv, tsv, jsonl, parquet, hf); interop formats carry their own structure.
    ``label_map`` maps raw label values to task labels; integer codes not in the map
    are read as positions in the task's label list starting at ``code_base``.
    """

    fmt: str | None = None
    text_field: str | None = None
    label_field: str | None = None
    id_field: str | None = None
    metadata_fields: tuple[str, ...] | None = None  # None: every unmapped column
    question: str | None = None  # which question the label fills; default: the first
    labels_as: LabelsAs = LabelsAs.GOLD
    label_user: str = "import"
    label_map: dict[str, str] = field(default_factory=dict)
    code_base: int = 1
    skip_invalid: Path | None = None  # write rejected rows here instead of failing
    batch_size: int = 5000
    encoding: str = "utf-8"
    delimiter: str | None = None  # csv: ',' / tsv: '\t' by default
    redact: str | None = None  # PII in text fields: None (keep), "mask", "hash" or "fake"
    redact_salt: str | None = None  # hash/fake (else GOLDSMITH_PII_SALT); never stored


@dataclass(slots=True)
class ImportReport:
    """Counts of one import. ``rejected_path`` is set when rows were skipped as invalid."""

    import_id: int
    source: str
    fmt: str
    n_read: int = 0
    n_inserted: int = 0
    n_duplicates: int = 0
    n_duplicate_labels: int = 0  # labels carried by skipped duplicates; not stored
    n_rejected: int = 0
    n_labels: int = 0
    rejected_path: Path | None = None
    pii: dict[str, int] = field(default_factory=dict)  # redacted findings per kind
