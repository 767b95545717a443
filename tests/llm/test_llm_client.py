"""The LLM client over real HTTP, against the loopback OpenAI-compatible server.

No mock of the ``openai`` SDK: every test sends real requests to ``openai_server`` and
asserts on what the server received (its request log) as well as on what came back.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from _progress import Recorder
from goldsmith.errors import ConfigError
from goldsmith.llm.batch import answer_many, prelabel_records
from goldsmith.llm.cache import LLMCache, canonical_json
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.llm.prompt import build_request
from goldsmith.schema import FieldSpec, LabelQuestion, Record, Settings, SuggestionKind, Task
from openai_server import Fault, OpenAIServer, Reply, answer_with, record_text

KEY = "sk-test-SECRET-0123456789"
TASK = Task(
    name="fin",
    fields=(FieldSpec(name="text"),),
    questions=(LabelQuestion(name="sentiment", labels=("positive", "negative", "neutral")),),
    settings=Settings(redact_before_llm=False),
)
TEXTS = [
    "Profits rose 20 % this quarter.",
    "Sales fell sharply in May.",
    "The board meets on Tuesday.",
    "Operating profit rose to EUR 13 million.",
    "Net loss widened and sales fell.",
    "The company is based in Espoo.",
]
RECORDS = [Record(id=i + 1, fields={"text": t}) for i, t in enumerate(TEXTS)]


def sentiment(text: str) -> str:
    if "rose" in text:
        return "positive"
    return "negative" if "fell" in text else "neutral"


def expected(record: Record) -> str:
    return sentiment(record.fields["text"])


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer(answer_with("sentiment", sentiment, confidence=0.8)) as s:
        yield s


def config(server: OpenAIServer, **kw: Any) -> LLMConfig:
    base: dict[str, Any] = {
        "model": "test-model",
        "base_url": server.url,
        "api_key": KEY,
        "backoff": 0.001,
        "max_backoff": 0.01,
        "concurrency": 1,
    }
    return LLMConfig(**{**base, **kw})


def run(client: LLMClient, records: Iterable[Record] = RECORDS, **kw: Any) -> Any:
    return prelabel_records(client, TASK, "Label the sentiment of the sentence.", records, **kw)


# --------------------------------------------------------------------------- answers


def test_prelabel_over_http_with_logprob_confidence(server: OpenAIServer, tmp_path: Path) -> None:
    with LLMClient(config(server, concurrency=3), cache=tmp_path / "c.sqlite") as client:
        result = run(client)
    assert result.stopped is None and result.count("ok") == len(RECORDS)
    for r, record in zip(result.results, RECORDS, strict=True):
        assert r.values == {"sentiment": expected(record)} and r.record_id == record.id
        assert r.confidence["sentiment"] == pytest.approx(0.8)
        assert r.confidence_source == "logprobs" and not r.cached and r.paid_calls == 1
    assert result.tokens == sum(r.tokens for r in result.results) > 0
    s = result.suggestions[0]
    assert (s.record_id, s.question, s.agent, s.kind) == (1, "sentiment", "llm:test-model", "llm")
    assert s.kind is SuggestionKind.LLM and s.score == pytest.approx(0.8)
    body = server.chat[0].body
    assert body is not None and body["logprobs"] is True and body["top_logprobs"] == 1
    assert body["response_format"]["json_schema"]["schema"]["properties"]["sentiment"]["enum"]
    assert server.chat[0].headers["authorization"] == f"Bearer {KEY}"


def test_self_consistency_when_the_endpoint_gives_no_logprobs(tmp_path: Path) -> None:
    votes = ["positive", "positive", "positive", "negative"]
    policy = lambda body, i: json.dumps({"sentiment": votes[i]})  # noqa: E731
    with OpenAIServer(policy, logprobs=False) as server:
        with LLMClient(config(server, samples=4)) as client:
            result = run(client, RECORDS[:3])
        assert [r.confidence_source for r in result.results] == ["self_consistency"] * 3
        assert all(r.values == {"sentiment": "positive"} for r in result.results)
        assert all(r.confidence["sentiment"] == 0.75 for r in result.results)
        # one logprob probe, then only sampled calls (n=4 at the sampling temperature)
        sent = [e.body for e in server.chat]
        assert [b.get("logprobs", False) for b in sent] == [True, False, False, False]
        assert [b.get("n") for b in sent[1:]] == [4, 4, 4]
        assert {b["temperature"] for b in sent[1:]} == {0.7}


def test_self_consistency_tops_up_an_endpoint_that_ignores_n() -> None:
    by_seed = {None: "positive", 1: "negative", 2: "positive", 3: "positive"}
    policy = lambda body, i: json.dumps({"sentiment": by_seed[body.get("seed")]})  # noqa: E731
    with OpenAIServer(policy, logprobs=False, honour_n=False) as server:
        with LLMClient(config(server, confidence="self_consistency", samples=4)) as client:
            result = run(client, RECORDS[:1])
        assert [e.body.get("seed") for e in server.chat if e.body] == [None, 1, 2, 3]
    (r,) = result.results
    assert r.values == {"sentiment": "positive"} and r.confidence["sentiment"] == 0.75


def test_an_endpoint_that_refuses_logprobs_falls_back_once() -> None:
    with OpenAIServer(answer_with("sentiment", sentiment), reject_logprobs=True) as server:
        with LLMClient(config(server, samples=1)) as client:
            result = run(client, RECORDS[:3])
        assert [e.status for e in server.chat] == [400, 200, 200, 200]
    assert result.count("ok") == 3
    assert {r.confidence_source for r in result.results} == {"none"}


def test_explicit_logprobs_without_them_says_how_to_get_them() -> None:
    with OpenAIServer(answer_with("sentiment", sentiment), logprobs=False) as server:
        client = LLMClient(config(server, confidence="logprobs"))
        with client, pytest.raises(ConfigError, match="--logits_all true"):
            run(client, RECORDS[:1])


def test_json_object_dialect_for_llama_cpp(server: OpenAIServer) -> None:
    with LLMClient(config(server, response_format="json_object")) as client:
        assert run(client, RECORDS[:1]).count("ok") == 1
    rf = server.chat[0].body["response_format"]  # type: ignore[index]
    assert rf["type"] == "json_object" and rf["schema"]["required"] == ["sentiment"]


# --------------------------------------------------------------------------- faults


def test_invalid_json_then_a_reask_that_succeeds(server: OpenAIServer) -> None:
    server.faults.append(Fault("invalid_json"))
    with LLMClient(config(server)) as client:
        (r,) = run(client, RECORDS[:1]).results
    assert r.status == "ok" and r.values == {"sentiment": "positive"} and r.paid_calls == 2
    first, second = (e.body for e in server.chat)
    assert first is not None and second is not None
    assert second["messages"][: len(first["messages"])] == first["messages"]
    bad, repair = second["messages"][-2:]
    assert bad == {"role": "assistant", "content": '{"oops": this is not JSON'}
    assert repair["role"] == "user" and "not valid JSON" in repair["content"]


def test_schema_invalid_answers_are_reasked_a_bounded_number_of_times() -> None:
    policy = lambda body, i: json.dumps({"sentiment": "bullish"})  # noqa: E731
    with OpenAIServer(policy) as server:
        with LLMClient(config(server, max_reasks=2)) as client:
            (r,) = run(client, RECORDS[:1]).results
        assert len(server.chat) == 3
    assert r.status == "failed" and not r.transient
    assert "'sentiment'" in (r.error or "") and "bullish" in (r.error or "")


def test_429_waits_as_long_as_retry_after_says(server: OpenAIServer) -> None:
    server.faults.append(Fault("429", retry_after=0.05))
    with LLMClient(config(server, backoff=0.0, max_backoff=0.0)) as client:
        (r,) = run(client, RECORDS[:1]).results
    assert r.status == "ok"
    limited, ok = server.chat
    assert limited.status == 429 and ok.status == 200
    assert 0.05 <= ok.time - limited.time < 2.0  # backoff alone would have waited 0 s


def test_500_dropped_connections_and_garbage_are_retried_with_growing_backoff(
    server: OpenAIServer,
) -> None:
    server.faults.extend([Fault("500"), Fault("drop"), Fault("garbage")])
    waits: list[float] = []
    with LLMClient(config(server, backoff=0.01, max_backoff=1.0), sleep=waits.append) as client:
        (r,) = run(client, RECORDS[:1]).results
    assert r.status == "ok" and [e.status for e in server.chat] == [500, -1, 200, 200]
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):  # 0.01 * 2**attempt, jittered ±50 %
        assert 0.005 * 2**attempt <= wait <= 0.015 * 2**attempt


def test_a_failing_endpoint_stops_the_run_after_consecutive_failures(
    server: OpenAIServer,
) -> None:
    server.faults.extend([Fault("500")] * 100)
    cfg = config(server, max_retries=1, max_consecutive_failures=2)
    with LLMClient(cfg) as client:
        result = run(client, iter(RECORDS))  # an iterator is read lazily
    assert [r.status for r in result.results] == ["failed"] * 2 + ["not_sent"] * 4
    assert [r.record_id for r in result.results] == [r.id for r in RECORDS]
    assert all(r.transient for r in result.results[:2])
    assert len(server.chat) == 4  # two requests, each tried twice; the rest never sent
    assert result.stopped and "2 failed requests in a row" in result.stopped
    assert "HTTP 500" in result.stopped


def test_the_api_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpcore", "goldsmith"):
        caplog.set_level(logging.DEBUG, logger=name)
    with OpenAIServer(answer_with("sentiment", sentiment), api_key="the-right-key") as server:
        cfg = config(server)
        with LLMClient(cfg) as client:
            shown = [
                repr(cfg),
                str(cfg),
                cfg.model_dump_json(),
                repr(client),
                repr(client.endpoint),
            ]
            with pytest.raises(ConfigError) as info:
                run(client, RECORDS[:1])
        assert server.chat[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent ...
        assert server.chat[0].status == 401  # ... and echoed back in the error body
    error = info.value
    assert "GOLDSMITH_LLM_API_KEY" in str(error) and "401" in str(error)
    assert error.__cause__ is None and error.__context__ is None  # no SDK error chained
    text = "\n".join([*shown, str(error), repr(error), *traceback.format_exception(error)])
    assert any(r.name.startswith(("openai", "httpx")) for r in caplog.records)  # we listened
    assert KEY not in text and KEY not in caplog.text
    assert KEY[-8:] not in text and KEY[-8:] not in caplog.text


def test_the_api_key_comes_from_the_environment(
    server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-openai-var")
    monkeypatch.setenv("GOLDSMITH_LLM_API_KEY", "sk-from-goldsmith-var")
    cfg = config(server, api_key=None)
    with LLMClient(cfg) as client:
        client.models()
    monkeypatch.delenv("GOLDSMITH_LLM_API_KEY")
    with LLMClient(cfg) as client:
        assert client.models() == ["test-model"]
    assert [e.headers["authorization"] for e in server.log] == [
        "Bearer sk-from-goldsmith-var",
        "Bearer sk-from-openai-var",
    ]


def test_an_unknown_model_is_a_config_error(server: OpenAIServer) -> None:
    client = LLMClient(config(server, model="gpt-nope"))
    with client, pytest.raises(ConfigError, match="no model 'gpt-nope'"):
        run(client, RECORDS[:1])
    assert len(server.chat) == 1  # not retried


# --------------------------------------------------------------------------- cache, budget


def test_a_rerun_is_served_from_the_cache(server: OpenAIServer, tmp_path: Path) -> None:
    cache = tmp_path / "llm-cache.sqlite"
    with LLMClient(config(server, concurrency=2), cache=cache) as client:
        first = run(client)
    assert len(server.chat) == len(RECORDS)
    with LLMClient(config(server, concurrency=2), cache=cache) as client:
        second = run(client)
    assert len(server.chat) == len(RECORDS)  # nothing new was sent
    assert all(r.cached and r.tokens == 0 and r.paid_calls == 0 for r in second.results)
    assert second.tokens == 0
    assert [r.values for r in second.results] == [r.values for r in first.results]
    assert [r.confidence for r in second.results] == [r.confidence for r in first.results]


def test_a_changed_prompt_is_a_new_request(server: OpenAIServer, tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite"
    with LLMClient(config(server), cache=cache) as client:
        run(client, RECORDS[:2])
        prelabel_records(client, TASK, "Other guidelines.", RECORDS[:2])
        run(client, RECORDS[:2])
    assert len(server.chat) == 4


def test_a_token_budget_stops_cleanly_and_a_rerun_finishes(
    server: OpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "c.sqlite"
    with LLMClient(config(server, token_budget=1), cache=cache) as client:
        result = run(client)
    assert [r.status for r in result.results] == ["ok"] + ["not_sent"] * 5
    assert result.budget_exhausted and result.tokens > 1
    assert result.stopped and "token budget of 1 is spent" in result.stopped
    assert "5 request(s) were not sent" in result.stopped and "budget" in caplog.text
    assert len(server.chat) == 1 and len(result.suggestions) == 1
    # the same budget again: the finished answer is free, one more is paid for
    with LLMClient(config(server, token_budget=1), cache=cache) as client:
        again = run(client)
    assert [r.status for r in again.results] == ["ok", "ok"] + ["not_sent"] * 4
    assert again.results[0].cached and len(server.chat) == 2
    with LLMClient(config(server), cache=cache) as client:
        done = run(client)
    assert done.count("ok") == 6 and done.stopped is None and len(server.chat) == 6


CRASHING_RUN = """
import sys
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.llm.batch import prelabel_records
from goldsmith.schema import FieldSpec, LabelQuestion, Record, Settings, Task

