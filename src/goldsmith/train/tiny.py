"""A tiny causal LM built from a config, with a tokenizer trained here on the user's texts.

It makes the whole SFT/DPO/eval pipeline runnable on a CPU in seconds, offline: the tests
and ``goldsmith demo`` use it where a real base model would take minutes per step. It
learns, so a tuned one scores better than its random base, but it is no language model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from goldsmith.train.extra import require

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def build_tiny_model(
    texts: Iterable[str],
    out: str | Path,
    *,
    vocab_size: int = 1024,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    max_positions: int = 1024,
    init_scale: float = 0.2,
    seed: int = 0,
) -> Path:
    """Train a byte-level BPE tokenizer on ``texts`` and save it with a randomly initialised
    Llama of the given size into ``out`` (loadable with ``from_pretrained``)."""
    tokenizers = require("tokenizers")
    transformers = require("transformers")
    torch = require("torch")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIALS),
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
        # wide initial weights: a LoRA adapter cannot rescale the tied output embeddings, and
        # at the usual 0.02 the logits stay too flat for any answer to become likely
        initializer_range=init_scale,
    )
    torch.manual_seed(seed)
    model = transformers.LlamaForCausalLM(config)
    model.generation_config.pad_token_id = fast.pad_token_id
    model.generation_config.eos_token_id = fast.eos_token_id
    folder = Path(out)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
