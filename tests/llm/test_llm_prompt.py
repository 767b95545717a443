"""build_request: the one prompt builder. Deterministic, sends only task fields, redacts."""

from __future__ import annotations

import json
import re

import pytest

from goldsmith.errors import ConfigError, SchemaError
from goldsmith.llm.prompt import DEFAULT_SYSTEM_PROMPT, build_request
from goldsmith.schema import (
    FieldKind,
    FieldSpec,
    LabelQuestion,
    PreferenceQuestion,
    Record,
    Settings,
    SpansQuestion,
    Task,
    TextQuestion,
)

PII = re.compile(r"[\w.]+@example\.com")


def redact(text: str) -> str:
    return PII.sub("<EMAIL>", text)


def task(**settings: object) -> Task:
    return Task(
        name="support",
        fields=(
            FieldSpec(name="text", title="Ticket"),
            FieldSpec(name="chat", kind=FieldKind.CHAT),
        ),
        questions=(
            LabelQuestion(name="intent", labels=("refund", "bug", "other"), title="Intent"),
            TextQuestion(name="reply"),
            SpansQuestion(name="ents", labels=("EMAIL", "ORG")),
            PreferenceQuestion(name="best", candidates_field="candidates"),
        ),
        settings=Settings(**settings),  # type: ignore[arg-type]
    )


RECORD = Record(
    id=7,
    fields={
        "text": "Refund please, write to ann@example.com about ACME.",
        "chat": [
            {"role": "user", "content": "I am bob@example.com"},
            {"role": "assistant", "content": "Hello!"},
        ],
        "candidates": ["Mail cy@example.com", "No"],
        "hidden": "never sent",
    },
    metadata={"customer": "dee@example.com"},
)
EXAMPLE = Record(
    id=1,
    fields={
        "text": "Bug: eve@example.com sees a crash at ACME.",
        "chat": [{"role": "user", "content": "from fay@example.com"}],
        "candidates": ["Tell gus@example.com", "Sorry"],
    },
)
ANSWER = {
    "intent": "bug",
    "reply": "We will write to eve@example.com.",
    "ents": [{"start": 5, "end": 20, "label": "EMAIL"}, {"start": 37, "end": 41, "label": "ORG"}],
    "best": [1, 0],
}


def build(t: Task, **kw: object) -> tuple[dict[str, str], ...]:
    return build_request(t, "Be **kind**.", RECORD, examples=[(EXAMPLE, ANSWER)], **kw).messages  # type: ignore[arg-type]


def test_messages_are_system_examples_then_the_record() -> None:
    messages = build(task(), redact=redact)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert system.startswith(DEFAULT_SYSTEM_PROMPT)
    assert "# Guidelines\n\nBe **kind**." in system
    assert '"intent" (Intent): exactly one of "refund", "bug", "other"' in system
    assert '"best"' in system and "candidates" in system
    last = messages[-1]["content"]
    assert last.startswith("## Ticket\nRefund please")
    assert "## chat\nuser: I am <EMAIL>\nassistant: Hello!" in last
    assert "## candidates\n[0] Mail <EMAIL>\n[1] No" in last
    answer = json.loads(messages[2]["content"])
    assert list(answer) == ["intent", "reply", "ents", "best"]
    assert answer["intent"] == "bug" and answer["best"] == [1, 0]


def test_the_request_is_deterministic_and_carries_a_strict_schema() -> None:
    a = build_request(task(), "g", RECORD, redact=redact)
    b = build_request(task(), "g", RECORD, redact=redact)
    assert a == b and json.dumps(a.messages) == json.dumps(b.messages)
    assert a.response_format["json_schema"]["strict"] is True
    assert a.record_id == 7 and a.fields["text"] == RECORD.fields["text"]  # original, to align


def test_system_prompt_instructions_and_question_subset() -> None:
    t = task(system_prompt="You label support tickets.")
    req = build_request(
        t, "", RECORD, questions=["intent"], instructions="Only refunds count.", redact=redact
    )
    system = req.messages[0]["content"]
    assert system.startswith("You label support tickets.")
    assert "# Guidelines" not in system and "# Instructions\n\nOnly refunds count." in system
    assert list(req.response_format["json_schema"]["schema"]["properties"]) == ["intent"]
    assert "candidates" not in req.messages[-1]["content"]  # only a preference question sends them


def test_only_task_fields_are_sent_never_metadata() -> None:
    text = json.dumps(build(task(), redact=redact))
    assert "never sent" not in text and "dee@" not in text and "customer" not in text


def test_redaction_covers_every_piece_of_record_and_example_text() -> None:
    seen: list[str] = []

    def spy(text: str) -> str:
        seen.append(text)
        return redact(text)

    messages = build(task(), redact=spy)
    sent = json.dumps(messages)
    assert not PII.search(sent), PII.findall(sent)
    for where in ("ann", "bob", "cy", "eve", "fay", "gus"):
        assert f"{where}@example.com" in "".join(seen)  # each passed through the redactor
    assert sent.count("<EMAIL>") >= 7
    # example spans point into the text as sent: "<EMAIL>" then "ACME" after the shift
    answer = json.loads(messages[2]["content"])
    example_sent = messages[1]["content"].split("\n", 1)[1].split("\n\n")[0]
    for span in answer["ents"]:
        assert example_sent[span["start"] : span["end"]] == span["text"]
    assert [s["text"] for s in answer["ents"]] == ["<EMAIL>", "ACME"]


def test_redaction_is_required_when_the_setting_is_on() -> None:
    with pytest.raises(ConfigError, match="redact_before_llm"):
        build(task())


def test_no_redaction_when_the_setting_is_off() -> None:
    messages = build(task(redact_before_llm=False), redact=redact)
    assert "ann@example.com" in messages[-1]["content"]


def test_an_example_must_answer_every_required_question() -> None:
    with pytest.raises(SchemaError, match="'reply'"):
        build_request(task(), "", RECORD, examples=[(EXAMPLE, {"intent": "bug"})], redact=redact)
    with pytest.raises(SchemaError, match="intent"):
        build_request(
            task(), "", RECORD, examples=[(EXAMPLE, {**ANSWER, "intent": "x"})], redact=redact
        )


def test_a_record_without_any_sent_field_is_an_error() -> None:
    with pytest.raises(SchemaError, match="none of the fields"):
        build_request(task(), "", Record(fields={"other": "x"}), redact=redact)
