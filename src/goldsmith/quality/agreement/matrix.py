"""From ``(item_id, annotator, value)`` triples to the arrays the metrics take.

:func:`value_table` lays the responses of one question out as an object table
(n_annotators, n_items) with None where an annotator did not respond, each value in the
form its question kind compares (:meth:`~goldsmith.kinds.base.QuestionKind.agreement_value`).
A kind is given by name, as a question, or as its class; its ``agreement`` says how its
values compare (``nominal``, ``interval``, ``sets``, ``spans``, ``text``, ``ranking``).
:func:`reliability_matrix` turns it into the float matrix ``R`` (``nan`` = missing) of
Krippendorff (2011), and :func:`label_indicators` into one 0/1 matrix per label.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from goldsmith.errors import SchemaError
from goldsmith.kinds.base import Labelled, QuestionKind
from goldsmith.quality.agreement._arrays import FloatArray, IntArray
from goldsmith.schema import QUESTION_KINDS

KINDS = tuple(QUESTION_KINDS)
Triple = tuple[Hashable, Hashable, Any]
Span = tuple[int, int, str]
Kind = str | QuestionKind | type[QuestionKind] | Labelled
"""A question kind: its name (``"label"``), a question, or the question's class."""


def kind_class(kind: Kind) -> type[QuestionKind]:
    """The class of question kind ``kind``; SchemaError naming the known kinds if unknown."""
    if isinstance(kind, QuestionKind):
        return type(kind)
    if isinstance(kind, type) and issubclass(kind, QuestionKind):
        return kind
    if isinstance(kind, str) and kind in QUESTION_KINDS:
        return QUESTION_KINDS[kind]
    raise SchemaError(f"unknown question kind {kind!r}; expected one of {list(KINDS)}")


def kind_name(kind: Kind) -> str:
    """The name of question kind ``kind`` in ``goldsmith.toml``."""
    return str(kind_class(kind).model_fields["kind"].default)


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


def canonical_value(kind: Kind, value: Any) -> Any:
    """The value in a hashable canonical form, or ArgumentError saying what is wrong."""
    return kind_class(kind).agreement_value(value)


def value_table(triples: Iterable[Triple], *, kind: Kind) -> ValueTable:
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
    canonical = kind_class(kind).agreement_value
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
            cells[item, annotator] = canonical(value)
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


def check_labels(table: ValueTable, kind: Kind, labels: Sequence[Any] | None) -> None:
    """Raise :class:`SchemaError` naming any label (rating, span label) not in ``labels``."""
    if labels is None:
        return
    values = [v for v in table.values.ravel() if v is not None]
    agreement = kind_class(kind).agreement
    if agreement in ("nominal", "interval"):
        used = set(values)
    elif agreement == "sets":
        used = {lab for v in values for lab in v}
    elif agreement == "spans":
        used = {span[2] for v in values for span in v}
    else:
        return
    _category_order(used, labels, "rating(s)" if agreement == "interval" else "label(s)")


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
    kind: Kind = "label",
    labels: Sequence[Any] | None = None,
) -> Reliability:
    """The reliability matrix of one question's responses.

    Parameters
    ----------
    data
        ``(item_id, annotator, value)`` triples, or a :class:`ValueTable`.
    kind
        The question kind; its ``agreement`` decides the matrix. ``nominal`` (``"label"``):
        codes into ``labels`` (default: the labels used, sorted). ``interval``
        (``"rating"``): the numbers themselves (``categories``: the scale, ``labels`` or
        the values used). ``sets`` (``"multilabel"``): codes of the distinct label *sets*
        (``categories``: sorted tuples), for alpha with :func:`jaccard_distances`.
        ``ranking`` (``"preference"``): one unit per candidate pair, see
        :class:`Reliability`.

    >>> reliability_matrix([(1, "a", "x"), (1, "b", "y"), (2, "a", "y")]).matrix
    array([[ 0.,  1.],
           [ 1., nan]])
    """
    table = data if isinstance(data, ValueTable) else value_table(data, kind=kind)
    observed = {v for v in table.values.ravel() if v is not None}
    agreement = kind_class(kind).agreement
    if agreement == "nominal":
        categories = _category_order(observed, labels, "label(s)")
        return Reliability(_encode(table, categories), table.annotators, table.items, categories)
    if agreement == "interval":
        scale = _category_order(observed, labels, "rating(s)")
        matrix = np.array(
            [[np.nan if v is None else float(v) for v in row] for row in table.values],
            dtype=np.float64,
        ).reshape(table.values.shape)
        return Reliability(matrix, table.annotators, table.items, scale)
    if agreement == "sets":
        _category_order({lab for s in observed for lab in s}, labels, "label(s)")
        sets = sorted(observed, key=lambda s: (len(s), s))
        return Reliability(_encode(table, sets), table.annotators, table.items, sets)
    if agreement == "ranking":
        return _rankings(table)
    name = kind_name(kind)
    raise SchemaError(
        f"{name} responses have no reliability matrix; use the {name} agreement functions"
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
