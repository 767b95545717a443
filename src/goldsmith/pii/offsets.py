"""Offset maps between an original text and its redacted form.

A redaction replaces some regions of the original by other strings. :class:`OffsetMap`
records them and maps any character offset across:

- an offset outside every replaced region moves by the length change of the regions before it;
- a span that overlaps a replaced region is **widened** to cover the whole replacement (on the
  way to the redacted text) or the whole original PII (on the way back): a ``start`` inside a
  region maps to the region's start, an ``end`` inside it to the region's end.

So a labeled span that does not touch PII keeps exactly its text, and one that does still
covers everything it covered, the PII now being the tag or surrogate that replaced it.
Mapping a span there and back is the identity for spans that do not touch PII.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Piece:
    """One replaced region: ``original[orig_start:orig_end]`` became
    ``redacted[red_start:red_end]``."""

    orig_start: int
    orig_end: int
    red_start: int
    red_end: int


@dataclass(frozen=True)
class OffsetMap:
    """The replaced regions of one redaction, in text order."""

    pieces: tuple[Piece, ...] = ()

    def to_redacted(self, pos: int, *, is_end: bool = False) -> int:
        """Map an offset of the original text to the redacted text."""
        return _map(
            pos, is_end, [(p.orig_start, p.orig_end, p.red_start, p.red_end) for p in self.pieces]
        )

    def to_original(self, pos: int, *, is_end: bool = False) -> int:
        """Map an offset of the redacted text back to the original text."""
        return _map(
            pos, is_end, [(p.red_start, p.red_end, p.orig_start, p.orig_end) for p in self.pieces]
        )


def _map(pos: int, is_end: bool, pieces: list[tuple[int, int, int, int]]) -> int:
    delta = 0
    for a, b, c, d in pieces:
        if pos < a or (is_end and pos == a):
            break
        if pos < b or (is_end and pos == b):
            return d if is_end else c
        delta = d - b
    return pos + delta


def map_spans(
    spans: Iterable[Mapping[str, Any]],
    offset_map: OffsetMap,
    *,
    to: Literal["redacted", "original"] = "redacted",
) -> list[dict[str, Any]]:
    """Re-map ``{"start", "end", ...}`` spans across a redaction.

    Parameters
    ----------
    spans
        Spans as the schema stores them (``start``, ``end``, ``label``; other keys are kept).
    offset_map
        The :attr:`Redacted.offset_map` of the redaction.
    to
        ``"redacted"`` maps offsets of the original text into the redacted text;
        ``"original"`` maps them back.

    Returns
    -------
    list of dict
        New span dicts; spans overlapping PII are widened (see the module docstring).
    """
    fn = offset_map.to_redacted if to == "redacted" else offset_map.to_original
    out = []
    for span in spans:
        start, end = int(span["start"]), int(span["end"])
        new = dict(span)
        new["start"] = fn(start)
        new["end"] = max(new["start"], fn(end, is_end=True)) if end > start else new["start"]
        out.append(new)
    return out
