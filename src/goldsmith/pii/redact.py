"""Replace detected PII: :func:`redact` gives the redacted text, what each replacement stands
for, and the offset map that keeps labeled spans aligned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from goldsmith.errors import ArgumentError, ConfigError, SchemaError
from goldsmith.pii.kinds import PiiKind, PiiSpan, resolve_overlaps
from goldsmith.pii.offsets import OffsetMap, Piece
from goldsmith.pii.surrogates import keyed_digest, normalise, surrogate

Mode = Literal["mask", "hash", "fake"]
MODES: tuple[Mode, ...] = ("mask", "hash", "fake")
HASH_CHARS = 10
"""Hex characters of the HMAC kept in a ``hash`` tag (40 bits)."""


@dataclass(frozen=True)
class Redacted:
    """The result of :func:`redact`.

    Attributes
    ----------
    text
        The redacted text.
    mapping
        Each replacement string (tag or surrogate) -> the original value it replaced (the
        first one seen, when several spellings of a value share a replacement). Keep it
        private: it is the PII.
    offset_map
        Maps offsets between the original and the redacted text (:func:`map_spans`).
    spans
        The PII spans that were replaced, with offsets in the *original* text.
    """

    text: str
    mapping: dict[str, str] = field(default_factory=dict)
    offset_map: OffsetMap = field(default_factory=OffsetMap)
    spans: tuple[PiiSpan, ...] = ()


def salt_bytes(salt: str | bytes | None, mode: Mode) -> bytes:
    """Check the mode and salt; ``hash`` and ``fake`` need a non-empty salt."""
    if mode not in MODES:
        raise SchemaError(f"unknown redaction mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "mask":
        return b""
    if not salt:
        raise ConfigError(
            f"redaction mode {mode!r} needs a secret salt (set GOLDSMITH_PII_SALT, or pass "
            "salt='...'); without one a hash or fake can be reversed by trying every value"
        )
    return salt.encode() if isinstance(salt, str) else salt


def redact(
    text: str,
    spans: Iterable[PiiSpan],
    *,
    mode: Mode = "mask",
    salt: str | bytes | None = None,
) -> Redacted:
    """Replace each PII span of ``text``.

    Parameters
    ----------
    text
        The original text.
    spans
        PII spans in ``text`` (from :func:`~goldsmith.pii.detect`, or your own); overlaps
        are resolved first.
    mode
        ``"mask"``: ``[EMAIL_1]``, numbered per kind in order of first appearance, the same
        value (ignoring case and separators) getting the same number within this call.
        ``"hash"``: ``[EMAIL_3f9a0c12de]``, a truncated HMAC-SHA256 of the value under
        ``salt``; stable across records and runs. ``"fake"``: a realistic surrogate of the
        same kind (:func:`~goldsmith.pii.surrogates.surrogate`), consistent under ``salt``.
    salt
        Secret key for ``hash`` and ``fake`` (required there, ignored by ``mask``).

    Returns
    -------
    Redacted

    Raises
    ------
    ValueError
        For an unknown mode, a missing salt, or a span outside ``text`` or whose ``text``
        does not match.
    """
    key = salt_bytes(salt, mode)
    chosen = resolve_overlaps(spans)
    numbers: dict[tuple[PiiKind, str], str] = {}
    counts: dict[PiiKind, int] = {}
    mapping: dict[str, str] = {}
    parts: list[str] = []
    pieces: list[Piece] = []
    pos = red = 0
    for span in chosen:
        if span.end > len(text) or span.start < 0 or text[span.start : span.end] != span.text:
            raise ArgumentError(f"span {span} does not match the text it was given with")
        ident = (span.kind, normalise(span.text))
        if mode == "mask":
            if ident not in numbers:
                counts[span.kind] = counts.get(span.kind, 0) + 1
                numbers[ident] = f"[{span.kind.value}_{counts[span.kind]}]"
            new = numbers[ident]
        elif mode == "hash":
            tag = keyed_digest(key, span.kind, span.text).hex()[:HASH_CHARS]
            new = f"[{span.kind.value}_{tag}]"
        else:
            new = surrogate(span.kind, span.text, key)
        mapping.setdefault(new, span.text)
        parts.append(text[pos : span.start])
        red += span.start - pos
        pieces.append(Piece(span.start, span.end, red, red + len(new)))
        parts.append(new)
        red += len(new)
        pos = span.end
    parts.append(text[pos:])
    return Redacted("".join(parts), mapping, OffsetMap(tuple(pieces)), tuple(chosen))
