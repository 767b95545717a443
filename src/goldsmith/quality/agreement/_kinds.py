"""What :func:`agreement_report` measures for each way of comparing values.

A question kind's ``agreement`` (:class:`~goldsmith.kinds.base.QuestionKind`) picks the
``measure_*`` of :data:`MEASURES`; a new kind reuses one by comparing values of the same
shape (``span_multilabel`` gives ``(start, end, label)`` triples, so it is measured as spans).
Each ``measure_*`` takes the value table, the labels and the kind, and returns a
:class:`Measured`: statistics to estimate with bootstrap
intervals (overall and per label), per-pair values, and the reason to show when a
statistic turns out undefined. A metric given as a string is undefined up front; the
string says why.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from typing import Any

import numpy as np

from goldsmith.quality.agreement._arrays import FloatArray, category_counts
from goldsmith.quality.agreement._pairs import PairScore, by_pair, pair_scores, pooled
from goldsmith.quality.agreement.alpha import Level, alpha_problem, alpha_statistic
from goldsmith.quality.agreement.bootstrap import ItemStatistic
from goldsmith.quality.agreement.kappa import (
    agreement_statistic,
    category_statistics,
    cohen_statistic,
    fleiss_statistic,
)
from goldsmith.quality.agreement.matrix import (
    Kind,
    ValueTable,
    jaccard_distances,
    label_indicators,
    reliability_matrix,
)
from goldsmith.quality.agreement.similarity import (
    jaccard_score,
    ranking_score,
    span_score,
    text_score,
)

Metric = ItemStatistic | str  # a statistic, or why it is undefined
PairValue = float | str  # a value, or why it is undefined


@dataclass
class Measured:
    overall: dict[str, Metric]
    primary: str
    reasons: dict[str, str] = field(default_factory=dict)  # shown if a statistic is nan
    per_label: dict[Hashable, dict[str, Metric]] = field(default_factory=dict)
    label_n: dict[Hashable, int] = field(default_factory=dict)
    per_pair: list[tuple[int, int, int, dict[str, PairValue]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _same_value(R: FloatArray, name: Callable[[float], str]) -> str:
    pairable = (~np.isnan(R)).sum(axis=0) >= 2
    values = np.unique(R[:, pairable][~np.isnan(R[:, pairable])])
    if values.size != 1:
        return "undefined on these data"
    return (
        f"every response on the items answered twice is {name(values[0])}; chance agreement "
        "is then total, so a chance-corrected coefficient is undefined"
    )


def _per_category(
    R: FloatArray, categories: Sequence[Any], code: Callable[[Any], float]
) -> Measured:
    """One-vs-rest alpha and specific agreement per category; reasons for the degenerate."""
    out = Measured({}, "")
    present = np.unique(R[~np.isnan(R)])
    stats = dict(zip(present.tolist(), category_statistics(R), strict=True))
    counts = category_counts(R)
    pairable = counts.sum(axis=1) >= 2
    n_pairable = counts[pairable].sum()
    totals = dict(zip(present.tolist(), counts.sum(axis=0).tolist(), strict=True))
    shared = dict(zip(present.tolist(), counts[pairable].sum(axis=0).tolist(), strict=True))
    for category in categories:
        value = code(category)
        out.label_n[category] = int(totals.get(value, 0))
        used = shared.get(value, 0)
        if used == 0:
            why = "never used" if value not in totals else "never used on items answered twice"
            out.per_label[category] = {"alpha": why, "specific_agreement": why}
        elif used == n_pairable:
            why = "used in every response on the items answered twice; nothing to tell apart"
            out.per_label[category] = {"alpha": why, "specific_agreement": stats[value][1]}
        else:
            out.per_label[category] = {
                "alpha": stats[value][0],
                "specific_agreement": stats[value][1],
            }
    return out


def _pair_values(
    R: FloatArray, level: Level, name: Callable[[float], str]
) -> list[tuple[int, int, int, dict[str, PairValue]]]:
    """Cohen's kappa, observed agreement and alpha for each annotator pair that shares items."""
    out = []
    present = ~np.isnan(R)
    for a, b in combinations(range(R.shape[0]), 2):
        shared = present[a] & present[b]
        if not shared.any():
            continue
        pair = np.where(shared, R[[a, b]], np.nan)
        problem = alpha_problem(pair)
        if problem is not None and np.unique(pair[~np.isnan(pair)]).size == 1:
            problem = _same_value(pair, name)
        values: dict[str, PairValue] = {}
        if problem is None:
            values["cohen_kappa"] = cohen_statistic(pair[0], pair[1]).value()
            values[f"alpha_{level}"] = alpha_statistic(pair, level=level).value()
        else:
            values["cohen_kappa"] = values[f"alpha_{level}"] = problem
        values["percent_agreement"] = agreement_statistic(pair).value()
        out.append((a, b, int(shared.sum()), values))
    return out


