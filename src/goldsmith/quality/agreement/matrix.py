"""From ``(item_id, annotator, value)`` triples to the arrays the metrics take.

:func:`value_table` lays the responses of one question out as an object table
(n_annotators, n_items) with None where an annotator did not respond, checking each value
against the question kind (value shapes as in :mod:`goldsmith.schema`).
:func:`reliability_matrix` turns it into the float matrix ``R`` (``nan`` = missing) of
Krippendorff (2011), and :func:`label_indicators` into one 0/1 matrix per label.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.quality.agreement._arrays import FloatArray, IntArray

KINDS = ("label", "multilabel", "spans", "text", "rating", "preference")
Triple = tuple[Hashable, Hashable, Any]
Span = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class ValueTable:
    """Canonical responses to one question; ``values[a, i]`` is None when ``a`` skipped ``i``."""

    values: npt.NDArray[np.object_]
    annotators: list[Hashable]
    items: list[Hashable]


@dataclass(frozen=True, slots=True)
class Reliability:
    """A reliability matrix and what its rows, columns and codes stand for.

    ``matrix`` is (n_annotators, n_units), ``nan`` where missing. For label kinds it holds
    codes into ``categories``. A unit is an item, except for preferences, where each
    candidate pair of an item is a unit and ``groups`` gives the item index of each unit.
    """

    matrix: FloatArray
    annotators: list[Hashable]
    items: list[Hashable]
    categories: list[Any] | None = None
    groups: IntArray | None = None


def _span(span: Any) -> Span:
    try:
        if isinstance(span, dict):
            start, end, label = int(span["start"]), int(span["end"]), span["label"]
        else:
            start, end, label = int(span[0]), int(span[1]), span[2]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"a span needs start, end and label, got {span!r}") from exc
    if not 0 <= start < end or not isinstance(label, str):
        raise ValueError(f"span {span!r} is empty, negative or has a non-text label")
    return start, end, label


def canonical_value(kind: str, value: Any) -> Any:
    """The value in a hashable canonical form, or ValueError saying what is wrong."""
    if kind in ("label", "text"):
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value
    if kind == "rating":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"expected a number, got {value!r}")
        return value
    if kind == "multilabel":
        if isinstance(value, str) or not isinstance(value, Collection):
            raise ValueError(f"expected a list of labels, got {value!r}")
        if not all(isinstance(v, str) for v in value):
            raise ValueError(f"labels must be text, got {value!r}")
        return tuple(sorted(set(value)))
    if kind == "spans":
        if isinstance(value, str) or not isinstance(value, Collection):
            raise ValueError(f"expected a list of spans, got {value!r}")
        return tuple(sorted({_span(s) for s in value}))
    if kind == "preference":
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) < 2:
            raise ValueError(f"expected a ranking of >= 2 candidate indices, got {value!r}")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise ValueError(f"a ranking holds candidate indices >= 0, got {value!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"ranking {value!r} repeats a candidate")
        return tuple(value)
    raise SchemaError(f"unknown question kind {kind!r}; expected one of {list(KINDS)}")


def value_table(triples: Iterable[Triple], *, kind: str) -> ValueTable:
    """Lay ``(item_id, annotator, value)`` triples out as a :class:`ValueTable`.

    A value of None (question left unanswered) is skipped. Items keep their first-seen
    order; annotators are sorted by name.

    Raises
    ------
    SchemaError
        For an unknown kind, a value of the wrong shape, or two values by one annotator
        for one item; the message names the item and annotator.

    >>> value_table([(1, "ann", "pos"), (1, "bob", "neg")], kind="label").values.tolist()
    [['pos'], ['neg']]
    """
    if kind not in KINDS:
        raise SchemaError(f"unknown question kind {kind!r}; expected one of {list(KINDS)}")
    cells: dict[tuple[Hashable, Hashable], Any] = {}
    items: dict[Hashable, int] = {}
    for triple in triples:
        try:
            item, annotator, value = triple
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"expected (item_id, annotator, value), got {triple!r}") from exc
        if value is None:
            continue
        if (item, annotator) in cells:
            raise SchemaError(f"annotator {annotator!r} has two values for item {item!r}")
        try:
            cells[item, annotator] = canonical_value(kind, value)
        except ValueError as exc:
            raise SchemaError(f"item {item!r}, annotator {annotator!r}: {exc}") from exc
        items.setdefault(item, len(items))
    annotators = sorted({a for _, a in cells}, key=lambda a: (type(a).__name__, str(a)))
    row = {a: r for r, a in enumerate(annotators)}
    values = np.full((len(annotators), len(items)), None, dtype=object)
    for (item, annotator), value in cells.items():
        values[row[annotator], items[item]] = value
    return ValueTable(values, annotators, list(items))


def _category_order(observed: set[Any], labels: Sequence[Any] | None, what: str) -> list[Any]:
    if labels is None:
        return sorted(observed, key=lambda v: (type(v).__name__, v))
    unknown = observed - set(labels)
    if unknown:
        raise SchemaError(f"{what} {sorted(map(str, unknown))} not in the labels {list(labels)}")
    return list(labels)


def check_labels(table: ValueTable, kind: str, labels: Sequence[Any] | None) -> None:
    """Raise :class:`SchemaError` naming any label (rating, span label) not in ``labels``."""
    if labels is None:
        return
    values = [v for v in table.values.ravel() if v is not None]
    if kind in ("label", "rating"):
        used = set(values)
    elif kind == "multilabel":
        used = {lab for v in values for lab in v}
    elif kind == "spans":
        used = {span[2] for v in values for span in v}
    else:
        return
    _category_order(used, labels, "rating(s)" if kind == "rating" else "label(s)")


def _encode(table: ValueTable, categories: list[Any]) -> FloatArray:
    code = {c: float(i) for i, c in enumerate(categories)}
    return np.array(
        [[np.nan if v is None else code[v] for v in row] for row in table.values],
        dtype=np.float64,
    ).reshape(table.values.shape)


def _rankings(table: ValueTable) -> Reliability:
    """One unit per candidate pair ``(c, d)``, c < d, of an item: 1.0 if c ranks above d."""
    columns: list[list[float]] = []
    groups: list[int] = []
    for i in range(table.values.shape[1]):
        ranks = [
            None if v is None else {cand: pos for pos, cand in enumerate(v)}
            for v in table.values[:, i]
        ]
        candidates = sorted({c for r in ranks if r is not None for c in r})
        for c, d in combinations(candidates, 2):
            columns.append(
                [
                    np.nan if r is None or c not in r or d not in r else float(r[c] < r[d])
                    for r in ranks
                ]
            )
            groups.append(i)
    matrix = np.array(columns, dtype=np.float64).T.reshape(len(table.annotators), len(groups))
    return Reliability(matrix, table.annotators, table.items, [0.0, 1.0], np.array(groups))


def reliability_matrix(
    data: Iterable[Triple] | ValueTable,
    *,
    kind: str = "label",
    labels: Sequence[Any] | None = None,
) -> Reliability:
    """The reliability matrix of one question's responses.

    Parameters
    ----------
    data
        ``(item_id, annotator, value)`` triples, or a :class:`ValueTable`.
    kind
        ``"label"``: codes into ``labels`` (default: the labels used, sorted).
        ``"rating"``: the numbers themselves (``categories``: the scale, ``labels`` or
        the values used). ``"multilabel"``: codes of the distinct label *sets*
        (``categories``: sorted tuples), for alpha with :func:`jaccard_distances`.
        ``"preference"``: one unit per candidate pair, see :class:`Reliability`.

    >>> reliability_matrix([(1, "a", "x"), (1, "b", "y"), (2, "a", "y")]).matrix
    array([[ 0.,  1.],
           [ 1., nan]])
    """
    table = data if isinstance(data, ValueTable) else value_table(data, kind=kind)
    observed = {v for v in table.values.ravel() if v is not None}
    if kind == "label":
        categories = _category_order(observed, labels, "label(s)")
        return Reliability(_encode(table, categories), table.annotators, table.items, categories)
    if kind == "rating":
        scale = _category_order(observed, labels, "rating(s)")
        matrix = np.array(
            [[np.nan if v is None else float(v) for v in row] for row in table.values],
            dtype=np.float64,
        ).reshape(table.values.shape)
        return Reliability(matrix, table.annotators, table.items, scale)
    if kind == "multilabel":
        _category_order({lab for s in observed for lab in s}, labels, "label(s)")
        sets = sorted(observed, key=lambda s: (len(s), s))
        return Reliability(_encode(table, sets), table.annotators, table.items, sets)
    if kind == "preference":
        return _rankings(table)
    raise SchemaError(
        f"{kind} responses have no reliability matrix; use the {kind} agreement functions"
    )


def label_indicators(
    data: Iterable[Triple] | ValueTable, *, labels: Sequence[str] | None = None
) -> tuple[list[str], FloatArray]:
    """Multi-label responses as one binary variable per label.

    Returns the labels and an array (n_labels, n_annotators, n_items): 1.0 if the
    annotator chose the label for the item, 0.0 if they answered without it, ``nan`` if
    they did not answer.
    """
    table = data if isinstance(data, ValueTable) else value_table(data, kind="multilabel")
    observed = {lab for v in table.values.ravel() if v is not None for lab in v}
    order = _category_order(observed, labels, "label(s)")
    answered = np.array([[v is not None for v in row] for row in table.values], dtype=bool)
    answered = answered.reshape(table.values.shape)
    out = np.where(answered, 0.0, np.nan)[None].repeat(len(order), axis=0)
    index = {lab: j for j, lab in enumerate(order)}
    for (a, i), value in np.ndenumerate(table.values):
        for lab in value or ():
            out[index[lab], a, i] = 1.0
    return order, out


def jaccard_distances(sets: Sequence[Collection[Any]]) -> FloatArray:
    """``1 - |A & B| / |A | B|`` between label sets (0 between two empty sets).

    Use as the ``level`` of :func:`~goldsmith.quality.agreement.alpha.krippendorff_alpha`
    with the codes of ``reliability_matrix(..., kind="multilabel")``.

    >>> jaccard_distances([(), ("a",), ("a", "b")]).tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]]
    """
    frozen = [frozenset(s) for s in sets]
    out = np.zeros((len(frozen), len(frozen)))
    for i, a in enumerate(frozen):
        for j in range(i + 1, len(frozen)):
            b = frozen[j]
            union = len(a | b)
            out[i, j] = out[j, i] = 1.0 - len(a & b) / union if union else 0.0
    return out
