"""Forward-backward (scaled) and Viterbi for many documents at once, in numpy.

Documents are padded to the longest one; every recursion step is one ``(documents, tags)``
operation, and padded positions carry the last valid state through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from goldsmith.weak.label_models._base import FloatArray, IntArray

TINY = 1e-300


def nonempty(lengths: Sequence[int]) -> IntArray:
    """Document lengths without the empty documents (they have no token to tag)."""
    lens = np.asarray(lengths, dtype=np.int64)
    out: IntArray = lens[lens > 0]
    return out


def pad(values: FloatArray, lens: IntArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Documents' rows into a ``(docs, max length, ...)`` array and its validity mask."""
    T = int(lens.max()) if lens.size else 0
    mask = np.arange(T)[None, :] < lens[:, None]
    out = np.zeros((lens.size, T, *values.shape[1:]))
    out[mask] = values
    return out, mask


def bigram_counts(gamma: FloatArray, lens: IntArray, K: int) -> tuple[FloatArray, FloatArray]:
    """Start and transition counts of (hard or soft) tag sequences."""
    G, mask = pad(gamma, lens)
    pair = mask[:, 1:, None, None] * G[:, :-1, :, None] * G[:, 1:, None, :]
    return G[:, 0].sum(axis=0), pair.sum(axis=(0, 1)).reshape(K, K)


def forward_backward(
    logB: FloatArray, lens: IntArray, start: FloatArray, A: FloatArray
) -> tuple[FloatArray, tuple[FloatArray, FloatArray], float]:
    """Scaled forward-backward over all documents at once.

    Returns the posteriors ``(tokens, K)``, the expected (start, transition) counts and the
    log-likelihood per token.
    """
    top = logB.max(axis=1, keepdims=True)
    B, mask = pad(np.exp(logB - top), lens)
    D, T, K = B.shape
    alpha = np.zeros((D, T, K))
    scale = np.ones((D, T))
    a = start * B[:, 0]
    scale[:, 0] = a.sum(axis=1)
    alpha[:, 0] = a / scale[:, :1]
    for t in range(1, T):
        a = (alpha[:, t - 1] @ A) * B[:, t]
        s = np.where(mask[:, t], a.sum(axis=1), 1.0)
        alpha[:, t] = np.where(mask[:, t, None], a / s[:, None], alpha[:, t - 1])
        scale[:, t] = s
    beta = np.ones((D, T, K))
    for t in range(T - 2, -1, -1):
        b = ((B[:, t + 1] * beta[:, t + 1]) @ A.T) / scale[:, t + 1, None]
        beta[:, t] = np.where(mask[:, t + 1, None], b, 1.0)
    post = alpha * beta
    gamma = post[mask]
    gamma /= gamma.sum(axis=1, keepdims=True)
    nxt = (B[:, 1:] * beta[:, 1:]) / scale[:, 1:, None] * mask[:, 1:, None]
    moves = np.einsum("dti,dtj->ij", alpha[:, :-1], nxt) * A
    log_lik = float(np.log(np.maximum(scale[mask], TINY)).sum() + top.sum()) / max(len(gamma), 1)
    return gamma, (gamma[np.cumsum(lens) - lens].sum(axis=0), moves), log_lik


def viterbi(logB: FloatArray, lens: IntArray, start: FloatArray, A: FloatArray) -> IntArray:
    """Most probable tag sequence of every document, vectorised over documents."""
    LB, mask = pad(logB, lens)
    D, T, K = LB.shape
    logA = np.log(np.maximum(A, TINY))
    score = np.log(np.maximum(start, TINY)) + LB[:, 0]
    back = np.zeros((D, T, K), dtype=np.int64)
    for t in range(1, T):
        cand = score[:, :, None] + logA[None]
        back[:, t] = cand.argmax(axis=1)
        new = cand.max(axis=1) + LB[:, t]
        score = np.where(mask[:, t, None], new, score)
    path = np.zeros((D, T), dtype=np.int64)
    cur = score.argmax(axis=1)
    for t in range(T - 1, -1, -1):
        active = mask[:, t]
        last = lens - 1 == t
        cur = np.where(last, score.argmax(axis=1), cur)
        path[:, t] = np.where(active, cur, 0)
        if t > 0:
            cur = np.where(active & (t > 0), back[np.arange(D), t, cur], cur)
    out: IntArray = path[mask]
    return out
