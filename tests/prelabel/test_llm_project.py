"""``Project.prelabel_llm`` end to end against the loopback OpenAI-compatible server: few-shot
examples by similarity, calibration on gold, routing by calibrated confidence, the cache, and
the redaction guard; on financial phrasebank sentences."""

from __future__ import annotations

import json
import tomllib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from goldsmith.config import CONFIG_NAME
from goldsmith.errors import ConfigError, SchemaError
from goldsmith.llm.client import LLMConfig
from goldsmith.prelabel.options import LLMPrelabelOptions
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance
from openai_server import OpenAIServer, Reply, record_text

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"
LABELS = ("positive", "negative", "neutral")


def _sentences(n: int) -> list[tuple[str, str]]:
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh]
    return [(t, lab) for t, lab in rows if t][:n]


def _sure(text: str) -> bool:
    """Which answers the scripted LLM gets right (70 %): those it is also sure of."""
    return zlib.crc32(text.encode()) % 10 < 7


def _set_redaction(root: Path, on: bool) -> None:
    """Edit ``[task.settings] redact_before_llm`` in goldsmith.toml, as a user would."""
    path = root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"].setdefault("settings", {})["redact_before_llm"] = on
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


@pytest.fixture
def fin(tmp_path: Path) -> Iterator[tuple[Project, dict[str, str]]]:
    rows = _sentences(160)
    root = tmp_path / "fin"
    Project.init(root, labels=LABELS).close()
    _set_redaction(root, False)  # public sentences: nothing to redact
    with Project.open(root) as p:
        p.add_records([{"fields": {"text": t}} for t, _ in rows])
        p.set_guidelines("# Sentiment\nThe sentence's sentiment for the company's investors.")
        with p.store.write() as tx:  # the first 80 are gold
            tx.set_final_labels(
                [FinalLabel(i + 1, "label", rows[i][1], Provenance.GOLD) for i in range(80)]
            )
        yield p, dict(rows)


def _policy(truth: dict[str, str]) -> Any:
    def policy(body: dict[str, Any], index: int) -> Reply:
        text = record_text(body)
        sentence = next(s for s in truth if s.upper() in text.upper())
        label = truth[sentence]
        if not _sure(sentence):  # wrong, and (over)confident all the same
            label = LABELS[(LABELS.index(label) + 1) % 3]
            return Reply(json.dumps({"label": label}), 0.85)
        return Reply(json.dumps({"label": label}), 0.95)

    return policy


def test_llm_prelabel_calibrates_routes_and_caches(fin: tuple[Project, dict[str, str]]) -> None:
    p, truth = fin
    with OpenAIServer(_policy(truth)) as server:
        config = LLMConfig(model="test-model", base_url=server.url, api_key="sk-test")
        report = p.prelabel_llm(config, calibrate_on=60, shots=3, threshold=0.9)
        sent = len(server.chat)
        # every request: the guidelines, 3 examples, and never the record as its own example
        for logged in server.chat:
            body = logged.body
            assert body is not None
            asked = record_text(body)
            shown = [m["content"] for m in body["messages"][1:-1] if m["role"] == "user"]
            assert len(shown) == 3 and asked not in shown
            assert "investors" in body["messages"][0]["content"]
        again = p.prelabel_llm(config, calibrate_on=60, shots=3, threshold=0.9)
        assert len(server.chat) == sent  # a rerun is served from the cache
    assert again.tokens == 0 and again.n_final == report.n_final

    assert report.n_sent == 60 + 80 and report.n_ok == 140 and report.n_calibration == 60
    assert 0.55 < report.gold_accuracy < 0.85  # type: ignore[operator]
    assert report.ece_calibrated < report.ece_raw  # type: ignore[operator]
    assert report.n_suggestions == 80 and report.n_final + report.n_to_humans == 80
    with p.store.read() as tx:
        finals = dict(tx.final_values("label", [str(Provenance.LLM)]))
        records = {r.id: r.fields["text"] for r in tx.get_records(list(range(81, 161)))}
        ranks = tx.queue_ranks(list(range(81, 161)))
        scores = {
            s.record_id: s.score
            for s in tx.suggestions_for(list(range(81, 161)))
            if s.agent == "llm:test-model"
        }
    # the confident-and-right answers became final labels, and they are right
    assert finals and all(finals[r] == truth[records[r]] for r in finals)
    assert len(finals) >= 0.8 * sum(_sure(records[r]) for r in records)
    # the rest wait in front of the queue, ranked before anything else
    doubtful = [r for r in records if r not in finals]
    assert doubtful and all(ranks[r] < 0 for r in doubtful)
    assert all(scores[r] < 0.9 for r in doubtful)  # calibrated: 0.85 meant "usually wrong"
    p.add_user("ann", "annotator")
    item = p.next_item("ann")
    assert item is not None and item.record.id in doubtful


