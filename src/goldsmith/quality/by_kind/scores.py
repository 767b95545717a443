"""Annotator scores for any kind: a gold score with its interval, and a skill estimate.

* **Gold score:** the rule's score of the annotator's answers on gold records (exact match,
  micro per-label F1, micro span F1, similarity, closeness, pairwise agreement), with a
  Wilson interval when the score is 0 or 1 and a seeded bootstrap over the gold records
  otherwise.
* **Skill:** the rule's estimate over all of the annotator's work, gold or not (Dawid-Skene
  accuracy for single labels, expected F1 against per-label posteriors for multi-label, span F1
  against the consensus, agreement with the other annotators' consensus for the rest).

Where a figure cannot be computed the row says so in ``gold_reason`` / ``skill_reason`` and
the value is None: never NaN.

>>> from goldsmith.quality.by_kind.ratings import RatingRule
>>> from types import SimpleNamespace
>>> rows = annotator_scores(RatingRule(SimpleNamespace(min=1, max=5)),
...     {1: {"a": 4, "b": 4}, 2: {"a": 2}}, gold={1: 4})
>>> [(r["name"], r["gold_score"], r["gold_n"]) for r in rows]
[('a', 1.0, 1), ('b', 1.0, 1)]
>>> rows[0]["skill"] is None, rows[0]["skill_reason"]
(True, 'needs records answered by at least two other annotators')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from goldsmith.quality.annotators import wilson_interval
from goldsmith.quality.by_kind.base import Answers, Consensus, KindRule


def annotator_scores(
    rule: KindRule,
    answers: Answers,
    *,
    gold: Mapping[int, Any] | None = None,
    consensus: Mapping[int, Consensus] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per annotator of ``answers`` (see the module docstring)."""
    gold = gold or {}
    agreed = consensus if consensus is not None else rule.consensus(answers, gold=gold)
    names = sorted({u for a in answers.values() for u in a})
    skill = rule.skill(answers, agreed) if names else {}
    rng = np.random.default_rng(seed)
    rows = []
    for name in names:
        mine = [rid for rid, a in answers.items() if name in a]
        on_gold = [(answers[rid][name], gold[rid]) for rid in mine if rid in gold]
        row: dict[str, Any] = {
            "name": name,
            "metric": rule.metric,
            "n_responses": len(mine),
            "gold_n": len(on_gold),
            "gold_score": None,
            "gold_low": None,
            "gold_high": None,
            "skill": None,
        }
        if on_gold:
            row["gold_score"] = float(rule.aggregate(on_gold))
            row["gold_low"], row["gold_high"] = _interval(rule, on_gold, rng, n_boot)
        else:
            row["gold_reason"] = "answered no gold record"
        if name in skill:
            row["skill"] = float(skill[name])
        else:
            row["skill_reason"] = _skill_reason(answers, name, len(names))
        rows.append(row)
    return rows


def _interval(
    rule: KindRule, pairs: list[tuple[Any, Any]], rng: np.random.Generator, n_boot: int
) -> tuple[float, float]:
    """95 % interval of the gold score: Wilson for a 0/1 score, else a bootstrap over the
    gold records (percentiles of the aggregate of resampled records)."""
    if rule.binary:
        hits = sum(rule.score(a, r) for a, r in pairs)
        lo, hi = wilson_interval([hits], [len(pairs)])
        return float(lo[0]), float(hi[0])
    if len(pairs) == 1:
        value = rule.aggregate(pairs)
        return value, value
    draws = rng.integers(0, len(pairs), size=(n_boot, len(pairs)))
    stats = np.array([rule.aggregate([pairs[i] for i in draw]) for draw in draws])
    return float(np.quantile(stats, 0.025)), float(np.quantile(stats, 0.975))


def _skill_reason(answers: Answers, name: str, n_annotators: int) -> str:
    if n_annotators < 2:
        return "only one annotator: nobody to compare with"
    shared = sum(1 for a in answers.values() if name in a and len(a) >= 2)
    if shared == 0:
        return "shares no record with another annotator"
    return "needs records answered by at least two other annotators"
