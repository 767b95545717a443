"""Filters that a synthetic example must pass before it is kept.

Each filter takes arrays or texts and returns a boolean *keep* mask; :func:`filter_synthetic`
runs them in order and reports, per example, the first reason it was rejected.

* **length**: ``min_chars <= len(text) <= max_chars``.
* **language** (English): a cheap heuristic, no model. Of the text's letters at least
  ``min_ascii`` (0.9) must be ASCII, and, for texts of five or more words, at least
  ``min_stopwords`` (0.08) of the words must be common English function words
  (:data:`ENGLISH_STOPWORDS`). Finnish or German text fails the second test, text in a
  non-Latin script the first; very short or list-like English can be rejected too.
* **near-duplicate**: Jaccard similarity of character 5-gram shingles (of the normalised
  text) with any existing text, or with an earlier kept synthetic one, at or above
  ``threshold`` (0.8). A small exact check, independent of ``goldsmith.dedup``.
* **label consistency**: a model's probabilities (the in-the-loop classifier's
  ``predict_proba`` on the embeddings, the label model's ``P``) give another class than the
  intended one with probability at or above ``threshold`` (0.9).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.schema import normalise_text

BoolArray = npt.NDArray[np.bool_]

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "which",
        "who",
        "will",
        "would",
        "can",
        "could",
        "not",
        "no",
        "than",
        "then",
        "there",
        "their",
        "they",
        "he",
        "she",
        "we",
        "you",
        "i",
        "our",
        "his",
        "her",
        "also",
        "after",
        "before",
        "over",
        "under",
        "up",
        "down",
        "per",
        "into",
        "about",
        "more",
        "most",
        "said",
        "says",
        "year",
        "quarter",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")


def length_ok(texts: Sequence[str], *, min_chars: int = 10, max_chars: int = 2000) -> BoolArray:
    """Keep texts whose length (stripped, in code points) lies in the bounds."""
    return np.array([min_chars <= len(t.strip()) <= max_chars for t in texts], dtype=bool)


def looks_english(text: str, *, min_ascii: float = 0.9, min_stopwords: float = 0.08) -> bool:
    """The ASCII-letter / stopword heuristic above (True for English-looking text)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    if sum(c.isascii() for c in letters) / len(letters) < min_ascii:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 5:
        return True
    return sum(w in ENGLISH_STOPWORDS for w in words) / len(words) >= min_stopwords


def english_ok(texts: Sequence[str], **kwargs: float) -> BoolArray:
    """Keep texts that :func:`looks_english`."""
    return np.array([looks_english(t, **kwargs) for t in texts], dtype=bool)


def shingles(text: str, k: int = 5) -> frozenset[str]:
    """Character ``k``-grams of the normalised text (the whole text when shorter)."""
    norm = normalise_text(text)
    if len(norm) <= k:
        return frozenset([norm])
    return frozenset(norm[i : i + k] for i in range(len(norm) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class _ShingleIndex:
    """Shingle sets with an inverted index, so a query touches only texts that share one."""

    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self.postings: dict[str, list[int]] = defaultdict(list)

    def add(self, s: frozenset[str]) -> None:
        for g in s:
            self.postings[g].append(len(self.sets))
        self.sets.append(s)

    def max_similarity(self, s: frozenset[str]) -> float:
        shared: dict[int, int] = defaultdict(int)
        for g in s:
            for i in self.postings.get(g, ()):
                shared[i] += 1
        best = 0.0
        for i, inter in shared.items():
            best = max(best, inter / (len(s) + len(self.sets[i]) - inter))
        return best


def novel(
    texts: Sequence[str], existing: Sequence[str], *, threshold: float = 0.8, k: int = 5
) -> BoolArray:
    """Keep texts whose shingle Jaccard with every existing text and every earlier kept
    text stays below ``threshold``."""
    index = _ShingleIndex()
    for t in existing:
        index.add(shingles(t, k))
    keep = np.zeros(len(texts), dtype=bool)
    for i, t in enumerate(texts):
        s = shingles(t, k)
        if index.max_similarity(s) < threshold:
            keep[i] = True
            index.add(s)
    return keep


def label_consistent(
    intended: npt.ArrayLike, probas: Sequence[npt.ArrayLike], *, threshold: float = 0.9
) -> BoolArray:
    """Keep examples that no model confidently contradicts.

    Parameters
    ----------
    intended : array-like of int, shape (n,)
        The class index each example is meant to have.
    probas : sequence of array-like, shape (n, k) each
        Probabilities from the in-the-loop classifier, the label model, ...; a row of all
        NaN (no opinion) never rejects.
    threshold : float
        An example is rejected when some model's top class differs from ``intended`` with
        probability ``>= threshold``.
    """
    y = np.asarray(intended, dtype=np.intp)
    keep = np.ones(len(y), dtype=bool)
    for p in probas:
        pa = np.asarray(p, dtype=np.float64)
        if pa.shape[0] != len(y) or pa.ndim != 2:
            raise SchemaError(f"probabilities must be (n, k) with n={len(y)}; got {pa.shape}")
        filled = np.nan_to_num(pa, nan=0.0)
        top = filled.argmax(axis=1)
        keep &= ~((top != y) & (filled.max(axis=1) >= threshold))
    return keep


@dataclass
class FilterReport:
    """Which examples were kept, and why the others were rejected (the first failing filter)."""

    keep: BoolArray
    reasons: list[str | None]
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return int(self.keep.sum())

    def summary(self) -> str:
        parts = [f"{n} {why}" for why, n in self.rejected.items()]
        return f"kept {self.kept} of {len(self.keep)}" + (
            "; rejected " + ", ".join(parts) if parts else ""
        )


def filter_synthetic(
    texts: Sequence[str],
    *,
    existing: Sequence[str] = (),
    intended: npt.ArrayLike | None = None,
    probas: Sequence[npt.ArrayLike] = (),
    min_chars: int = 10,
    max_chars: int = 2000,
    english: bool = True,
    dup_threshold: float | None = 0.8,
    label_threshold: float = 0.9,
) -> FilterReport:
    """Run length, language, label-consistency and near-duplicate filters in that order.

    The near-duplicate check runs last and only over examples that passed the rest, so a
    rejected example never blocks a later one. ``dup_threshold=None`` turns it off;
    ``probas`` without ``intended`` is an error.
    """
    n = len(texts)
    reasons: list[str | None] = [None] * n
    checks: list[tuple[str, BoolArray]] = [
        ("length", length_ok(texts, min_chars=min_chars, max_chars=max_chars))
    ]
    if english:
        checks.append(("language", english_ok(texts)))
    if probas:
        if intended is None:
            raise SchemaError("label-consistency filtering needs the intended labels")
        checks.append(("label", label_consistent(intended, probas, threshold=label_threshold)))
    for why, ok in checks:
        for j in np.flatnonzero(~ok).tolist():
            reasons[j] = reasons[j] or why
    if dup_threshold is not None:
        alive = [i for i in range(n) if reasons[i] is None]
        ok = novel([texts[i] for i in alive], existing, threshold=dup_threshold)
        for i, good in zip(alive, ok, strict=True):
            reasons[i] = None if good else "near-duplicate"
    rejected: dict[str, int] = {}
    for r in reasons:
        if r is not None:
            rejected[r] = rejected.get(r, 0) + 1
    keep = np.array([r is None for r in reasons], dtype=bool)
    return FilterReport(keep, reasons, rejected)
