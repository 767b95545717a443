"""Expectation-maximisation for conditionally independent LFs, on the one-hot vote matrix.

The generative model: a record's class ``y`` is drawn from the class balance ``pi``; each
LF ``j`` then emits an outcome ``o`` (abstain, or a vote for class ``l``) from its own
``P(o | y)``, independently of the other LFs given ``y`` (Dawid & Skene, 1979).

Two variants share this code:

* ``model_abstains=False`` (classic Dawid-Skene): abstains carry no information; each LF has
  a confusion matrix ``P(l | y, voted)`` over its votes.
* ``model_abstains=True``: abstaining is one more outcome whose rate depends on the class.
  This is what makes *unipolar* LFs (that only ever vote one class, as most keyword LFs do)
  informative: such an LF fires far more often on its class than on the others.

Each E-step is one sparse product ``X @ W`` and each M-step one ``X.T @ Q``, where ``X`` is
the ``(n, m * k)`` one-hot vote matrix (see :func:`goldsmith.weak.matrix.one_hot`), so an
iteration costs ``O(nnz * k)`` with no Python loop over records.

Priors (Dirichlet pseudo-counts, per LF and true class):

* ``prior_strength`` pseudo-records spread like the LF's own marginal outcome frequencies,
  which shrinks rarely seen (LF, outcome, class) cells toward "the LF is uninformative";
* ``accuracy_prior`` pseudo-votes on the diagonal ``o = y``, a mild belief that LFs are
  better than chance, which also fixes the label-switching symmetry of EM;
* ``balance_prior`` pseudo-records per class for ``pi``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.weak.label_models._base import FloatArray, IntArray, softmax_rows

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

LOG_FLOOR = 1e-12


@dataclass(frozen=True)
class EMResult:
    """Parameters found by :func:`fit_em`.

    ``emission[j, o, y]`` is ``P(outcome o of LF j | class y)`` where ``o = 0`` is abstain
    and ``o = l + 1`` a vote for class ``l`` (the sparse encoding of ``L``). Without abstain
    modelling, row ``o = 0`` is zero and the vote rows sum to one.
    """

    emission: FloatArray
    class_balance: FloatArray
    n_iter: int
    converged: bool
    log_likelihood: float


class EMSettings(Protocol):
    """The EM settings a label model is built with (what :func:`fit_em_as` reads)."""

    cardinality: int
    prior_strength: float
    accuracy_prior: float
    max_iter: int
    tol: float


def fit_em_as(
    model: EMSettings,
    X: sp.csr_matrix,
    *,
    class_balance: FloatArray | None,
    X_dev: sp.csr_matrix | None,
    Y_dev: IntArray | None,
    dev_weight: float = 1.0,
) -> EMResult:
    """:func:`fit_em` with abstains modelled, under ``model``'s priors, iterations and
    tolerance."""
    return fit_em(
        X,
        model.cardinality,
        model_abstains=True,
        prior_strength=model.prior_strength,
        accuracy_prior=model.accuracy_prior,
        class_balance=class_balance,
        X_dev=X_dev,
        Y_dev=Y_dev,
        dev_weight=dev_weight,
        max_iter=model.max_iter,
        tol=model.tol,
    )


def majority_posteriors(X: sp.csr_matrix, k: int, prior: FloatArray) -> FloatArray:
    """Soft majority vote: uniform over the top-voted classes; ``prior`` where no vote."""
    m = X.shape[1] // k
    V = np.asarray(X @ np.tile(np.eye(k), (m, 1)))
    top = V.max(axis=1, keepdims=True)
    Q = (top <= V) & (top > 0)
    out: FloatArray = Q.astype(np.float64)
    covered = top[:, 0] > 0
    out[covered] /= out[covered].sum(axis=1, keepdims=True)
    out[~covered] = prior
    return out


def log_weights(emission: FloatArray, model_abstains: bool) -> tuple[FloatArray, FloatArray]:
    """The ``(m * k, k)`` vote weights and ``(k,)`` offset of the log-posterior.

    ``log P(y | L_i) = log pi_y + offset_y + (X @ W)[i, y] + const``.
    """
    m, _, k = emission.shape
    logE = np.log(np.maximum(emission, LOG_FLOOR))
    if model_abstains:
        W = logE[:, 1:, :] - logE[:, :1, :]
        offset = logE[:, 0, :].sum(axis=0)
    else:
        W = logE[:, 1:, :]
        offset = np.zeros(k)
    return np.ascontiguousarray(W.reshape(m * k, k)), offset


def fit_em(
    X: sp.csr_matrix,
    k: int,
    *,
    model_abstains: bool,
    prior_strength: float = 2.0,
    accuracy_prior: float = 1.0,
    balance_prior: float = 1.0,
    class_balance: FloatArray | None = None,
    X_dev: sp.csr_matrix | None = None,
    Y_dev: IntArray | None = None,
    dev_weight: float = 1.0,
    max_iter: int = 200,
    tol: float = 1e-7,
) -> EMResult:
    """Maximum a-posteriori parameters of the conditionally independent model, by EM.

    Parameters
    ----------
    X
        One-hot vote matrix ``(n, m * k)``.
    k
        Number of classes.
    model_abstains
        Whether abstaining is a class-dependent outcome (see the module docstring).
    prior_strength, accuracy_prior, balance_prior
        Dirichlet pseudo-counts (see the module docstring).
    class_balance
        Fixed ``pi``; estimated when ``None``.
    X_dev, Y_dev, dev_weight
        Labeled records whose class is known: they enter every M-step with their true class,
        each counting ``dev_weight`` records (semi-supervised EM).
    max_iter, tol
        Stop when the mean log-likelihood per record improves by less than ``tol``.
    """
    n, mk = X.shape
    m = mk // k
    eye = np.eye(k)
    # Marginal outcome frequencies per LF: the mean of the shrinkage prior.
    n_eff = max(n, 1)
    vote_freq = np.bincount(X.indices, minlength=mk).reshape(m, k) / n_eff
    if X_dev is not None and Y_dev is not None and X_dev.shape[0] and n == 0:
        vote_freq = np.bincount(X_dev.indices, minlength=mk).reshape(m, k) / X_dev.shape[0]
    if model_abstains:
        outcome_freq = np.concatenate([1.0 - vote_freq.sum(1, keepdims=True), vote_freq], 1)
    else:
        voted = vote_freq.sum(1, keepdims=True)
        outcome_freq = np.concatenate(
            [np.zeros((m, 1)), np.where(voted > 0, vote_freq / np.maximum(voted, 1e-300), 1 / k)],
            1,
        )
    outcome_freq = np.clip(outcome_freq, 0.0, 1.0)
    prior_counts = prior_strength * outcome_freq[:, :, None] + np.zeros((m, k + 1, k))
    prior_counts[:, 1:, :] += accuracy_prior * eye[None, :, :]

    dev_counts = np.zeros((m, k, k))
    dev_tot = np.zeros(k)
    if X_dev is not None and Y_dev is not None and X_dev.shape[0]:
        Yd = eye[Y_dev] * dev_weight
        dev_counts = np.asarray(X_dev.T @ Yd).reshape(m, k, k)
        dev_tot = Yd.sum(axis=0)

    pi = class_balance if class_balance is not None else np.full(k, 1.0 / k)
    Q = majority_posteriors(X, k, pi)
    emission = np.zeros((m, k + 1, k))
    log_lik = -np.inf
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        # M-step: expected counts of (LF, outcome, class).
        counts = np.empty((m, k + 1, k))
        votes = np.asarray(X.T @ Q).reshape(m, k, k) + dev_counts
        tot = Q.sum(axis=0) + dev_tot
        counts[:, 1:, :] = votes
        counts[:, 0, :] = np.maximum(tot[None, :] - votes.sum(axis=1), 0.0) if model_abstains else 0
        counts += prior_counts
        emission = counts / counts.sum(axis=1, keepdims=True)
        if class_balance is None:
            pi = (tot + balance_prior) / (tot.sum() + k * balance_prior)
        # E-step.
        W, offset = log_weights(emission, model_abstains)
        S = np.asarray(X @ W)
        S += offset + np.log(pi)
        top = S.max(axis=1, keepdims=True)
        new_ll = float((np.log(np.exp(S - top).sum(axis=1)) + top[:, 0]).sum()) / n_eff
        Q = softmax_rows(S)
        if abs(new_ll - log_lik) < tol:
            converged = True
            log_lik = new_ll
            break
        log_lik = new_ll
    return EMResult(
        emission=emission,
        class_balance=np.asarray(pi, dtype=np.float64),
        n_iter=it,
        converged=converged,
        log_likelihood=log_lik,
    )


def lf_accuracies(
    emission: FloatArray, class_balance: FloatArray, model_abstains: bool
) -> FloatArray:
    """``P(vote == y | LF voted)`` per LF under the fitted model.

    Without abstain modelling the firing rate is taken to be the same for every class.
    """
    k = emission.shape[2]
    diag = emission[:, 1:, :][:, np.arange(k), np.arange(k)]  # (m, k): P(vote y | y)
    if model_abstains:
        fire = 1.0 - emission[:, 0, :]
        num = (diag * class_balance).sum(axis=1)
        den = (fire * class_balance).sum(axis=1)
        out: FloatArray = np.where(den > 0, num / np.maximum(den, 1e-300), np.nan)
        return out
    acc: FloatArray = (diag * class_balance).sum(axis=1)
    return acc


def lf_precisions(emission: FloatArray, class_balance: FloatArray) -> FloatArray:
    """``P(y = l | LF j voted l)`` as an ``(m, k)`` array, by Bayes' rule."""
    votes = emission[:, 1:, :] * class_balance[None, None, :]  # (m, l, y) joint
    k = emission.shape[2]
    num = votes[:, np.arange(k), np.arange(k)]
    den = votes.sum(axis=2)
    out: FloatArray = num / np.maximum(den, 1e-300)
    return out


