"""Likely label errors beyond single labels: multi-label sets and spans.

* **Multi-label:** one-vs-rest logistic regressions on the record embeddings give
  out-of-fold ``P(label applies)`` for every record; cleanlab's
  :func:`cleanlab.multilabel_classification.filter.find_label_issues` flags the sets that
  disagree, ranked by :func:`cleanlab.multilabel_classification.rank.get_label_quality_scores`.
  A flagged record says which labels look missing and which look wrong.
* **Spans:** each record's text is cut into word tokens; a token's given class is the label of
  the span covering it (``O`` outside any). A token classifier on hashed word features (the
  word, its shape, prefix and suffix, its neighbours) is fitted out of fold, by record, and
  cleanlab's :mod:`cleanlab.token_classification` flags the tokens whose given class
  disagrees, ranking the records by their worst tokens.

Both return :class:`KindIssues`: the flagged rows, most likely wrong first, with a quality
score per row and what the model proposes instead.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError

if TYPE_CHECKING:
    import cleanlab.multilabel_classification.filter as _ml_filter
    import cleanlab.multilabel_classification.rank as _ml_rank
    import cleanlab.token_classification.filter as _tok_filter
    import cleanlab.token_classification.rank as _tok_rank
    import sklearn.exceptions as _exceptions
    import sklearn.feature_extraction as _fx
    import sklearn.linear_model as _lm
else:
    _ml_filter = lazy_module("cleanlab.multilabel_classification.filter")
    _ml_rank = lazy_module("cleanlab.multilabel_classification.rank")
    _tok_filter = lazy_module("cleanlab.token_classification.filter")
    _tok_rank = lazy_module("cleanlab.token_classification.rank")
    _fx = lazy_module("sklearn.feature_extraction")
    _lm = lazy_module("sklearn.linear_model")
    _exceptions = lazy_module("sklearn.exceptions")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
OUTSIDE = "O"


@dataclass(frozen=True)
class KindIssues:
    """Rows (records) whose given answer looks wrong.

    ``indices``: flagged rows, most likely wrong first. ``quality``: every row's label quality
    in [0, 1], lower is worse. ``detail``: per flagged row, what looks wrong (labels missing or
    extra; tokens and their proposed classes).
    """

    indices: IntArray
    quality: FloatArray
    detail: dict[int, dict[str, Any]]


def _folds(n: int, n_folds: int, seed: int) -> IntArray:
    order = np.random.default_rng(seed).permutation(n)
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % n_folds
    return folds


# --------------------------------------------------------------------------- multi-label


def multilabel_proba(X: Any, Y: npt.ArrayLike, *, n_folds: int = 5, seed: int = 0) -> FloatArray:
    """Out-of-fold ``P(label applies)`` ``(n, k)`` from one logistic regression per label.
    ``X``: features ``(n, d)``, dense or a scipy sparse matrix."""
    Xa: Any = X if hasattr(X, "tocsr") else np.asarray(X, dtype=np.float64)
    Ya = np.asarray(Y, dtype=np.int64)
    if Xa.shape[0] != Ya.shape[0] or Ya.ndim != 2:
        raise SchemaError(f"X {Xa.shape} and Y {Ya.shape} must have one row per record")
    n, k = Ya.shape
    folds = _folds(n, min(n_folds, n), seed)
    out = np.zeros((n, k))
    for f in np.unique(folds):
        test = folds == f
        for j in range(k):
            y = Ya[~test, j]
            if y.min(initial=0) == y.max(initial=0):  # one class in training: its rate
                out[test, j] = float(y.mean()) if y.size else 0.0
                continue
            model = _lm.LogisticRegression(max_iter=1000, C=4.0)
            model.fit(Xa[~test], y)
            out[test, j] = model.predict_proba(Xa[test])[:, 1]
    return out


def multilabel_issues(
    given: Sequence[Sequence[int]], pred_probs: npt.ArrayLike, labels: Sequence[str]
) -> KindIssues:
    """Flag records whose label set disagrees with the out-of-fold probabilities."""
    P = np.clip(np.asarray(pred_probs, dtype=np.float64), 1e-6, 1 - 1e-6)
    sets = [sorted({int(i) for i in s}) for s in given]
    if len(sets) != P.shape[0]:
        raise SchemaError(f"{len(sets)} label sets for {P.shape[0]} rows of probabilities")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = np.asarray(_ml_rank.get_label_quality_scores(sets, P), dtype=np.float64)
        flagged = np.asarray(_ml_filter.find_label_issues(sets, P), dtype=bool)
    rows = np.flatnonzero(flagged)
    indices = rows[np.argsort(quality[rows], kind="stable")].astype(np.int64)
    detail = {}
    for i in indices.tolist():
        mine = set(sets[i])
        detail[i] = {
            "missing": [labels[j] for j in range(P.shape[1]) if P[i, j] > 0.5 and j not in mine],
            "extra": [labels[j] for j in mine if P[i, j] < 0.5],
            "proposed": [labels[j] for j in range(P.shape[1]) if P[i, j] > 0.5],
        }
    return KindIssues(indices, quality, detail)


# --------------------------------------------------------------------------- spans


def tokens(text: str) -> list[tuple[int, int]]:
    """Word and punctuation tokens of ``text`` as code-point ``[start, end)``."""
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text)]


def token_classes(
    text: str, spans: Sequence[tuple[int, int, str]], classes: Sequence[str]
) -> tuple[list[tuple[int, int]], IntArray]:
    """Each token of ``text`` and the index in ``classes`` of the span label covering it."""
    toks = tokens(text)
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros(len(toks), dtype=np.int64)
    for s, e, label in spans:
        for t, (a, b) in enumerate(toks):
            if a < e and s < b:
                out[t] = index[label]
    return toks, out


def _features(text: str, toks: list[tuple[int, int]]) -> list[list[str]]:
    words = [text[a:b] for a, b in toks]
    feats = []
    for i, w in enumerate(words):
        low = w.casefold()
        shape = re.sub(r"[A-Z]+", "A", re.sub(r"[a-z]+", "a", re.sub(r"[0-9]+", "9", w)))
        prev = words[i - 1].casefold() if i else "<s>"
        nxt = words[i + 1].casefold() if i + 1 < len(words) else "</s>"
        feats.append(
            [
                f"w={low}",
                f"shape={shape}",
                f"pre={low[:3]}",
                f"suf={low[-3:]}",
                f"prev={prev}",
                f"next={nxt}",
                f"prev+w={prev}|{low}",
                f"w+next={low}|{nxt}",
            ]
        )
    return feats


def span_issues(
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int, str]]],
    labels: Sequence[str],
    *,
    n_folds: int = 5,
    seed: int = 0,
) -> KindIssues:
    """Flag records whose spans disagree with an out-of-fold token classifier."""
    classes = [OUTSIDE, *labels]
    toks, given, feats = [], [], []
    for text, units in zip(texts, spans, strict=True):
        t, y = token_classes(text, units, classes)
        toks.append(t)
        given.append(y)
        feats.append(_features(text, t))
    n = len(texts)
    if n < 2:
        raise SchemaError("span label issues need at least 2 records")
    hasher = _fx.FeatureHasher(n_features=2**20, input_type="string", alternate_sign=False)
    folds = _folds(n, min(n_folds, n), seed)
    probs: list[FloatArray] = [np.zeros((len(t), len(classes))) for t in toks]
    for f in np.unique(folds):
        train = [i for i in range(n) if folds[i] != f and len(toks[i])]
        test = [i for i in range(n) if folds[i] == f and len(toks[i])]
        if not train or not test:
            continue
        X = hasher.transform([x for i in train for x in feats[i]])
        y = np.concatenate([given[i] for i in train])
        present = np.unique(y)
        if present.size < 2:
            for i in test:
                probs[i][:, present[0]] = 1.0
            continue
        model = _lm.SGDClassifier(
            loss="log_loss", alpha=1e-5, max_iter=30, tol=1e-4, random_state=seed
        )
        with warnings.catch_warnings():  # 30 epochs are plenty here; more only overfit
            warnings.simplefilter("ignore", _exceptions.ConvergenceWarning)
            model.fit(X, y)
        for i in test:
            p = model.predict_proba(hasher.transform(feats[i]))
            probs[i][:, model.classes_] = p
    keep = [i for i in range(n) if len(toks[i])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = _tok_filter.find_label_issues(
            [given[i] for i in keep], [np.clip(probs[i], 1e-6, 1.0) for i in keep]
        )
        scores, _ = _tok_rank.get_label_quality_scores(
            [given[i] for i in keep], [np.clip(probs[i], 1e-6, 1.0) for i in keep]
        )
    quality = np.ones(n)
    quality[keep] = np.asarray(scores, dtype=np.float64)
    bad: dict[int, list[int]] = {}
    for row, tok in found:
        bad.setdefault(keep[int(row)], []).append(int(tok))
    rows = np.array(sorted(bad), dtype=np.int64)
    indices = rows[np.argsort(quality[rows], kind="stable")] if rows.size else rows
    detail = {}
    for i in indices.tolist():
        detail[i] = {
            "tokens": [
                {
                    "start": toks[i][t][0],
                    "end": toks[i][t][1],
                    "text": texts[i][toks[i][t][0] : toks[i][t][1]],
                    "given": classes[int(given[i][t])],
                    "proposed": classes[int(np.argmax(probs[i][t]))],
                }
                for t in sorted(bad[i])
            ]
        }
    return KindIssues(indices.astype(np.int64), quality, detail)
