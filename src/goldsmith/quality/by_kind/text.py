"""Free-text questions: the most central answer, or the one an LLM judge prefers.

Without a judge, the consensus is the medoid: the answer with the highest mean similarity to
the other answers of the record (token F1 over case-folded words, so word order and
punctuation matter little). Its confidence is that mean similarity. It is always an answer an
annotator gave.

A judge (:class:`LLMJudge`, or any callable ``judge(answers, record_id) -> index``) picks the
best answer by a rubric instead, through the OpenAI-compatible client with its cache and
budget; the medoid stays the fallback when the judge cannot answer.

>>> rule = TextRule(None)
>>> c = rule.consensus({1: {"a": "Take 5 mg daily.", "b": "take 5 mg daily", "c": "No."}})[1]
>>> c.value, round(c.confidence, 2)
('Take 5 mg daily.', 0.5)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from goldsmith.quality.by_kind.base import Answers, Consensus, KindRule, gold_first

_WORD = re.compile(r"\w+", re.UNICODE)
Judge = Callable[[Sequence[str], int], int | None]


def tokens(text: Any) -> Counter[str]:
    return Counter(w.casefold() for w in _WORD.findall(str(text or "")))


def similarity(a: Any, b: Any) -> float:
    """Token F1 between two texts (1 for two empty texts)."""
    x, y = tokens(a), tokens(b)
    if not x and not y:
        return 1.0
    common = sum((x & y).values())
    return 2 * common / (sum(x.values()) + sum(y.values()))


class TextRule(KindRule):
    """``judge``: an optional callable choosing the best answer (see the module docstring)."""

    metric = "similarity"

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        out, ids = gold_first(answers, gold)
        judge: Judge | None = self.options.get("judge")
        for rid in ids:
            names = sorted(answers[rid])
            texts = [str(answers[rid][u]) for u in names]
            if len(texts) == 1:
                out[rid] = Consensus(texts[0], 1.0, "single")
                continue
            central = [
                sum(similarity(t, o) for j, o in enumerate(texts) if j != i) / (len(texts) - 1)
                for i, t in enumerate(texts)
            ]
            pick = max(range(len(texts)), key=lambda i: (central[i], -i))
            method = "medoid"
            if judge is not None:
                chosen = judge(texts, rid)
                if chosen is not None and 0 <= chosen < len(texts):
                    pick, method = chosen, "llm_judge"
            support = {"similarity": {u: round(central[i], 4) for i, u in enumerate(names)}}
            out[rid] = Consensus(texts[pick], central[pick], method, support)
        return out

    def score(self, answer: Any, reference: Any) -> float:
        return similarity(answer, reference)
