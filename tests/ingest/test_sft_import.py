"""SFT training files back in: goldsmith's own exports round-trip, and chat answers become labels.

Each round trip exports a small labelled project in one SFT format, imports the file into a
new project of the same template, and compares every record and every gold answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.config import template_task, write_config
from goldsmith.errors import ConfigError, InputError
from goldsmith.export.options import ExportOptions
from goldsmith.ingest.options import AnswerFrom, ImportOptions, LabelsAs
from goldsmith.project import Project
from goldsmith.schema import SuggestionKind

SFT = [
    {"prompt": "What is 2 + 2?", "response": "It is 4."},
    {"prompt": "Name a river in Spain.", "response": "The Ebro."},
    {"prompt": "Say hello in French.\n\nKeep it short.", "response": "Bonjour !"},
]


def dump_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def contents(project: Project) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each record's fields with its final values, in insertion order."""
    with project.store.read() as tx:
        recs = [r for batch in tx.iter_records() for r in batch]
        labels: dict[int, dict[str, Any]] = {}
        for f in tx.final_labels_for([r.id for r in recs]):
            labels.setdefault(f.record_id, {})[f.question] = f.value
    return [(r.fields, labels.get(r.id, {})) for r in recs]


def exported(project: Project, fmt: str, out: Path) -> Path:
    report = project.export(ExportOptions(fmt=fmt, out=out))
    return Path(report.files["train"])


@pytest.mark.parametrize("fmt", ["openai-chat", "trl-sft", "trl-sft-chat", "alpaca", "sharegpt"])
def test_sft_exports_round_trip(
    make_project: Callable[..., Project], tmp_path: Path, fmt: str
) -> None:
    source = make_project("sft")
    source.import_records(dump_jsonl(tmp_path / "in.jsonl", SFT))
    before = contents(source)
    assert len(before) == 3 and before[0] == (
        {"prompt": "What is 2 + 2?"},
        {"response": "It is 4."},
    )
    path = exported(source, fmt, tmp_path / fmt)
    target = make_project("sft")
    report = target.import_records(path, ImportOptions(fmt=fmt))
    assert (report.n_inserted, report.n_labels, report.warnings) == (3, 3, [])
    assert sorted(contents(target), key=repr) == sorted(before, key=repr)


@pytest.mark.parametrize("fmt", ["openai-chat", "trl-sft", "alpaca"])
def test_a_classification_export_comes_back_without_its_system_prompt(
    make_project: Callable[..., Project], tmp_path: Path, fmt: str
) -> None:
    source = make_project("classification", ["pos", "neg"])
    rows = [{"text": f"Review {i}.", "label": ("pos", "neg")[i % 2]} for i in range(4)]
    source.import_records(dump_jsonl(tmp_path / "in.jsonl", rows))
    path = exported(source, fmt, tmp_path / fmt)
    assert "Classify the text" in path.read_text(encoding="utf-8")  # the export adds it
    target = make_project("classification", ["pos", "neg"])
    target.import_records(path, ImportOptions(fmt=fmt))
    assert sorted(contents(target), key=repr) == sorted(contents(source), key=repr)


@pytest.mark.parametrize("fmt", ["openai-chat", "trl-sft", "trl-sft-chat", "alpaca", "sharegpt"])
def test_a_multilabel_export_comes_back(
    make_project: Callable[..., Project], tmp_path: Path, fmt: str
) -> None:
    """The answer of a multi-label question is written as ``{"labels": [...]}``; it is read
    back as those labels (it was split on commas and refused)."""
    labels = ["billing", "refund", "bug"]
    source = make_project("multilabel", labels)
    rows = [
        {"text": "Charged twice, want my money back 💸", "labels": ["billing", "refund"]},
        {"text": "The app crashes on start.", "labels": ["bug"]},
        {"text": "Nothing to report.", "labels": []},
    ]
    source.import_records(dump_jsonl(tmp_path / "in.jsonl", rows))
    assert len(contents(source)) == 3
    path = exported(source, fmt, tmp_path / fmt)
    target = make_project("multilabel", labels)
    target.import_records(path, ImportOptions(fmt=fmt))
    assert sorted(contents(target), key=repr) == sorted(contents(source), key=repr)


