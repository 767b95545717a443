"""Span questions: an annotator model over candidate entities, or a weighted span vote.

On one record, every annotator's ``(start, end, label)`` units are grouped: units of the same
label that overlap (transitively) form one candidate entity.

With enough records answered by three annotators or more, :mod:`.span_model` learns per
annotator how often they miss a real entity, add a false one and give the wrong boundary, and
gives each candidate ``P(the entity is real)`` and each boundary ``P(it is the right one)``
(method ``span_model``). A span is kept when both exceed one half. An entity likely real whose
boundary nobody is likely right on is ``disputed`` and left out: its record gets a low
confidence and goes to review, instead of a boundary that is likely wrong. The record's
confidence is the product over candidates of the probability that the decision taken is right.
Each annotator's skill is their expected span F1 under the model.

With fewer such records (two annotators per record cannot tell a miss from an addition), a
span is kept when the annotators who gave exactly it carry more than half the weight of
everyone who answered the record (method ``span_vote``): each annotator's weight is the
log-odds of their micro span F1 against the consensus, refitted a few times, and their skill is
that F1 (their own vote included); ``model=False`` asks for this vote always. With
``weighted=False`` everyone weighs 1 and there is no model (``span_majority``).

``support`` lists each candidate with the support of its best span (``support``: the posterior,
or the weighted share that gave exactly it), of the entity at all (``entity_support``) and
who marked it.

>>> from types import SimpleNamespace
>>> q = SimpleNamespace(labels=("Disease",), agreement_value=lambda v: tuple(
...     sorted((s["start"], s["end"], s["label"]) for s in v)),
...     from_label_studio=lambda vs: [{"start": v["start"], "end": v["end"],
...         "label": lab} for v in vs for lab in v["labels"]],
...     check=lambda v: sorted(v, key=lambda s: (s["start"], s["end"])))
>>> a = {"x": [{"start": 0, "end": 6, "label": "Disease"}],
...      "y": [{"start": 0, "end": 6, "label": "Disease"}],
...      "z": [{"start": 0, "end": 3, "label": "Disease"}]}
>>> c = SpanRule(q, weighted=False).consensus({7: a})[7]
>>> c.value, c.model_proposed
([{'start': 0, 'end': 6, 'label': 'Disease'}], False)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from goldsmith.quality.by_kind.base import (
    Answers,
    Consensus,
    KindRule,
    against_everyone,
    gold_first,
)
from goldsmith.quality.by_kind.span_model import SpanModel, fit_span_model

Unit = tuple[int, int, str]
ROUNDS = 5  # weight refits


class SpanRule(KindRule):
    metric = "span F1"

    def units(self, value: Any) -> set[Unit]:
        return set(self.question.agreement_value(value or []))

    def consensus(
        self, answers: Answers, *, gold: Mapping[int, Any] | None = None
    ) -> dict[int, Consensus]:
        out, ids = gold_first(answers, gold)
        names = sorted({u for rid in answers for u in answers[rid]})
        units = {rid: {u: self.units(v) for u, v in answers[rid].items()} for rid in answers}
        weighted = self.options.get("weighted", True)
        model = fit_span_model({rid: units[rid] for rid in ids}) if self._modelled else None
        if model is not None:
            out.update(self._from_model(model, {rid: units[rid] for rid in ids}))
            return out
        weights = dict.fromkeys(names, 1.0)
        for _ in range(ROUNDS if weighted else 1):
            chosen = {rid: _vote(units[rid], weights)[0] for rid in ids}
            if weighted:
                weights = _weights({rid: units[rid] for rid in ids}, chosen, names)
        for rid in ids:
            picked, confidence, support = _vote(units[rid], weights)
            value = self.value_of(picked)
            out[rid] = Consensus(
                value,
                confidence,
                "span_vote" if weighted else "span_majority",
                {"spans": support},
                model_proposed=against_everyone(picked, list(units[rid].values())),
            )
        return out

    @property
    def _modelled(self) -> bool:
        """Whether to try the annotator model (``model=False`` keeps the weighted vote)."""
        return bool(self.options.get("weighted", True) and self.options.get("model", True))

    def _from_model(
        self, model: SpanModel, units: Mapping[int, Mapping[str, set[Unit]]]
    ) -> dict[int, Consensus]:
        groups: dict[int, list[int]] = defaultdict(list)
        for g, rid in enumerate(model.records):
            groups[rid].append(g)
        out = {}
        for rid, by_user in units.items():
            if len(by_user) < 2:  # one annotator: the model was not fitted on it
                chosen, confidence, support = _vote(by_user, dict.fromkeys(by_user, 1.0))
            else:
                chosen, confidence, support = _decide(model, groups[rid])
            out[rid] = Consensus(
                self.value_of(chosen),
                confidence,
                "span_model",
                {"spans": support},
                model_proposed=against_everyone(chosen, list(by_user.values())),
            )
        return out

    def value_of(self, chosen: set[Unit]) -> Any:
        regions = [{"start": s, "end": e, "labels": [lab]} for s, e, lab in sorted(chosen)]
        return self.question.check(self.question.from_label_studio(regions))

    def score(self, answer: Any, reference: Any) -> float:
        return span_f1(self.units(answer), self.units(reference))

    def aggregate(self, pairs: Sequence[tuple[Any, Any]]) -> float:
        """Micro span F1 over every span of the pairs."""
        units = [(self.units(a), self.units(r)) for a, r in pairs]
        tp = sum(len(a & r) for a, r in units)
        size = sum(len(a) + len(r) for a, r in units)
        return 2 * tp / size if size else 1.0

    def skill(self, answers: Answers, consensus: Mapping[int, Consensus]) -> dict[str, float]:
        """Each annotator's expected span F1 under the annotator model, or, where it cannot be
        fitted, their micro span F1 against the consensus on records they shared."""
        shared = {
            rid: {u: self.units(v) for u, v in a.items()}
            for rid, a in answers.items()
            if len(a) >= 2 and rid in consensus and consensus[rid].method != "gold"
        }
        model = fit_span_model(shared) if self._modelled else None
        if model is not None:
            return model.expected_f1()
        tp: dict[str, int] = defaultdict(int)
        size: dict[str, int] = defaultdict(int)
        for rid, a in answers.items():
            c = consensus.get(rid)
            if len(a) < 2 or c is None or c.value is None or c.method == "gold":
                continue
            ref = self.units(c.value)
            for user, value in a.items():
                mine = self.units(value)
                tp[user] += len(mine & ref)
                size[user] += len(mine) + len(ref)
        return {u: (2 * tp[u] / size[u] if size[u] else 1.0) for u in size}


def _decide(model: SpanModel, groups: list[int]) -> tuple[set[Unit], float, list[dict[str, Any]]]:
    """One record's consensus units, its confidence and the evidence per candidate entity,
    from the model's groups on that record (see the module docstring)."""
    chosen: set[Unit] = set()
    support: list[dict[str, Any]] = []
    confidence = 1.0
    for g in groups:
        real, unit = float(model.entity[g]), model.unit[g]
        given_by = sorted(model.marks[g])
        if model.nested[g]:  # nested entities: each span on its own
            for k, span in enumerate(model.candidates[g]):
                p = float(unit[k])
                confidence *= p if p > 0.5 else 1.0 - p
                if p > 0.5:
                    chosen.add(span)
                    support.append(_support(span, p, real, given_by, disputed=False))
            continue
        k = int(np.argmax(unit))
        span, p = model.candidates[g][k], float(unit[k])
        kept = real > 0.5 and float(model.boundary[g][k]) > 0.5
        if kept:
            chosen.add(span)
        confidence *= p if kept else 1.0 - real
        if real > 0.5:
            support.append(_support(span, p, real, given_by, disputed=not kept))
    return chosen, confidence, support


