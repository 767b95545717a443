"""Dawid-Skene: one confusion matrix per LF, fitted by EM with Dirichlet priors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from goldsmith.weak.label_models._base import BaseLabelModel, FloatArray, check_class_balance
from goldsmith.weak.label_models._em import (
    fit_em,
    lf_accuracies,
    log_weights,
    subsample_rows,
)
from goldsmith.weak.matrix import LabelMatrix


class DawidSkene(BaseLabelModel):
    """Dawid & Skene (1979): LFs are independent given the class, each with a confusion matrix.

    EM starts from the soft majority vote and alternates posteriors (E) with maximum
    a-posteriori confusion matrices and class balance (M). Every step is a sparse product
    over the vote matrix, so it scales with the number of votes, not of cells.

    Parameters
    ----------
    cardinality
        Number of classes ``k``.
    seed
        Seed of the tie-breaking generator and of the fitting sample.
    model_abstains
        ``False`` (classic): abstains are missing data. ``True``: abstaining is one more
        outcome with its own class-dependent rate, which makes LFs that vote a single class
        informative.
    prior_strength
        Dirichlet pseudo-records per (LF, class), spread like the LF's marginal outcomes.
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
    abstain_rates_ : ndarray of shape (m, k)
        ``P(LF j abstains | class y)``; estimated when ``model_abstains`` else the LF's
        overall abstain rate for every class.
    accuracies_ : ndarray of shape (m,)
        ``P(LF j's vote is right | it voted)`` under the fitted model.
    class_balance_ : ndarray of shape (k,)
    n_iter_, converged_, n_lfs_
    """

    confusion_: FloatArray
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
        model_abstains: bool = False,
        prior_strength: float = 2.0,
        accuracy_prior: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-7,
        fit_sample: int | None = None,
    ) -> None:
        super().__init__(cardinality, seed=seed)
        self.model_abstains = model_abstains
        self.prior_strength = prior_strength
        self.accuracy_prior = accuracy_prior
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
        X = self._one_hot(L)
        m = X.shape[1] // k
        Xd, Yd = self._dev(L_dev, Y_dev, m)
        balance = check_class_balance(class_balance, k)
        if balance is None and Yd is not None and Xd is None and Yd.size:
            balance = (np.bincount(Yd, minlength=k) + 1.0) / (Yd.size + k)
        Xs, _ = subsample_rows(X, self.fit_sample, self.seed)
        res = fit_em(
            Xs,
            k,
            model_abstains=self.model_abstains,
            prior_strength=self.prior_strength,
            accuracy_prior=self.accuracy_prior,
            class_balance=balance,
            X_dev=Xd,
            Y_dev=Yd,
            max_iter=self.max_iter,
            tol=self.tol,
        )
        self.n_lfs_ = m
        self.emission_ = res.emission
        self.class_balance_ = res.class_balance
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        votes = res.emission[:, 1:, :]
        self.confusion_ = np.transpose(votes / votes.sum(axis=1, keepdims=True), (0, 2, 1))
        if self.model_abstains:
            self.abstain_rates_ = res.emission[:, 0, :].copy()
        else:
            rate = 1.0 - np.bincount(Xs.indices // k, minlength=m) / max(Xs.shape[0], 1)
            self.abstain_rates_ = np.repeat(rate[:, None], k, axis=1)
        self.accuracies_ = lf_accuracies(res.emission, res.class_balance, self.model_abstains)
        return self

    def _scores(self, X: sp.csr_matrix) -> FloatArray:
        W, offset = log_weights(self.emission_, self.model_abstains)
        S = np.asarray(X @ W)
        S += offset + np.log(self.class_balance_)
        return S
