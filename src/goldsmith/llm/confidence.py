"""How sure an LLM is of its answer, per question.

* **logprobs**: the probability the model gave the tokens of the chosen value. For a
  categorical value (``QuestionKind.categorical``: a label, a multilabel list, a rating) it
  is the product of those tokens' probabilities (under constrained decoding the first
  distinguishing token carries it); for free text, spans and rankings, whose product shrinks
  with length, it is the per-token geometric mean.
* **self-consistency**: the share of ``samples`` answers that agree with the most common one.

These are raw scores; calibration against gold labels happens elsewhere.

>>> from goldsmith.schema import LabelQuestion
>>> q = LabelQuestion(name="s", labels=("pos", "neg"))
>>> combine([Choice({"s": "pos"}, ""), Choice({"s": "neg"}, ""), Choice({"s": "pos"}, "")],
...         (q,), "self_consistency")
({'s': 'pos'}, {'s': 0.6666666666666666}, 'self_consistency')
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from goldsmith.schema import Question

ConfidenceSource = Literal["logprobs", "self_consistency", "none"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One valid reply: its parsed values, its text, and its logprob tokens if any."""

    values: dict[str, Any]
    content: str
    tokens: Sequence[Mapping[str, Any]] | None = None


def value_offsets(content: str) -> dict[str, tuple[int, int]]:
    """Character range ``[start, end)`` of each top-level value of a JSON object's text.

    >>> value_offsets('{"a": "x", "b": [1, 2]}')
    {'a': (6, 9), 'b': (16, 22)}
    """
    decoder, i = json.JSONDecoder(), content.find("{")
    out: dict[str, tuple[int, int]] = {}
    if i < 0:
        return {}
    i += 1
    while True:
        while i < len(content) and content[i] in " \t\r\n,":
            i += 1
        if i >= len(content) or content[i] == "}":
            return out
        key, i = decoder.raw_decode(content, i)
        while content[i] in " \t\r\n:":
            i += 1
        start = i
        _, i = decoder.raw_decode(content, i)
        out[str(key)] = (start, i)


def _token_ranges(
    content: str, tokens: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int]] | None:
    """Character range of each token in ``content``, or None when they do not spell it."""
    pieces = [str(t.get("token", "")) for t in tokens]
    if "".join(pieces) != content:
        if any(t.get("bytes") is None for t in tokens):
            return None
        raw = [bytes(t["bytes"]) for t in tokens]
        if b"".join(raw) != content.encode():
            return None
        # byte offsets -> character offsets (a character may be split over tokens)
        ranges, at = [], 0
        for b in raw:
            ranges.append((at, at + len(b)))
            at += len(b)
        to_char = [0] * (len(content.encode()) + 1)
        pos = 0
        for ci, ch in enumerate(content):
            n = len(ch.encode())
            for k in range(n):
                to_char[pos + k] = ci
            pos += n
        to_char[pos] = len(content)
        return [(to_char[a], to_char[b] if b < len(to_char) else len(content)) for a, b in ranges]
    ranges, at = [], 0
    for piece in pieces:
        ranges.append((at, at + len(piece)))
        at += len(piece)
    return ranges


def logprob_confidence(
    content: str, tokens: Sequence[Mapping[str, Any]], questions: Sequence[Question]
) -> dict[str, float | None]:
    """Per question, the probability of the tokens that spell its value (see module doc)."""
    ranges = _token_ranges(content, tokens)
    try:
        offsets = value_offsets(content)
    except (ValueError, IndexError):
        offsets = {}
    out: dict[str, float | None] = {}
    for q in questions:
        if ranges is None or q.name not in offsets:
            out[q.name] = None
            continue
        start, end = offsets[q.name]
        if content[start] == '"':  # the text of a string, without its quotes
            start, end = start + 1, end - 1
        lps = [
            float(t["logprob"])
            for t, (a, b) in zip(tokens, ranges, strict=True)
            if a < max(end, start + 1) and b > start and t.get("logprob") is not None
        ]
        if not lps:
            out[q.name] = None
        elif q.categorical:
            out[q.name] = math.exp(sum(lps))
        else:
            out[q.name] = math.exp(sum(lps) / len(lps))
    return out


def combine(
    choices: Sequence[Choice], questions: Sequence[Question], mode: str
) -> tuple[dict[str, Any], dict[str, float | None], ConfidenceSource]:
    """The answer and its per-question confidence from one or more valid choices."""
    first = choices[0]
    if mode == "logprobs" and first.tokens is not None:
        return first.values, logprob_confidence(first.content, first.tokens, questions), "logprobs"
    if mode == "self_consistency" and len(choices) > 1:
        values: dict[str, Any] = {}
        confidence: dict[str, float | None] = {}
        for q in questions:
            keys = [json.dumps(c.values.get(q.name), sort_keys=True) for c in choices]
            best, count = Counter(keys).most_common(1)[0]  # ties: the earliest answer
            winner = choices[keys.index(best)].values
            if q.name in winner:
                values[q.name] = winner[q.name]
            confidence[q.name] = count / len(choices)
        return values, confidence, "self_consistency"
    return first.values, {q.name: None for q in questions}, "none"
