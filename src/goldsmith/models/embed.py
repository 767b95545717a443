"""Embedders: texts in, float32 vectors out, each with a stable ``id`` for the store's cache.

Three kinds, picked by a spec string (:func:`make_embedder`):

* ``tfidf`` (default, needs no files): TF-IDF + truncated SVD (LSA), L2-normalised. It is
  fitted on a corpus, so it is a :class:`CorpusEmbedder`: its id is a digest of its settings
  and of the texts it was fitted on, and vectors from another fit are never mixed with its.
* ``model2vec:<folder>``: a static Model2Vec model (:mod:`goldsmith.models.model2vec`).
* ``sentence-transformers:<folder or name>``: needs ``pip install 'goldsmith[embed]'``;
  local files only, never a download.

An id names the vectors exactly: the same id always means the same vector for a text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module, optional
from goldsmith.errors import ConfigError, InputError, RegistryError
from goldsmith.models.model2vec import Model2VecEmbedder

if TYPE_CHECKING:
    import scipy.sparse as sp
    import sklearn.decomposition as _decomposition
    import sklearn.feature_extraction.text as _text
    import threadpoolctl
    from sklearn.decomposition import TruncatedSVD
else:
    threadpoolctl = lazy_module("threadpoolctl")
    sp = lazy_module("scipy.sparse")
    _decomposition = lazy_module("sklearn.decomposition")
    _text = lazy_module("sklearn.feature_extraction.text")

Float32Array = npt.NDArray[np.float32]
KINDS = ("tfidf", "model2vec:<folder>", "sentence-transformers:<folder or cached name>")


class Embedder(Protocol):
    """Anything with a stable ``id``, a vector length ``dim`` and
    ``encode(texts) -> float32 (n, dim)``."""

    @property
    def id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Float32Array: ...


class CorpusEmbedder(Embedder, Protocol):
    """An embedder fitted on a corpus first; ``id_for(texts)`` is its id after ``fit(texts)``,
    known without fitting, so a cache lookup never has to fit. An unfitted one has no ``id``
    yet; :func:`as_corpus_embedder` tells these apart."""

    @property
    def fitted(self) -> bool: ...

    def id_for(self, texts: Sequence[str]) -> str: ...

    def fit(self, texts: Sequence[str]) -> Any: ...


def as_corpus_embedder(embedder: Embedder) -> CorpusEmbedder | None:
    """``embedder`` if it is fitted on a corpus (has ``id_for`` and ``fit``), else None."""
    if callable(getattr(embedder, "id_for", None)) and callable(getattr(embedder, "fit", None)):
        return cast(CorpusEmbedder, embedder)
    return None


class TfidfEmbedder:
    """TF-IDF (words, sublinear tf) reduced by truncated SVD (LSA), L2-normalised.

    Bigrams were tried: no better on the medical abstracts or the financial phrasebank with
    the loop classifier, and 2.5x slower to fit. Words seen in one text only are dropped
    from corpora of 1,000 texts or more.

    Parameters
    ----------
    dim : int
        Output length; fewer SVD components on a tiny corpus, the rest zero.
    max_features : int
        Vocabulary cap (most frequent terms).
    random_state : int
        Seed of the randomised SVD.
    """

    def __init__(self, *, dim: int = 256, max_features: int = 50_000, random_state: int = 0):
        self.dim = dim
        self.max_features = max_features
        self.random_state = random_state
        self._id: str | None = None

    @property
    def fitted(self) -> bool:
        return self._id is not None

    @property
    def id(self) -> str:
        if self._id is None:
            raise ConfigError("this tfidf embedder is not fitted: call fit(texts) first")
        return self._id

    def id_for(self, texts: Sequence[str]) -> str:
        """The id this embedder has once fitted on ``texts``."""
        h = hashlib.blake2b(digest_size=8)
        h.update(f"{self.dim}|{self.max_features}|{self.random_state}|{len(texts)}".encode())
        for text in texts:
            h.update(text.encode() + b"\x00")
        return f"tfidf:{self.dim}@{h.hexdigest()}"

    def fit(self, texts: Sequence[str]) -> TfidfEmbedder:
        """Learn the vocabulary and the SVD from ``texts``."""
        min_df = 2 if len(texts) >= 1000 else 1
        self.vectorizer_ = _text.TfidfVectorizer(
            sublinear_tf=True,
            min_df=min_df,
            max_features=self.max_features,
            dtype=np.float32,
        )
        try:
            tf = self.vectorizer_.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary
            raise InputError(f"cannot fit tfidf: {exc}", file="<records>") from exc
        k = min(self.dim, tf.shape[0] - 1, tf.shape[1] - 1)
        self.svd_: TruncatedSVD | None = None
        if k >= 1:  # single-threaded BLAS: as fast here, and 4x faster on busy cores
            with threadpoolctl.threadpool_limits(1, user_api="blas"):
                svd = _decomposition.TruncatedSVD(n_components=k, random_state=self.random_state)
                self.svd_ = svd.fit(tf)
        self._id = self.id_for(texts)
        return self

    def encode(self, texts: Sequence[str]) -> Float32Array:
        """LSA vectors of ``texts`` (fitted vocabulary; unknown words ignored)."""
        if self._id is None:
            raise ConfigError("this tfidf embedder is not fitted: call fit(texts) first")
        tf: sp.csr_matrix = self.vectorizer_.transform(texts)
        dense = self.svd_.transform(tf) if self.svd_ is not None else tf.toarray()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        width = min(self.dim, dense.shape[1])
        out[:, :width] = dense[:, :width]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), np.float32(1e-12))
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder or the local Hugging Face cache.

    Needs the ``embed`` extra; never downloads (``local_files_only``). The id is the name
    and a digest of the loaded weights (the state dict), so a changed model gets a new id.
    """

    def __init__(self, name_or_path: str, *, batch_size: int = 64) -> None:
        st = optional("sentence_transformers", "embed", "sentence-transformers")
        folder = Path(name_or_path).expanduser()
        source = str(folder) if folder.is_dir() else name_or_path
        try:
            self.model: Any = st.SentenceTransformer(source, local_files_only=True)
        except Exception as exc:  # OSError, ValueError, ... from the hub client
            raise ConfigError(
                f"sentence-transformers model {name_or_path!r} is neither a local folder nor "
                "in the local Hugging Face cache; goldsmith never downloads: pass a folder"
            ) from exc
        self.dim = int(self.model.get_sentence_embedding_dimension() or 0)
        h = hashlib.blake2b(digest_size=8)
        h.update(f"{self.dim}|{self.model.max_seq_length}".encode())
        for key, tensor in sorted(self.model.state_dict().items()):
            h.update(key.encode())
            h.update(tensor.detach().float().cpu().numpy().tobytes())
        name = folder.resolve().name if folder.is_dir() else name_or_path
        self.id = f"sentence-transformers:{name}@{h.hexdigest()}"
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Float32Array:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def make_embedder(spec: str = "tfidf") -> Embedder:
    """The embedder a spec names: ``tfidf``, ``model2vec:<folder>`` or
    ``sentence-transformers:<folder or cached name>``.

    >>> make_embedder("tfidf").fitted
    False
    """
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "tfidf" and not arg:
        return TfidfEmbedder()
    if kind == "model2vec" and arg:
        return Model2VecEmbedder(arg)
    if kind in {"sentence-transformers", "st"} and arg:
        return SentenceTransformerEmbedder(arg)
    raise RegistryError(f"unknown embedder {spec!r}; known: {', '.join(KINDS)}")
