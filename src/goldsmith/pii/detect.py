"""Run the detectors: :func:`detect` finds every kind of PII in a string."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from goldsmith.errors import SchemaError
from goldsmith.pii.detect_context import find_addresses, find_dates_of_birth, find_mrns
from goldsmith.pii.detect_ids import (
    find_cards,
    find_emails,
    find_ibans,
    find_ips,
    find_national_ids,
    find_phones,
    find_ssns,
    find_urls,
)
from goldsmith.pii.kinds import PiiKind, PiiSpan, resolve_overlaps
from goldsmith.pii.names import find_persons

Detector = Callable[[str], list[PiiSpan]]

DETECTORS: dict[PiiKind, Detector] = {
    PiiKind.EMAIL: find_emails,
    PiiKind.URL: find_urls,
    PiiKind.IBAN: find_ibans,
    PiiKind.CREDIT_CARD: find_cards,
    PiiKind.SSN: find_ssns,
    PiiKind.NATIONAL_ID: find_national_ids,
    PiiKind.MRN: find_mrns,
    PiiKind.DATE_OF_BIRTH: find_dates_of_birth,
    PiiKind.IP: find_ips,
    PiiKind.PHONE: find_phones,
    PiiKind.POSTAL_ADDRESS: find_addresses,
    PiiKind.PERSON: find_persons,
}
"""One detector per kind; each is a pure function ``str -> list[PiiSpan]``."""


def parse_kinds(kinds: Iterable[str | PiiKind] | None) -> frozenset[PiiKind]:
    """Turn kind names (any case) into :class:`PiiKind`; ``None`` means every kind.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if kinds is None:
        return frozenset(PiiKind)
    out = set()
    for kind in kinds:
        try:
            out.add(PiiKind(str(kind).upper()))
        except ValueError:
            known = ", ".join(k.value for k in PiiKind)
            raise SchemaError(f"unknown PII kind {kind!r}; use one of {known}") from None
    return frozenset(out)


def detect(text: str, kinds: Iterable[str | PiiKind] | None = None) -> list[PiiSpan]:
    """Find PII in ``text``.

    Parameters
    ----------
    text
        Any string.
    kinds
        The kinds to look for (names or :class:`PiiKind`); ``None`` for all of them.

    Returns
    -------
    list of PiiSpan
        Non-overlapping spans in text order (overlaps resolved by
        :func:`~goldsmith.pii.kinds.resolve_overlaps`). Every kind is detected first and
        overlaps are resolved before filtering by ``kinds``, so an e-mail address is never
        reported as a URL or a person when only those are asked for.
    """
    wanted = parse_kinds(kinds)
    found: list[PiiSpan] = []
    for detector in DETECTORS.values():
        found.extend(detector(text))
    return [s for s in resolve_overlaps(found) if s.kind in wanted]