def _support(
    span: Unit, p: float, real: float, annotators: list[str], *, disputed: bool
) -> dict[str, Any]:
    """One candidate entity's evidence as the review page shows it."""
    s, e, label = span
    return {
        "start": s,
        "end": e,
        "label": label,
        "support": round(p, 4),
        "entity_support": round(real, 4),
        "annotators": annotators,
        "disputed": disputed,
    }


def span_f1(mine: set[Unit], ref: set[Unit]) -> float:
    if not mine and not ref:
        return 1.0
    return 2 * len(mine & ref) / (len(mine) + len(ref))


def _groups(by_user: Mapping[str, set[Unit]]) -> list[list[tuple[str, Unit]]]:
    """Units of the same label that overlap, transitively, with who marked each."""
    marked = sorted(
        ((u, unit) for u, units in by_user.items() for unit in units),
        key=lambda x: (x[1][2], x[1][0], x[1][1]),
    )
    groups: list[list[tuple[str, Unit]]] = []
    end, label = -1, None
    for user, unit in marked:
        if groups and unit[2] == label and unit[0] < end:
            groups[-1].append((user, unit))
            end = max(end, unit[1])
        else:
            groups.append([(user, unit)])
            end, label = unit[1], unit[2]
    return groups


def _vote(
    by_user: Mapping[str, set[Unit]], weights: Mapping[str, float]
) -> tuple[set[Unit], float, list[dict[str, Any]]]:
    """One record's consensus units, its confidence and the evidence per candidate entity.

    A unit is kept when the annotators who gave exactly it carry more than half the weight
    of those who answered the record. A group most annotators marked whose boundaries nobody
    carries a majority for is ``disputed``: left out, and it lowers the confidence, so the
    record goes to review rather than getting a boundary that is likely wrong (a wrong
    boundary costs F1 twice, a miss and a false span).
    """
    total = sum(weights[u] for u in by_user) or 1.0
    chosen: set[Unit] = set()
    support: list[dict[str, Any]] = []
    confidence = 1.0
    for group in _groups(by_user):
        users = {u for u, _ in group}
        share = sum(weights[u] for u in users) / total
        at: dict[Unit, float] = defaultdict(float)
        for user, unit in group:
            at[unit] += weights[user] / total
        best = max(at, key=lambda unit: (at[unit], unit[1] - unit[0], -unit[0]))
        kept = [unit for unit, w in at.items() if w > 0.5]
        chosen.update(kept)
        if kept or share > 0.5:
            confidence *= at[best]
        else:
            confidence *= 1.0 - share
        if kept or share > 0.5:
            support.append(_support(best, at[best], share, sorted(users), disputed=not kept))
    return chosen, confidence, support


def _weights(
    units: Mapping[int, Mapping[str, set[Unit]]],
    chosen: Mapping[int, set[Unit]],
    names: list[str],
) -> dict[str, float]:
    """Log-odds weights from each annotator's micro span F1 against the consensus, on the
    records they share with someone (a record answered alone says nothing)."""
    tp: dict[str, int] = defaultdict(int)
    size: dict[str, int] = defaultdict(int)
    for rid, by_user in units.items():
        if len(by_user) < 2:
            continue
        ref = chosen[rid]
        for user, mine in by_user.items():
            tp[user] += len(mine & ref)
            size[user] += len(mine) + len(ref)
    out = {}
    for name in names:
        f1 = 2 * tp[name] / size[name] if size[name] else 0.75
        f1 = min(max(f1, 0.05), 0.98)
        out[name] = max(math.log(f1 / (1.0 - f1)), 0.01)
    return out
