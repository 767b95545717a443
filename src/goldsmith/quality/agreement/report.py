"""One call from responses to a JSON-ready agreement report with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement._kinds import MEASURES, OVERALL, Measured, Metric, PairValue
from goldsmith.quality.agreement.bootstrap import Estimate, ItemStatistic, estimate
from goldsmith.quality.agreement.matrix import (
    Kind,
    Triple,
    ValueTable,
    check_labels,
    kind_class,
    kind_name,
    value_table,
)

METRIC_TITLES = {
    "alpha_nominal": "Krippendorff's alpha (nominal)",
    "alpha_ordinal": "Krippendorff's alpha (ordinal)",
    "alpha_interval": "Krippendorff's alpha (interval)",
    "alpha_jaccard": "Krippendorff's alpha (Jaccard distance)",
    "fleiss_kappa": "Fleiss' kappa",
    "cohen_kappa": "Cohen's kappa",
    "percent_agreement": "observed agreement",
    "alpha": "Krippendorff's alpha (one vs rest)",
    "specific_agreement": "specific agreement",
    "jaccard": "mean Jaccard similarity",
    "exact_f1": "span F1 (exact match)",
    "overlap_f1": "span F1 (character overlap)",
    "token_f1": "token F1",
    "pairwise_agreement": "pairwise preference agreement",
}
"""Display names of the metrics a report may hold."""


def _json(value: Hashable) -> Any:
    """Names as JSON keeps them: text and numbers as they are, anything else as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _coverage_problem(table: ValueTable) -> str | None:
    answered = np.array([[v is not None for v in row] for row in table.values], dtype=bool)
    answered = answered.reshape(table.values.shape)
    if not answered.any():
        return "there are no responses to compare"
    if len(table.annotators) < 2:
        return f"only {table.annotators[0]!r} has responded; agreement needs two annotators"
    if not (answered.sum(axis=0) >= 2).any():
        return "no item has responses from two annotators; raise the task's overlap to 2 or more"
    return None


def _coverage_notes(table: ValueTable) -> list[str]:
    m = np.array([[v is not None for v in col] for col in table.values.T]).sum(axis=1)
    notes = []
    single = int((m == 1).sum())
    if single:
        notes.append(f"{single} of {m.size} items had a single response; they do not count")
    for a, name in enumerate(table.annotators):
        mine = np.array([v is not None for v in table.values[a]])
        if mine.any() and not (m[mine] >= 2).any():
            notes.append(f"annotator {name!r} shares no item with another annotator")
    return notes