def test_llm_prelabel_passes_a_custom_redactor(fin: tuple[Project, dict[str, str]]) -> None:
    p, truth = fin
    _set_redaction(p.root, True)
    p = Project.open(p.root)
    with OpenAIServer(_policy(truth)) as server:
        config = LLMConfig(model="test-model", base_url=server.url, api_key="sk-test")
        report = p.prelabel_llm(config, limit=5, calibrate_on=0, redact=lambda t: t.upper())
    p.close()
    assert report.n_ok == 5
    for logged in server.chat:  # every record text went out redacted (here: upper-cased)
        asked = record_text(logged.body)  # type: ignore[arg-type]
        sentence = next(t for t in truth if t.upper() in asked)
        assert sentence != sentence.upper() and sentence not in asked


PLANTED = {
    "email": "jane.roe@stmarys-hospital.org",
    "phone": "+44 20 7946 0958",
    "ssn": "123-45-6789",
    "card": "4111 1111 1111 1111",
    "mrn": "MRN 00482913",
    "name": "Dr. Eleanor Whitfield",
}


def test_no_planted_pii_reaches_the_llm(tmp_path: Path) -> None:
    """With redact_before_llm (the default) every prompt goes through the project's PII
    redactor: records and few-shot examples alike; nothing planted reaches the server."""
    root = tmp_path / "pii"
    with Project.init(root, labels=LABELS) as p:
        texts = [
            f"{PLANTED['name']} ({PLANTED['email']}, {PLANTED['phone']}) reported a profit rise.",
            f"Patient SSN {PLANTED['ssn']}, card {PLANTED['card']}, {PLANTED['mrn']}: sales fell.",
            "The company kept its guidance unchanged for the year.",
            "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn.",
        ]
        p.add_records([{"fields": {"text": t}} for t in texts])
        with p.store.write() as tx:  # the PII-laden records are examples too
            tx.set_final_labels(
                [
                    FinalLabel(1, "label", "positive", Provenance.GOLD),
                    FinalLabel(2, "label", "negative", Provenance.GOLD),
                ]
            )
        assert p.task.settings.redact_before_llm is True  # the default of a new project

        def policy(body: dict[str, Any], index: int) -> Reply:
            return Reply(json.dumps({"label": "neutral"}), 0.9)

        with OpenAIServer(policy) as server:
            config = LLMConfig(model="test-model", base_url=server.url, api_key="sk-test")
            report = p.prelabel_llm(config, calibrate_on=2, shots=2)
        assert report.n_ok == 4 and server.chat
        sent = json.dumps([m.body for m in server.chat])
        for kind, value in PLANTED.items():
            assert value not in sent, kind
            assert value.split()[-1] not in sent, kind  # not even the last part
        assert "[EMAIL_1]" in sent and "[PERSON_1]" in sent


def test_llm_prelabel_takes_one_options_object(fin: tuple[Project, dict[str, str]]) -> None:
    """The options object and the keyword fields ask the same run; both at once is refused."""
    p, truth = fin
    with OpenAIServer(_policy(truth)) as server:
        config = LLMConfig(model="test-model", base_url=server.url, api_key="sk-test")
        by_object = p.prelabel_llm(config, LLMPrelabelOptions(limit=4, calibrate_on=0, shots=2))
        sent = len(server.chat)
        by_fields = p.prelabel_llm(config, limit=4, calibrate_on=0, shots=2)
        assert len(server.chat) == sent  # the same requests: all served from the cache
        with pytest.raises(ConfigError, match="not both"):
            p.prelabel_llm(config, LLMPrelabelOptions(limit=4), shots=2)
    assert by_object.n_ok == by_fields.n_ok == 4 and by_fields.tokens == 0


def test_an_unknown_engine_is_refused(fin: tuple[Project, dict[str, str]]) -> None:
    p, _ = fin
    with pytest.raises(SchemaError, match="engine must be 'local' or 'ray'"):
        p.embed(engine="spark")
