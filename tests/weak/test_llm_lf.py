"""llm_lf: an LF that asks an LLM (the loopback OpenAI-compatible server), through the applier."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.llm.client import LLMClient, LLMConfig
from goldsmith.schema import (
    FieldSpec,
    LabelQuestion,
    MultiLabelQuestion,
    Record,
    Settings,
    SpansQuestion,
    Task,
)
from goldsmith.weak import ABSTAIN
from goldsmith.weak.apply import apply_lfs, multilabel_names
from goldsmith.weak.llm_lf import llm_lf


def _server_module() -> ModuleType:
    """``tests/openai_server.py``, loaded by path (test folders are not packages); it used to
    look in ``tests/prelabel/`` and only passed when another module had loaded it first."""
    if "openai_server" not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "openai_server.py"
        spec = importlib.util.spec_from_file_location("openai_server", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["openai_server"] = module
        spec.loader.exec_module(module)
    return sys.modules["openai_server"]


srv = _server_module()
LABELS = ["positive", "negative", "neutral"]
TASK = Task(
    name="fin",
    fields=(FieldSpec(name="text"),),
    questions=(LabelQuestion(name="sentiment", labels=tuple(LABELS)),),
    settings=Settings(redact_before_llm=False),
)
TEXTS = ["profits rose", "sales fell", "the board met", "profits rose again"]


def policy(body: dict[str, Any], index: int) -> Any:
    """Sure about rises and neutral news, unsure (0.3) about falls."""
    text = srv.record_text(body)
    question = next(iter(body["response_format"]["json_schema"]["schema"]["properties"]))
    if "rose" in text:
        return srv.Reply(json.dumps({question: "positive"}), 0.9)
    if "fell" in text:
        return srv.Reply(json.dumps({question: "negative"}), 0.3)
    return srv.Reply(json.dumps({question: "neutral"}), 0.9)


@pytest.fixture
def server() -> Iterator[Any]:
    with srv.OpenAIServer(policy) as s:
        yield s


def cfg(server: Any, **kw: Any) -> LLMConfig:
    base = {"model": "test-model", "base_url": server.url, "api_key": "k", "backoff": 0.0}
    return LLMConfig(**{**base, **kw})


def rows(texts: Sequence[str]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    return [(i + 1, {"text": t}, {}) for i, t in enumerate(texts)]


def votes(lf: Any, texts: Sequence[str] = TEXTS, **kw: Any) -> list[int]:
    (column,) = apply_lfs([lf], rows(texts), kw.pop("labels", LABELS), workers=1, **kw)
    out = [-1] * len(texts)
    for rid, label in zip(column.ids, column.labels, strict=True):
        out[rid - 1] = label
    return out


def test_votes_where_sure_and_abstains_below_the_threshold(server: Any, tmp_path: Path) -> None:
    lf = llm_lf("gpt_sentiment", config=cfg(server), task=TASK, cache=tmp_path / "c.sqlite")
    assert lf.kind in {"model", "llm"} and lf.batch_fn is not None
    assert votes(lf) == [0, ABSTAIN, 2, 0]  # "sales fell" came back at 0.3 < 0.5
    loose = llm_lf("loose", config=cfg(server), task=TASK, threshold=0.2, cache=None)
    assert votes(loose) == [0, 1, 2, 0]


def test_reapplying_costs_nothing(server: Any, tmp_path: Path) -> None:
    cache = tmp_path / ".goldsmith" / "llm-cache.sqlite"
    lf = llm_lf("gpt", config=cfg(server, concurrency=2), task=TASK, cache=cache)
    first = votes(lf)
    assert len(server.chat) == len(TEXTS)
    again = llm_lf("gpt", config=cfg(server, concurrency=2), task=TASK, cache=cache)
    assert again.version == lf.version
    assert votes(again) == first and len(server.chat) == len(TEXTS)


def test_the_default_cache_lives_in_the_working_folder(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lf = llm_lf("gpt", config=cfg(server), task=TASK)
    votes(lf)
    votes(lf)
    assert (tmp_path / ".goldsmith" / "llm-cache.sqlite").is_file()
    assert len(server.chat) == len(TEXTS)


def test_failures_abstain_instead_of_raising(server: Any) -> None:
    server.faults.extend([srv.Fault("500")] * 10)
    lf = llm_lf("flaky", config=cfg(server, max_retries=0), task=TASK, cache=None)
    assert votes(lf) == [ABSTAIN] * len(TEXTS)


def test_a_given_client_is_used_and_left_open(server: Any, tmp_path: Path) -> None:
    with LLMClient(cfg(server), cache=tmp_path / "c.sqlite") as client:
        lf = llm_lf("gpt", client=client, task=TASK)
        assert votes(lf) == votes(lf) == [0, ABSTAIN, 2, 0]
        assert client.models() == ["test-model"]  # still open
    assert len(server.chat) == len(TEXTS)


def test_the_version_follows_prompt_model_and_settings(server: Any) -> None:
    def version(**kw: Any) -> str:
        args: dict[str, Any] = {"config": cfg(server), "task": TASK, "cache": None, **kw}
        return llm_lf("gpt", **args).version

    base = version()
    assert version() == base
    other_task = TASK.model_copy(
        update={"settings": Settings(redact_before_llm=False, system_prompt="You are terse.")}
    )
    example = (Record(fields={"text": "profits rose"}), {"sentiment": "positive"})
    changed = {
        "instructions": version(instructions="Treat layoffs as negative."),
        "guidelines": version(guidelines="# Sentiment\nFrom the investor's view."),
        "examples": version(examples=[example]),
        "model": version(config=cfg(server, model="other-model")),
        "temperature": version(config=cfg(server, temperature=0.3)),
        "threshold": version(threshold=0.7),
        "system prompt": version(task=other_task),
        "extra": version(version="v2"),
    }
    assert base not in changed.values() and len(set(changed.values())) == len(changed)
    # settings that do not change answers do not change the version
    assert version(config=cfg(server, concurrency=8, max_retries=1)) == base
    assert version(config=cfg(server, base_url="http://elsewhere/v1")) == base
    assert server.log == []  # building an LF sends nothing


def test_multilabel_votes_the_chosen_labels_and_not_the_others() -> None:
    tags = ("rates", "jobs", "energy")
    task = Task(
        name="news",
        fields=(FieldSpec(name="text"),),
        questions=(MultiLabelQuestion(name="topics", labels=tags),),
        settings=Settings(redact_before_llm=False),
    )
    answer = lambda body, i: json.dumps({"topics": ["energy", "rates"]})  # noqa: E731
    with srv.OpenAIServer(answer, logprobs=False) as server:
        lf = llm_lf("gpt_topics", config=cfg(server, samples=1), task=task, cache=None)
        (column,) = apply_lfs([lf], rows(["oil and rates"]), tags, workers=1, multilabel=True)
    names = multilabel_names(tags)
    assert sorted(names[i] for i in column.labels) == sorted(
        ["rates", "energy", names[len(tags) + 1]]
    )


def test_without_a_task_the_applier_labels_are_asked_and_redaction_is_required(
    server: Any,
) -> None:
    with pytest.raises(ConfigError, match="redact"):
        llm_lf("gpt", config=cfg(server), cache=None)
    seen: list[str] = []

    def redact(text: str) -> str:
        seen.append(text)
        return re.sub(r"\d+", "<N>", text)

    lf = llm_lf("gpt", config=cfg(server), question="mood", redact=redact, cache=None)
    assert votes(lf, ["profits rose 20", "the board met 3"]) == [0, 2]
    schema = server.chat[0].body["response_format"]["json_schema"]["schema"]
    assert schema["properties"] == {"mood": {"type": "string", "enum": LABELS}}
    assert "20" not in json.dumps([e.body for e in server.chat]) and "profits rose 20" in seen


def test_bad_definitions_say_what_to_do(server: Any) -> None:
    spans = Task(
        name="ner",
        fields=(FieldSpec(name="text"),),
        questions=(SpansQuestion(name="ents", labels=("ORG",)),),
        settings=Settings(redact_before_llm=False),
    )
    with pytest.raises(SchemaError, match="label or multilabel"):
        llm_lf("gpt", config=cfg(server), task=spans)
    with pytest.raises(SchemaError, match="exactly one of config= or client="):
        llm_lf("gpt", task=TASK)
    with pytest.raises(SchemaError, match="not a field"):
        llm_lf("gpt", config=cfg(server), task=TASK, field="body")
    with pytest.raises(SchemaError, match="threshold"):
        llm_lf("gpt", config=cfg(server), task=TASK, threshold=1.5)