def _finish(
    measured: Measured, *, n_items: int, n_boot: int, seed: int, confidence: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Estimate every statistic on shared resamples; return overall and per-label dicts."""
    flat: dict[str, Metric] = dict(measured.overall)
    for label, metrics in measured.per_label.items():
        flat.update({f"{label}/{name}": metric for name, metric in metrics.items()})
    stats = {k: m for k, m in flat.items() if isinstance(m, ItemStatistic)}
    done = estimate(stats, n_boot=n_boot, seed=seed, confidence=confidence)

    def entry(key: str, n: int | None) -> dict[str, Any]:
        metric = flat[key]
        if isinstance(metric, str):
            return Estimate(None, reason=metric, n=n).to_dict()
        est = done[key]
        reason = est.reason and measured.reasons.get(key, est.reason)
        return {**est.to_dict(), "reason": reason, "n": n}

    overall = {name: entry(name, n_items) for name in measured.overall}
    per_label: dict[str, Any] = {}
    for label, metrics in measured.per_label.items():
        n = measured.label_n.get(label)
        parts = {name: entry(f"{label}/{name}", n) for name in metrics}
        head = next(iter(parts))
        per_label[str(label)] = {**parts[head], "metric": head, "metrics": parts}
    return overall, per_label


def _pair_estimate(value: PairValue, n: int) -> Estimate:
    if isinstance(value, str):
        return Estimate(None, reason=value, n=n)
    if np.isnan(value):
        return Estimate(None, reason="undefined on the shared items", n=n)
    return Estimate(value, n=n)


def agreement_report(
    triples: Iterable[Triple],
    *,
    kind: Kind,
    labels: Sequence[Any] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Inter-annotator agreement of one question's responses, ready for ``json.dumps``.

    Parameters
    ----------
    triples
        ``(item_id, annotator, value)``; values shaped as the question ``kind`` says in
        :mod:`goldsmith.schema`. None values (unanswered) are skipped.
    kind
        The question kind: a name (``label``, ``multilabel``, ``spans``, ``text``,
        ``rating``, ``preference``, ...), a question, or its class. Its ``agreement``
        picks the metrics.
    labels
        The question's labels (rating: its scale), for the per-label breakdown and its
        order; unused labels then appear with a reason. Default: the labels used.
    n_boot, seed, confidence
        Item-bootstrap resamples (0: no intervals), their seed, the interval's coverage.

    Returns
    -------
    dict
        ``overall``: metric name -> estimate; ``per_label``: label -> the estimate of its
        headline metric plus ``metric`` and all ``metrics``; ``per_pair``: entries with
        ``a``, ``b``, ``n`` shared items, the headline ``value``/``reason`` and ``metrics``.
        An estimate is ``{"value", "ci": [low, high] | None, "reason", "n",
        "undefined_resamples"}``; an undefined value is None with a ``reason``. Also
        ``metric`` (the headline overall metric), counts, ``annotators``, ``labels``,
        ``bootstrap`` settings and ``notes``.

    Raises
    ------
    SchemaError
        For an unknown kind, malformed values, a value outside ``labels``, or an annotator
        with two values for one item. Too little data is not an error: the estimates
        are None with the reason.
    """
    cls = kind_class(kind)
    if cls.agreement not in MEASURES:
        raise SchemaError(
            f"{kind_name(cls)} questions declare agreement {cls.agreement!r}; expected one "
            f"of {sorted(MEASURES)}"
        )
    if n_boot < 0:
        raise SchemaError(f"n_boot must be 0 (no intervals) or more, got {n_boot}")
    table = value_table(triples, kind=cls)
    check_labels(table, cls, labels)
    answered = np.array([v is not None for v in table.values.ravel()], dtype=bool)
    m = answered.reshape(table.values.shape).sum(axis=0)
    report: dict[str, Any] = {
        "kind": kind_name(cls),
        "n_items": len(table.items),
        "n_items_compared": int((m >= 2).sum()),
        "n_annotators": len(table.annotators),
        "n_responses": int(answered.sum()),
        "annotators": [_json(a) for a in table.annotators],
        "labels": None if labels is None else [_json(lab) for lab in labels],
        "bootstrap": {"n_boot": n_boot, "seed": seed, "confidence": confidence, "unit": "item"},
    }
    problem = _coverage_problem(table)
    if problem is None:
        measured = MEASURES[cls.agreement](table, labels, cls)
    else:
        metrics = OVERALL[cls.agreement]
        measured = Measured(dict.fromkeys(metrics, problem), metrics[0])
    overall, per_label = _finish(
        measured,
        n_items=report["n_items_compared"],
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
    )
    pairs = []
    for a, b, n, values in measured.per_pair:
        parts = {name: _pair_estimate(v, n).to_dict() for name, v in values.items()}
        head = next(iter(parts))
        pairs.append(
            {"a": _json(table.annotators[a]), "b": _json(table.annotators[b]), "n": n}
            | {"value": parts[head]["value"], "reason": parts[head]["reason"]}
            | {"metric": head, "metrics": parts}
        )
    notes = [problem] if problem else []
    return report | {
        "metric": measured.primary,
        "overall": overall,
        "per_label": per_label,
        "per_pair": pairs,
        "notes": notes + (_coverage_notes(table) if table.items else []) + measured.notes,
    }
