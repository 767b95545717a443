"""The vocabulary of PII detection: :class:`PiiKind`, :class:`PiiSpan` and overlap resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class PiiKind(StrEnum):
    """The kinds of personal information goldsmith detects."""

    EMAIL = "EMAIL"
    URL = "URL"
    IBAN = "IBAN"
    CREDIT_CARD = "CREDIT_CARD"
    SSN = "SSN"
    NATIONAL_ID = "NATIONAL_ID"
    MRN = "MRN"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    IP = "IP"
    PHONE = "PHONE"
    POSTAL_ADDRESS = "POSTAL_ADDRESS"
    PERSON = "PERSON"


PRIORITY: dict[PiiKind, int] = {kind: rank for rank, kind in enumerate(PiiKind)}
"""Lower rank wins an overlap of equal length (the declaration order of :class:`PiiKind`)."""


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One piece of PII: ``text == source[start:end]`` (Python code-point offsets)."""

    start: int
    end: int
    kind: PiiKind
    text: str


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Keep a set of non-overlapping spans, sorted by start.

    Longer spans win; among spans of equal length the kind declared first in
    :class:`PiiKind` wins (an e-mail beats a URL, a card number beats a phone number).

    Parameters
    ----------
    spans
        Candidate spans, possibly overlapping.

    Returns
    -------
    list of PiiSpan
        The kept spans in text order.
    """
    order = sorted(spans, key=lambda s: (-(s.end - s.start), PRIORITY[s.kind], s.start))
    kept: list[PiiSpan] = []
    for span in order:
        if span.end <= span.start:
            continue
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)
