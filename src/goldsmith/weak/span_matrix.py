"""From character spans to token-level votes and back, for the span label model.

Tokens are the matches of ``\\w+|[^\\w\\s]`` (Python :mod:`re`, Unicode-aware): runs of word
characters, and each other non-space character on its own. Offsets are code points. A
character span covers every token it overlaps, so a span that starts or ends inside a word
is widened to whole tokens; a token span maps back to the characters from its first token's
start to its last token's end.

>>> starts, ends = tokenize("New-York 😀 x")
>>> list(zip(starts.tolist(), ends.tolist()))
[(0, 3), (3, 4), (4, 8), (9, 10), (11, 12)]
>>> to_token_spans([(0, 8, "City")], starts, ends)
[(0, 3, 'City')]
>>> to_char_spans([(0, 3, "City")], starts, ends)
[(0, 8, 'City')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.weak.label_models.spans import Span

TOKEN = re.compile(r"\w+|[^\w\s]")
"""The tokenizer of span questions' fields."""

Offsets = npt.NDArray[np.int64]


def tokenize(text: str) -> tuple[Offsets, Offsets]:
    """Start and end (exclusive) code-point offsets of the tokens of ``text``."""
    bounds = [m.span() for m in TOKEN.finditer(text)]
    if not bounds:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.asarray(bounds, dtype=np.int64)
    return arr[:, 0].copy(), arr[:, 1].copy()


def to_token_spans(spans: Sequence[Span], starts: Offsets, ends: Offsets) -> list[Span]:
    """Character spans as token spans (tokens overlapping each span); a span over no token is
    dropped."""
    if not spans:
        return []
    a = np.asarray([s[0] for s in spans], dtype=np.int64)
    b = np.asarray([s[1] for s in spans], dtype=np.int64)
    first = np.searchsorted(ends, a, side="right")  # first token ending after the start
    last = np.searchsorted(starts, b, side="left")  # tokens starting before the end
    return [
        (int(f), int(t), span[2])
        for f, t, span in zip(first.tolist(), last.tolist(), spans, strict=True)
        if t > f
    ]


def to_char_spans(spans: Sequence[Span], starts: Offsets, ends: Offsets) -> list[Span]:
    """Token spans as character spans."""
    return [(int(starts[a]), int(ends[b - 1]), label) for a, b, label in spans]
