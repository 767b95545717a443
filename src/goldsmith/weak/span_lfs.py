"""Span labeling functions for a ``spans`` question, and the scan that applies them.

A span LF emits character spans ``(start, end, label)`` of the question's field: offsets are
code points (Python string indices, ``text[start:end]``), ``end`` exclusive, as the spans
question stores them.

* :func:`regex_span_lf`: every non-empty match of a pattern (or of its first group).
* :func:`gazetteer_lf`: every whole-word occurrence of any of a list of terms. All terms form
  one RE2 alternation, longest first, so one scan finds them all; a term matches only between
  word boundaries (letters, digits and ``_`` in any script are word characters).

The scan runs RE2 over the UTF-8 bytes of a text and converts byte offsets to code points
with one cumulative count, so emoji and other astral characters are one position each, as in
Python. All span LFs on a field first go through one RE2 pattern set, which tells which of
them match a text at all; only those are then run for positions.

>>> from goldsmith.weak import LFRecord
>>> lf = gazetteer_lf("City", ["new york", "york"])
>>> text = "😀 New York, not new yorker"
>>> [(text[a:b], lab) for a, b, lab in lf(LFRecord(1, {"text": text}, {}))]
[('New York', 'City')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import re2

from goldsmith.errors import LabelingFunctionError, SchemaError
from goldsmith.weak.lf import LF, LFKind, digest, inline_flags

__all__ = ["SpanColumn", "gazetteer_lf", "regex_span_lf", "scan_spans"]

_WORD = r"[\pL\pN_]"  # a word character, RE2 syntax
_NOT_WORD = r"[^\pL\pN_]"


def regex_span_lf(
    label: str,
    pattern: str | Sequence[str],
    *,
    name: str | None = None,
    field: str = "text",
    flags: int = re.IGNORECASE,
) -> LF:
    """Tag every match of ``pattern`` (or of any of several) in ``field`` as ``label``.

    A pattern with a capturing group tags the first group's text instead of the whole match.
    Patterns use RE2 syntax where they can; one RE2 refuses runs with Python's :mod:`re`
    (whose ``\\w`` and ``\\b`` are Unicode-aware where RE2's are ASCII).
    """
    patterns = (pattern,) if isinstance(pattern, str) else tuple(pattern)
    inlined = inline_flags("regex_span_lf", label, patterns, flags)
    return LF(
        name=name or f"span_regex_{label}",
        kind=LFKind.SPAN_REGEX,
        version=digest("span_regex", label, patterns, flags, field),
        label=label,
        patterns=inlined,
        re2_patterns=inlined,
        flags=flags,
        field=field,
        meta={"patterns": list(patterns)},
    )


def gazetteer_lf(
    label: str,
    terms: Iterable[str],
    *,
    name: str | None = None,
    field: str = "text",
    case_sensitive: bool = False,
) -> LF:
    """Tag every whole-word occurrence of any of ``terms`` in ``field`` as ``label``.

    Where terms overlap the longest wins (``"new york"`` over ``"new"``), and a term must not
    be part of a longer word (``"york"`` does not tag *yorker*). Whitespace inside a term
    matches any run of whitespace.
    """
    words = sorted({" ".join(t.split()) for t in terms if t.strip()}, key=lambda t: (-len(t), t))
    if not words:
        raise SchemaError(f"gazetteer_lf for {label!r} needs at least one term")
    flag = "" if case_sensitive else "(?i)"
    alternation = "|".join(r"\s+".join(re.escape(w) for w in t.split(" ")) for t in words)
    # group 1 is the term; the boundaries around it are consumed, and the scan resumes at
    # the end of group 1 so that a separator can start the next match
    re2_pattern = f"{flag}(?:^|{_NOT_WORD})({alternation})(?:{_NOT_WORD}|$)"
    python = f"{flag}(?<!\\w)({alternation})(?!\\w)"
    return LF(
        name=name or f"gazetteer_{label}",
        kind=LFKind.GAZETTEER,
        version=digest("gazetteer", label, words, case_sensitive, field),
        label=label,
        patterns=(python,),
        re2_patterns=(re2_pattern,),
        field=field,
        meta={"terms": len(words), "case_sensitive": case_sensitive},
    )


# --------------------------------------------------------------------------- the scan


@dataclass(slots=True)
class SpanColumn:
    """The spans of one LF: one entry per span, record ids ascending."""

    ids: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)

    def arrays(
        self,
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int16]
    ]:
        return (
            np.asarray(self.ids, dtype=np.int64),
            np.asarray(self.starts, dtype=np.int32),
            np.asarray(self.ends, dtype=np.int32),
            np.asarray(self.labels, dtype=np.int16),
        )


class _SpanScanner:
    """One LF's patterns, compiled for RE2 over bytes (or Python ``re`` where RE2 refuses)."""

    def __init__(self, lf: LF) -> None:
        self.re2: list[tuple[object, int]] = []  # (compiled, group)
        self.python: list[tuple[re.Pattern[str], int]] = []
        options = re2.Options()
        options.log_errors = False
        gazetteer = lf.kind == LFKind.GAZETTEER
        for re2_pattern, py_pattern in zip(lf.re2_patterns, lf.patterns, strict=True):
            try:
                compiled = re2.compile(re2_pattern.encode(), options)
            except re2.error:
                py = re.compile(py_pattern)
                self.python.append((py, 1 if py.groups else 0))
                continue
            group = 1 if gazetteer or compiled.groups else 0
            self.re2.append((compiled, group))

    def spans(self, text: str, data: bytes, to_cp: npt.NDArray[np.int64]) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for compiled, group in self.re2:
            pos = 0
            while pos <= len(data):
                m = compiled.search(data, pos)  # type: ignore[attr-defined]
                if m is None:
                    break
                a, b = m.span(group)
                if a >= 0 and b > a:
                    found.add((int(to_cp[a]), int(to_cp[b])))
                # resume after the match, or (gazetteer) after the term, never in place
                pos = max(b if group else m.end(), m.start() + 1, pos + 1)
                while pos < len(data) and data[pos] & 0xC0 == 0x80:  # to a character start
                    pos += 1
        for py, group in self.python:
            for m in py.finditer(text):
                a, b = m.span(group)
                if a >= 0 and b > a:
                    found.add((a, b))
        return found


def _code_points(data: bytes) -> npt.NDArray[np.int64]:
    """Code-point offset of every UTF-8 byte offset ``0 .. len(data)``."""
    arr = np.frombuffer(data, dtype=np.uint8)
    starts = (arr & 0xC0) != 0x80  # not a continuation byte: a character starts here
    return np.concatenate([[0], np.cumsum(starts, dtype=np.int64)])


def scan_spans(
    lfs: Sequence[LF],
    rows: Iterable[tuple[int, dict[str, object], dict[str, object]]],
    labels: Sequence[str],
    columns: list[SpanColumn],
) -> None:
    """Append the spans of each of ``lfs`` (all on one field) over ``rows`` to ``columns``."""
    if not lfs:
        return
    index = {name: i for i, name in enumerate(labels)}
    field_name = lfs[0].field
    scanners = [_SpanScanner(lf) for lf in lfs]
    label_of = [index[str(lf.label)] for lf in lfs]
    prefilter = re2.Set.SearchSet(_set_options())
    owner: list[int] = []
    always: list[int] = []  # LFs with a pattern the set cannot hold
    for j, lf in enumerate(lfs):
        for pattern in lf.re2_patterns:
            try:
                prefilter.Add(pattern)
            except re2.error:
                always.append(j)
                continue
            owner.append(j)
    if owner:
        prefilter.Compile()
    for rid, fields, _ in rows:
        value = fields.get(field_name)
        if value is None:
            raise LabelingFunctionError(
                f"record {rid} has no field {field_name!r}", lf=lfs[0].name, record=rid
            )
        text = value if isinstance(value, str) else str(value)
        hits = {owner[n] for n in (prefilter.Match(text) or ())} if owner else set()
        hits.update(always)
        if not hits:
            continue
        data = text.encode("utf-8", "surrogatepass")
        to_cp = _code_points(data)
        for j in sorted(hits):
            for a, b in sorted(scanners[j].spans(text, data, to_cp)):
                column = columns[j]
                column.ids.append(rid)
                column.starts.append(a)
                column.ends.append(b)
                column.labels.append(label_of[j])


def _set_options() -> object:
    options = re2.Options()
    options.case_sensitive = True  # each pattern carries its own (?i)
    options.log_errors = False
    return options