url, cache, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
task = Task(
    name="fin",
    fields=(FieldSpec(name="text"),),
    questions=(LabelQuestion(name="sentiment", labels=("positive", "negative", "neutral")),),
    settings=Settings(redact_before_llm=False),
)
records = [Record(id=i + 1, fields={"text": f"sales fell {i} %"}) for i in range(n)]
config = LLMConfig(model="test-model", base_url=url, api_key="k", concurrency=1)
with LLMClient(config, cache=cache) as client:
    prelabel_records(client, task, "", records)
print("finished")
"""


def test_a_crashed_run_resumes_without_repeating_paid_calls(tmp_path: Path) -> None:
    n, cache = 12, tmp_path / "llm-cache.sqlite"
    script = tmp_path / "crashing_run.py"
    script.write_text(textwrap.dedent(CRASHING_RUN))
    with OpenAIServer(answer_with("sentiment", sentiment), delay=0.1) as server:
        with open(tmp_path / "child.log", "w") as log:
            child = subprocess.Popen(
                [sys.executable, str(script), server.url, str(cache), str(n)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 60
            while len(server.chat) < 5 and time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.02)
            child.kill()  # SIGKILL: no cleanup, no flush, mid-run
            child.wait()
        assert len(server.chat) >= 5, (tmp_path / "child.log").read_text()
        assert "finished" not in (tmp_path / "child.log").read_text()
        served = len(server.chat)
        with LLMCache(cache) as c:
            kept = len(c)
        assert kept >= served - 1  # only an answer in flight at the kill can be lost
        server.delay = 0.0
        records = [Record(id=i + 1, fields={"text": f"sales fell {i} %"}) for i in range(n)]
        cfg = LLMConfig(model="test-model", base_url=server.url, api_key="k", concurrency=1)
        with LLMClient(cfg, cache=cache) as client:
            result = prelabel_records(client, TASK, "", records)
        assert result.count("ok") == n
        assert len(server.chat) - served == n - kept  # only what was not kept was re-sent
        bodies = [canonical_json(e.body) for e in server.chat]
        assert len(bodies) - len(set(bodies)) == served - kept  # at most the one in flight
        assert sum(r.cached for r in result.results) == kept


# --------------------------------------------------------------------------- redaction, threads

EMAIL = re.compile(r"[\w.]+@example\.com")


def test_redaction_applies_to_every_text_that_leaves(server: OpenAIServer) -> None:
    task = TASK.model_copy(update={"settings": Settings(redact_before_llm=True)})
    records = [
        Record(id=1, fields={"text": "Mail ann@example.com: profits rose."}),
        Record(id=2, fields={"text": "bob@example.com says sales fell."}),
    ]
    example = Record(id=9, fields={"text": "cy@example.com reported a loss."})
    server.faults.append(Fault("invalid_json"))  # the re-ask goes out redacted too

    def redact(text: str) -> str:
        return EMAIL.sub("<EMAIL>", text)

    with LLMClient(config(server)) as client:
        result = prelabel_records(
            client,
            task,
            "Guidelines mention no one.",
            records,
            examples_for=lambda record: [(example, {"sentiment": "negative"})],
            redact=redact,
        )
    assert result.count("ok") == 2 and len(server.chat) == 3
    wire = json.dumps([e.body for e in server.log])
    assert EMAIL.findall(wire) == []
    assert wire.count("<EMAIL>") >= 2 + 3  # each record once, the example in every request
    assert [r.values["sentiment"] for r in result.results] == ["positive", "negative"]


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    with OpenAIServer(answer_with("sentiment", sentiment), delay=0.1) as server:
        with LLMClient(config(server, concurrency=3)) as client:
            started = time.monotonic()
            result = run(client, RECORDS + RECORDS[:3])
            took = time.monotonic() - started
        assert server.max_in_flight == 3
    assert result.count("ok") == 9 and 0.3 <= took < 0.9 * 0.1 * 9


def test_answer_many_keeps_input_order_and_reports_progress(server: OpenAIServer) -> None:
    progress = Recorder()
    requests = [build_request(TASK, "", r) for r in RECORDS]
    with LLMClient(config(server, concurrency=4)) as client:
        result = answer_many(client, requests, progress=progress)
    assert [r.index for r in result.results] == list(range(len(RECORDS)))
    assert [r.values["sentiment"] for r in result.results] == [expected(r) for r in RECORDS]
    assert progress.events == [("start", 6), *[("advance", 1)] * 6, ("finish", None)]


def test_policy_helpers_read_the_record_turn() -> None:
    turns = ["## text\na", "## text\nb", "That reply was not valid"]
    body = {"messages": [{"role": "user", "content": t} for t in turns]}
    assert record_text(body) == "## text\nb"
    assert Reply("{}").confidence == 1.0
