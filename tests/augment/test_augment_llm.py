"""LLM augmentation over real HTTP against the loopback OpenAI-compatible server, through the
project's one LLM client (retries, re-asks, cache, budget)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from goldsmith.augment import (
    build_augment_request,
    counterfactual,
    evol_instruct,
    paraphrase,
    self_instruct,
)
from goldsmith.errors import ConfigError
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.schema import FieldSpec, LabelQuestion, Record, Settings, Task, TextQuestion
from openai_server import Fault, OpenAIServer, Reply, record_text

TASK = Task(
    name="fin",
    fields=(FieldSpec(name="text"),),
    questions=(LabelQuestion(name="sentiment", labels=("positive", "negative", "neutral")),),
    settings=Settings(redact_before_llm=False),
)
SFT = Task(
    name="qa",
    fields=(FieldSpec(name="prompt"),),
    questions=(TextQuestion(name="response"),),
    settings=Settings(redact_before_llm=False),
)
RECORDS = [
    Record(id=1, fields={"text": "Profits rose 20 % this quarter."}),
    Record(id=2, fields={"text": "Sales fell sharply in May."}),
    Record(id=3, fields={"text": "The board meets on Tuesday."}),
]
LABELS = ["positive", "negative", "neutral"]


def generator(body: dict[str, Any], index: int) -> Reply:
    """Answer every key the schema asks for with a variant of the record text."""
    keys = list(body["response_format"]["json_schema"]["schema"]["properties"])
    text = record_text(body).split("\n", 1)[1]
    system = body["messages"][0]["content"]
    target = "negative" if "becomes 'negative'" in system else None
    out = {}
    for k in keys:
        if target:
            out[k] = text.replace("rose", "fell") + f" ({k})"
        else:
            out[k] = f"In other words ({k}): {text}"
    return Reply(json.dumps(out))


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(generator) as s:
        yield s


def client(server: OpenAIServer, tmp_path: Path, **kw: Any) -> LLMClient:
    cfg = LLMConfig(
        model="test-model",
        base_url=server.url,
        api_key=SecretStr("k"),
        confidence="none",
        backoff=0.0,
        concurrency=1,
        **kw,
    )
    return LLMClient(cfg, cache=tmp_path / "cache.sqlite", sleep=lambda s: None)


def test_paraphrase_keeps_labels_and_caches(server: OpenAIServer, tmp_path: Path) -> None:
    with client(server, tmp_path) as c:
        run = paraphrase(c, TASK, "Label the sentiment.", RECORDS, LABELS, per_record=2)
    assert run.stopped is None and run.tokens > 0
    assert len(run.synthetics) == 6
    for syn in run.synthetics:
        parent = RECORDS[syn.parent_record_id - 1]  # type: ignore[operator]
        assert syn.values == {"sentiment": LABELS[parent.id - 1]}  # type: ignore[operator]
        assert parent.fields["text"] in syn.fields["text"] and syn.method == "paraphrase"
    body = server.chat[0].body
    assert body is not None
    props = body["response_format"]["json_schema"]["schema"]["properties"]
    assert list(props) == ["text_1", "text_2"]
    assert "'positive'" in body["messages"][0]["content"]
    sent = len(server.chat)
    with client(server, tmp_path) as c:  # rerun: everything from the cache
        again = paraphrase(c, TASK, "Label the sentiment.", RECORDS, LABELS, per_record=2)
    assert len(server.chat) == sent and again.tokens == 0
    assert [s.fields for s in again.synthetics] == [s.fields for s in run.synthetics]


def test_invalid_json_is_reasked(server: OpenAIServer, tmp_path: Path) -> None:
    server.faults.append(Fault("invalid_json"))
    with client(server, tmp_path) as c:
        run = paraphrase(c, TASK, "", RECORDS[:1], LABELS[:1], per_record=1)
    assert len(run.synthetics) == 1 and len(server.chat) == 2
    second = server.chat[1].body
    assert second is not None and "not valid" in second["messages"][-1]["content"]


def test_budget_stops_the_run(server: OpenAIServer, tmp_path: Path) -> None:
    with client(server, tmp_path, token_budget=1) as c:
        run = paraphrase(c, TASK, "", RECORDS, LABELS, per_record=1)
    assert len(server.chat) == 1 and len(run.synthetics) == 1
    assert run.run.budget_exhausted and run.stopped and "budget" in run.stopped


def test_counterfactual_flips_to_target(server: OpenAIServer, tmp_path: Path) -> None:
    with client(server, tmp_path) as c:
        run = counterfactual(c, TASK, "", RECORDS[:1], ["positive"], targets=["negative"])
    (syn,) = run.synthetics
    assert syn.values == {"sentiment": "negative"} and syn.detail["source_label"] == "positive"
    assert "fell" in syn.fields["text"] and syn.parent_record_id == 1
    with client(server, tmp_path) as c:  # default: every other label
        run = counterfactual(c, TASK, "", RECORDS[:1], ["positive"])
    assert sorted(s.values["sentiment"] for s in run.synthetics) == ["negative", "neutral"]
    with pytest.raises(Exception, match="other than"), client(server, tmp_path) as c:
        counterfactual(c, TASK, "", RECORDS[:1], ["positive"], targets=["positive"])


def test_self_and_evol_instruct_make_pairs(server: OpenAIServer, tmp_path: Path) -> None:
    seeds = [
        {"prompt": "What is EBITDA?", "response": "Earnings before ...", "id": 5},
        {"prompt": "Define churn.", "response": "The share of ...", "id": 6},
    ]
    with client(server, tmp_path) as c:
        run = self_instruct(c, SFT, "Answer briefly.", seeds, requests=2, per_request=2)
        evol = evol_instruct(c, SFT, "", seeds[:1], per_record=1)
    assert len(run.synthetics) == 4
    for syn in run.synthetics:
        assert set(syn.fields) == {"prompt"} and set(syn.values) == {"response"}
        assert syn.method == "self-instruct" and syn.detail["seed_record_ids"] == [5, 6]
    (e,) = evol.synthetics
    assert e.parent_record_id == 5 and e.method == "evol-instruct"
    body = server.chat[0].body
    assert body is not None and "What is EBITDA?" in body["messages"][-1]["content"]
    props = body["response_format"]["json_schema"]["schema"]["properties"]
    assert list(props) == ["prompt_1", "response_1", "prompt_2", "response_2"]


def test_redaction_fails_closed_and_applies(server: OpenAIServer, tmp_path: Path) -> None:
    task = TASK.model_copy(update={"settings": Settings(redact_before_llm=True)})
    with pytest.raises(ConfigError, match="redact"):
        build_augment_request("paraphrase", task, "", RECORDS[0], label="positive")
    with client(server, tmp_path) as c:
        with pytest.raises(ConfigError, match="redact"):
            paraphrase(c, task, "", RECORDS, LABELS)
        assert server.chat == []
        paraphrase(
            c, task, "", RECORDS[:1], LABELS[:1], redact=lambda t: t.replace("20 %", "[PCT]")
        )
    body = server.chat[0].body
    assert body is not None
    assert "20 %" not in json.dumps(body) and "[PCT]" in body["messages"][-1]["content"]
