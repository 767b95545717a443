"""Agreement on structured answers: spans, free text, rankings and label sets.

These are observed agreement scores, not chance-corrected: chance agreement on spans or
free text has no agreed model. Each ``*_score`` function compares the values of two
annotators on one item and returns ``(numerator, denominator)``; the pairwise functions
pool them over the items both annotators answered (``None`` = not answered):
``sum numerators / sum denominators``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from typing import Any, Literal

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement.matrix import Span, canonical_value
from goldsmith.schema import normalise_text

Match = Literal["exact", "overlap"]
Average = Literal["micro", "macro"]
_WORD = re.compile(r"\w+")


def _merged(spans: Collection[Span]) -> dict[str, list[tuple[int, int]]]:
    """Per label, the union of its spans as sorted disjoint intervals."""
    by_label: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for start, end, label in sorted(spans, key=lambda s: (s[2], s[0], s[1])):
        runs = by_label[label]
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return by_label


def _intersection(x: list[tuple[int, int]], y: list[tuple[int, int]]) -> int:
    total = i = j = 0
    while i < len(x) and j < len(y):
        total += max(0, min(x[i][1], y[j][1]) - max(x[i][0], y[j][0]))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return total


def span_score(
    a: Collection[Span], b: Collection[Span], *, match: Match = "exact", average: Average = "micro"
) -> tuple[float, float]:
    """F1 parts of two span sets of one item; spans are ``(start, end, label)``.

    ``match="exact"``: a span agrees only with an identical span (same offsets and label);
    returns ``(2 |A & B|, |A| + |B|)``. ``match="overlap"``: each labeled character is a
    unit, so partial overlaps earn partial credit; returns ``(2 |chars A & chars B|,
    |chars A| + |chars B|)`` over ``(position, label)``. F1 = numerator / denominator
    (Hripcsak & Rothschild 2005: F-measure as agreement where no chance model exists).
    ``average="macro"`` returns ``(F1 of the item, 1)``, with two empty sets agreeing (1.0).

    >>> span_score([(0, 5, "DRUG")], [(0, 5, "DRUG"), (9, 12, "DOSE")])
    (2.0, 3.0)
    >>> span_score([(0, 5, "DRUG")], [(2, 5, "DRUG")], match="overlap")
    (6.0, 8.0)
    """
    if match == "exact":
        sa, sb = set(a), set(b)
        num, den = 2.0 * len(sa & sb), float(len(sa) + len(sb))
    elif match == "overlap":
        ma, mb = _merged(a), _merged(b)
        size = sum(e - s for runs in (*ma.values(), *mb.values()) for s, e in runs)
        inter = sum(_intersection(runs, mb.get(label, [])) for label, runs in ma.items())
        num, den = 2.0 * inter, float(size)
    else:
        raise SchemaError(f"unknown span match {match!r}; use 'exact' or 'overlap'")
    if average == "macro":
        return (num / den if den else 1.0), 1.0
    return num, den


def token_f1(a: str, b: str) -> float:
    """Bag-of-words F1 of two texts after :func:`~goldsmith.schema.normalise_text`.

    Chosen over chrF and edit similarity because it is symmetric, reads as "the share of
    words the two answers share", is the standard for comparing free answers (SQuAD,
    Rajpurkar et al. 2016), ignores word order that annotators legitimately vary, and costs
    O(len) where edit distance costs O(len^2) on long SFT completions. Two empty texts
    agree (1.0).

    >>> token_f1("The dose is 5 mg.", "dose: 5 mg")
    0.75
    """
    ta, tb = Counter(_WORD.findall(normalise_text(a))), Counter(_WORD.findall(normalise_text(b)))
    size = sum(ta.values()) + sum(tb.values())
    if size == 0:
        return 1.0
    return 2.0 * sum((ta & tb).values()) / size


def text_score(a: str, b: str) -> tuple[float, float]:
    """``(token_f1(a, b), 1)``: pooled, the mean token F1 over shared items."""
    return token_f1(a, b), 1.0


def ranking_score(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    """``(pairs ordered alike, pairs both ranked)`` for two rankings (best first).

    Over the candidate pairs both rankings contain; for full rankings the share equals
    ``(1 + Kendall's tau) / 2``.

    >>> ranking_score([0, 1, 2], [0, 2, 1])
    (2.0, 3.0)
    """
    pa = {c: i for i, c in enumerate(a)}
    pb = {c: i for i, c in enumerate(b)}
    common = [c for c in pa if c in pb]
    same = total = 0
    for i, c in enumerate(common):
        for d in common[i + 1 :]:
            total += 1
            same += (pa[c] < pa[d]) == (pb[c] < pb[d])
    return float(same), float(total)


def jaccard_score(a: Collection[str], b: Collection[str]) -> tuple[float, float]:
    """``(|A & B| / |A | B|, 1)`` for two label sets; two empty sets agree (1.0)."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return (len(sa & sb) / union if union else 1.0), 1.0


def _pooled(kind: str, a: Sequence[Any], b: Sequence[Any], score: Any, what: str) -> float:
    if len(a) != len(b):
        raise SchemaError(
            f"{what}: the two annotators' lists differ in length ({len(a)}, {len(b)})"
        )
    num = den = 0.0
    shared = 0
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            continue
        shared += 1
        try:
            x, y = canonical_value(kind, x), canonical_value(kind, y)
        except ValueError as exc:
            raise SchemaError(f"{what}: {exc}") from exc
        n, d = score(x, y)
        num, den = num + n, den + d
    if not shared:
        raise SchemaError(f"{what} is undefined: the two annotators share no item")
    if den == 0:
        raise SchemaError(f"{what} is undefined: nothing to compare on the shared items")
    return num / den


def span_f1(
    a: Sequence[Any], b: Sequence[Any], *, match: Match = "exact", average: Average = "micro"
) -> float:
    """Span F1 between two annotators over the items both answered.

    ``a[i]``, ``b[i]``: span lists of item ``i`` (dicts with start/end/label, or tuples),
    None where not answered. ``average="micro"`` pools matches over items (the usual NER
    agreement; items without spans weigh nothing), ``"macro"`` averages per-item F1.

    >>> span_f1([[(0, 4, "X")], [], None], [[(0, 4, "X"), (6, 8, "Y")], [], [(1, 2, "X")]])
    0.6666666666666666
    """
    return _pooled(
        "spans", a, b, lambda x, y: span_score(x, y, match=match, average=average), "span F1"
    )


def text_agreement(a: Sequence[str | None], b: Sequence[str | None]) -> float:
    """Mean :func:`token_f1` over the items both annotators answered."""
    return _pooled("text", a, b, text_score, "text agreement")


def preference_agreement(
    a: Sequence[Sequence[int] | None], b: Sequence[Sequence[int] | None]
) -> float:
    """Share of candidate pairs two annotators order the same way, pooled over shared items.

    >>> preference_agreement([[0, 1], [1, 0]], [[0, 1], [0, 1]])
    0.5
    """
    return _pooled("preference", a, b, ranking_score, "preference agreement")


def jaccard_agreement(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Mean Jaccard similarity of two annotators' label sets over shared items."""
    return _pooled("multilabel", a, b, jaccard_score, "Jaccard agreement")
