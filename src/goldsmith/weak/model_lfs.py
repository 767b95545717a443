"""Labeling functions backed by a model: ``predict_proba`` of a classifier, or the nearest
labeled examples in an embedding space.

Both run once per batch of texts (the applier hands them a few thousand at a time), never
record by record, and both run in the applying process: a model is not copied to workers.

>>> lf = similarity_lf({"the heart stopped": "cardio", "a tumour grew": "onco"}, name="near")
>>> lf.batch_fn(["the heart stopped beating", "nothing alike"], ["cardio", "onco"])
['cardio', -1]
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.weak.lf import ABSTAIN, LF, LFKind, digest, source_of

if TYPE_CHECKING:
    import scipy.sparse as sp
    import sklearn.feature_extraction.text as _text
else:
    sp = lazy_module("scipy.sparse")
    _text = lazy_module("sklearn.feature_extraction.text")

Embed = Callable[[Sequence[str]], Any]
"""``texts -> (n, d)`` float array (dense, or scipy sparse), one row per text."""


def _model_digest(model: Any) -> str:
    try:
        blob = pickle.dumps(model, protocol=5)
    except Exception as exc:
        raise SchemaError(
            f"model_lf cannot digest {type(model).__name__} (it does not pickle: {exc}); "
            "pass version='...' and change it whenever the model changes"
        ) from exc
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def model_lf(
    label: str | None,
    model: Any,
    *,
    name: str,
    field: str = "text",
    threshold: float = 0.5,
    featurize: Callable[[Sequence[str]], Any] | None = None,
    version: str | None = None,
) -> LF:
    """Vote what ``model.predict_proba`` says, where it is sure enough.

    Parameters
    ----------
    label
        ``None``: vote the most probable class when its probability reaches ``threshold``.
        A label name: vote only that label, when its probability reaches ``threshold``.
    model
        Anything with ``predict_proba(X) -> (n, n_classes)`` (scikit-learn style). Its
        ``classes_``, when present, name the columns: strings are label names, integers index
        the task's labels. Without ``classes_`` column ``i`` is the task's label ``i``.
    featurize
        ``texts -> X`` for the model; by default the list of texts itself (a scikit-learn
        ``Pipeline`` with a vectorizer takes that).
    version
        The LF's version. By default a digest of the pickled model (with the other
        arguments), so a retrained model is re-applied; a model that does not pickle needs it.
    """
    if not hasattr(model, "predict_proba"):
        raise SchemaError(f"model_lf {name!r}: {type(model).__name__} has no predict_proba")
    if not 0 < threshold <= 1:
        raise SchemaError(f"model_lf {name!r}: threshold must be in (0, 1], got {threshold}")
    classes = list(getattr(model, "classes_", []))
    feat_source = source_of(featurize) if featurize is not None else None
    version = digest("model", label, version or _model_digest(model), threshold, field, feat_source)

    def votes(texts: Sequence[str], labels: Sequence[str]) -> list[Any]:
        proba = np.asarray(model.predict_proba(featurize(texts) if featurize else list(texts)))
        names = [_class_name(c, labels, name) for c in classes] if classes else list(labels)
        if proba.ndim != 2 or proba.shape != (len(texts), len(names)):
            raise SchemaError(
                f"model_lf {name!r}: predict_proba gave shape {proba.shape} for {len(texts)} "
                f"texts and {len(names)} classes"
            )
        if label is not None:
            if label not in names:
                raise SchemaError(f"model_lf {name!r}: the model has no class {label!r}")
            sure = proba[:, names.index(label)] >= threshold
            return [label if ok else ABSTAIN for ok in sure.tolist()]
        best = proba.argmax(axis=1)
        sure = proba[np.arange(len(best)), best] >= threshold
        return [
            names[b] if ok else ABSTAIN for b, ok in zip(best.tolist(), sure.tolist(), strict=True)
        ]

    return LF(
        name=name,
        kind=LFKind.MODEL,
        version=version,
        label=label,
        field=field,
        batch_fn=votes,
        meta={"threshold": threshold, "model": type(model).__name__},
    )


def _class_name(value: Any, labels: Sequence[str], lf: str) -> str:
    if isinstance(value, str | np.str_):
        return str(value)
    if isinstance(value, int | np.integer) and 0 <= int(value) < len(labels):
        return labels[int(value)]
    raise SchemaError(f"model_lf {lf!r}: class {value!r} is not a label name or label index")


def _normalised(X: Any) -> Any:
    """Rows scaled to unit length (zero rows stay zero), keeping sparse input sparse."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.diags(scale) @ X
    dense = np.asarray(X, dtype=np.float64)
    if dense.ndim != 2:
        raise SchemaError(f"an embedding must be a 2-D array, got shape {dense.shape}")
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return np.divide(dense, norms, out=np.zeros_like(dense), where=norms > 0)


