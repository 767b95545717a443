"""LoRA SFT and DPO with TRL, end to end on the CPU, with a tiny causal LM built from a
config and a tokenizer trained here (:mod:`goldsmith.train.tiny`): base against tuned on
held-out gold, resuming from a checkpoint, merging, training from an export file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _ci import import_or_skip
from goldsmith import FinalLabel, InputError, MissingExtraError, Project, Provenance, Record
from goldsmith.schema import content_hash
from goldsmith.train.chat import fit_rows, read_export
from goldsmith.train.extra import require
from goldsmith.train.sft import LoraSettings

import_or_skip("trl", install="pip install 'goldsmith[train]'")
import_or_skip("peft", install="pip install 'goldsmith[train]'")
torch = import_or_skip("torch", install="pip install 'goldsmith[train]'")
from goldsmith.train.tiny import build_tiny_model  # noqa: E402

Bank = Any  # conftest.Bank
LABELS = ("positive", "negative", "neutral")
FAST = LoraSettings(epochs=3, batch_size=16, learning_rate=5e-3, save_steps=100, max_length=96)


@pytest.fixture(scope="module")
def tuned(
    tmp_path_factory: pytest.TempPathFactory, seed_phrasebank: Any
) -> Iterator[tuple[Project, Path, Path]]:
    """One tiny SFT run on 150 phrasebank sentences, shared by the tests that read it."""
    root = tmp_path_factory.mktemp("llm")
    project = Project.init(root / "fin", template="classification", labels=list(LABELS))
    seed_phrasebank(project, 150)
    texts = [r.fields["text"] for r in project.records(limit=1000)] + list(LABELS) * 20
    base = build_tiny_model(texts, root / "tiny")
    project.train_llm(root / "sft", base, settings=FAST)
    yield project, base, root / "sft"
    project.close()


def test_sft_tuned_beats_base_on_held_out_gold(tuned: tuple[Project, Path, Path]) -> None:
    project, _, folder = tuned
    report, paths = project.evaluate(folder)
    base, tuned_row = report.rows["base"], report.rows["tuned"]
    assert tuned_row["accuracy"] > base["accuracy"]
    assert tuned_row["unparsed"] < report.n  # the tuned model answers with labels
    assert tuned_row["loss"] < base["loss"]  # and finds the gold answers likelier
    assert report.samples and {"input", "reference", "base", "tuned"} <= set(report.samples[0])
    html = paths["html"].read_text("utf-8")
    assert "loss.png" in html and "Samples" in html
    rows = [json.loads(x) for x in (folder / "data" / "train.jsonl").read_text().splitlines()]
    assert rows[0]["prompt"][0]["role"] == "system"
    assert rows[0]["completion"][0]["content"] in ("positive", "negative", "neutral")


def test_merged_model_equals_base_plus_adapter(tuned: tuple[Project, Path, Path]) -> None:
    project, base, _ = tuned
    out = project.root / "merged-run"
    settings = LoraSettings(max_steps=2, batch_size=8, learning_rate=5e-3, max_length=96)
    project.train_llm(out, base, settings=settings, merge=True)
    transformers = require("transformers")
    from goldsmith.train.generate import load_tuned  # noqa: PLC0415

    merged = transformers.AutoModelForCausalLM.from_pretrained(out / "merged")
    with_adapter, tok = load_tuned(base, out / "adapter")
    ids = tok("Net sales rose", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        a = merged(input_ids=ids).logits
        b = with_adapter(input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-4)


def test_training_resumes_from_the_last_checkpoint(tuned: tuple[Project, Path, Path]) -> None:
    project, base, _ = tuned
    out = project.root / "resume-run"
    first = LoraSettings(max_steps=2, save_steps=2, batch_size=8, max_length=96)
    m1 = project.train_llm(out, base, settings=first)
    assert m1.train_metrics["resumed_from"] is None
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    more = LoraSettings(max_steps=3, save_steps=2, batch_size=8, max_length=96)
    m2 = project.train_llm(out, base, settings=more)
    assert m2.train_metrics["resumed_from"].endswith("checkpoint-2")
    assert m2.train_metrics["steps"] == 3
    assert [x["step"] for x in m2.train_metrics["losses"]][-1] == 3


def test_export_file_rows_train_without_held_out_prompts(
    tuned: tuple[Project, Path, Path],
) -> None:
    project, base, folder = tuned
    manifest = json.loads((folder / "goldsmith-model.json").read_text())
    with project.store.read() as tx:
        test_texts = {r.fields["text"] for r in tx.get_records(manifest["test_ids"])}
    export = project.root / "chat.jsonl"
    train_rows = (folder / "data" / "train.jsonl").read_text().splitlines()[:10]
    leaked = [
        {"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": "x"}]}
        for t in sorted(test_texts)[:3]
    ]
    lines = [json.dumps({"messages": json.loads(r)["prompt"] + json.loads(r)["completion"]})
             for r in train_rows] + [json.dumps(x) for x in leaked]  # fmt: skip
    export.write_text("\n".join(lines) + "\n")
    out = project.root / "from-file"
    m = project.train_llm(
        out, base, data_file=export, settings=LoraSettings(max_steps=1, batch_size=4)
    )
    assert m.params["rows"] == 10  # the three held-out prompts were dropped
    used = (out / "data" / "train.jsonl").read_text()
    assert not any(t in used for t in test_texts)


def test_export_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "q", "completion": "a"}\n{"messages": [{"role": "user"}]}\n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2, field 'messages'"):
        read_export(bad)


def test_sft_on_free_text_compares_loss(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "sft", template="sft")
    answers = {}
    with project.store.write() as tx:
        records = [
            Record(fields={"prompt": f"Summarise filing {i}: revenue up {i} percent."})
            for i in range(60)
        ]
        for r in records:
            r.content_hash = content_hash(r.fields)
        ids = tx.insert_records(records)
        labels = []
        for k, rid in enumerate(ids):
            answers[rid] = f"Revenue grew {k} percent."
            prov = Provenance.GOLD if k % 3 == 0 else Provenance.HUMAN
            labels.append(FinalLabel(rid, "response", answers[rid], prov))
        tx.set_final_labels(labels)
    texts = [r.fields["prompt"] for r in records] + list(answers.values())
    base = build_tiny_model(texts, tmp_path / "tiny")
    project.train_llm(tmp_path / "m", base, settings=FAST)
    report, _ = project.evaluate(tmp_path / "m", limit=6)
    assert set(report.rows) == {"base", "tuned"}
    assert report.rows["tuned"]["perplexity"] < report.rows["base"]["perplexity"]
    assert "macro_f1" not in report.rows["tuned"]
    assert len(report.samples) == 6
    project.close()


def test_dpo_raises_preference_accuracy_on_held_out_pairs(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "pref", template="preference")
    with project.store.write() as tx:
        records = []
        for i in range(60):
            polite = f"Thank you for asking about order {i}, it ships today."
            rude = f"Order {i}? No idea."
            cands = [rude, polite] if i % 2 else [polite, rude]
            records.append(Record(fields={"prompt": f"Where is order {i}?", "candidates": cands}))
        for r in records:
            r.content_hash = content_hash(r.fields)
        ids = tx.insert_records(records)
        tx.set_final_labels(
            FinalLabel(
                rid,
                "preference",
                [1, 0] if i % 2 else [0, 1],
                Provenance.GOLD if i % 3 == 0 else Provenance.HUMAN,
            )
            for i, rid in enumerate(ids)
        )
    texts = [json.dumps(r.fields) for r in records]
    base = build_tiny_model(texts, tmp_path / "tiny")
    settings = LoraSettings(epochs=3, batch_size=8, learning_rate=5e-3, max_length=96, beta=0.5)
    manifest = project.train_llm(tmp_path / "dpo", base, kind="dpo", settings=settings)
    assert manifest.kind == "dpo" and manifest.params["rows"] > 0
    report, _ = project.evaluate(tmp_path / "dpo")
    assert report.rows["tuned"]["preference_accuracy"] > report.rows["base"]["preference_accuracy"]
    assert report.rows["tuned"]["preference_accuracy"] >= 0.9
    project.close()


def test_missing_extra_names_the_install_command() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'goldsmith\[train\]'"):
        require("goldsmith_no_such_package")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_training_uses_bf16_and_checkpointing(tuned: tuple[Project, Path, Path]) -> None:
    from goldsmith.train.extra import device_settings  # noqa: PLC0415

    project, base, _ = tuned
    assert device_settings() == {
        "device": "cuda",
        "bf16": torch.cuda.is_bf16_supported(),
        "gradient_checkpointing": True,
    }
    m = project.train_llm(project.root / "gpu", base, settings=LoraSettings(max_steps=2))
    assert m.train_metrics["device"] == "cuda"


def test_long_prompts_are_cut_never_the_answer(tuned: tuple[Project, Path, Path]) -> None:
    # the demo's first tiny SFT run trained on rows whose answers had been truncated away
    # and scored prompts longer than any it saw: tuned accuracy 0.0
    _, base, _ = tuned
    tokenizer = require("transformers").AutoTokenizer.from_pretrained(base)
    long_text = "Operating profit rose sharply in the quarter. " * 60
    rows = [
        {
            "prompt": [
                {"role": "system", "content": "Classify the text."},
                {"role": "user", "content": long_text},
            ],
            "completion": [{"role": "assistant", "content": "positive"}],
        },
        {
            "prompt": [{"role": "user", "content": "short"}],
            "completion": [{"role": "assistant", "content": "neutral"}],
        },
    ]
    fitted = fit_rows(tokenizer, rows, 96)
    assert fitted[1] == rows[1]  # short rows are untouched
    cut = fitted[0]
    assert cut["completion"] == rows[0]["completion"]
    assert cut["prompt"][0] == rows[0]["prompt"][0]
    assert long_text.startswith(cut["prompt"][1]["content"][:40])
    text = tokenizer.apply_chat_template(cut["prompt"] + cut["completion"], tokenize=False)
    assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= 96
    assert text.rstrip().endswith("positive<|im_end|>")


def test_no_progress_bar_of_transformers_leaks_into_the_output(tmp_path: Path) -> None:
    """Saving and loading a model printed transformers' own "Writing model shards" and
    "Loading weights" bars into non-TTY output (the demo's steps 9-10); each step shows
    goldsmith's own progress instead. A fresh process: the setting is process-wide."""
    import subprocess
    import sys

    script = (
        "from goldsmith.train.tiny import build_tiny_model\n"
        "from goldsmith.train.base_model import load_base\n"
        f"path = build_tiny_model(['a small text'] * 20, {str(tmp_path / 'tiny')!r})\n"
        "model, tokenizer = load_base(path)\n"
        "print('loaded', type(model).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded" in done.stdout
    for bar in ("Loading weights", "Writing model shards", "it/s]"):
        assert bar not in done.stderr + done.stdout, done.stderr[-2000:]
