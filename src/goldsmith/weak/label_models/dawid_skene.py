"""Dawid-Skene: one confusion matrix per LF, fitted by EM with Dirichlet priors.

Labeling functions are not crowd workers: most vote a single class (a keyword LF says "spam"
or nothing) and abstain on most records. Under the classic model, which treats abstains as
missing and gives each LF a full confusion matrix ``P(vote | class, voted)``, such a
*unipolar* LF votes its class whatever the true class is, so it carries no information at
all and the posterior falls back to the class balance (WRENCH youtube 52.8 % against
majority vote's 81.2 %). This module therefore picks a parametrisation per LF:

* ``full``: a confusion matrix, for LFs that vote every class (annotators, multi-class
  model LFs); each row is smoothed by a Dirichlet prior (``prior_strength`` pseudo-votes
  spread like the LF's own votes plus ``accuracy_prior`` on the diagonal);
* ``one-coin`` (symmetric): one accuracy ``a_j`` per LF, ``P(vote = y | y) = a_j`` and
  ``(1 - a_j) / (k - 1)`` for each wrong class, with a Beta prior of the same pseudo-counts.
  A unipolar LF's vote is then evidence for its class with weight
  ``log(a_j (k - 1) / (1 - a_j))``: a weighted majority vote whose weights EM learns.
  Accuracies are kept at or above chance (``1 / k``): a vote never counts *against* the
  class it names.

EM starts from the soft majority vote (ties share the mass) and alternates posteriors (E)
with maximum a-posteriori parameters (M); each step is one sparse product over the one-hot
vote matrix, so it costs ``O(nnz * k)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.weak.label_models._base import (
    BaseLabelModel,
    FloatArray,
    IntArray,
    softmax_rows,
)
from goldsmith.weak.label_models._em import (
    fit_em_as,
    gold_balance,
    lf_accuracies,
    log_weights,
    majority_posteriors,
    subsample_rows,
)
from goldsmith.weak.matrix import LabelMatrix

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

Confusion = Literal["auto", "full", "one-coin"]


class DawidSkene(BaseLabelModel):
    """Dawid & Skene (1979): LFs are independent given the class, each with a confusion matrix.

    Parameters
    ----------
    cardinality
        Number of classes ``k``.
    seed
        Seed of the tie-breaking generator and of the fitting sample.
    confusion
        ``"auto"`` (default): a full confusion matrix for LFs that vote every class, one
        accuracy ("one-coin") for the others; ``"full"``: the classic model for every LF;
        ``"one-coin"``: one accuracy for every LF. See the module docstring.
    model_abstains
        ``False`` (classic): abstains are missing data. ``True``: abstaining is one more
        outcome with its own class-dependent rate (full confusion for every LF; ``confusion``
        is then ignored).
    prior_strength
        Dirichlet pseudo-votes per (LF, class), spread like the LF's marginal votes.
    accuracy_prior
        Dirichlet pseudo-votes on the diagonal of each confusion matrix.
    max_iter, tol
        EM stops after ``max_iter`` iterations or when the mean log-likelihood per record
        improves by less than ``tol``.
    fit_sample
        Fit on a uniform random sample of at most this many records (``None``: all).

    Attributes
    ----------
    confusion_ : ndarray of shape (m, k, k)
        ``confusion_[j, y, l] = P(LF j votes l | class y, LF j voted)``.
    one_coin_ : ndarray of shape (m,), bool
        Which LFs were fitted with a single accuracy.
    abstain_rates_ : ndarray of shape (m, k)
        ``P(LF j abstains | class y)``; estimated when ``model_abstains`` else the LF's
        overall abstain rate for every class.
    accuracies_ : ndarray of shape (m,)
        ``P(LF j's vote is right | it voted)`` under the fitted model.
    class_balance_ : ndarray of shape (k,)
    n_iter_, converged_, n_lfs_

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[0, -1, 0], [1, 1, -1], [0, 0, 1], [-1, 1, 1]] * 5)
    >>> DawidSkene(2).fit(L).predict(L[:4]).tolist()
    [0, 1, 0, 1]
    """

    confusion_: FloatArray
    one_coin_: npt.NDArray[np.bool_]
    abstain_rates_: FloatArray
    accuracies_: FloatArray
    emission_: FloatArray
    n_iter_: int
    converged_: bool

    def __init__(
        self,
        cardinality: int,
        *,
        seed: int = 0,
        confusion: Confusion = "auto",
        model_abstains: bool = False,
        prior_strength: float = 2.0,
        accuracy_prior: float = 1.0,
        coin_prior: float = 16.0,
        max_iter: int = 200,
        tol: float = 1e-7,
        fit_sample: int | None = None,
    ) -> None:
        super().__init__(cardinality, seed=seed)
        if confusion not in ("auto", "full", "one-coin"):
            raise SchemaError(f"confusion must be 'auto', 'full' or 'one-coin', got {confusion!r}")
        self.confusion = confusion
        self.model_abstains = model_abstains
        self.prior_strength = prior_strength
        self.accuracy_prior = accuracy_prior
        self.coin_prior = coin_prior
        self.max_iter = max_iter
        self.tol = tol
        self.fit_sample = fit_sample

    def fit(
        self,
        L: LabelMatrix,
        *,
        L_dev: LabelMatrix | None = None,
        Y_dev: npt.ArrayLike | None = None,
        class_balance: npt.ArrayLike | None = None,
    ) -> DawidSkene:
        """Fit by EM on ``L``; returns ``self``.

        ``Y_dev`` alone fixes the class balance to its label frequencies (unless
        ``class_balance`` is given); with ``L_dev`` the dev records also enter every M-step
        with their known class.
        """
        k = self.cardinality
        X, Xd, Yd, balance = self._fit_inputs(L, L_dev, Y_dev, class_balance)
        m = X.shape[1] // k
        if balance is None and Yd is not None and Xd is None and Yd.size:
            balance = gold_balance(Yd, k)
        Xs, _ = subsample_rows(X, self.fit_sample, self.seed)
        self.n_lfs_ = m
        if self.model_abstains:
            res = fit_em_as(self, Xs, class_balance=balance, X_dev=Xd, Y_dev=Yd)
            self.emission_, self.class_balance_ = res.emission, res.class_balance
            self.n_iter_, self.converged_ = res.n_iter, res.converged
            self.one_coin_ = np.zeros(m, dtype=bool)
        else:
            self._fit_votes(Xs, Xd, Yd, balance)
        votes = self.emission_[:, 1:, :]
        self.confusion_ = np.transpose(votes / votes.sum(axis=1, keepdims=True), (0, 2, 1))
        if self.model_abstains:
            self.abstain_rates_ = self.emission_[:, 0, :].copy()
        else:
            rate = 1.0 - np.bincount(Xs.indices // k, minlength=m) / max(Xs.shape[0], 1)
            self.abstain_rates_ = np.repeat(rate[:, None], k, axis=1)
        self.accuracies_ = lf_accuracies(self.emission_, self.class_balance_, self.model_abstains)
        return self

    def _fit_votes(
        self,
        X: sp.csr_matrix,
        X_dev: sp.csr_matrix | None,
        Y_dev: IntArray | None,
        balance: FloatArray | None,
    ) -> None:
        """EM with abstains as missing data: full confusion matrices or one-coin accuracies."""
        k = self.cardinality
        n, mk = X.shape
        m = mk // k
        eye = np.eye(k)
        n_votes: npt.NDArray[np.int64] = np.bincount(X.indices, minlength=mk).reshape(m, k)
        if X_dev is not None:
            n_votes = n_votes + np.bincount(X_dev.indices, minlength=mk).reshape(m, k)
        one_coin = self.confusion == "one-coin" or (
            self.confusion == "auto" and bool(((n_votes > 0).sum(axis=1) == 1).any())
        )
        # Full rows: pseudo-votes spread like the LF's votes, plus some on the diagonal.
        voted = n_votes.sum(axis=1, keepdims=True)
        spread = np.where(voted > 0, n_votes / np.maximum(voted, 1), 1.0 / k)  # (m, l)
        prior_full = self.prior_strength * spread[:, :, None] + self.accuracy_prior * eye
        # One-coin: a Beta prior, ``coin_prior`` right votes and ``prior_strength`` spread.
        prior_right = self.coin_prior + self.prior_strength / k
        prior_total = self.coin_prior + self.prior_strength

        dev_votes = np.zeros((m, k, k))
        dev_tot = np.zeros(k)
        if X_dev is not None and Y_dev is not None and X_dev.shape[0]:
            dev_votes = np.asarray(X_dev.T @ eye[Y_dev]).reshape(m, k, k)
            dev_tot = eye[Y_dev].sum(axis=0)

        pi = balance if balance is not None else np.full(k, 1.0 / k)
        Q = majority_posteriors(X, k, pi)
        emission = np.zeros((m, k + 1, k))
        log_lik, converged, it = -np.inf, False, 0
        while it < self.max_iter:
            it += 1
            votes = np.asarray(X.T @ Q).reshape(m, k, k) + dev_votes  # (j, l voted, y)
            tot = Q.sum(axis=0) + dev_tot
            if balance is None:
                pi = (tot + 1.0) / (tot.sum() + k)
            if one_coin:
                # Votes as if every class had the same size: the accuracy is then the
                # vote's likelihood ratio, free of the class prior.
                even = votes * (tot.mean() / np.maximum(tot, 1e-12))
                acc = (np.trace(even, axis1=1, axis2=2) + prior_right) / (
                    even.sum(axis=(1, 2)) + prior_total
                )
                acc = np.clip(acc, 1.0 / k, 1.0 - 1e-6)
                wrong = (1.0 - acc) / (k - 1)
                emission[:, 1:, :] = wrong[:, None, None] + (acc - wrong)[:, None, None] * eye
            else:
                counts = votes + prior_full
                emission[:, 1:, :] = counts / counts.sum(axis=1, keepdims=True)
            W, _ = log_weights(emission, False)
            S = np.asarray(X @ W)
            if not one_coin:
                S += np.log(pi)
            top = S.max(axis=1, keepdims=True)
            new_ll = float((np.log(np.exp(S - top).sum(axis=1)) + top[:, 0]).sum()) / max(n, 1)
            Q = softmax_rows(S)
            if abs(new_ll - log_lik) < self.tol:
                converged = True
                break
            log_lik = new_ll
        self.emission_ = emission
        self.class_balance_ = np.asarray(pi, dtype=np.float64)
        self.one_coin_ = np.full(m, one_coin)
        self.n_iter_, self.converged_ = it, converged

    def _scores(self, X: sp.csr_matrix) -> FloatArray:
        W, offset = log_weights(self.emission_, self.model_abstains)
        S = np.asarray(X @ W)
        if not self.one_coin_.any():  # one-coin: the prior is for records with no vote only
            S += offset + np.log(self.class_balance_)
        return S
