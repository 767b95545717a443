"""A hidden Markov model over token tags for span LFs, fitted by EM (Baum-Welch).

The hidden state of each token is its true tag (``O``, or ``B-t``/``I-t`` for entity type
``t`` under BIO tagging; ``O`` or ``t`` under IO). Each span source is an observer: on every
token it reports the tag its own spans give the token (``O`` where it tags nothing), drawn
from a categorical ``P(reported tag | true tag)`` of its own, independently of the other
sources given the true tag. Tags follow a first-order Markov chain, so the model learns that
entities run over several tokens and where they start, which a token-by-token vote cannot.

EM starts from the token majority vote (each token gets the tag most of the sources that tag
it report), uses Dirichlet pseudo-counts that favour sources reporting the true tag, and runs
the scaled forward-backward recursions on all documents at once (padded to the longest),
so each iteration is ``O(max length)`` numpy steps of size ``(documents, tags)``.
Decoding is Viterbi (the most probable tag sequence) or the posterior marginals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import SchemaError
from goldsmith.weak.label_models._base import FloatArray, IntArray
from goldsmith.weak.label_models._baum_welch import (
    TINY,
    bigram_counts,
    forward_backward,
    nonempty,
    viterbi,
)

if TYPE_CHECKING:
    import scipy.sparse as sp
else:
    sp = lazy_module("scipy.sparse")

Span = tuple[int, int, str]
Scheme = Literal["bio", "io"]
Decode = Literal["viterbi", "posterior"]


class SpanHMM:
    """Hidden Markov model over token tags whose observers are the span sources.

    Parameters
    ----------
    types
        Entity types.
    scheme
        ``"bio"`` (default): tags ``O, B-t, I-t``, so adjacent entities stay apart;
        ``"io"``: tags ``O, t``.
    decode
        ``"viterbi"`` (default) or ``"posterior"`` (the most probable tag per token).
    emission_prior
        Dirichlet pseudo-counts per (source, true tag): half on reporting the true tag, half
        on reporting ``O`` (sources miss more than they invent).
    transition_prior
        Dirichlet pseudo-counts per row of the transition matrix, spread over allowed moves.
    untagged
        ``"outside"`` (default): a token no source tags is ``O``, as in the token models;
        ``"infer"``: the chain may tag it (say, inside a long entity).
    max_iter, tol
        EM stops after ``max_iter`` iterations or when the log-likelihood per token improves
        by less than ``tol``.
    seed
        Unused by the fit (it is deterministic); kept for the label-model interface.

    Attributes
    ----------
    tags_ : list of str
    start_ : ndarray of shape (n_tags,)
    transition_ : ndarray of shape (n_tags, n_tags)
    emission_ : ndarray of shape (n_sources, n_tags, n_tags)
        ``emission_[j, h, v] = P(source j reports tag v | true tag h)``.
    class_balance_ : ndarray of shape (1 + n_types,)
        Share of tokens in ``O`` and in each type, from the fitted posteriors.
    n_iter_, converged_, log_likelihood_
    """

    tags_: list[str]
    start_: FloatArray
    transition_: FloatArray
    emission_: FloatArray
    class_balance_: FloatArray
    n_iter_: int
    converged_: bool
    log_likelihood_: float

    def __init__(
        self,
        types: Sequence[str],
        *,
        scheme: Scheme = "bio",
        decode: Decode = "viterbi",
        emission_prior: float = 2.0,
        transition_prior: float = 1.0,
        untagged: Literal["outside", "infer"] = "outside",
        max_iter: int = 50,
        tol: float = 1e-5,
        seed: int = 0,
    ) -> None:
        if not types:
            raise SchemaError("SpanHMM needs at least one entity type")
        if scheme not in ("bio", "io"):
            raise SchemaError(f"scheme must be 'bio' or 'io', got {scheme!r}")
        if decode not in ("viterbi", "posterior"):
            raise SchemaError(f"decode must be 'viterbi' or 'posterior', got {decode!r}")
        self.types = list(types)
        self.scheme = scheme
        self.decode = decode
        self.emission_prior = emission_prior
        self.transition_prior = transition_prior
        self.untagged = untagged
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed

    # -- encoding -----------------------------------------------------------------------
    def _n_tags(self) -> int:
        return 1 + len(self.types) * (2 if self.scheme == "bio" else 1)

    def _tag_names(self) -> list[str]:
        if self.scheme == "io":
            return ["O", *self.types]
        return ["O", *[f"{p}-{t}" for t in self.types for p in ("B", "I")]]

    def _allowed(self) -> npt.NDArray[np.bool_]:
        """Allowed moves (BIO: ``I-t`` only after ``B-t`` or ``I-t``) and allowed starts."""
        K = self._n_tags()
        allowed = np.ones((K + 1, K), dtype=bool)  # last row: the start
        if self.scheme == "bio":
            for t in range(len(self.types)):
                inside = 2 + 2 * t
                allowed[:, inside] = False
                allowed[[inside - 1, inside], inside] = True
        return allowed

    def _observations(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> IntArray:
        """``(total tokens, n sources)`` tags reported by each source (0 = O)."""
        if len(source_spans) != len(lengths):
            raise SchemaError(f"{len(source_spans)} documents of spans for {len(lengths)} lengths")
        index = {t: i for i, t in enumerate(self.types)}
        m = len(source_spans[0]) if source_spans else 0
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        obs = np.zeros((int(offsets[-1]), m), dtype=np.int64)
        for d, doc in enumerate(source_spans):  # loops over spans, not tokens
            if len(doc) != m:
                raise SchemaError(f"document {d} has {len(doc)} sources, expected {m}")
            for s, spans in enumerate(doc):
                for start, end, kind in spans:
                    if kind not in index:
                        raise SchemaError(f"unknown entity type {kind!r} (document {d})")
                    if not 0 <= start < end <= lengths[d]:
                        raise SchemaError(f"span {(start, end)} outside document {d}")
                    a, b = offsets[d] + start, offsets[d] + end
                    if self.scheme == "io":
                        obs[a:b, s] = 1 + index[kind]
                    else:
                        obs[a:b, s] = 2 + 2 * index[kind]
                        obs[a, s] = 1 + 2 * index[kind]
        return obs

    def _log_emissions(self, obs: IntArray) -> FloatArray:
        """``(tokens, tags)`` log-likelihood of every token's reports under each true tag."""
        logE = np.log(np.maximum(self.emission_, TINY))  # (m, K, V)
        m, K, V = logE.shape
        out = np.tile(logE[:, :, 0].sum(axis=0), (obs.shape[0], 1))
        rows, cols = np.nonzero(obs)
        if rows.size:
            delta = (logE - logE[:, :, :1]).transpose(0, 2, 1).reshape(m * V, K)
            X = sp.csr_matrix(
                (np.ones(rows.size), (rows, cols * V + obs[rows, cols])),
                shape=(obs.shape[0], m * V),
            )
            out += np.asarray(X @ delta)
        if self.untagged == "outside":  # no source tags the token: it is outside
            out[~obs.any(axis=1), 1:] = np.log(TINY)
        return out

    # -- EM -----------------------------------------------------------------------------
    def fit(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> SpanHMM:
        """Fit by Baum-Welch on the documents' source spans (no gold); returns ``self``."""
        obs = self._observations(lengths, source_spans)
        lens = nonempty(lengths)
        if obs.shape[0] == 0:
            raise SchemaError("SpanHMM.fit needs at least one token")
        K, m = self._n_tags(), obs.shape[1]
        allowed = self._allowed()
        eye = np.eye(K)
        e_prior = self.emission_prior * 0.5 * (eye + eye[:1])[None].repeat(m, 0)  # (m, K, V)
        t_prior = self.transition_prior * allowed / allowed.sum(axis=1, keepdims=True)
        gamma = self._majority_posteriors(obs)
        xi = bigram_counts(gamma, lens, K)
        self.tags_ = self._tag_names()
        log_lik, converged, it = -np.inf, False, 0
        while True:
            self._m_step(obs, gamma, xi, e_prior, t_prior, allowed)
            if it >= self.max_iter:
                break
            it += 1
            gamma, xi, new_ll = forward_backward(
                self._log_emissions(obs), lens, self.start_, self.transition_
            )
            if abs(new_ll - log_lik) < self.tol:
                converged = True
                log_lik = new_ll
                self._m_step(obs, gamma, xi, e_prior, t_prior, allowed)
                break
            log_lik = new_ll
        self.n_iter_, self.converged_, self.log_likelihood_ = it, converged, log_lik
        self.class_balance_ = self._collapse(gamma).mean(axis=0)
        return self

    def _majority_posteriors(self, obs: IntArray) -> FloatArray:
        """Token majority vote: among the sources that tag a token, the tag most of them
        report (``B-t`` or ``I-t``; ties share); a token no source tags is ``O``."""
        K = self._n_tags()
        counts = np.stack([(obs == v).sum(axis=1) for v in range(1, K)], axis=1)
        top = counts.max(axis=1, keepdims=True)
        out: FloatArray = np.column_stack([top[:, 0] == 0, (counts >= top) & (top > 0)])
        out = out.astype(np.float64)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def _m_step(
        self,
        obs: IntArray,
        gamma: FloatArray,
        xi: tuple[FloatArray, FloatArray],
        e_prior: FloatArray,
        t_prior: FloatArray,
        allowed: npt.NDArray[np.bool_],
    ) -> None:
        m, K = obs.shape[1], gamma.shape[1]
        counts = np.zeros((m, K, K))  # (source, true, reported)
        for v in range(K):  # K is small: one pass per reported tag
            counts[:, :, v] = (obs == v).T.astype(np.float64) @ gamma
        counts += e_prior
        self.emission_ = counts / counts.sum(axis=2, keepdims=True)
        starts, moves = xi
        full = np.vstack([moves, starts[None]]) * allowed + t_prior
        full /= full.sum(axis=1, keepdims=True)
        self.transition_, self.start_ = full[:-1], full[-1]

    def _collapse(self, gamma: FloatArray) -> FloatArray:
        """Tag probabilities to ``O`` + one class per type (``B-t`` and ``I-t`` summed)."""
        if self.scheme == "io":
            return gamma
        out: FloatArray = np.column_stack(
            [
                gamma[:, 0],
                *[gamma[:, 1 + 2 * t] + gamma[:, 2 + 2 * t] for t in range(len(self.types))],
            ]
        )
        return out

    # -- prediction ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "emission_"):
            raise SchemaError("SpanHMM is not fitted yet: call fit first")

    def predict_proba_tokens(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> FloatArray:
        """``(total tokens, 1 + n types)`` posterior class probabilities (0 = ``O``)."""
        self._check_fitted()
        obs = self._observations(lengths, source_spans)
        lens = nonempty(lengths)
        gamma, _, _ = forward_backward(
            self._log_emissions(obs), lens, self.start_, self.transition_
        )
        return self._collapse(gamma)

    def predict_tags(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> IntArray:
        """The decoded tag index of every token (see ``tags_``), documents concatenated."""
        self._check_fitted()
        obs = self._observations(lengths, source_spans)
        lens = nonempty(lengths)
        logB = self._log_emissions(obs)
        if self.decode == "posterior":
            gamma, _, _ = forward_backward(logB, lens, self.start_, self.transition_)
            return np.asarray(gamma.argmax(axis=1), dtype=np.int64)
        return viterbi(logB, lens, self.start_, self.transition_)

    def predict_spans(
        self, lengths: Sequence[int], source_spans: Sequence[Sequence[Sequence[Span]]]
    ) -> list[list[Span]]:
        """Predicted entity spans per document (an ``I`` after another type starts a span)."""
        tags = self.predict_tags(lengths, source_spans)
        out: list[list[Span]] = []
        offset = 0
        bio = self.scheme == "bio"
        for length in lengths:
            doc = tags[offset : offset + length].tolist()
            offset += length
            spans: list[Span] = []
            start, kind = -1, -1
            for i, tag in enumerate([*doc, 0]):
                t = ((tag - 1) // 2 if bio else tag - 1) if tag else -1
                begins = bio and tag and tag % 2 == 1
                if start >= 0 and (t != kind or begins):
                    spans.append((start, i, self.types[kind]))
                    start = -1
                if t >= 0 and start < 0:
                    start, kind = i, t
            out.append(spans)
        return out
