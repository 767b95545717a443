"""The QA commands: round start|close, qa agreement (label and spans), qa issues, qa report."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, Response

LABELS = ["cardio", "onco", "neuro"]
WORDS = {"cardio": "heart artery", "onco": "tumour cancer", "neuro": "brain nerve"}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_round_agreement_issues_and_report(tmp_path: Path) -> None:
    root = tmp_path / "clin"
    with Project.init(root, labels=LABELS) as p:
        truth = [LABELS[i % 3] for i in range(60)]
        p.add_records([{"fields": {"text": f"{WORDS[t]} case {i}"}} for i, t in enumerate(truth)])
        with p.store.write() as tx:
            tx.set_final_labels(
                [FinalLabel(i + 1, "label", truth[i], Provenance.GOLD) for i in range(50, 60)]
            )
    code, out = _run("round", "start", "-p", str(root), "--size", "20", "--gold-rate", "0")
    assert code == 0 and "round 1 open: 20 records" in out and "10 gold" in out
    with Project.open(root) as p:
        answers = []
        for rid in range(1, 21):  # two annotators; bob disagrees on every fifth record
            t = truth[rid - 1]
            answers.append(Response(rid, "ann", {"label": t}))
            answers.append(Response(rid, "bob", {"label": LABELS[0] if rid % 5 == 0 else t}))
        p.add_responses(answers)
    code, out = _run("qa", "agreement", "-p", str(root), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["round"] == 1 and data["agreement_metric"].startswith("Krippendorff")
    assert 0.5 < data["agreement"]["value"] < 1.0 and data["agreement"]["low"] is not None
    assert [(p["a"], p["b"], p["n"]) for p in data["pairwise"]] == [("ann", "bob", 20)]
    code, out = _run("round", "close", "-p", str(root), "--method", "majority")
    assert code == 0 and "round 1 closed" in out, out
    assert (root / "qa" / "round-1.html").is_file()
    code, out = _run("qa", "issues", "-p", str(root), "--json", "--limit", "5")
    assert code == 0, out
    assert len(json.loads(out)) <= 5
    report = tmp_path / "qa.html"
    code, out = _run("qa", "report", "-p", str(root), "--out", str(report))
    assert code == 0 and report.is_file()
    srcs: list[str] = []

    class Sources(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            srcs.extend(v or "" for k, v in attrs if k in ("src", "href"))

    Sources().feed(report.read_text(encoding="utf-8"))
    assert srcs and all(s.startswith(("data:image/png;base64,", "#")) for s in srcs)
    code, out = _run("round", "close", "-p", str(root))
    assert code == 1 and "no round is open" in out


def test_agreement_on_spans(tmp_path: Path) -> None:
    root = tmp_path / "ner"
    with Project.init(root, template="ner", labels=["Disease"]) as p:
        p.add_records([{"fields": {"text": f"breast cancer and diabetes {i}"}} for i in range(4)])
        cancer = {"start": 0, "end": 13, "label": "Disease"}
        diabetes = {"start": 18, "end": 26, "label": "Disease"}
        p.add_responses(
            [Response(i, "ann", {"spans": [cancer, diabetes]}) for i in range(1, 5)]
            + [Response(i, "bob", {"spans": [cancer]}) for i in range(1, 5)]
        )
    code, out = _run("qa", "agreement", "-p", str(root), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["kind"] == "spans"
    assert abs(data["agreement"]["value"] - 2 * 4 / (8 + 4)) < 1e-9  # exact-match F1


def test_round_close_with_an_llm_judge_picks_free_text_consensus(tmp_path: Path) -> None:
    """``round close --judge-model``: the LLM picks the best of differing free-text answers
    over the real OpenAI protocol (a loopback server), the medoid elsewhere."""
    import sys

    import tomli_w

    from goldsmith.config import CONFIG_NAME

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from openai_server import OpenAIServer, Reply

    root = tmp_path / "sft"
    root.mkdir()
    task = {
        "name": "sft",
        "fields": [{"name": "prompt", "kind": "text"}],
        "questions": [{"name": "answer", "kind": "text"}],
        "settings": {"overlap": 3, "redact_before_llm": False},
    }
    (root / CONFIG_NAME).write_text(tomli_w.dumps({"task": task}), encoding="utf-8")
    prompts = ["Dose of drug X for adults? 💊", "Can drug X be taken with alcohol?"]
    answers = [
        ["Stop it.", "Take 5 mg twice daily with food.", "Stop it now."],
        ["No, avoid alcohol.", "No, avoid alcohol while on it.", "No; avoid alcohol."],
    ]
    with Project.open(root) as p:
        ids = p.add_records([{"fields": {"prompt": t}} for t in prompts]).ids
    code, out = _run("round", "start", "-p", str(root), "--size", "2", "--gold-rate", "0")
    assert code == 0, out
    with Project.open(root) as p:
        p.add_responses(
            [
                Response(rid, user, {"answer": text})
                for rid, texts in zip(ids, answers, strict=True)
                for user, text in zip(("ann", "bob", "cat"), texts, strict=True)
            ]
        )
    seen: list[str] = []

    def policy(body: dict[str, object], _i: int) -> Reply:
        seen.append(json.dumps(body["messages"], ensure_ascii=False))
        return Reply(json.dumps({"best": "2"}))  # always the second answer

    code, out = _run("round", "close", "-p", str(root), "--rubric", "x")
    assert code != 0 and "--judge-model" in out  # a rubric without a judge is refused
    with OpenAIServer(policy) as server:
        code, out = _run(
            "round", "close", "-p", str(root),
            "--judge-model", "test-model", "--judge-base-url", server.url,
            "--rubric", "The medically complete answer is best.",
        )  # fmt: skip
    assert code == 0, out
    assert "judge: 2 of 2 free-text records chosen by the LLM, 0 left" in out
    assert len(seen) == 2 and "The medically complete answer is best." in seen[0]
    with Project.open(root) as p, p.store.read() as tx:
        finals = {f.record_id: f.value for f in tx.final_labels_for(ids)}
    assert finals == {ids[0]: answers[0][1], ids[1]: answers[1][1]}
