"""Single-label questions: Dawid-Skene (default) or majority over the response matrix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.quality import resolve
from goldsmith.quality.annotators import annotator_confusions
from goldsmith.quality.by_kind.base import Answers, Consensus, KindRule, gold_first


class LabelRule(KindRule):
    """``method``: ``"dawid-skene"`` (default) or ``"majority"``. A Dawid-Skene label that no
    annotator of the record gave is kept as ``model_proposed``."""

    metric = "exact match"
    binary = True

    def _matrix(self, answers: Answers, ids: list[int]) -> tuple[npt.NDArray[np.int64], list[str]]:
        labels = list(self.question.labels)
        index = {label: i for i, label in enumerate(labels)}
        names = sorted({u for rid in ids for u in answers[rid]})
        col = {u: j for j, u in enumerate(names)}
        R = np.full((len(ids), len(names)), -1, dtype=np.int64)
        for i, rid in enumerate(ids):
            for user, value in answers[rid].items():
                if value in index:
                    R[i, col[user]] = index[value]
        return R, names

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        labels = list(self.question.labels)
        index = {label: i for i, label in enumerate(labels)}
        ids = sorted(answers)
        R, _ = self._matrix(answers, ids)
        G = np.array([index.get((gold or {}).get(r), -1) for r in ids], dtype=np.int64)
        method = self.options.get("method", "dawid-skene")
        fn = resolve.majority if method == "majority" else resolve.dawid_skene
        res = fn(R, n_classes=len(labels), gold=G) if R.size else None
        out, _ = gold_first(answers, gold)
        for i, rid in enumerate(ids):
            if rid in out:
                continue
            assert res is not None
            label = int(res.label[i])
            how = str(res.method[i])
            if label < 0:
                out[rid] = Consensus(None, float(res.confidence[i]), how)
                continue
            value = labels[label]
            given = value in answers[rid].values()
            out[rid] = Consensus(value, float(res.confidence[i]), how, model_proposed=not given)
        return out

    def score(self, answer: Any, reference: Any) -> float:
        return 1.0 if answer == reference else 0.0

    def skill(self, answers: Answers, consensus: Mapping[int, Consensus]) -> dict[str, float]:
        """The Dawid-Skene accuracy of each annotator (needs two annotators on some item)."""
        ids = sorted(answers)
        R, names = self._matrix(answers, ids)
        if R.shape[1] < 2 or not ((R >= 0).sum(axis=1) >= 2).any():
            return {}
        fit = annotator_confusions(R, n_classes=len(self.question.labels))
        return {name: float(fit.accuracy[j]) for j, name in enumerate(names)}
