"""The model-in-the-loop commands: embed, queue, prelabel (classifier and llm), simulate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from _ci import import_or_skip
from goldsmith.cli import app
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance
from openai_server import OpenAIServer, Reply

TOPICS = {
    "cardio": ["heart failure", "coronary artery", "blood pressure"],
    "onco": ["tumour growth", "breast cancer", "chemotherapy"],
    "neuro": ["epileptic seizure", "brain lesion", "nerve damage"],
}
LABELS = list(TOPICS)


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "clin"
    rows, gold = [], []
    for i in range(90):
        label = LABELS[i % 3]
        rows.append({"fields": {"text": f"case {i}: {TOPICS[label][i % 3]} in patient {i}"}})
        gold.append(label)
    with Project.init(root, labels=LABELS) as p:
        p.add_records(rows)
        with p.store.write() as tx:
            tx.set_final_labels(
                [FinalLabel(i + 1, "label", gold[i], Provenance.GOLD) for i in range(60)]
            )
    return root


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def test_embed_queue_prelabel_and_simulate(proj: Path, tmp_path: Path) -> None:
    out = _run("embed", "-p", str(proj))
    assert out.exit_code == 0, out.output
    assert "90 records embedded" in out.output and "90 computed now" in out.output
    again = _run("embed", "-p", str(proj))
    assert "0 computed now" in again.output  # cached
    queued = _run("queue", "-p", str(proj), "--strategy", "entropy")
    assert queued.exit_code == 0, queued.output
    assert "trained on 60 labels: 30 suggestions" in queued.output and "entropy" in queued.output
    pre = _run("prelabel", "-p", str(proj), "--with", "classifier")
    assert pre.exit_code == 0 and "entropy" in pre.output  # the strategy is remembered
    curves = tmp_path / "curves"
    sim = _run(
        "simulate",
        "-p",
        str(proj),
        "--strategies",
        "random,margin",
        "--seed-size",
        "6",
        "--step",
        "12",
        "--budget",
        "30",
        "--repeats",
        "1",
        "--out",
        str(curves),
    )
    assert sim.exit_code == 0, sim.output
    assert (curves / "curves.png").is_file() and (curves / "curves.csv").is_file()
    summary = json.loads((curves / "summary.json").read_text())
    assert set(summary["strategies"]) == {"random", "margin"}


def test_prelabel_with_llm_over_the_real_protocol(proj: Path) -> None:
    def policy(body: dict[str, Any], index: int) -> Reply:
        text = body["messages"][-1]["content"]
        label = next(lab for lab, words in TOPICS.items() if any(w in text for w in words))
        return Reply(json.dumps({"label": label}), 0.97)

    with OpenAIServer(policy) as server:
        args = ["prelabel", "-p", str(proj), "--with", "llm", "--base-url", server.url]
        missing = _run(*args)
        assert missing.exit_code == 1 and "--model" in missing.output
        ok = _run(*args, "--model", "test-model", "--calibrate-on", "20", "--budget-tokens", "1")
    assert ok.exit_code == 0, ok.output
    assert "not sent" in ok.output and "stopped" in ok.output  # a budget of 1 token stops it
    assert "sk-" not in ok.output


def test_prelabel_names_a_bad_with(proj: Path) -> None:
    out = _run("prelabel", "-p", str(proj), "--with", "oracle")
    assert out.exit_code == 1 and "--with must be classifier or llm" in out.output


def test_simulate_scores_on_a_test_file_outside_the_project(proj: Path, tmp_path: Path) -> None:
    test_csv = tmp_path / "held_out.csv"
    lines = ["note,dx"]
    for i in range(30):
        label = LABELS[i % 3]
        lines.append(f"held-out {i}: {TOPICS[label][(i + 1) % 3]} seen again {i},{label}")
    lines.append("case 0: heart failure in patient 0,cardio")  # also in the project: dropped
    test_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    curves = tmp_path / "curves"
    args = ["simulate", "-p", str(proj), "--seed-size", "6", "--step", "12", "--budget", "30"]
    args += ["--repeats", "2", "--out", str(curves), "--test-file", str(test_csv)]
    sim = _run(*args, "--text-field", "note", "--label-field", "dx")
    assert sim.exit_code == 0, sim.output
    summary = json.loads((curves / "summary.json").read_text())
    assert summary["pool_size"] == 60  # every labeled record is in the pool
    assert summary["test"] == str(test_csv)
    assert summary["test_records_dropped_as_in_project"] == 1
    assert set(summary["strategies"]) == {"random", "auto"}
    with Project.open(proj) as p:
        assert p.status()["records"]["total"] == 90  # the test file was never stored
    no_label = _run(*args, "--text-field", "note")
    assert no_label.exit_code != 0 and "no label for question 'label'" in no_label.output
    assert "Traceback" not in no_label.output


def test_simulate_with_llm_needs_llm_suggestions(proj: Path, tmp_path: Path) -> None:
    out = _run("simulate", "-p", str(proj), "--with-llm", "--seed-size", "6", "--budget", "12")
    assert out.exit_code != 0
    assert "run `goldsmith prelabel --with llm` first" in out.output


@pytest.mark.slow
def test_simulate_with_the_setfit_learner(proj: Path, tmp_path: Path) -> None:
    """``--learner setfit``: SetFit models on the texts, the embeddings for the strategies."""
    import_or_skip("torch", install="pip install 'goldsmith[train]'")
    test_csv = tmp_path / "held_out.csv"
    rows = [f"other {i}: {TOPICS[LABELS[i % 3]][(i + 2) % 3]},{LABELS[i % 3]}" for i in range(15)]
    test_csv.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    curves = tmp_path / "sf"
    sim = _run(
        "simulate", "-p", str(proj), "--learner", "setfit", "--strategies", "random,auto",
        "--seed-size", "9", "--step", "9", "--budget", "18", "--repeats", "1",
        "--test-file", str(test_csv), "--out", str(curves),
    )  # fmt: skip
    assert sim.exit_code == 0, sim.output
    summary = json.loads((curves / "summary.json").read_text())
    assert summary["learner"] == "setfit" and summary["test_size"] == 15
    assert summary["full_f1"] > 0.6  # three topics, told apart by a tuned encoder


def test_a_strategy_that_loses_to_random_warns(proj: Path) -> None:
    out = _run("queue", "-p", str(proj), "--strategy", "kcenter")
    assert out.exit_code == 0, out.output
    assert "kcenter is not offered by default" in out.output and "use auto" in out.output
    bad = _run("queue", "-p", str(proj), "--strategy", "nope")
    assert bad.exit_code != 0 and "unknown query strategy 'nope'" in bad.output
