"""What an LLM prelabeling run asks, once for every engine (local or Ray) and the front."""

from __future__ import annotations

from dataclasses import dataclass

from goldsmith.llm.prompt import Redact


@dataclass(frozen=True, slots=True)
class LLMPrelabelOptions:
    """The options of :func:`~goldsmith.prelabel.llm_store.prelabel_with_llm`.

    Attributes
    ----------
    question
        A single-label question (default: the first question).
    limit
        At most this many unlabeled records (in queue order); all by default.
    calibrate_on
        At most this many gold records also labeled, to calibrate and measure confidence.
    shots
        Few-shot examples per record: its most similar labeled records.
    threshold
        Calibrated confidence from which an answer becomes a final label (provenance llm).
    redact
        The PII redactor, required when ``task.settings.redact_before_llm`` is true.
    seed
        Seed of the choice of calibration records.
    """

    question: str | None = None
    limit: int | None = None
    calibrate_on: int = 200
    shots: int = 4
    threshold: float = 0.9
    redact: Redact | None = None
    seed: int = 0