def similarity_lf(
    examples: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    name: str,
    field: str = "text",
    embed: Embed | None = None,
    k: int = 1,
    threshold: float = 0.8,
    version: str | None = None,
) -> LF:
    """Vote the label of the nearest labeled examples, by cosine similarity.

    Parameters
    ----------
    examples
        ``{text: label}`` or ``[(text, label), ...]``.
    embed
        ``texts -> (n, d)`` array. By default a TF-IDF embedding (word 1-2 grams, sublinear
        tf) fitted on the examples alone, so a text's vote does not depend on the batch it
        came in, and incremental runs equal full ones. Words that no example contains do not
        count: "heart attack today" is as similar to "heart attack" as "heart attack" is.
    k
        Among the ``k`` most similar examples whose similarity reaches ``threshold``, vote the
        most common label (ties go to the label of the most similar); abstain when none does.
    version
        The LF's version; by default a digest of the examples, the options and ``embed``'s
        source. Pass one when ``embed`` changes without its source changing (a new model).
    """
    pairs = list(examples.items()) if isinstance(examples, Mapping) else list(examples)
    if not pairs:
        raise SchemaError(f"similarity_lf {name!r} needs at least one labeled example")
    if k < 1:
        raise SchemaError(f"similarity_lf {name!r}: k must be at least 1, got {k}")
    if not -1 <= threshold <= 1:
        raise SchemaError(f"similarity_lf {name!r}: threshold must be in [-1, 1]")
    texts = [t for t, _ in pairs]
    example_labels = np.asarray([lab for _, lab in pairs], dtype=object)
    if embed is None:
        tfidf = _text.TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        embed_fn: Embed = tfidf.transform
        embed_source = "tfidf-1-2-sublinear"
    else:
        embed_fn, embed_source = embed, source_of(embed)
    E = _normalised(embed_fn(texts))
    n_examples = len(pairs)
    version = digest("similarity", pairs, k, threshold, field, embed_source, version)

    def votes(batch: Sequence[str], labels: Sequence[str]) -> list[Any]:
        X = _normalised(embed_fn(list(batch)))
        S = X @ E.T
        S = S.toarray() if sp.issparse(S) else np.asarray(S)
        top = min(k, n_examples)
        if top == 1:  # the common case, without a loop over texts
            nearest = S.argmax(axis=1)
            ok = S[np.arange(len(nearest)), nearest] >= threshold
            return [
                str(lab) if v else ABSTAIN
                for lab, v in zip(example_labels[nearest], ok, strict=True)
            ]
        nearest = np.argsort(-S, axis=1, kind="stable")[:, :top]  # most similar first
        sims = np.take_along_axis(S, nearest, axis=1)
        out: list[Any] = []
        for row_labels, close in zip(example_labels[nearest], sims >= threshold, strict=True):
            out.append(_majority(row_labels[close]) if close.any() else ABSTAIN)
        return out

    return LF(
        name=name,
        kind=LFKind.SIMILARITY,
        version=version,
        field=field,
        batch_fn=votes,
        meta={"examples": n_examples, "k": k, "threshold": threshold},
    )


def _majority(labels: npt.NDArray[Any]) -> str:
    """The most common of ``labels`` (ordered most similar first); ties: the earliest."""
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    best = np.flatnonzero(counts == counts.max())
    return str(values[best[np.argmin(first[best])]])
