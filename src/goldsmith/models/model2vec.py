"""A numpy-only loader for static Model2Vec models.

A Model2Vec folder holds ``model.safetensors`` (the token embedding matrix ``embeddings``,
optionally per-token ``weights`` and a token ``mapping`` for vocabulary-quantised models),
``tokenizer.json`` (a Hugging Face ``tokenizers`` tokenizer) and ``config.json``. A text's
vector is the mean of its tokens' rows (no special tokens, unknown tokens dropped, at most
``max_length`` tokens), L2-normalised when the config says ``normalize``. This is what
``model2vec.StaticModel.encode`` computes; the pooling here is one sparse product per batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from goldsmith._lazy import lazy_module
from goldsmith.errors import ConfigError

if TYPE_CHECKING:
    import safetensors.numpy as _safetensors
    import scipy.sparse as sp
    import tokenizers
    from tokenizers import Tokenizer
else:
    _safetensors = lazy_module("safetensors.numpy")
    tokenizers = lazy_module("tokenizers")
    sp = lazy_module("scipy.sparse")

Float32Array = npt.NDArray[np.float32]
FILES = ("model.safetensors", "tokenizer.json", "config.json")


def file_digest(paths: Sequence[Path], *, size: int = 16) -> str:
    """A hex digest of the files' names and bytes, in the order given."""
    h = hashlib.blake2b(digest_size=size // 2)
    for path in paths:
        h.update(path.name.encode() + b"\x00")
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


class Model2VecEmbedder:
    """A static Model2Vec model read from ``folder``; nothing is downloaded.

    Parameters
    ----------
    folder : str or Path
        The model's folder (``model.safetensors``, ``tokenizer.json``, ``config.json``).
    batch_size : int
        Texts tokenised and pooled at once.

    Attributes
    ----------
    id : str
        ``model2vec:<folder name>@<digest of weights, tokenizer and config>``.
    dim : int
        Vector length.
    """

    def __init__(self, folder: str | Path, *, batch_size: int = 1024) -> None:
        self.folder = Path(folder).expanduser()
        missing = [f for f in FILES[:2] if not (self.folder / f).is_file()]
        if missing:
            raise ConfigError(
                f"{self.folder} is not a Model2Vec folder: {', '.join(missing)} missing "
                "(goldsmith never downloads models; pass a local folder)"
            )
        config_path = self.folder / "config.json"
        config: dict[str, Any] = (
            json.loads(config_path.read_text()) if config_path.is_file() else {}
        )
        tensors = _safetensors.load_file(self.folder / "model.safetensors")
        if "embeddings" not in tensors:
            raise ConfigError(
                f"{self.folder / 'model.safetensors'} has no 'embeddings' tensor "
                f"(found {sorted(tensors)})"
            )
        self.vectors: Float32Array = tensors["embeddings"].astype(np.float32)
        weights = tensors.get("weights")
        mapping = tensors.get("mapping")
        self.weights = None if weights is None else weights.astype(np.float32)
        self.mapping = None if mapping is None else mapping.astype(np.int64)
        self.normalize = bool(config.get("normalize", False))
        self.max_length: int | None = config.get("max_length", 512)
        self.batch_size = batch_size
        self.tokenizer = tokenizers.Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        if self.max_length is None:
            self.tokenizer.no_truncation()
        else:
            self.tokenizer.enable_truncation(self.max_length)
        vocab = self.tokenizer.get_vocab()
        if self.mapping is None and len(vocab) != len(self.vectors):
            raise ConfigError(
                f"{self.folder}: {len(vocab)} tokens but {len(self.vectors)} embedding rows"
            )
        self.unk_id = _unk_id(self.tokenizer)
        # texts are cut to max_length × the median token length before tokenising
        self.median_token_length = int(np.median([len(t) for t in vocab]))
        self.dim = int(self.vectors.shape[1])
        paths = [self.folder / f for f in FILES if (self.folder / f).is_file()]
        self.id = f"model2vec:{self.folder.resolve().name}@{file_digest(paths)}"

    def encode(self, texts: Sequence[str]) -> Float32Array:
        """Vectors of ``texts``, shape (len(texts), dim), float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            out[start : start + self.batch_size] = self._batch(
                texts[start : start + self.batch_size]
            )
        return out

    def _batch(self, texts: Sequence[str]) -> Float32Array:
        if self.max_length is not None:
            cut = self.max_length * self.median_token_length
            texts = [t[:cut] for t in texts]
        encodings = self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        if self.unk_id is not None:
            ids = [i[i != self.unk_id] for i in ids]
        lengths = np.array([len(i) for i in ids], dtype=np.int64)
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        values = np.ones(len(flat), np.float32) if self.weights is None else self.weights[flat]
        columns = flat if self.mapping is None else self.mapping[flat]
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        counts = sp.csr_matrix(
            (values, columns, indptr), shape=(len(texts), len(self.vectors)), dtype=np.float32
        )
        pooled = np.asarray(counts @ self.vectors, dtype=np.float32)
        pooled /= np.maximum(lengths, 1)[:, None].astype(np.float32)
        if self.normalize:
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True) + np.float32(1e-32)
        return pooled


def _unk_id(tokenizer: Tokenizer) -> int | None:
    """The unknown token's id, dropped from inputs as Model2Vec does."""
    token = getattr(tokenizer.model, "unk_token", None)
    if token is not None:
        found = tokenizer.token_to_id(token)
        return None if found is None else int(found)
    unk = json.loads(tokenizer.to_str())["model"].get("unk_id")  # Unigram models
    return None if unk is None else int(unk)
