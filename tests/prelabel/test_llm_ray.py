"""LLM prelabeling on Ray against the loopback OpenAI-compatible server: the same
suggestions, final labels, queue and report as the local engine, one shared cache and token
budget, and a run cut short that resumes paying only for what it had not got."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

from goldsmith.llm.cache import DEFAULT_CACHE, LLMCache
from goldsmith.llm.client import LLMConfig
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance
from openai_server import OpenAIServer, Reply, record_text

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"
LABELS = ("positive", "negative", "neutral")


def _sentences(n: int) -> list[tuple[str, str]]:
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh]
    return [(t, lab) for t, lab in rows if t][:n]


def _policy(truth: dict[str, str]) -> Any:
    def policy(body: dict[str, Any], index: int) -> Reply:
        text = record_text(body)
        sentence = next(s for s in truth if s.upper() in text.upper())
        label = truth[sentence]
        if zlib.crc32(sentence.encode()) % 10 >= 7:  # wrong, and confident all the same
            return Reply(json.dumps({"label": LABELS[(LABELS.index(label) + 1) % 3]}), 0.85)
        return Reply(json.dumps({"label": label}), 0.95)

    return policy


def _project(root: Path, rows: list[tuple[str, str]]) -> Project:
    p = Project.init(root, labels=LABELS)
    p.add_records([{"fields": {"text": t}} for t, _ in rows])
    p.set_guidelines("# Sentiment\nThe sentence's sentiment for the company's investors.")
    with p.store.write() as tx:  # the first 40 are gold
        tx.set_final_labels(
            [FinalLabel(i + 1, "label", rows[i][1], Provenance.GOLD) for i in range(40)]
        )
    return p


def _outcome(p: Project) -> tuple[Any, ...]:
    ids = list(range(1, 1000))
    with p.store.read() as tx:
        suggestions = sorted(
            (s.record_id, s.agent, s.value, s.score) for s in tx.suggestions_for(ids)
        )
        finals = sorted(tx.final_values("label", [str(Provenance.LLM)]))
        ranks = tx.queue_ranks(ids)
    return suggestions, finals, ranks


def test_llm_prelabel_on_ray_equals_local(tmp_path: Path, ray_cluster: Any) -> None:
    rows = _sentences(120)
    outcomes, reports, sent, cached = {}, {}, {}, {}
    with OpenAIServer(_policy(dict(rows))) as server:
        config = LLMConfig(
            model="test-model", base_url=server.url, api_key="sk-test", concurrency=3
        )
        for engine in ("local", "ray"):
            before = len(server.chat)
            with _project(tmp_path / engine, rows) as p:
                reports[engine] = p.prelabel_llm(
                    config, calibrate_on=30, shots=2, threshold=0.9, engine=engine
                )
                outcomes[engine] = _outcome(p)
                sent[engine] = sorted(record_text(c.body) for c in server.chat[before:] if c.body)
                cached[engine] = len(LLMCache(p.root / DEFAULT_CACHE))
        assert server.max_in_flight <= 2 * 3  # 2 workers, 3 requests in flight each
    assert sent["ray"] == sent["local"]  # the same requests, re-asks included
    assert len(set(sent["ray"])) == 110  # 80 open records + 30 gold
    assert cached["ray"] == cached["local"] > 100  # one shared cache, written by the ledger
    assert reports["ray"] == reports["local"]
    assert reports["ray"].n_final + reports["ray"].n_to_humans == 79  # one reply never valid
    assert outcomes["ray"] == outcomes["local"]
    assert outcomes["ray"][0] and outcomes["ray"][1]  # suggestions and final labels


def test_a_run_cut_short_resumes_paying_only_for_the_rest(tmp_path: Path, ray_cluster: Any) -> None:
    rows = _sentences(80)
    with OpenAIServer(_policy(dict(rows))) as server:
        config = LLMConfig(model="test-model", base_url=server.url, api_key="sk-test")
        with _project(tmp_path / "local", rows) as p:
            local = p.prelabel_llm(config, calibrate_on=20, shots=2)
            expected = _outcome(p)
        n_local = len(server.chat)
        with _project(tmp_path / "ray", rows) as p:
            short = config.model_copy(update={"token_budget": local.tokens // 3})
            cut = p.prelabel_llm(short, calibrate_on=20, shots=2, engine="ray")
            assert cut.n_not_sent > 0 and "budget" in (cut.stopped or "")
            assert cut.tokens < local.tokens  # the shared budget bound all the workers
            paid_first = len(server.chat) - n_local
            assert paid_first == cut.n_ok < 60
            job = next((p.root / ".goldsmith" / "jobs").iterdir())
            assert job.name.startswith("llm-")  # kept for the rerun

            resumed = p.prelabel_llm(config, calibrate_on=20, shots=2, engine="ray")
            paid_again = len(server.chat) - n_local - paid_first
            assert paid_again == cut.n_not_sent  # nothing answered before is asked again
            assert resumed.n_ok == 60 and resumed.stopped is None
            assert not job.exists()
            assert _outcome(p) == expected
