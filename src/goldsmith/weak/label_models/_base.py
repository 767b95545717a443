"""What every label model shares: input checks, tie and abstain policy, and ``predict``.

Policies (the same for every model)
-----------------------------------
* **Records with no vote** (every LF abstained): ``predict_proba`` returns the model's class
  balance ``class_balance_`` for them. ``predict`` returns ``-1`` for them under
  ``tie_break="abstain"``; under ``tie_break="random"`` it takes the argmax of the class
  balance, choosing at random among classes tied there (so a uniform balance gives a uniformly
  random class).
* **Ties**: classes whose probability is within ``1e-9`` of the row's maximum are tied.
  ``tie_break="random"`` picks one of them uniformly with a seeded generator;
  ``tie_break="abstain"`` returns ``-1``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.weak.matrix import LabelMatrix, check_labels, check_matrix, one_hot

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
TieBreak = Literal["random", "abstain"]

TIE_TOLERANCE = 1e-9


def softmax_rows(S: FloatArray) -> FloatArray:
    """Row-wise softmax of log-scores, in place-friendly and overflow-safe."""
    S = S - S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


def check_cardinality(cardinality: int) -> int:
    if isinstance(cardinality, bool) or not isinstance(cardinality, int | np.integer):
        raise SchemaError(f"cardinality must be an integer, got {cardinality!r}")
    if cardinality < 2:
        raise SchemaError(f"cardinality must be at least 2, got {cardinality}")
    return int(cardinality)


def check_class_balance(class_balance: npt.ArrayLike | None, k: int) -> FloatArray | None:
    """Validate a user-given class balance: ``k`` non-negative numbers, normalised."""
    if class_balance is None:
        return None
    p = np.asarray(class_balance, dtype=np.float64)
    if p.shape != (k,) or not np.all(np.isfinite(p)) or (p < 0).any() or p.sum() <= 0:
        raise SchemaError(
            f"class_balance must be {k} non-negative numbers with a positive sum, got {p!r}"
        )
    p = np.maximum(p / p.sum(), 1e-12)
    out: FloatArray = p / p.sum()
    return out


def pick(
    proba: FloatArray, covered: npt.NDArray[np.bool_], *, tie_break: TieBreak, seed: int
) -> IntArray:
    """Turn probabilities into labels under the tie and abstain policy of this module."""
    if tie_break not in ("random", "abstain"):
        raise SchemaError(f"tie_break must be 'random' or 'abstain', got {tie_break!r}")
    top = proba.max(axis=1, keepdims=True)
    tied = proba >= top - TIE_TOLERANCE
    n_tied = tied.sum(axis=1)
    if tie_break == "abstain":
        out: IntArray = np.argmax(tied, axis=1).astype(np.int64)
        out[(n_tied > 1) | ~covered] = -1
        return out
    rng = np.random.default_rng(seed)
    # Each tied class draws a random key; the largest key wins: uniform among the tied.
    keys = np.where(tied, rng.random(proba.shape), -1.0)
    chosen: IntArray = np.argmax(keys, axis=1).astype(np.int64)
    return chosen


class BaseLabelModel:
    """Common scikit-learn-style surface of the label models.

    Subclasses implement ``fit`` and ``_scores`` (log-scores of records with at least one
    vote, from the one-hot vote matrix). Every fitted model has ``class_balance_`` and
    ``n_lfs_``.
    """

    cardinality: int
    seed: int
    class_balance_: FloatArray
    n_lfs_: int

    def __init__(self, cardinality: int, *, seed: int = 0) -> None:
        self.cardinality = check_cardinality(cardinality)
        self.seed = seed

    # -- helpers for subclasses -------------------------------------------------------
    def _one_hot(self, L: LabelMatrix, *, name: str = "L") -> sp.csr_matrix:
        S = check_matrix(L, self.cardinality, name=name)
        if hasattr(self, "n_lfs_") and S.shape[1] != self.n_lfs_:
            raise SchemaError(
                f"{name} has {S.shape[1]} LF columns but the model was fitted on {self.n_lfs_}"
            )
        return one_hot(S, self.cardinality)

    def _dev(
        self, L_dev: LabelMatrix | None, Y_dev: npt.ArrayLike | None, m: int
    ) -> tuple[sp.csr_matrix | None, IntArray | None]:
        """Validate the dev set; rows with gold ``-1`` are dropped."""
        if Y_dev is None:
            if L_dev is not None:
                raise SchemaError("L_dev was given without Y_dev: pass the gold labels too")
            return None, None
        Y = check_labels(Y_dev, self.cardinality)
        if L_dev is None:
            return None, Y[Y >= 0]
        Sd = check_matrix(L_dev, self.cardinality, name="L_dev")
        if Sd.shape[1] != m:
            raise SchemaError(f"L_dev has {Sd.shape[1]} LF columns, L has {m}")
        if Sd.shape[0] != Y.shape[0]:
            raise SchemaError(f"L_dev has {Sd.shape[0]} records but Y_dev has {Y.shape[0]}")
        keep = Y >= 0
        return one_hot(Sd[keep], self.cardinality), Y[keep]

    def _fit_inputs(
        self,
        L: LabelMatrix,
        L_dev: LabelMatrix | None,
        Y_dev: npt.ArrayLike | None,
        class_balance: npt.ArrayLike | None,
    ) -> tuple[sp.csr_matrix, sp.csr_matrix | None, IntArray | None, FloatArray | None]:
        """What every ``fit`` starts from, checked: the one-hot ``L``, the dev set (see
        :meth:`_dev`) and the user's ``class_balance`` (``None`` when not given)."""
        X = self._one_hot(L)
        Xd, Yd = self._dev(L_dev, Y_dev, X.shape[1] // self.cardinality)
        return X, Xd, Yd, check_class_balance(class_balance, self.cardinality)

    def _check_fitted(self) -> None:
        if not hasattr(self, "class_balance_"):
            raise SchemaError(f"{type(self).__name__} is not fitted yet: call fit(L) first")

    def _scores(self, X: sp.csr_matrix) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public surface ---------------------------------------------------------------
    def predict_proba(self, L: LabelMatrix) -> FloatArray:
        """Probability of each class for each record, shape ``(n, k)``.

        Records on which every LF abstained get ``class_balance_``.
        """
        self._check_fitted()
        return self._proba(self._one_hot(L))

    def _proba(self, X: sp.csr_matrix) -> FloatArray:
        covered = np.diff(X.indptr) > 0
        proba = np.empty((X.shape[0], self.cardinality), dtype=np.float64)
        proba[~covered] = self.class_balance_
        if covered.any():
            Xc = X[covered] if not covered.all() else X
            proba[covered] = softmax_rows(self._scores(Xc))
        return proba

    def predict(
        self, L: LabelMatrix, *, tie_break: TieBreak = "random", seed: int | None = None
    ) -> IntArray:
        """Most probable class per record; ``-1`` where the policy abstains.

        Parameters
        ----------
        L
            Label matrix, dense or sparse.
        tie_break
            ``"random"``: a uniformly random class among the tied ones (seeded);
            ``"abstain"``: ``-1`` for tied records and for records with no vote.
        seed
            Seed of the tie-breaking generator; defaults to the model's ``seed``.
        """
        self._check_fitted()
        X = self._one_hot(L)
        covered = np.asarray(np.diff(X.indptr) > 0)
        proba = self._proba(X)
        return pick(proba, covered, tie_break=tie_break, seed=self.seed if seed is None else seed)

    def score(self, L: LabelMatrix, Y: npt.ArrayLike, *, tie_break: TieBreak = "random") -> float:
        """Accuracy of ``predict`` against gold ``Y`` (records with gold ``-1`` ignored)."""
        Yc = check_labels(Y, self.cardinality)
        keep = Yc >= 0
        pred = self.predict(L, tie_break=tie_break)
        return float((pred[keep] == Yc[keep]).mean()) if keep.any() else float("nan")

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``get_params`` gives them."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
