"""Majority vote: every LF counts the same; the baseline every label model must beat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.weak.label_models._base import BaseLabelModel, FloatArray
from goldsmith.weak.label_models._em import gold_balance
from goldsmith.weak.matrix import LabelMatrix

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")


class MajorityVote(BaseLabelModel):
    """The class with the most votes; ties share the probability equally.

    ``predict_proba`` is uniform over the classes with the top vote count (one-hot when
    there is one winner). Records with no vote get ``class_balance_``: the ``class_balance``
    given to ``fit``, else the gold label frequencies of ``Y_dev``, else uniform; so with
    the default ``tie_break="random"`` an uncovered record gets a random class, as in the
    WRENCH baseline.

    Parameters
    ----------
    cardinality
        Number of classes ``k``.
    seed
        Seed of the tie-breaking generator of ``predict``.

    Attributes
    ----------
    class_balance_ : ndarray of shape (k,)
    n_lfs_ : int
    accuracies_ : ndarray of shape (m,)
        Diagnostic only: each LF's agreement with the majority of the *other* LFs on the
        records where they have a unique winner (``nan`` where there is none). Majority vote
        itself assumes every LF is equally accurate.

    Examples
    --------
    >>> import numpy as np
    >>> mv = MajorityVote(2).fit(np.array([[0, 0, 1], [1, -1, 1], [-1, -1, -1]]))
    >>> mv.predict_proba(np.array([[0, 0, 1], [1, -1, 0]])).tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """

    accuracies_: FloatArray

    def fit(
        self,
        L: LabelMatrix,
        *,
        L_dev: LabelMatrix | None = None,
        Y_dev: npt.ArrayLike | None = None,
        class_balance: npt.ArrayLike | None = None,
    ) -> MajorityVote:
        """Record the class balance and the diagnostic accuracies; returns ``self``."""
        k = self.cardinality
        X, _, Yd, balance = self._fit_inputs(L, L_dev, Y_dev, class_balance)
        if balance is None and Yd is not None and Yd.size:
            balance = gold_balance(Yd, k)
        self.class_balance_ = balance if balance is not None else np.full(k, 1.0 / k)
        self.n_lfs_ = X.shape[1] // k
        self.accuracies_ = _loo_agreement(X, k)
        return self

    def _scores(self, X: sp.csr_matrix) -> FloatArray:
        k = self.cardinality
        m = X.shape[1] // k
        V = np.asarray(X @ np.tile(np.eye(k), (m, 1)))
        # Top-count classes get log(1) and the others -inf, so softmax shares the mass.
        out: FloatArray = np.where(V.max(axis=1, keepdims=True) <= V, 0.0, -np.inf)
        return out


def _loo_agreement(X: sp.csr_matrix, k: int, *, chunk: int = 1 << 20) -> FloatArray:
    """Agreement of each LF with the majority of the other LFs (vectorised, chunked votes)."""
    m = X.shape[1] // k
    V = np.asarray(X @ np.tile(np.eye(k), (m, 1)))
    rows_all = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    n_unique = np.zeros(m)
    n_agree = np.zeros(m)
    for start in range(0, rows_all.size, chunk):
        rows = rows_all[start : start + chunk]
        cols = X.indices[start : start + chunk]
        labels = cols % k
        idx = np.arange(rows.size)
        others = V[rows]
        others[idx, labels] -= 1.0
        top = others.max(axis=1)
        unique = (top > 0) & ((others == top[:, None]).sum(axis=1) == 1)
        agree = unique & (others[idx, labels] == top)
        lf = cols // k
        n_unique += np.bincount(lf[unique], minlength=m)
        n_agree += np.bincount(lf[agree], minlength=m)
    out: FloatArray = np.where(n_unique > 0, n_agree / np.maximum(n_unique, 1), np.nan)
    return out
