"""What a QA report shows: the input contract of :mod:`goldsmith.quality.report`.

Every field is plain data (numbers, strings, lists and dicts) so that a round can store its
report data as JSON and a later round can compare against it. Every field is optional: a
section without data says so in the report instead of failing.

The nested entries are typed dicts; a 95 % interval always sits beside its value as ``low``
and ``high``::

    {"value": 0.71, "low": 0.65, "high": 0.77, "n": 300}        # an Estimate

A number that is not defined is ``None``, never NaN: :meth:`QAReportData.from_dict` turns a
NaN or infinite number anywhere in the data into ``None`` (an estimate's ``reason`` then says
"not a number"), so that nothing downstream prints "nan".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Required, TypedDict

from goldsmith.errors import SchemaError

__all__ = [
    "AnnotatorStats",
    "Confusion",
    "Estimate",
    "LabelIssue",
    "PairAgreement",
    "QAReportData",
    "RoundPoint",
    "SpanType",
]


class Estimate(TypedDict, total=False):
    """A measured number with its 95 % interval (``low``/``high``) and the count behind it.

    ``value`` None means undefined, and ``reason`` says why. :meth:`QAReportData.from_dict`
    also takes the interval as ``"ci": [low, high]`` (the agreement estimates' form).
    """

    value: Required[float | None]
    low: float | None
    high: float | None
    n: int | None
    reason: str | None


class PairAgreement(Estimate, total=False):
    """Agreement between annotators ``a`` and ``b`` on the ``n`` items both labeled."""

    a: Required[str]
    b: Required[str]


class AnnotatorStats(TypedDict, total=False):
    """One annotator in this round.

    ``gold_accuracy`` (with its Wilson interval ``gold_low``/``gold_high``) is measured on
    ``gold_n`` gold items; ``ds_accuracy`` is the Dawid-Skene estimate from all responses;
    ``paused`` says the annotator was paused (for example below the pause threshold).
    Where a score is None, ``gold_reason`` or ``ds_reason`` says why ("no gold items
    answered", "one annotator: Dawid-Skene needs two"); without one the report gives the
    likely reason. For kinds other than single labels ``metric`` names the gold score
    ("span F1") and ``ds_accuracy`` is the kind's skill estimate; :meth:`QAReportData.from_dict`
    also reads them as ``gold_score``, ``skill`` and ``skill_reason``.
    """

    name: Required[str]
    n_responses: int | None
    gold_n: int | None
    gold_accuracy: float | None
    gold_low: float | None
    gold_high: float | None
    gold_reason: str | None
    ds_accuracy: float | None
    ds_reason: str | None
    metric: str | None
    paused: bool


class Confusion(TypedDict, total=False):
    """A square count matrix: ``matrix[i][j]`` items that ``rows`` labeled ``labels[i]`` and
    ``cols`` labeled ``labels[j]``. ``kind`` is ``"annotators"`` (one annotator, or all
    pairs pooled, against another) or ``"gold"`` (annotators against gold)."""

    kind: Required[str]
    labels: Required[list[str]]
    matrix: Required[list[list[int]]]
    title: str
    rows: str
    cols: str


class LabelIssue(TypedDict, total=False):
    """A record suspected of a wrong label: its ``text``, the ``given`` (final) label, the
    ``suggested`` one and a ``quality`` score in [0, 1] (low means likely wrong)."""

    record_id: Required[str]
    text: Required[str]
    given: Required[str]
    suggested: str | None
    quality: float | None


class SpanType(TypedDict, total=False):
    """One span type (label) of a span question: ``support`` consensus spans of this type,
    ``agreement`` between annotators (a number or an :class:`Estimate`) and each annotator's
    ``precision`` (and ``recall``) against the consensus spans (None: not enough data)."""

    label: Required[str]
    support: int | None
    agreement: float | Estimate | None
    precision: dict[str, float | None]
    recall: dict[str, float | None]


class RoundPoint(TypedDict, total=False):
    """One round on the trend lines."""

    round: Required[int]
    agreement: Estimate | None
    gold_accuracy: Estimate | None


_REQUIRED: dict[str, tuple[str, ...]] = {
    "pairwise": ("a", "b", "value"),
    "annotators": ("name",),
    "confusions": ("kind", "labels", "matrix"),
    "label_issues": ("record_id", "text", "given"),
    "trends": ("round",),
    "span_types": ("label",),
}


def _no_nan(value: Any) -> Any:
    """``value`` with every NaN or infinite float, however deeply nested, as None; an
    estimate dict that loses its value says why in ``reason``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _no_nan(v) for k, v in value.items()}
    lost = isinstance(value.get("value"), float) and out.get("value") is None
    if lost and not out.get("reason"):
        out["reason"] = "not a number"
    return out


_ANNOTATOR_ALIASES = (
    ("gold_accuracy", "gold_score"),
    ("ds_accuracy", "skill"),
    ("ds_reason", "skill_reason"),
)


def _annotator(row: Any) -> Any:
    """An annotator row with the per-kind score names read as the report's own."""
    if not isinstance(row, dict):
        return row
    out = dict(row)
    for ours, theirs in _ANNOTATOR_ALIASES:
        if out.get(ours) is None and out.get(theirs) is not None:
            out[ours] = out[theirs]
    return out


def _estimate(entry: Any) -> Any:
    """A copy of an estimate dict with a ``ci`` pair spread into ``low``/``high``."""
    if not isinstance(entry, dict) or "ci" not in entry:
        return entry
    out = {k: v for k, v in entry.items() if k != "ci"}
    ci = entry["ci"]
    out.setdefault("low", None if ci is None else ci[0])
    out.setdefault("high", None if ci is None else ci[1])
    return out


@dataclass
class QAReportData:
    """The numbers behind one round's QA report.

    Attributes
    ----------
    round : int, optional
        The round number.
    guideline_version : str or int, optional
        The guideline version the round was labeled under.
    question : str, optional
        The name of the question being measured.
    n_records, n_responses, n_annotators : int, optional
        Records in the round, responses given, annotators who answered.
    labels : list of str
        The question's labels in display order (empty: the order they appear in the data).
    agreement_metric : str
        The agreement measure's name, for the headings ("Krippendorff's alpha").
    agreement : Estimate, optional
        Overall agreement with its 95 % interval and ``n`` items.
    agreement_by_label : dict of str to Estimate, optional
        Agreement per label.
    pairwise : list of PairAgreement, optional
        Agreement per annotator pair.
    annotators : list of AnnotatorStats, optional
        Gold accuracy, the Dawid-Skene estimate and the paused flag, per annotator.
    pause_threshold : float, optional
        The gold accuracy below which annotators are paused (a dashed line on the figure).
    gold_accuracy : Estimate, optional
        Accuracy on gold over all annotators; when absent it is pooled from ``annotators``.
    confusions : list of Confusion, optional
        Confusion matrices, between annotators and against gold.
    label_distribution : dict of str to dict of str to int, optional
        Final labels counted per provenance: ``{"consensus": {"pos": 40, ...}, ...}``.
    label_issues : list of LabelIssue, optional
        The suspected label errors to list, most suspicious first.
    label_issues_total : int, optional
        How many records were flagged in all (the list may hold only the top ones).
    previous : QAReportData, optional
        The previous round's data, to compare against.
    trends : list of RoundPoint, optional
        One point per round, this one included; absent, it is built from this round and its
        chain of ``previous`` rounds.
    span_types : list of SpanType, optional
        Per span type of a span question: support, agreement and each annotator's precision
        against the consensus spans.
    generated_at : str, optional
        A timestamp to print; left to the caller so that the same data gives the same file.
    """

    round: int | None = None
    guideline_version: str | int | None = None
    question: str | None = None
    n_records: int | None = None
    n_responses: int | None = None
    n_annotators: int | None = None
    labels: list[str] = field(default_factory=list)
    agreement_metric: str = "Krippendorff's alpha"
    agreement: Estimate | None = None
    agreement_by_label: dict[str, Estimate] | None = None
    pairwise: list[PairAgreement] | None = None
    annotators: list[AnnotatorStats] | None = None
    pause_threshold: float | None = None
    gold_accuracy: Estimate | None = None
    confusions: list[Confusion] | None = None
    label_distribution: dict[str, dict[str, int]] | None = None
    label_issues: list[LabelIssue] | None = None
    label_issues_total: int | None = None
    previous: QAReportData | None = None
    trends: list[RoundPoint] | None = None
    span_types: list[SpanType] | None = None
    generated_at: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, strict: bool = False) -> QAReportData:
        """Build from a plain dict (as :meth:`to_dict` or JSON gives). Keys that are not
        fields are ignored (a stored report may carry more), or with ``strict`` an error
        that names them. Intervals given as ``"ci": [low, high]`` become ``low``/``high``;
        NaN and infinite numbers become None."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown and strict:
            raise SchemaError(
                f"QA report data has unknown fields {unknown}; known ones are {sorted(known)}"
            )
        values = {k: _no_nan(v) for k, v in data.items() if k in known and k != "previous"}
        if "previous" in data:
            values["previous"] = data["previous"]
        for key in ("agreement", "gold_accuracy"):
            values[key] = _estimate(values.get(key))
        if values.get("agreement_by_label"):
            values["agreement_by_label"] = {
                label: _estimate(est) for label, est in values["agreement_by_label"].items()
            }
        if values.get("pairwise"):
            values["pairwise"] = [_estimate(p) for p in values["pairwise"]]
        if values.get("annotators"):
            values["annotators"] = [_annotator(a) for a in values["annotators"]]
        if values.get("trends"):
            values["trends"] = [
                {**p, **{k: _estimate(p.get(k)) for k in ("agreement", "gold_accuracy")}}
                for p in values["trends"]
            ]
        if values.get("span_types"):
            values["span_types"] = [
                {**t, "agreement": _estimate(t.get("agreement"))} if isinstance(t, dict) else t
                for t in values["span_types"]
            ]
        prev = values.get("previous")
        if isinstance(prev, dict):
            values["previous"] = cls.from_dict(prev, strict=strict)
        out = cls(**values)
        out.validate()
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts and lists, ready for ``json.dumps``."""
        return asdict(self)

    def validate(self) -> None:
        """Raise :class:`~goldsmith.errors.SchemaError` naming the first malformed entry."""
        for name, keys in _REQUIRED.items():
            for i, entry in enumerate(getattr(self, name) or []):
                missing = [k for k in keys if not isinstance(entry, dict) or k not in entry]
                if missing:
                    raise SchemaError(f"QA report data: {name}[{i}] lacks {missing}")
        for i, conf in enumerate(self.confusions or []):
            k = len(conf["labels"])
            if len(conf["matrix"]) != k or any(len(row) != k for row in conf["matrix"]):
                raise SchemaError(
                    f"QA report data: confusions[{i}] matrix must be {k} x {k}, one row and "
                    "one column per label"
                )
        for label, est in (self.agreement_by_label or {}).items():
            if "value" not in est:
                raise SchemaError(f"QA report data: agreement_by_label[{label!r}] lacks 'value'")
        if self.previous is not None:
            self.previous.validate()

    def label_order(self) -> list[str]:
        """``labels``, then any other label the data mentions, in the order first seen."""
        seen = dict.fromkeys(self.labels)
        seen.update(dict.fromkeys(self.agreement_by_label or {}))
        for counts in (self.label_distribution or {}).values():
            seen.update(dict.fromkeys(counts))
        for conf in self.confusions or []:
            seen.update(dict.fromkeys(conf["labels"]))
        return list(seen)

    def overall_gold_accuracy(self) -> Estimate | None:
        """``gold_accuracy``, or the accuracy pooled over annotators' gold items (no interval)."""
        if self.gold_accuracy is not None:
            return self.gold_accuracy
        rows = [
            a
            for a in self.annotators or []
            if a.get("gold_accuracy") is not None and (a.get("gold_n") or 0) > 0
        ]
        n = sum(int(a.get("gold_n") or 0) for a in rows)
        if not n:
            return None
        correct = sum(
            float(a.get("gold_accuracy") or 0.0) * int(a.get("gold_n") or 0) for a in rows
        )
        return {"value": correct / n, "low": None, "high": None, "n": n}

    def linked_to(self, previous: QAReportData) -> QAReportData:
        """A copy set to compare with ``previous`` and to carry its trends forward: ``previous``
        without its own ``previous`` chain, and ``trends`` as ``previous``'s points plus this
        round's. Stored that way, each round's data holds one earlier round, not all of them.
        """
        points = [p for p in previous.trend_points() if p["round"] != self.round]
        if self.round is not None:
            gold = self.overall_gold_accuracy()
            points.append({"round": self.round, "agreement": self.agreement, "gold_accuracy": gold})
        earlier = replace(previous, previous=None, trends=None)
        return replace(self, previous=earlier, trends=points)

    def trend_points(self) -> list[RoundPoint]:
        """``trends``, or one point per round from the ``previous`` chain and this round."""
        if self.trends is not None:
            return sorted(self.trends, key=lambda p: p["round"])
        chain: list[QAReportData] = []
        node: QAReportData | None = self
        while node is not None and node.round is not None:
            chain.append(node)
            node = node.previous
        points: list[RoundPoint] = [
            {"round": d.round, "agreement": d.agreement, "gold_accuracy": d.overall_gold_accuracy()}
            for d in reversed(chain)
            if d.round is not None
        ]
        return points