def _pair_scores(
    names: dict[str, Any], *, empty: str = "nothing to compare"
) -> list[tuple[int, int, int, dict[str, PairValue]]]:
    """Per annotator pair: each pooled score (or ``empty`` as the reason) and n shared items."""
    pairs: dict[tuple[int, int], dict[str, PairValue]] = {}
    sizes: dict[tuple[int, int], int] = {}
    for name, s in names.items():
        for key, (value, n) in by_pair(s).items():
            pairs.setdefault(key, {})[name] = value if value is not None else empty
            sizes[key] = n
    return [(a, b, sizes[a, b], pairs[a, b]) for a, b in sorted(pairs)]


def measure_label(table: ValueTable, labels: Sequence[Any] | None, kind: Kind) -> Measured:
    rel = reliability_matrix(table, kind=kind, labels=labels)
    R, cats = rel.matrix, rel.categories or []
    index = {c: float(i) for i, c in enumerate(cats)}
    out = _per_category(R, cats, index.__getitem__)
    out.overall = {
        "alpha_nominal": alpha_statistic(R),
        "fleiss_kappa": fleiss_statistic(R),
        "percent_agreement": agreement_statistic(R),
    }
    out.primary = "alpha_nominal"
    name = lambda v: repr(cats[int(v)])  # noqa: E731
    same = _same_value(R, name)
    out.reasons = {"alpha_nominal": same, "fleiss_kappa": same}
    out.per_pair = _pair_values(R, "nominal", name)
    m = (~np.isnan(R)).sum(axis=0)
    m = m[m >= 2]
    if m.size and m.min() != m.max():
        out.notes.append(
            f"items have {m.min()} to {m.max()} responses; Fleiss' kappa uses its "
            "generalisation to unequal numbers of raters"
        )
    return out


def measure_rating(table: ValueTable, labels: Sequence[Any] | None, kind: Kind) -> Measured:
    rel = reliability_matrix(table, kind=kind, labels=labels)
    R = rel.matrix
    out = _per_category(R, rel.categories or [], float)
    out.overall = {
        "alpha_interval": alpha_statistic(R, level="interval"),
        "alpha_ordinal": alpha_statistic(R, level="ordinal"),
        "percent_agreement": agreement_statistic(R),
    }
    out.primary = "alpha_interval"
    same = _same_value(R, "{:g}".format)
    out.reasons = {"alpha_interval": same, "alpha_ordinal": same}
    out.per_pair = _pair_values(R, "interval", "{:g}".format)
    return out


def measure_multilabel(table: ValueTable, labels: Sequence[str] | None, kind: Kind) -> Measured:
    names, indicators = label_indicators(table, labels=labels)
    out = Measured({}, "jaccard")
    for name, B in zip(names, indicators, strict=True):
        part = _per_category(B, ["no", "yes"], lambda c: float(c == "yes"))
        out.per_label[name] = part.per_label["yes"]
        out.label_n[name] = part.label_n["yes"]
    sets = reliability_matrix(table, kind=kind, labels=labels)
    scores = pair_scores(table.values, jaccard_score)
    out.overall = {
        "jaccard": pooled(scores),
        "alpha_jaccard": alpha_statistic(
            sets.matrix, level=jaccard_distances(sets.categories or [])
        ),
    }
    out.reasons = {
        "alpha_jaccard": _same_value(
            sets.matrix, lambda v: repr(list((sets.categories or [])[int(v)]))
        )
    }
    out.per_pair = _pair_scores({"jaccard": scores})
    return out


