"""Offline PII detection and redaction.

::

    detect(text)                 -> [PiiSpan(start, end, kind, text), ...]
    redact(text, spans, mode=)   -> Redacted(text, mapping, offset_map, spans)
    map_spans(spans, offset_map) -> spans re-aligned on the redacted (or original) text
    Redactor(mode, kinds, salt)  -> callable str -> str (the LLM ``Redact`` hook), .scan()

Nothing here downloads or loads a model; see ``docs/pii.md`` for what each detector finds.
"""

from __future__ import annotations

from goldsmith.pii.detect import DETECTORS, detect, parse_kinds
from goldsmith.pii.kinds import PiiKind, PiiSpan, resolve_overlaps
from goldsmith.pii.offsets import OffsetMap, Piece, map_spans
from goldsmith.pii.redact import Mode, Redacted, redact
from goldsmith.pii.redactor import Redactor, ScanReport
from goldsmith.pii.surrogates import surrogate

__all__ = [
    "DETECTORS",
    "Mode",
    "OffsetMap",
    "PiiKind",
    "PiiSpan",
    "Piece",
    "Redacted",
    "Redactor",
    "ScanReport",
    "detect",
    "map_spans",
    "parse_kinds",
    "redact",
    "resolve_overlaps",
    "surrogate",
]
