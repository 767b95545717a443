"""Near-duplicate groups: shingle, MinHash, LSH, verify by exact Jaccard, connect.

The LSH stage only proposes candidate pairs. Each candidate is then checked by the exact
Jaccard similarity of the two gram sets, so a group never rests on a MinHash estimate:
LSH false positives are dropped, and the result depends on the hashing only through the
(small) chance that a truly similar pair never collides in any band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.dedup.minhash import candidate_pairs, lsh_params, signatures
from goldsmith.dedup.shingles import Shingles, normalise, shingle
from goldsmith.errors import ArgumentError

if TYPE_CHECKING:
    import scipy.sparse as sp
    import scipy.sparse.csgraph as _csgraph
else:
    sp = lazy_module("scipy.sparse")
    _csgraph = lazy_module("scipy.sparse.csgraph")

__all__ = [
    "NearDupResult",
    "components",
    "estimated_jaccard",
    "exact_jaccard",
    "near_duplicate_groups",
]

_SKIP_SIGMAS = 4.5


@dataclass(frozen=True, slots=True)
class NearDupResult:
    """Outcome of :func:`near_duplicate_groups`.

    Attributes
    ----------
    groups
        ``int64`` array, one entry per text: the smallest index of the text's group (a
        text without near duplicates is its own group, ``groups[i] == i``), so it can be
        passed as the ``groups`` of a group-aware split as is.
    pairs
        ``(m, 2)`` ``int64`` array of verified pairs ``(i, j)``, ``i < j``: exact Jaccard
        of their gram sets at least the threshold (exact copies after normalisation
        included).
    jaccard
        Exact Jaccard of each verified pair.
    estimate
        MinHash estimate of each verified pair (1.0 for normalised exact copies).
    candidates
        Number of LSH candidate pairs (before the estimate pre-filter).
    verified
        Number of candidates checked by exact Jaccard.
    bands, rows
        The LSH banding used.
    """

    groups: npt.NDArray[np.int64]
    pairs: npt.NDArray[np.int64]
    jaccard: npt.NDArray[np.float64]
    estimate: npt.NDArray[np.float64]
    candidates: int
    verified: int
    bands: int
    rows: int

    @property
    def grouped(self) -> npt.NDArray[np.bool_]:
        """Whether each text has at least one near duplicate."""
        sizes = np.bincount(self.groups, minlength=self.groups.size)
        out: npt.NDArray[np.bool_] = sizes[self.groups] > 1
        return out

    @property
    def n_groups(self) -> int:
        """Number of groups with at least two texts."""
        return int(np.count_nonzero(np.bincount(self.groups, minlength=self.groups.size) > 1))


def components(n: int, pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Connected components of ``n`` nodes joined by ``pairs``, as group ids.

    Each node gets the smallest node index of its component (its own index when it is
    alone), so the ids do not depend on the order of ``pairs``.

    Examples
    --------
    >>> components(5, np.array([[3, 1], [1, 4]])).tolist()
    [0, 1, 2, 1, 1]
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = sp.coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, found = _csgraph.connected_components(graph, directed=False)
    labels: npt.NDArray[np.int64] = np.asarray(found, dtype=np.int64)
    smallest = np.full(int(labels.max()) + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n, dtype=np.int64))
    out: npt.NDArray[np.int64] = smallest[labels]
    return out


def exact_jaccard(shingles: Shingles, pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of the gram sets of each pair of texts."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    cache: dict[int, npt.NDArray[np.uint64]] = {}

    def gram_set(i: int) -> npt.NDArray[np.uint64]:
        got = cache.get(i)
        if got is None:
            got = cache[i] = shingles.unique_row(i)
        return got

    out = np.zeros(len(pairs), dtype=np.float64)
    for k, (i, j) in enumerate(pairs.tolist()):
        a, b = gram_set(i), gram_set(j)
        if a.size == 0 or b.size == 0:
            continue
        if a.size > b.size:
            a, b = b, a
        pos = np.searchsorted(b, a)
        pos[pos == b.size] = 0
        inter = int(np.count_nonzero(b[pos] == a))
        out[k] = inter / (a.size + b.size - inter)
    return out


def estimated_jaccard(
    sig: npt.NDArray[np.uint32], pairs: npt.NDArray[np.int64], *, chunk: int = 65536
) -> npt.NDArray[np.float64]:
    """MinHash estimate of the Jaccard similarity of each pair (share of equal slots)."""
    out = np.zeros(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), chunk):
        p = pairs[start : start + chunk]
        out[start : start + len(p)] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out


def _exact_copies(normalised: Sequence[str]) -> tuple[npt.NDArray[np.int64], list[list[int]]]:
    """First index of every distinct non-empty text, and the other indices of each."""
    first: dict[str, int] = {}
    copies: list[list[int]] = []
    for i, t in enumerate(normalised):
        if not t:
            continue
        if t in first:
            copies.append([first[t], i])
        else:
            first[t] = i
    return np.fromiter(first.values(), dtype=np.int64, count=len(first)), copies


def near_duplicate_groups(
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    k: int = 5,
    seed: int = 0,
    lsh_recall: float = 0.99,
) -> NearDupResult:
    """Group texts whose character ``k``-gram sets have Jaccard similarity >= ``threshold``.

    Texts are normalised (:func:`~goldsmith.dedup.shingles.normalise`), cut into
    character 5-grams, sketched with MinHash and bucketed with LSH; every candidate pair
    is verified by exact Jaccard and the verified pairs are joined transitively
    (connected components). Empty texts (after normalisation) are never grouped.

    Parameters
    ----------
    texts
        The texts, in record order.
    threshold
        Minimum exact Jaccard similarity of a pair, in (0, 1].
    num_perm
        MinHash permutations; more gives better recall near the threshold, slower.
    k
        Gram length in characters.
    seed
        Seed of the gram hash and of the MinHash permutations.
    lsh_recall
        Probability that a pair at exactly ``threshold`` becomes a candidate; sets the
        LSH banding (:func:`~goldsmith.dedup.minhash.lsh_params`). Pairs above the
        threshold are found more often still.

    Returns
    -------
    NearDupResult
        Group id per text (smallest index of its group; its own index when alone) and
        the verified pairs.

    Examples
    --------
    >>> r = near_duplicate_groups(["The cat sat on the mat.", "the cat sat on the mat",
    ...                            "A completely different sentence."])
    >>> r.groups.tolist()
    [0, 0, 2]
    """
    if not 0.0 < threshold <= 1.0:
        raise ArgumentError(f"threshold must be in (0, 1], got {threshold}")
    n = len(texts)
    normalised = [normalise(t) for t in texts]
    shingles = shingle(normalised, k=k, seed=seed)
    bands, rows = lsh_params(threshold, num_perm, recall=lsh_recall)
    reps, copies = _exact_copies(normalised)
    sig = signatures(shingles, num_perm=num_perm, seed=seed)
    cands = candidate_pairs(sig[reps], reps, bands=bands, rows=rows)
    # skip exact checks of candidates whose estimate is hopeless (> 4.5 standard errors
    # below the threshold: a pair at the threshold lands there with probability < 1e-5)
    est = estimated_jaccard(sig, cands)
    margin = _SKIP_SIGMAS * np.sqrt(threshold * (1.0 - threshold) / num_perm)
    plausible = est >= threshold - margin
    jac = exact_jaccard(shingles, cands[plausible])
    keep = jac >= threshold
    found = cands[plausible][keep]
    est = est[plausible][keep]
    dup = np.array(copies, dtype=np.int64).reshape(-1, 2)
    pairs = np.concatenate([dup, found])
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return NearDupResult(
        groups=components(n, pairs),
        pairs=pairs[order],
        jaccard=np.concatenate([np.ones(len(dup)), jac[keep]])[order],
        estimate=np.concatenate([np.ones(len(dup)), est])[order],
        candidates=len(cands),
        verified=int(plausible.sum()),
        bands=bands,
        rows=rows,
    )
