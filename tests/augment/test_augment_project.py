"""Augmenting a project: stored as synthetic with a parent, out of the queue, exported only to
the training split beside their parent, LLM prompts redacted, and measured by --evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from goldsmith.augment.label_check import label_model_proba
from goldsmith.cli import app
from goldsmith.export.options import ExportOptions
from goldsmith.llm.client import LLMConfig
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance
from goldsmith.weak.loader import load_lf_file
from openai_server import OpenAIServer, Reply

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"
LABELS = ("positive", "negative", "neutral")


def _sentences(n: int) -> list[tuple[str, str]]:
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh]
    return [(t, lab) for t, lab in rows if t][:n]


@pytest.fixture
def fin(tmp_path: Path) -> Project:
    rows = _sentences(300)
    p = Project.init(tmp_path / "fin", labels=LABELS)
    p.add_records([{"fields": {"text": t}} for t, _ in rows])
    with p.store.write() as tx:
        tx.set_final_labels(
            [FinalLabel(i + 1, "label", lab, Provenance.HUMAN) for i, (_, lab) in enumerate(rows)]
        )
    return p


def test_template_augmentation_is_stored_marked_and_kept_out_of_test(
    fin: Project, tmp_path: Path
) -> None:
    report = fin.augment("template", per_record=2, limit=120)
    assert report.n_parents == 120 and report.n_generated == 240
    assert 0 < report.n_kept <= 240 and report.n_kept == len(report.record_ids)
    assert sum(report.rejected.values()) + report.n_kept >= report.n_generated - 5
    with fin.store.read() as tx:
        kept = tx.get_records(report.record_ids)
        finals = {f.record_id: f for f in tx.final_labels_for(report.record_ids)}
        parents = tx.synthetic_parents(report.record_ids)
        done = tx.done_records()
    assert all(finals[r].provenance == Provenance.SYNTHETIC for r in report.record_ids)
    assert all(r.metadata["synthetic"]["method"] == "template" for r in kept)
    assert set(parents.values()) <= set(range(1, 121))
    assert set(report.record_ids) <= done  # never served to annotators
    with fin.store.read() as tx:  # a parent's label is its synthetic child's label
        parent_label = dict(tx.final_values("label", ["human"]))
    assert all(finals[r].value == parent_label[parents[r]] for r in report.record_ids)

    out = tmp_path / "out"
    prov = (Provenance.HUMAN, Provenance.SYNTHETIC)
    exp = fin.export(ExportOptions(fmt="csv", out=out, split=(0.6, 0.2, 0.2), provenance=prov))
    split_of: dict[int, str] = {}
    for name, path in exp.files.items():
        for line in Path(path).read_text(encoding="utf-8").splitlines()[1:]:
            split_of[int(line.split(",")[0])] = name
    synthetic = [r for r in report.record_ids if r in split_of]
    assert synthetic and all(split_of[r] == "train" for r in synthetic)
    assert all(split_of[parents[r]] == "train" for r in synthetic)  # beside its parent
    dropped = [r for r in report.record_ids if r not in split_of]
    assert all(split_of.get(parents[r]) != "train" for r in dropped)  # parent held out

    rows = fin.evaluate_augmentation(budgets=(50, 100), repeats=3)
    assert [r.budget for r in rows] == [50, 100]
    assert all(r.ci_low <= r.diff <= r.ci_high for r in rows)
    fin.close()


def test_llm_paraphrase_through_the_shared_client_with_redaction(tmp_path: Path) -> None:
    p = Project.init(tmp_path / "small", labels=LABELS)
    texts = [
        "Call jane.roe@example.org: the company's profits rose sharply this year.",
        "Net sales fell by 12 % compared with the previous quarter.",
        "The board will meet again in the spring to discuss the plan.",
    ]
    p.add_records([{"fields": {"text": t}} for t in texts])
    with p.store.write() as tx:
        tx.set_final_labels(
            [FinalLabel(i + 1, "label", lab, Provenance.HUMAN) for i, lab in enumerate(LABELS)]
        )
    outputs = iter(
        [
            "Profit at the company went up a great deal over the year.",
            "Sales dropped by twelve percent against the quarter before.",
            "The directors plan to gather again in spring to review it.",
        ]
    )

    def policy(body: dict[str, Any], index: int) -> Reply:  # fills what the schema asks
        schema = body["response_format"]["json_schema"]["schema"]
        return Reply(json.dumps({key: next(outputs) for key in schema["required"]}))

    with OpenAIServer(policy) as server:
        config = LLMConfig(
            model="test-model", base_url=server.url, api_key="sk-test", confidence="none"
        )
        report = p.augment("paraphrase", per_record=1, llm=config)
        sent = json.dumps([m.body for m in server.chat])
        n_sent = len(server.chat)
        again = p.augment("paraphrase", per_record=1, llm=config)
        assert len(server.chat) == n_sent  # the rerun came from the cache
    assert report.n_generated == 3 and again.tokens == 0
    assert "jane.roe@example.org" not in sent and "[EMAIL_1]" in sent
    p.close()


def test_augment_cli(fin: Project) -> None:
    root = fin.root
    fin.close()
    out = CliRunner().invoke(app, ["augment", "-p", str(root), "--limit", "60"])
    assert out.exit_code == 0, out.output
    assert "template: 120 generated from 60 labeled records" in out.output
    ev = CliRunner().invoke(app, ["augment", "-p", str(root), "--evaluate"])
    assert ev.exit_code == 0, ev.output
    assert "with minus without" in ev.output
    bad = CliRunner().invoke(app, ["augment", "-p", str(root), "--method", "paraphrase"])
    assert bad.exit_code == 1 and "needs an LLM" in bad.output


def test_entity_swap_keeps_spans_aligned(tmp_path: Path) -> None:
    diseases = ["breast cancer", "type 2 diabetes", "asthma", "migraine"]
    genes = ["BRCA1", "TP53", "EGFR"]
    rows = []
    for i in range(12):
        d, g = diseases[i % 4], genes[i % 3]
        text = f"Case {i}: {g} variants and {d} in 😀 family {i}."
        spans = [
            {"start": text.index(g), "end": text.index(g) + len(g), "label": "Gene"},
            {"start": text.index(d), "end": text.index(d) + len(d), "label": "Disease"},
        ]
        rows.append((text, spans))
    with Project.init(tmp_path / "ner", template="ner", labels=["Disease", "Gene"]) as p:
        p.add_records([{"fields": {"text": t}} for t, _ in rows])
        with p.store.write() as tx:
            tx.set_final_labels(
                [FinalLabel(i + 1, "spans", s, Provenance.HUMAN) for i, (_, s) in enumerate(rows)]
            )
        report = p.augment("entity-swap", per_record=2)
        assert report.n_generated > 0 and report.n_kept > 0
        with p.store.read() as tx:
            made = {r.id: r for r in tx.get_records(report.record_ids)}
            finals = tx.final_labels_for(report.record_ids)
    forms = {"Disease": set(diseases), "Gene": set(genes)}
    assert finals and all(f.provenance == Provenance.SYNTHETIC for f in finals)
    for f in finals:
        text = made[f.record_id].fields["text"]
        assert text not in {t for t, _ in rows}  # something was swapped
        for span in f.value:
            assert text[span["start"] : span["end"]] in forms[span["label"]]


def test_self_instruct_for_an_sft_task(tmp_path: Path) -> None:
    pairs = [
        ("Summarise: revenue grew 8 % on higher volumes.", "Revenue rose 8 %."),
        ("Summarise: the plant closes in May; 40 jobs go.", "A plant closure costs 40 jobs."),
        ("Summarise: dividends stay unchanged this year.", "The dividend is unchanged."),
    ]
    n = iter(range(1000))

    def policy(body: dict[str, Any], index: int) -> Reply:  # fills every key with new text
        keys = list(body["response_format"]["json_schema"]["schema"]["properties"])
        return Reply(
            json.dumps(
                {
                    k: f"Summarise item {next(n)}: the company said that its orders for the "
                    "quarter were higher than in the year before."
                    for k in keys
                }
            )
        )

    with Project.init(tmp_path / "sft", template="sft") as p:
        p.add_records([{"fields": {"prompt": q}} for q, _ in pairs])
        with p.store.write() as tx:
            tx.set_final_labels(
                [
                    FinalLabel(i + 1, "response", a, Provenance.HUMAN)
                    for i, (_, a) in enumerate(pairs)
                ]
            )
        with OpenAIServer(policy) as server:
            config = LLMConfig(
                model="test-model", base_url=server.url, api_key="sk-test", confidence="none"
            )
            report = p.augment("self-instruct", per_record=2, llm=config)
        assert report.n_generated >= 2 and report.n_kept >= 1
        with p.store.read() as tx:
            finals = tx.final_labels_for(report.record_ids)
            made = tx.get_records(report.record_ids)
    assert all(f.provenance == Provenance.SYNTHETIC and f.question == "response" for f in finals)
    assert all(r.metadata["synthetic"]["method"] == "self-instruct" for r in made)
    assert all(r.fields["prompt"] for r in made)


def test_the_label_model_joins_the_label_check(tmp_path: Path) -> None:
    """A counterfactual that keeps its negative wording is contradicted by the keyword LFs:
    with --lfs the label model rejects it, without them it may pass."""
    rows = [(f"Net sales fell and the loss grew in unit {i}.", "negative") for i in range(20)]
    rows += [(f"Operating profit rose strongly in unit {i}.", "positive") for i in range(20)]
    rows += [(f"The meeting is held in unit {i} on Tuesday.", "neutral") for i in range(20)]
    lfs = tmp_path / "lfs.py"
    lfs.write_text(
        "from goldsmith.weak import keyword_lf\n"
        'neg = keyword_lf("negative", ["fell", "decreased"])\n'
        'neg_loss = keyword_lf("negative", ["loss", "widened"], name="neg_loss")\n'
        'pos = keyword_lf("positive", ["rose", "increased", "profit"])\n',
        encoding="utf-8",
    )
    outputs = iter(range(1000))

    def policy(body: dict[str, Any], index: int) -> Reply:  # the "flip" keeps the bad news
        keys = list(body["response_format"]["json_schema"]["schema"]["properties"])
        return Reply(
            json.dumps(
                {k: f"Net sales fell sharply again in region {next(outputs)}." for k in keys}
            )
        )

    with Project.init(tmp_path / "cf", labels=LABELS) as p:
        p.add_records([{"fields": {"text": t}} for t, _ in rows])
        with p.store.write() as tx:
            tx.set_final_labels(
                [
                    FinalLabel(i + 1, "label", lab, Provenance.HUMAN)
                    for i, (_, lab) in enumerate(rows)
                ]
            )
        p.apply_lfs(lfs, workers=1)
        with OpenAIServer(policy) as server:
            config = LLMConfig(
                model="test-model", base_url=server.url, api_key="sk-test", confidence="none"
            )
            checked = p.augment(
                "counterfactual", per_record=1, llm=config, limit=20, lfs=lfs, seed=1
            )
        proba = label_model_proba(
            p.store,
            p.task,
            load_lf_file(lfs),
            ["Net sales fell and the loss widened.", "Profit rose.", "A meeting on Tuesday."],
            field="text",
        )
    # two agreeing LFs make the label model confident; one vote alone does not (about 0.71)
    assert proba[0].argmax() == LABELS.index("negative") and proba[0].max() > 0.9
    assert proba[1].argmax() == LABELS.index("positive") and proba[1].max() < 0.9
    assert np.allclose(proba[2], 1 / 3)  # no vote: no opinion
    # every output reads negative; those meant to be positive or neutral are contradicted
    assert checked.n_generated == 40
    assert checked.rejected.get("label", 0) >= 30
    assert checked.n_kept <= 10
