"""What every consensus rule shares: the answers it reads, the consensus it returns."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

Answers = Mapping[int, Mapping[str, Any]]
"""Per record id, each annotator's submitted answer to one question."""


@dataclass
class Consensus:
    """One record's consensus on one question.

    ``value`` is None when undecided (``method`` ``"tie"`` or ``"none"``). ``confidence`` is
    in [0, 1] and means what the rule says (a posterior, a vote share, a similarity).
    ``support`` is rule-specific evidence: each label's posterior, each span's supporters,
    the dispersion of ratings. ``model_proposed`` is True when no annotator gave ``value``
    as a whole: it must be confirmed explicitly, never accepted with one key.
    """

    value: Any
    confidence: float
    method: str
    support: dict[str, Any] = field(default_factory=dict)
    model_proposed: bool = False


def same(a: Any, b: Any) -> bool:
    """Whether two answers are equal as JSON (key order and tuple/list aside)."""
    return canonical(a) == canonical(b)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def given_by_someone(value: Any, answers: Mapping[str, Any]) -> bool:
    key = canonical(value)
    return any(canonical(v) == key for v in answers.values())


class KindRule:
    """Consensus and scoring for one question; subclasses implement both."""

    metric: ClassVar[str] = ""
    """What :meth:`score` measures, as the report names it."""
    binary: ClassVar[bool] = False
    """Whether :meth:`score` is 0 or 1 only (Wilson intervals then, bootstrap otherwise)."""

    def __init__(self, question: Any, **options: Any) -> None:
        self.question = question
        self.options = options

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        """The consensus of every record of ``answers``; a record with a ``gold`` value gets
        it (method ``"gold"``, confidence 1)."""
        raise NotImplementedError

    def score(self, answer: Any, reference: Any) -> float:
        """How close ``answer`` is to ``reference``: 1 is the same, 0 is nothing shared."""
        raise NotImplementedError

    def aggregate(self, pairs: Sequence[tuple[Any, Any]]) -> float:
        """One score over many ``(answer, reference)`` pairs: the mean of :meth:`score`
        (span and set rules pool their units instead: micro F1)."""
        return sum(self.score(a, r) for a, r in pairs) / len(pairs) if pairs else 0.0

    def skill(self, answers: Answers, consensus: Mapping[int, Consensus]) -> dict[str, float]:
        """Each annotator's estimated score over all their work (no gold needed); the default
        is the mean score against the consensus of the *other* annotators on each record
        answered by at least two others."""
        return leave_one_out(self, answers)


def leave_one_out(rule: KindRule, answers: Answers) -> dict[str, float]:
    annotators = sorted({u for a in answers.values() for u in a})
    out: dict[str, float] = {}
    for name in annotators:
        others = {
            rid: {u: v for u, v in a.items() if u != name}
            for rid, a in answers.items()
            if name in a and len(a) >= 3
        }
        if not others:
            continue
        agreed = rule.consensus(others)
        scores = [
            rule.score(answers[rid][name], c.value)
            for rid, c in agreed.items()
            if c.value is not None
        ]
        if scores:
            out[name] = float(sum(scores) / len(scores))
    return out


def gold_first(
    answers: Answers, gold: Mapping[int, Any] | None
) -> tuple[dict[int, Consensus], list[int]]:
    """Consensus of the gold records (the gold value) and the ids left to decide."""
    done: dict[int, Consensus] = {}
    rest: list[int] = []
    for rid in answers:
        if gold is not None and rid in gold:
            done[rid] = Consensus(gold[rid], 1.0, "gold")
        elif not answers[rid]:
            done[rid] = Consensus(None, 0.0, "none")
        else:
            rest.append(rid)
    return done, rest


def against_everyone(chosen: set[Any], given: list[set[Any]]) -> bool:
    """Whether a value assembled from parts (labels of a set, spans) holds a part that no
    annotator gave, or lacks a part that every annotator gave: then it is model-proposed.
    Parts each backed by some annotators are the annotators' answer, even when nobody gave
    the whole (with many labels, nobody's set is exactly right).

    >>> against_everyone({"a", "b"}, [{"a"}, {"b"}])
    False
    >>> against_everyone({"a", "c"}, [{"a"}, {"a", "b"}])
    True
    >>> against_everyone(set(), [{"a"}, {"a", "b"}])
    True
    """
    anyone = set().union(*given) if given else set()
    everyone = set.intersection(*given) if given else set()
    return bool(chosen - anyone) or bool(everyone - chosen)