def chat_project(root: Path) -> Project:
    """An SFT task whose record is a chat transcript and whose question is the reply."""
    data = template_task("chat", "sft", None)
    data["fields"] = [{"name": "messages", "kind": "chat"}]
    root.mkdir()
    write_config(root, data)
    return Project.open(root)


CHATS = [
    {
        "id": "c1",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ],
    },
    {
        "id": "c2",
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "Tell me a joke."},
            {"role": "assistant", "content": "Why did the chicken cross the road?"},
        ],
    },
]


def test_answer_from_last_assistant_takes_the_final_turn(tmp_path: Path) -> None:
    path = dump_jsonl(tmp_path / "chats.jsonl", CHATS)
    with chat_project(tmp_path / "p") as project:
        # without the option the whole transcript is the record, with no label
        with pytest.raises(ConfigError, match="--answer-from does not apply to --format"):
            project.import_records(
                path, ImportOptions(fmt="prodigy", answer_from=AnswerFrom.LAST_ASSISTANT)
            )
        report = project.import_records(
            path,
            ImportOptions(answer_from=AnswerFrom.LAST_ASSISTANT, labels_as=LabelsAs.SUGGESTION),
        )
        assert (report.n_inserted, report.n_labels) == (2, 2)
        with project.store.read() as tx:
            recs = [r for batch in tx.iter_records() for r in batch]
            suggestions = tx.suggestions_for([r.id for r in recs])
    assert recs[0].fields["messages"] == CHATS[0]["messages"][:-1]
    assert recs[1].fields["messages"] == CHATS[1]["messages"][:-1]
    assert [r.external_id for r in recs] == ["c1", "c2"]
    assert sorted((s.value, s.kind) for s in suggestions) == [
        ("Paris.", SuggestionKind.IMPORT),
        ("Why did the chicken cross the road?", SuggestionKind.IMPORT),
    ]


def test_answer_from_refuses_a_conversation_without_a_final_answer(tmp_path: Path) -> None:
    rows = [*CHATS, {"messages": [{"role": "user", "content": "Still waiting"}]}]
    path = dump_jsonl(tmp_path / "chats.jsonl", rows)
    with chat_project(tmp_path / "p") as project:
        with pytest.raises(InputError, match="line 3, field 'messages': the conversation ends"):
            project.import_records(path, ImportOptions(answer_from=AnswerFrom.LAST_ASSISTANT))
        assert project.status()["records"]["total"] == 0


def test_answer_from_needs_a_chat_field(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project("sft")
    path = dump_jsonl(tmp_path / "chats.jsonl", CHATS)
    with pytest.raises(ConfigError, match="the task has none.*--format openai-chat"):
        project.import_records(path, ImportOptions(answer_from=AnswerFrom.LAST_ASSISTANT))
    # into text fields, a multi-turn conversation is refused, naming the line
    with pytest.raises(InputError, match="line 2, field 'messages': the prompt is 3 turn"):
        project.import_records(path, ImportOptions(fmt="openai-chat"))
    # the first row alone fits: its system turn (not the task's own) goes to metadata
    project.import_records(
        dump_jsonl(tmp_path / "one.jsonl", CHATS[:1]), ImportOptions(fmt="openai-chat")
    )
    with project.store.read() as tx:
        (rec,) = [r for batch in tx.iter_records() for r in batch]
    assert rec.fields == {"prompt": "Capital of France?"}
    assert (rec.external_id, rec.metadata) == ("c1", {"system": "You are terse."})


def test_an_sft_file_read_as_plain_jsonl_names_the_format(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project("sft")
    path = dump_jsonl(tmp_path / "train.jsonl", CHATS)
    with pytest.raises(InputError, match="try --format openai-chat"):
        project.import_records(path)


def test_cli_imports_an_sft_file_with_answer_from(tmp_path: Path) -> None:
    runner = CliRunner()
    with chat_project(tmp_path / "p"):
        pass
    path = dump_jsonl(tmp_path / "chats.jsonl", CHATS)
    result = runner.invoke(
        app, ["import", str(path), "-p", str(tmp_path / "p"), "--answer-from", "last-assistant"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 record(s)" in result.output and "2 label(s) as gold" in result.output