def subsample_rows(
    X: sp.csr_matrix, limit: int | None, seed: int
) -> tuple[sp.csr_matrix, npt.NDArray[np.int64] | None]:
    """A uniform random subset of at most ``limit`` rows (all rows when ``limit`` is None)."""
    n = X.shape[0]
    if limit is None or n <= limit:
        return X, None
    rows = np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))
    return X[rows], rows


def gold_balance(Y: IntArray, k: int, *, pseudo_count: float = 1.0) -> FloatArray:
    """``P(y)`` from gold class indices, with ``pseudo_count`` added to every class.

    >>> gold_balance(np.array([0, 0, 0, 1]), 3).round(3).tolist()
    [0.571, 0.286, 0.143]
    """
    counts = np.bincount(Y, minlength=k).astype(np.float64) + pseudo_count
    out: FloatArray = counts / counts.sum()
    return out


def estimate_prior(
    S: FloatArray, *, init: FloatArray | None = None, max_iter: int = 500, tol: float = 1e-8
) -> FloatArray:
    """The class balance that explains log-likelihood scores ``S`` ``(n, k)``, by EM.

    Each row of ``S`` is ``log P(votes_i | y) + const`` with no prior in it. The fixed point of
    ``pi <- mean_i P(y | votes_i; pi)`` is the maximum-likelihood ``pi`` given those
    likelihoods (Saerens, Latinne & Decaestecker, 2002). Unlike the joint EM, it leaves the
    LF parameters alone, so a class balance badly identified by sparse, abstaining LFs does
    not drag them along.

    >>> S = np.log(np.array([[0.9, 0.1]] * 70 + [[0.1, 0.9]] * 30))
    >>> estimate_prior(S).round(2).tolist()
    [0.75, 0.25]
    """
    n, k = S.shape
    pi = np.full(k, 1.0 / k) if init is None else np.asarray(init, dtype=np.float64)
    if n == 0:
        return pi
    base = S - S.max(axis=1, keepdims=True)
    for _ in range(max_iter):
        Q = softmax_rows(base + np.log(np.maximum(pi, LOG_FLOOR)))
        new = Q.mean(axis=0)
        done = float(np.abs(new - pi).max()) < tol
        pi = new
        if done:
            break
    pi = np.maximum(pi, LOG_FLOOR)
    out: FloatArray = pi / pi.sum()
    return out
