"""A model of how annotators mark spans: whether each entity is real, and which boundary.

Span answers fail in two ways that a vote over exact spans mixes up: an annotator misses an
entity or marks one that is not there, and an annotator marks the right entity with the wrong
boundary. This model keeps them apart, per annotator:

1. **Entity** (a Dawid-Skene fit over candidate entities, :func:`binary_em`): every group of
   overlapping same-label spans on a record is one yes/no decision; an annotator who answered
   the record said yes when they marked anything in the group. Each annotator has a
   sensitivity (marks a real entity) and a false-positive rate (marks a place where there is
   none). The places where nobody marked anything are negatives too: they enter as
   ``BACKGROUND`` all-no decisions per record, weighted, so that a lone mark is weighed
   against how rarely that annotator adds spans; the posteriors barely move between 10 and
   40 such places per record (checked on NCBI-Disease, ``bench/qa_kinds.py``).
2. **Boundary** (given the entity is real): each annotator gives the true boundary with
   their own probability, or one of ``ALTERNATIVES`` wrong ones (a word more or less at
   either end); an EM fit gives each candidate boundary's posterior.

A group where some annotator gave two spans or more holds nested or overlapping entities of
one label ("breast cancer" and "cancer"), not rival boundaries of one: there each span is
right with the share of the record's annotators who gave it, and the group stays out of the
boundary fit. ``unit[g]`` holds, either way, each candidate's probability of being a true span.

It is fitted on the records answered by at least two annotators, and only when at least
``MIN_TRIO`` records were answered by three or more: with two annotators per record a miss
and an addition explain a lone mark equally well, so the rates are not identified, and the
callers fall back to a weighted vote.

>>> u = {r: {"a": {(0, 5, "D")}, "b": {(0, 5, "D")}, "c": {(0, 9, "D")}} for r in range(30)}
>>> m = fit_span_model(u)
>>> m.candidates[0], round(float(m.entity[0]), 3), m.boundary[0].round(3).tolist()
([(0, 5, 'D'), (0, 9, 'D')], 1.0, [1.0, 0.0])
>>> {u: round(f1, 2) for u, f1 in m.expected_f1().items()}
{'a': 1.0, 'b': 1.0, 'c': 0.0}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from goldsmith.quality.by_kind._binary_em import binary_em

Unit = tuple[int, int, str]
FloatArray = npt.NDArray[np.float64]

BACKGROUND = 20.0
"""Places per record where a false span could be marked, as all-no entity decisions."""
ALTERNATIVES = 4.0
"""Wrong boundaries an annotator could give for one entity (a start or end a word off)."""
MIN_TRIO = 20
"""Records answered by three or more annotators that the model needs to be fitted."""
ROUNDS = 50
RATE_CLIP = (1e-6, 1 - 1e-6)


@dataclass
class SpanModel:
    """The fitted model over groups (candidate entities), in record order.

    ``records[g]``: the record of group ``g``; ``candidates[g]``: its distinct spans;
    ``marks[g]``: per annotator, the indices of the candidates they gave; ``seen[g]``: who
    answered the record; ``entity[g]``: ``P(the entity is real)``; ``boundary[g]``: each
    candidate's ``P(it is the right span | the entity is real)``; ``nested[g]``: whether
    someone gave two spans or more in it; ``unit[g]``: each candidate's probability of being
    a true span (``entity * boundary``, or the share who gave it where nested). Per annotator:
    ``sensitivity``, ``false_positive`` (per place) and ``exact`` (right boundary)."""

    records: list[int]
    candidates: list[list[Unit]]
    marks: list[dict[str, set[int]]]
    seen: list[tuple[str, ...]]
    entity: FloatArray
    boundary: list[FloatArray]
    nested: list[bool]
    unit: list[FloatArray]
    sensitivity: dict[str, float]
    false_positive: dict[str, float]
    exact: dict[str, float]

    def expected_f1(self) -> dict[str, float]:
        """Each annotator's expected micro span F1 against the unknown truth: spans they gave
        that are right, over the spans they gave and the real ones on their records."""
        right: dict[str, float] = defaultdict(float)
        size: dict[str, float] = defaultdict(float)
        for g, marks in enumerate(self.marks):
            for user in self.seen[g]:
                mine = marks.get(user, set())
                right[user] += sum(float(self.unit[g][k]) for k in mine)
                size[user] += len(mine) + float(self.unit[g].sum())
        return {u: float(2 * right[u] / size[u]) if size[u] else 1.0 for u in size}


def candidate_groups(
    by_user: Mapping[str, set[Unit]],
) -> list[tuple[list[Unit], dict[str, set[int]]]]:
    """One record's candidate entities: spans of the same label that overlap, transitively;
    each with its distinct spans and who gave which."""
    marked = sorted(
        ((unit, u) for u, units in by_user.items() for unit in units),
        key=lambda x: (x[0][2], x[0][0], x[0][1], x[1]),
    )
    out: list[tuple[list[Unit], dict[str, set[int]]]] = []
    end, label = -1, None
    for unit, user in marked:
        if not (out and unit[2] == label and unit[0] < end):
            out.append(([], {}))
            end, label = unit[1], unit[2]
        cands, marks = out[-1]
        if not cands or cands[-1] != unit:
            cands.append(unit)
        marks.setdefault(user, set()).add(len(cands) - 1)
        end = max(end, unit[1])
    return out


def fit_span_model(units: Mapping[int, Mapping[str, set[Unit]]]) -> SpanModel | None:
    """Fit on ``units`` (per record, each annotator's spans); None when fewer than
    ``MIN_TRIO`` records have three annotators or more (see the module docstring)."""
    shared = {rid: a for rid, a in units.items() if len(a) >= 2}
    if sum(len(a) >= 3 for a in shared.values()) < MIN_TRIO:
        return None
    names = sorted({u for a in shared.values() for u in a})
    col = {u: j for j, u in enumerate(names)}
    records, candidates, marks, seen, rows = [], [], [], [], []
    background: Counter[tuple[str, ...]] = Counter()
    for rid, by_user in shared.items():
        who = tuple(sorted(by_user))
        background[who] += 1
        for cands, given in candidate_groups(by_user):
            records.append(rid)
            candidates.append(cands)
            marks.append(given)
            seen.append(who)
            row = np.full(len(names), -1, dtype=np.int64)
            row[[col[u] for u in who]] = 0
            row[[col[u] for u in given]] = 1
            rows.append(row)
    empty = []
    for who in background:
        row = np.full(len(names), -1, dtype=np.int64)
        row[[col[u] for u in who]] = 0
        empty.append(row)
    n = len(rows)
    weights = np.array([1.0] * n + [BACKGROUND * background[w] for w in background])
    p, sens, fpr = binary_em(
        np.array(rows + empty, dtype=np.int64).reshape(-1, len(names)),
        weights=weights,
        clip=RATE_CLIP,
        max_iter=200,
    )
    entity = p[:n]
    nested = [any(len(mine) > 1 for mine in given.values()) for given in marks]
    boundary, exact = _fit_boundaries(candidates, marks, entity, names, nested)
    unit = []
    for g, cands in enumerate(candidates):
        if nested[g]:
            gave = Counter(k for mine in marks[g].values() for k in mine)
            unit.append(np.array([gave[k] / len(seen[g]) for k in range(len(cands))]))
        else:
            unit.append(entity[g] * boundary[g])
    return SpanModel(
        records,
        candidates,
        marks,
        seen,
        entity,
        boundary,
        nested,
        unit,
        dict(zip(names, sens.tolist(), strict=True)),
        dict(zip(names, fpr.tolist(), strict=True)),
        exact,
    )


def _fit_boundaries(
    candidates: list[list[Unit]],
    marks: list[dict[str, set[int]]],
    entity: FloatArray,
    names: list[str],
    nested: list[bool],
) -> tuple[list[FloatArray], dict[str, float]]:
    """EM over which candidate is each real entity's span; each annotator's chance of giving
    it exactly, weighted by how likely the entity is real. Nested groups stay out (their
    boundaries are uniform here; the caller takes shares for them)."""
    exact = dict.fromkeys(names, 0.8)
    post: list[FloatArray] = [np.full(len(c), 1.0 / len(c)) for c in candidates]
    # a group with one candidate: its span is the entity's; what it adds is fixed
    fixed_right: Counter[str] = Counter()
    multi = [g for g, cands in enumerate(candidates) if len(cands) > 1 and not nested[g]]
    for g, cands in enumerate(candidates):
        if len(cands) == 1:
            for user in marks[g]:
                fixed_right[user] += entity[g]
    gave: Counter[str] = Counter()
    for g, given in enumerate(marks):
        if not nested[g]:
            for user in given:
                gave[user] += entity[g]
    for _ in range(ROUNDS):
        right = Counter(fixed_right)
        for g in multi:
            logp = np.zeros(len(candidates[g]))
            for user, mine in marks[g].items():
                hit = np.log(exact[user])
                miss = np.log((1.0 - exact[user]) / ALTERNATIVES)
                logp += miss
                logp[list(mine)] += hit - miss
            q = np.exp(logp - logp.max())
            post[g] = q / q.sum()
            for user, mine in marks[g].items():
                right[user] += entity[g] * float(post[g][list(mine)].sum())
        new = {u: min(max(right[u] / gave[u], 0.05), 0.995) if gave[u] else 0.8 for u in names}
        done = max(abs(new[u] - exact[u]) for u in names) < 1e-6
        exact = new
        if done:
            break
    return post, exact
