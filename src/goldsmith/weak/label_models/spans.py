"""Spans (NER): a token-level label model over span LFs, decoded back into entity spans.

A span LF (regex, gazetteer) emits spans ``(start, end, type)`` over a document's tokens,
``end`` exclusive. Each token becomes a record and each span source an LF: it votes the
entity type of a span covering the token and, on tokens it does not tag, either ``O``
(``outside="vote"``) or nothing (``outside="abstain"``, the default: a gazetteer that misses
a word has not said the word is outside every entity). Classes are ``0 = O`` and
``t + 1`` for entity type ``t`` (IO tagging). Consecutive tokens with the same predicted
type form one predicted entity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.weak.label_models._base import BaseLabelModel, FloatArray, IntArray
from goldsmith.weak.label_models.label_model import default_label_model

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

Span = tuple[int, int, str]
Outside = Literal["abstain", "vote"]


def spans_to_token_matrix(
    lengths: Sequence[int],
    source_spans: Sequence[Sequence[Sequence[Span]]],
    types: Sequence[str],
    *,
    outside: Outside = "abstain",
) -> sp.csr_matrix:
    """The ``(total tokens, n sources)`` sparse label matrix (``label + 1``, 0 = abstain).

    ``source_spans[d][s]`` lists the spans of source ``s`` in document ``d``.
    """
    if len(source_spans) != len(lengths):
        raise SchemaError(f"{len(source_spans)} documents of spans for {len(lengths)} lengths")
    index = {t: i + 1 for i, t in enumerate(types)}
    n_sources = len(source_spans[0]) if source_spans else 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[int] = []
    for d, doc in enumerate(source_spans):  # loops over spans, not over tokens or cells
        if len(doc) != n_sources:
            raise SchemaError(f"document {d} has {len(doc)} sources, expected {n_sources}")
        for s, spans in enumerate(doc):
            for start, end, kind in spans:
                if kind not in index:
                    raise SchemaError(f"unknown entity type {kind!r} (document {d}, source {s})")
                if not 0 <= start < end <= lengths[d]:
                    raise SchemaError(f"span {(start, end)} outside document {d} ({lengths[d]})")
                rows.extend(range(offsets[d] + start, offsets[d] + end))
                cols.extend([s] * (end - start))
                vals.extend([index[kind] + 1] * (end - start))
    n = int(offsets[-1])
    M = sp.csr_matrix(
        (np.asarray(vals, dtype=np.int16), (np.asarray(rows, np.int64), np.asarray(cols))),
        shape=(n, n_sources),
        dtype=np.int16,
    )
    M.sum_duplicates()  # overlapping spans of one source: keep one vote
    M.data = np.minimum(M.data, len(types) + 1).astype(np.int16)
    if outside == "vote":
        dense = M.toarray()
        dense[dense == 0] = 1  # O is class 0, stored as 1
        M = sp.csr_matrix(dense)
    elif outside != "abstain":
        raise SchemaError(f"outside must be 'abstain' or 'vote', got {outside!r}")
    return M


def token_labels_to_spans(
    labels: IntArray, lengths: Sequence[int], types: Sequence[str]
) -> list[list[Span]]:
    """Decode per-token classes (0 = O, ``t + 1`` = type ``t``) into spans per document."""
    out: list[list[Span]] = []
    offset = 0
    for length in lengths:
        tags = np.asarray(labels[offset : offset + length])
        offset += length
        change = np.flatnonzero(np.diff(np.concatenate([[0], tags, [0]])) != 0)
        spans: list[Span] = []
        for a, b in zip(change[:-1], change[1:], strict=True):
            if tags[a] > 0:
                spans.append((int(a), int(b), types[int(tags[a]) - 1]))
        out.append(spans)
    return out


def span_f1(
    predicted: Sequence[Sequence[Span]], gold: Sequence[Sequence[Span]]
) -> tuple[float, float, float]:
    """Entity-level precision, recall and F1: a span counts only on an exact match."""
    tp = n_pred = n_gold = 0
    for p, g in zip(predicted, gold, strict=True):
        ps, gs = {tuple(x) for x in p}, {tuple(x) for x in g}
        tp += len(ps & gs)
        n_pred += len(ps)
        n_gold += len(gs)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


class SpanLabelModel:
    """Token-level label model for span LFs.

    Parameters
    ----------
    types
        Entity types; classes are ``O`` plus one per type.
    base
        Builds the token-level model from ``(len(types) + 1, seed)``.
    outside
        Whether a source votes ``O`` on the tokens it does not tag (see module docstring).
    seed
        Seed of the token model.

    Attributes
    ----------
    model_ : the fitted token-level model.
    """

    model_: BaseLabelModel

    def __init__(
        self,
        types: Sequence[str],
        *,
        base: Callable[[int, int], BaseLabelModel] = default_label_model,
        outside: Outside = "abstain",
        seed: int = 0,
    ) -> None:
        if not types:
            raise SchemaError("SpanLabelModel needs at least one entity type")
        self.types = list(types)
        self.base = base
        self.outside = outside
        self.seed = seed

    def _matrix(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> sp.csr_matrix:
        return spans_to_token_matrix(lengths, source_spans, self.types, outside=self.outside)

    def fit(
        self,
        lengths: Sequence[int],
        source_spans: Sequence[Sequence[Sequence[Span]]],
        *,
        class_balance: Sequence[float] | None = None,
        dev: tuple[Sequence[int], Sequence[Sequence[Sequence[Span]]], Sequence[Sequence[Span]]]
        | None = None,
    ) -> SpanLabelModel:
        """Fit the token model on the documents' source spans; returns ``self``.

        ``dev`` is an optional gold set ``(lengths, source_spans, gold_spans)``: its tokens
        enter the fit with their true class (``O`` outside the gold spans), as the dev set of
        the token-level model.
        """
        self.model_ = self.base(len(self.types) + 1, self.seed)
        extra: dict[str, object] = {}
        if dev is not None and len(dev[0]):
            dev_lengths, dev_sources, gold = dev
            extra["L_dev"] = self._matrix(dev_lengths, dev_sources)
            extra["Y_dev"] = self.token_labels(dev_lengths, gold)
        self.model_.fit(  # type: ignore[attr-defined]
            self._matrix(lengths, source_spans), class_balance=class_balance, **extra
        )
        return self

    def token_labels(
        self, lengths: Sequence[int], spans: Sequence[Sequence[Span]]
    ) -> npt.NDArray[np.int64]:
        """Class of every token (``0`` = ``O``, ``1 + i`` = type ``i``), documents concatenated."""
        M = spans_to_token_matrix(lengths, [[doc] for doc in spans], self.types)
        out: npt.NDArray[np.int64] = np.asarray(M.toarray()[:, 0], dtype=np.int64)
        return np.maximum(out - 1, 0)

    def predict_proba_tokens(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> FloatArray:
        """``(total tokens, 1 + n types)`` class probabilities, documents concatenated."""
        if not hasattr(self, "model_"):
            raise SchemaError("SpanLabelModel is not fitted yet: call fit first")
        M = self._matrix(lengths, source_spans)
        proba = self.model_.predict_proba(M)
        # A token no source tagged is outside every entity whatever the class balance says.
        proba[np.diff(M.indptr) == 0] = np.eye(len(self.types) + 1)[0]
        return proba

    def predict_spans(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> list[list[Span]]:
        """Predicted entity spans per document."""
        proba = self.predict_proba_tokens(lengths, source_spans)
        return token_labels_to_spans(proba.argmax(axis=1), lengths, self.types)
