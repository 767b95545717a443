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


class OnConflict(StrEnum):
    """What to do when one record carries disagreeing labels for one question, as gold.

    Only ``labels_as=gold`` keeps one value per record and question; responses and
    suggestions keep every annotator's answer, so disagreement there is data, not a conflict.
    """

    ERROR = "error"  # refuse the import, naming the first conflicts (the default for gold)
    FIRST = "first"  # the first label in the file wins
    MAJORITY = "majority"  # the most frequent value wins; a tie goes to the first of them


class AnswerFrom(StrEnum):
    """Where a chat row's answer comes from (``--answer-from``)."""

    LAST_ASSISTANT = "last-assistant"  # the final assistant turn; the rest is the transcript


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Options for :func:`goldsmith.ingest.pipeline.import_file`.

    ``fmt`` None means detect from the file name. Field mapping (``text_field``,
    ``label_field``, ``id_field``, ``metadata_fields``) applies to tabular formats
    (csv, tsv, jsonl, parquet, hf); interop formats carry their own structure.
    ``label_map`` maps raw label values to task labels; integer codes not in the map
    are read as positions in the task's label list starting at ``code_base``.
    ``on_conflict`` resolves disagreeing labels of one record imported as gold (None means
    :attr:`OnConflict.ERROR`; it is refused with another ``labels_as``, where every answer
    is kept). ``answer_from`` takes the last assistant turn of the task's chat field as the
    question's label (tabular formats); the SFT formats (``openai-chat``, ``trl-sft``,
    ``trl-sft-chat``, ``alpaca``, ``sharegpt``) always read their answer.
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
    on_conflict: OnConflict | None = None  # None: ERROR for gold; must be None otherwise
    answer_from: AnswerFrom | None = None  # chat field's last assistant turn -> the label


@dataclass(slots=True)
class ImportReport:
    """Counts of one import. ``rejected_path`` is set when rows were skipped as invalid.

    ``n_labels`` counts the labels actually stored. ``warnings`` are one-line messages
    about questionable input that was imported anyway (duplicate external ids, integer
    label codes, number-only or partly empty text fields, resolved conflicts).
    """

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
    n_conflicts: int = 0  # (record, question) pairs whose gold labels disagreed
    n_conflict_labels: int = 0  # labels that lost a conflict (not stored)
    conflict_policy: str | None = None  # how conflicts were resolved (gold only)
    n_duplicate_ids: int = 0  # inserted records whose external id was already taken
    duplicate_ids: list[str] = field(default_factory=list)  # the first few of them
    warnings: list[str] = field(default_factory=list)  # questionable input, with counts