def _spans_of(label: str, score: PairScore) -> PairScore:
    def scored(a: Any, b: Any) -> tuple[float, float]:
        return score([s for s in a if s[2] == label], [s for s in b if s[2] == label])

    return scored


def measure_spans(table: ValueTable, labels: Sequence[str] | None, kind: Kind) -> Measured:
    exact = partial(span_score, match="exact")
    overlap = partial(span_score, match="overlap")
    scores = {
        "exact_f1": pair_scores(table.values, exact),
        "overlap_f1": pair_scores(table.values, overlap),
    }
    none = "no spans were marked on the items answered twice"
    out = Measured({k: pooled(s) for k, s in scores.items()}, "exact_f1", {k: none for k in scores})
    counts: dict[str, int] = {}
    for value in table.values.ravel():
        for _, _, label in value or ():
            counts[label] = counts.get(label, 0) + 1
    for label in labels if labels is not None else sorted(counts):
        out.label_n[label] = counts.get(label, 0)
        if not counts.get(label):
            out.per_label[label] = {"exact_f1": "never used", "overlap_f1": "never used"}
            continue
        out.per_label[label] = {
            "exact_f1": pooled(pair_scores(table.values, _spans_of(label, exact))),
            "overlap_f1": pooled(pair_scores(table.values, _spans_of(label, overlap))),
        }
        out.reasons[f"{label}/exact_f1"] = out.reasons[f"{label}/overlap_f1"] = (
            "never marked on the items answered twice"
        )
    out.per_pair = _pair_scores(scores, empty="no spans were marked on the items they share")
    out.notes.append("span F1 is observed agreement; it is not corrected for chance")
    return out


def measure_text(table: ValueTable, labels: Sequence[str] | None, kind: Kind) -> Measured:
    scores = pair_scores(table.values, text_score)
    out = Measured({"token_f1": pooled(scores)}, "token_f1")
    out.per_pair = _pair_scores({"token_f1": scores})
    out.notes.append("token F1 is observed agreement; it is not corrected for chance")
    return out


def measure_preference(table: ValueTable, labels: Sequence[str] | None, kind: Kind) -> Measured:
    rel = reliability_matrix(table, kind=kind)
    scores = pair_scores(table.values, ranking_score)
    out = Measured(
        {
            "pairwise_agreement": pooled(scores),
            "alpha_nominal": alpha_statistic(rel.matrix, groups=rel.groups),
        },
        "pairwise_agreement",
        {
            "pairwise_agreement": "no candidate pair was ranked by two annotators",
            "alpha_nominal": "every pairwise choice on the shared items is the same; chance "
            "agreement is then total, so alpha is undefined",
        },
    )
    out.per_pair = _pair_scores({"pairwise_agreement": scores})
    return out


OVERALL: dict[str, tuple[str, ...]] = {
    "nominal": ("alpha_nominal", "fleiss_kappa", "percent_agreement"),
    "interval": ("alpha_interval", "alpha_ordinal", "percent_agreement"),
    "sets": ("jaccard", "alpha_jaccard"),
    "spans": ("exact_f1", "overlap_f1"),
    "text": ("token_f1",),
    "ranking": ("pairwise_agreement", "alpha_nominal"),
}
"""The overall metrics of each ``agreement``, the headline one first."""

MEASURES: dict[str, Callable[[ValueTable, Sequence[Any] | None, Kind], Measured]] = {
    "nominal": measure_label,
    "interval": measure_rating,
    "sets": measure_multilabel,
    "spans": measure_spans,
    "text": measure_text,
    "ranking": measure_preference,
}
"""The measure of each ``agreement`` a question kind may declare."""
