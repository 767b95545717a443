"""The in-the-loop classifier: calibrated logistic regression on embeddings.

:class:`LoopClassifier` is retrained every few labels during annotation, so it must be fast
(well under a second on 2,000 × 256) and must never fail on the small, lopsided label sets of
the first rounds: classes missing from the seed, one class only, or a single example of a
class. Probabilities are calibrated by cross-validation (isotonic when every class has
enough examples, else sigmoid) whenever each seen class has at least two examples. On the
medical abstracts and the financial phrasebank (Model2Vec vectors) isotonic gave the lowest
held-out ECE from about 20 examples per class, and overfit below that.

**Two outputs, two jobs.** :meth:`LoopClassifier.predict_proba` gives the calibrated
probabilities that thresholds, routing and ECE need. Calibration re-learns the training class
frequencies, so its argmax drifts to the majority class: with 50 labels on the financial
phrasebank it predicted two classes of three (macro-F1 0.37 against 0.54). Decisions
(:meth:`~LoopClassifier.predict`, macro-F1) and the query strategies use
:meth:`~LoopClassifier.decision_proba` instead: the class-balanced logistic regression fitted
on every example, the model whose cross-validated scores the calibrator maps. Its argmax is
the balanced decision rule; its full-pool macro-F1 is that of the uncalibrated regression.

BLAS runs single-threaded inside ``fit`` and ``predict_proba``: on matrices this small,
threads only add overhead, and on a busy machine they oversubscribe the cores (measured 30x
slower on 2 shared cores).

>>> import numpy as np
>>> X = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
>>> clf = LoopClassifier(n_classes=3).fit(X, np.array([0, 0, 1, 1]))
>>> clf.predict_proba(X).shape
(4, 3)
>>> clf.predict(X).tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from goldsmith._lazy import lazy_module
from goldsmith.errors import ArgumentError, NotFittedError

if TYPE_CHECKING:
    import sklearn.calibration as _calibration
    import sklearn.linear_model as _linear
    import sklearn.model_selection as _model_selection
else:
    _calibration = lazy_module("sklearn.calibration")
    _linear = lazy_module("sklearn.linear_model")
    _model_selection = lazy_module("sklearn.model_selection")

Method = Literal["auto", "isotonic", "sigmoid", "none"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class LoopClassifier:
    """Logistic regression with cross-validated probability calibration.

    Parameters
    ----------
    n_classes : int, optional
        Number of classes ``k``; ``predict_proba`` then always has ``k`` columns, with 0 for
        classes absent from the training labels. By default the classes are those seen.
    multilabel : bool
        ``y`` is an ``(n, k)`` 0/1 indicator matrix; one calibrated binary model per column
        (one-vs-rest) and ``predict_proba`` gives independent per-label probabilities.
    C : float
        Inverse regularisation strength of the logistic regression.
    class_weight : {"balanced", None}
        ``"balanced"`` (default) weighs classes inversely to their frequency, so a rare class
        is not drowned by a catch-all one: what macro-F1 and uncertainty sampling need (on
        the medical abstracts it turned margin sampling from worse than random to better).
    method : {"auto", "isotonic", "sigmoid", "none"}
        Calibration. ``"auto"`` is isotonic when every class has ``isotonic_min`` examples,
        else sigmoid. Calibration needs two examples of every seen class; below that the raw
        logistic probabilities are used.
    cv : int
        Maximum number of calibration folds (fewer when a class has fewer examples).
    isotonic_min : int
        Examples per class from which ``"auto"`` picks isotonic calibration.
    max_iter : int
        Iterations of the L-BFGS solver.
    random_state : int
        Seed of the fold split.

    Attributes
    ----------
    classes_ : ndarray of int
        Class indices, the columns of ``predict_proba``.
    method_ : str
        Calibration actually used (``"isotonic"``, ``"sigmoid"``, ``"none"`` or ``"prior"``
        when a single class was seen); a list of them per label when ``multilabel``.
    """

    def __init__(
        self,
        *,
        n_classes: int | None = None,
        multilabel: bool = False,
        C: float = 3.0,
        class_weight: str | None = "balanced",
        method: Method = "auto",
        cv: int = 3,
        isotonic_min: int = 20,
        max_iter: int = 500,
        random_state: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.multilabel = multilabel
        self.C = C
        self.class_weight = class_weight
        self.method = method
        self.cv = cv
        self.isotonic_min = isotonic_min
        self.max_iter = max_iter
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> LoopClassifier:
        """Fit on features ``X`` (n, d) and labels ``y`` (n,) or, if multilabel, (n, k).

        ``sample_weight`` (n,) scales each example's loss (with ``class_weight`` on top), for
        example down-weighting machine labels next to human ones.
        """
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        with threadpool_limits(1, user_api="blas"):
            return self._fit(np.asarray(X, dtype=np.float64), np.asarray(y), w)

    def _fit(
        self, Xa: FloatArray, ya: npt.NDArray[Any], w: FloatArray | None = None
    ) -> LoopClassifier:
        if Xa.ndim != 2 or len(Xa) != len(ya) or len(Xa) == 0:
            raise ArgumentError(f"X must be (n, d) and y have n rows; got {Xa.shape}, {ya.shape}")
        if w is not None and (w.shape != (len(Xa),) or (w < 0).any()):
            raise ArgumentError(f"sample_weight must be (n,) and >= 0; got shape {w.shape}")
        if self.multilabel:
            if ya.ndim != 2:
                raise ArgumentError("multilabel=True needs y as an (n, k) 0/1 indicator matrix")
            k = ya.shape[1] if self.n_classes is None else self.n_classes
            if ya.shape[1] != k:
                raise ArgumentError(f"y has {ya.shape[1]} label columns, n_classes is {k}")
            ind = (ya > 0).astype(np.int64)
            self.models_ = [self._fit_single(Xa, ind[:, j], 2, w) for j in range(k)]
            self.method_: Any = [m.method for m in self.models_]
            self.classes_: IntArray = np.arange(k, dtype=np.int64)
        else:
            if ya.ndim != 1:
                raise ArgumentError("y must be 1-d class indices (or pass multilabel=True)")
            yi = ya.astype(np.int64)
            if yi.min() < 0 or (self.n_classes is not None and yi.max() >= self.n_classes):
                raise ArgumentError(f"class indices must lie in 0..n_classes-1; got {yi.max()}")
            if self.n_classes is None:
                self.classes_ = np.unique(yi)
                yi = np.searchsorted(self.classes_, yi)
            else:
                self.classes_ = np.arange(self.n_classes, dtype=np.int64)
            self.model_ = self._fit_single(Xa, yi, len(self.classes_), w)
            self.method_ = self.model_.method
        self.n_features_in_ = Xa.shape[1]
        return self

    def _fit_single(
        self, X: FloatArray, y: IntArray, k: int, w: FloatArray | None = None
    ) -> _Fitted:
        """One model over column indices ``0..k-1``."""
        seen, counts = np.unique(y, return_counts=True)
        if len(seen) == 1:  # nothing to discriminate: a Laplace-smoothed class prior
            prior = np.ones(k) / (len(y) + k)
            prior[seen[0]] = (len(y) + 1) / (len(y) + k)
            return _Fitted("prior", prior, prior, seen)
        lr = _linear.LogisticRegression(
            C=self.C, max_iter=self.max_iter, class_weight=self.class_weight
        )
        method = self._method(int(counts.min()))
        if method == "none":
            lr.fit(X, y, sample_weight=w)
            return _Fitted(method, lr, lr, seen)
        folds = _model_selection.StratifiedKFold(
            n_splits=min(self.cv, int(counts.min())), shuffle=True, random_state=self.random_state
        )
        # ensemble=False: one regression on every example, calibrated on its out-of-fold
        # scores; that regression is also the decision model, at no extra fit.
        cal = _calibration.CalibratedClassifierCV(lr, method=method, cv=folds, ensemble=False)
        cal.fit(X, y, sample_weight=w)
        return _Fitted(method, cal, cal.calibrated_classifiers_[0].estimator, seen)

    def _method(self, min_count: int) -> str:
        if self.method == "none" or min_count < 2 or self.cv < 2:
            return "none"
        if self.method != "auto":
            return self.method
        return "isotonic" if min_count >= self.isotonic_min else "sigmoid"

    # ------------------------------------------------------------------ prediction

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """Class probabilities, shape (n, len(classes_)); per-label ones if multilabel."""
        return self._outputs(X, decision=False)

    def decision_proba(self, X: npt.ArrayLike) -> FloatArray:
        """Scores of the class-balanced decision rule, shape (n, len(classes_)): what
        :meth:`predict`, macro-F1 and the query strategies use (see the module docstring).
        Rows sum to 1 but are not calibrated; use :meth:`predict_proba` for confidences.
        Multi-label models have no separate rule: their calibrated probabilities."""
        return self._outputs(X, decision=not self.multilabel)

    def _outputs(self, X: npt.ArrayLike, *, decision: bool) -> FloatArray:
        Xa = np.asarray(X, dtype=np.float64)
        if not hasattr(self, "classes_"):
            raise NotFittedError("this LoopClassifier is not fitted yet; call fit(X, y) first")
        if len(Xa) == 0:
            return np.zeros((0, len(self.classes_)))
        with threadpool_limits(1, user_api="blas"):
            if self.multilabel:
                cols = [_proba(m, Xa, 2)[:, 1] for m in self.models_]
                return np.stack(cols, axis=1) if cols else np.zeros((len(Xa), 0))
            return _proba(self.model_, Xa, len(self.classes_), decision=decision)

    def predict(self, X: npt.ArrayLike) -> IntArray:
        """The balanced decision (argmax of :meth:`decision_proba`); a 0/1 indicator matrix
        (calibrated p >= 0.5) if multilabel."""
        if self.multilabel:
            return (self.predict_proba(X) >= 0.5).astype(np.int64)
        scores = self.decision_proba(X)
        return np.asarray(self.classes_[np.argmax(scores, axis=1)], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Fitted:
    """One fitted model: calibration method, calibrated estimator (or a prior), the
    decision estimator and the seen column indices."""

    method: str
    calibrated: Any
    decision: Any
    seen: IntArray


def _proba(
    model: _Fitted | tuple[Any, ...], X: FloatArray, k: int, *, decision: bool = False
) -> FloatArray:
    if isinstance(model, tuple):  # pickled by an older version: no decision model kept
        model = _Fitted(model[0], model[1], model[1], model[2])
    est = model.decision if decision else model.calibrated
    if model.method == "prior":
        return np.tile(np.asarray(est, dtype=np.float64), (len(X), 1))
    out = np.zeros((len(X), k))
    out[:, model.seen] = est.predict_proba(X)  # unseen classes keep probability 0
    return out
