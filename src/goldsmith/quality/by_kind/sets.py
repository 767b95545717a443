"""Multi-label questions: Dawid-Skene over every (record, label) yes/no decision.

Each label of each record is a yes/no decision. A two-class Dawid-Skene model learns each
annotator's sensitivity and false-positive rate, shared over all labels (far more evidence per
parameter than a model per label), and each label's base rate, so a careful annotator's
"yes" outweighs two careless "no"s. The consensus set holds the labels whose posterior exceeds
0.5; its confidence is the probability that the whole set is right (the product over labels
of the posterior of the decision taken, labels taken as independent). ``method="majority"``
takes each label by strict per-label majority instead.

>>> from types import SimpleNamespace
>>> rule = SetRule(SimpleNamespace(labels=("a", "b", "c")), method="majority")
>>> c = rule.consensus({1: {"x": ["a"], "y": ["a", "b"], "z": ["a", "b"]}})[1]
>>> c.value, round(c.confidence, 3), c.model_proposed
(['a', 'b'], 0.667, False)
>>> rule.score(["a", "b"], ["a"])
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.quality.by_kind._binary_em import binary_em
from goldsmith.quality.by_kind.base import (
    Answers,
    Consensus,
    KindRule,
    against_everyone,
    gold_first,
)


class SetRule(KindRule):
    metric = "per-label F1"

    def posteriors(
        self, answers: Answers, ids: list[int], gold: Mapping[int, Any] | None = None
    ) -> npt.NDArray[np.float64]:
        """``P(label is in the true set)``, shape ``(len(ids), n_labels)``."""
        labels = list(self.question.labels)
        names = sorted({u for rid in ids for u in answers[rid]})
        col = {u: j for j, u in enumerate(names)}
        n, k = len(ids), len(labels)
        marks = np.full((n, k, len(names)), -1, dtype=np.int64)
        for i, rid in enumerate(ids):
            for user, value in answers[rid].items():
                chosen = set(value or [])
                marks[i, :, col[user]] = [int(label in chosen) for label in labels]
        if self.options.get("method") == "majority":
            seen = (marks >= 0).sum(axis=2)
            share: npt.NDArray[np.float64] = (marks == 1).sum(axis=2) / np.maximum(seen, 1)
            return share
        fixed = np.full((n, k), -1, dtype=np.int64)
        for i, rid in enumerate(ids):
            if gold is not None and rid in gold:
                fixed[i] = [int(label in set(gold[rid] or [])) for label in labels]
        groups = np.tile(np.arange(k), n)
        p, _, _ = binary_em(
            marks.reshape(n * k, len(names)), fixed=fixed.reshape(-1), groups=groups
        )
        return p.reshape(n, k)

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        labels = list(self.question.labels)
        out, ids = gold_first(answers, gold)
        if not ids:
            return out
        every = sorted(answers)  # gold records teach the annotators' rates too
        post_all = self.posteriors(answers, every, gold)
        row = {rid: i for i, rid in enumerate(every)}
        post = post_all[[row[rid] for rid in ids]]
        method = "majority" if self.options.get("method") == "majority" else "dawid_skene"
        for i, rid in enumerate(ids):
            p = post[i]
            chosen = [labels[k] for k in range(len(labels)) if p[k] > 0.5]
            sure = np.where(p > 0.5, p, 1.0 - p)
            tie = bool(np.isclose(p, 0.5).any())
            support = {labels[k]: round(float(p[k]), 4) for k in range(len(labels)) if p[k] > 0}
            if tie:
                out[rid] = Consensus(None, float(np.prod(sure)), "tie", support)
                continue
            out[rid] = Consensus(
                chosen,
                float(np.prod(sure)),
                method,
                support,
                model_proposed=against_everyone(
                    set(chosen), [set(v or []) for v in answers[rid].values()]
                ),
            )
        return out

    def score(self, answer: Any, reference: Any) -> float:
        a, b = set(answer or []), set(reference or [])
        if not a and not b:
            return 1.0
        return 2 * len(a & b) / (len(a) + len(b))

    def aggregate(self, pairs: Sequence[tuple[Any, Any]]) -> float:
        """Micro F1 over every (record, label) of the pairs."""
        tp = sum(len(set(a or []) & set(r or [])) for a, r in pairs)
        size = sum(len(set(a or [])) + len(set(r or [])) for a, r in pairs)
        return 2 * tp / size if size else 1.0

    def skill(self, answers: Answers, consensus: Mapping[int, Consensus]) -> dict[str, float]:
        """Each annotator's expected F1 against the per-label posteriors (soft truth)."""
        ids = sorted(answers)
        if len({u for a in answers.values() for u in a}) < 2:
            return {}
        labels = list(self.question.labels)
        post = self.posteriors(answers, ids)
        tp: dict[str, float] = {}
        fp: dict[str, float] = {}
        fn: dict[str, float] = {}
        for i, rid in enumerate(ids):
            for user, value in answers[rid].items():
                mine = np.array([label in (value or []) for label in labels], dtype=float)
                tp[user] = tp.get(user, 0.0) + float((mine * post[i]).sum())
                fp[user] = fp.get(user, 0.0) + float((mine * (1 - post[i])).sum())
                fn[user] = fn.get(user, 0.0) + float(((1 - mine) * post[i]).sum())
        return {
            u: 2 * tp[u] / (2 * tp[u] + fp[u] + fn[u]) if (2 * tp[u] + fp[u] + fn[u]) else 1.0
            for u in tp
        }
