"""The exporter registry and the shape of every built-in format, for each template it fits."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from goldsmith import (
    ExportError,
    ExportOptions,
    FinalLabel,
    Project,
    Provenance,
    Record,
    RegistryError,
)
from goldsmith.config import template_task, write_config
from goldsmith.export.exporter import Exporter, jsonl_exporter
from goldsmith.export.formats import (
    EXPORTERS,
    default_registry,
    exporter_names,
    get_exporter,
    register_exporter,
)
from goldsmith.export.run import export
from goldsmith.schema import content_hash

LABELS = ("pos", "neg", "neu")
TAGS = ("a", "b", "c")
ENTITIES = ("PER", "LOC")
TEMPLATES = ("classification", "multilabel", "ner", "sft", "preference", "rating")
SFT_FORMATS = ("openai-chat", "trl-sft", "trl-sft-chat", "alpaca", "sharegpt")
SFT_TEMPLATES = ("classification", "multilabel", "ner", "sft", "rating")
FITS: dict[str, tuple[str, ...]] = {
    **{fmt: SFT_TEMPLATES for fmt in SFT_FORMATS},
    "openai-dpo": ("preference",),
    "trl-preference": ("preference",),
    "trl-kto": ("preference",),
    "parquet": TEMPLATES,
    "csv": TEMPLATES,
    "label-studio": SFT_TEMPLATES,
    "prodigy": ("classification", "multilabel", "ner"),
    "conll": ("ner",),
}
Seeded = Any  # conftest.Seeded: project, template, ids, fields, values
Seed = Callable[..., Seeded]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(s: Seeded | Project, fmt: str, out: Path, **kw: Any) -> Path:
    """Export ``s`` (a project, or conftest's Seeded) unsplit; return the train file."""
    project: Project = s if isinstance(s, Project) else s.project
    report = project.export(ExportOptions(fmt=fmt, out=out, **kw))
    assert list(report.files) == ["train"]
    return report.files["train"]


# --------------------------------------------------------------------------- registry


def test_builtin_formats_are_registered() -> None:
    assert exporter_names() == sorted(FITS)
    assert get_exporter("trl-sft-chat").validator == "trl-sft"
    assert get_exporter("parquet").extension == "parquet"


def test_a_duplicate_name_is_an_error_naming_it() -> None:
    clash = Exporter("csv", get_exporter("csv").writer, "csv")
    with pytest.raises(RegistryError, match="'csv' is already registered"):
        register_exporter(clash)
    assert get_exporter("csv") is not clash


def test_an_unknown_name_lists_the_known_ones(seeded: Seed, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="unknown export format 'jsonl'.*openai-chat.*sharegpt"):
        get_exporter("jsonl")
    s = seeded("classification", n=3)
    with pytest.raises(RegistryError, match="known formats: alpaca, conll, csv"):
        s.project.export(ExportOptions(fmt="nope", out=tmp_path / "out"))


def test_a_third_party_format_registers_like_the_builtins(seeded: Seed, tmp_path: Path) -> None:
    def rows(ctx: Any, record: Any, labels: Any) -> Any:
        yield {"x": record.fields["text"].upper(), "y": labels[ctx.question.name].value}

    registry = default_registry()
    register_exporter(jsonl_exporter("shout", rows, kinds={"label"}), registry=registry)
    assert "shout" in registry and "shout" not in EXPORTERS
    s = seeded("classification", n=4)
    opts = ExportOptions(fmt="shout", out=tmp_path / "out")
    report = export(s.project.store, s.project.task, opts, registry=registry)
    lines = read_jsonl(report.files["train"])
    assert lines[0] == {"x": s.fields[0]["text"].upper(), "y": s.values[0]}
    with pytest.raises(RegistryError, match="'shout' is already registered"):
        register_exporter(jsonl_exporter("shout", rows), registry=registry)


@pytest.mark.parametrize("template", TEMPLATES)
def test_formats_that_do_not_fit_are_refused(
    blank: Callable[[str], Project], tmp_path: Path, template: str
) -> None:
    project = blank(template)
    fitting = sorted(f for f, ts in FITS.items() if template in ts)
    for fmt in sorted(set(FITS) - set(fitting)):
        with pytest.raises(ExportError, match="does not fit") as err:
            project.export(ExportOptions(fmt=fmt, out=tmp_path / fmt))
        assert f"formats that fit: {', '.join(fitting)}" in str(err.value)
        assert not (tmp_path / fmt).exists()


# --------------------------------------------------------------------------- SFT formats


def expected_user(template: str, fields: dict[str, Any]) -> str:
    return str(fields["prompt"] if template == "sft" else fields["text"])


def expected_answer(template: str, fields: dict[str, Any], value: Any) -> str:
    if template == "multilabel":
        return json.dumps({"labels": value})
    if template == "ner":
        text = fields["text"]
        return json.dumps([{**s, "text": text[s["start"] : s["end"]]} for s in value])
    return str(value)


def unpack(fmt: str, row: dict[str, Any]) -> tuple[str | None, str, str]:
    """(system, user, answer) of one SFT line, checking the format's keys and roles."""
    if fmt in ("openai-chat", "trl-sft-chat", "sharegpt"):
        key, role, text = (
            ("conversations", "from", "value")
            if fmt == "sharegpt"
            else (
                "messages",
                "role",
                "content",
            )
        )
        assert list(row) == [key]
        roles = [m[role] for m in row[key]]
        names = ("system", "human", "gpt") if fmt == "sharegpt" else ("system", "user", "assistant")
        assert roles in (list(names), list(names[1:]))
        texts = [m[text] for m in row[key]]
        return (texts[0] if len(texts) == 3 else None), texts[-2], texts[-1]
    if fmt == "trl-sft":
        assert list(row) == ["prompt", "completion"]
        system, sep, user = row["prompt"].rpartition("\n\n")
        return (system if sep else None), user, row["completion"]
    assert list(row) == ["instruction", "input", "output"]
    if row["input"] == "":
        return None, row["instruction"], row["output"]
    return row["instruction"], row["input"], row["output"]


@pytest.mark.parametrize("template", SFT_TEMPLATES)
@pytest.mark.parametrize("fmt", SFT_FORMATS)
def test_sft_formats_pair_the_record_with_its_answer(
    seeded: Seed, tmp_path: Path, fmt: str, template: str
) -> None:
    s = seeded(template, n=12)
    rows = read_jsonl(run(s, fmt, tmp_path / "out"))
    assert len(rows) == 12
    for row, fields, value in zip(rows, s.fields, s.values, strict=True):
        system, user, reply = unpack(fmt, row)
        assert user == expected_user(template, fields)
        assert reply == expected_answer(template, fields, value)
        if template == "sft":
            assert system is None  # free-form text with no system prompt in the task
        else:
            assert system is not None and "Answer with" in system


def test_generated_system_prompts_name_the_labels(seeded: Seed, tmp_path: Path) -> None:
    system = {}
    for template in ("classification", "multilabel", "ner", "rating"):
        rows = read_jsonl(run(seeded(template, n=2), "openai-chat", tmp_path / template))
        system[template] = rows[0]["messages"][0]["content"]
    assert system["classification"] == (
        "Classify the text into one of: pos, neg, neu. Answer with the label only."
    )
    assert all(t in system["multilabel"] for t in TAGS)
    assert all(e in system["ner"] for e in ENTITIES) and "character offsets" in system["ner"]
    assert "from 1 to 5" in system["rating"]


def test_the_task_system_prompt_wins(tmp_path: Path, fill: Callable[..., Any]) -> None:
    root = tmp_path / "custom"
    root.mkdir()
    data = template_task("custom", "classification", list(LABELS))
    data["settings"] = {"system_prompt": "You label product reviews."}
    write_config(root, data)
    with Project.open(root) as p:
        fill(p, "classification", range(3))
        sft = p.export(ExportOptions(fmt="trl-sft", out=tmp_path / "sft"))
        alpaca = p.export(ExportOptions(fmt="alpaca", out=tmp_path / "alpaca"))
    rows = read_jsonl(sft.files["train"])
    assert rows[0]["prompt"] == "You label product reviews.\n\nReview 0: the product was fine."
    assert read_jsonl(alpaca.files["train"])[0]["instruction"] == "You label product reviews."


# --------------------------------------------------------------------------- preference formats


def _pairs(values: list[Any], fields: list[dict[str, Any]], how: str) -> list[tuple[str, str]]:
    out = []
    for order, f in zip(values, fields, strict=True):
        c = f["candidates"]
        if how == "best":
            out += [(c[order[0]], c[j]) for j in order[1:]]
        else:
            out += [(c[a], c[b]) for i, a in enumerate(order) for b in order[i + 1 :]]
    return out


@pytest.mark.parametrize("how", ["best", "all"])
def test_openai_dpo_pairs_come_from_the_ranking(seeded: Seed, tmp_path: Path, how: str) -> None:
    s = seeded("preference", n=6)
    rows = read_jsonl(run(s, "openai-dpo", tmp_path / "out", preference_pairs=how))
    assert len(rows) == 6 * (2 if how == "best" else 3)
    for row in rows:
        assert list(row) == ["input", "preferred_output", "non_preferred_output"]
        assert [m["role"] for m in row["input"]["messages"]] == ["user"]
        assert row["input"]["messages"][0]["content"].startswith("Greet user ")
        assert [m["role"] for m in row["preferred_output"]] == ["assistant"]
        assert [m["role"] for m in row["non_preferred_output"]] == ["assistant"]
    got = [
        (r["preferred_output"][0]["content"], r["non_preferred_output"][0]["content"]) for r in rows
    ]
    assert got == _pairs(s.values, s.fields, how)


def test_trl_preference_rows(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("preference", n=4)
    rows = read_jsonl(run(s, "trl-preference", tmp_path / "out"))
    assert all(list(r) == ["prompt", "chosen", "rejected"] for r in rows)
    assert [(r["chosen"], r["rejected"]) for r in rows] == _pairs(s.values, s.fields, "best")
    assert rows[0]["prompt"] == "Greet user 0"


def test_trl_kto_marks_the_best_candidate_desirable(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("preference", n=4)
    rows = read_jsonl(run(s, "trl-kto", tmp_path / "out"))
    assert len(rows) == 12
    for i, (order, f) in enumerate(zip(s.values, s.fields, strict=True)):
        mine = rows[3 * i : 3 * i + 3]
        assert [r["completion"] for r in mine] == [f["candidates"][j] for j in order]
        assert [r["label"] for r in mine] == [True, False, False]
        assert all(list(r) == ["prompt", "completion", "label"] for r in mine)


# --------------------------------------------------------------------------- tabular formats

QUESTION = {
    "classification": "label",
    "multilabel": "labels",
    "ner": "spans",
    "sft": "response",
    "preference": "preference",
    "rating": "score",
}


def _cell(template: str, value: Any) -> Any:
    if template in ("multilabel", "ner", "preference"):
        return json.dumps(value)
    return value if template == "rating" else str(value)


@pytest.mark.parametrize("template", TEMPLATES)
def test_parquet_columns(seeded: Seed, tmp_path: Path, template: str) -> None:
    s = seeded(template, n=9)
    table = pq.read_table(run(s, "parquet", tmp_path / "out"))
    fields = [f.name for f in s.project.task.fields]
    q = QUESTION[template]
    assert table.column_names == [
        "id",
        "external_id",
        *fields,
        q,
        "provenance",
        "confidence",
        "metadata",
    ]
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == s.ids
    assert [r[q] for r in rows] == [_cell(template, v) for v in s.values]
    assert rows[1]["external_id"] == "ext-1"
    assert json.loads(rows[1]["metadata"]) == {"n": 1}
    assert [r["provenance"] for r in rows[:3]] == ["gold", "human", "consensus"]
    assert rows[0]["confidence"] == 1.0
    if template == "preference":
        assert json.loads(rows[0]["candidates"]) == s.fields[0]["candidates"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_csv_columns(seeded: Seed, tmp_path: Path, template: str) -> None:
    s = seeded(template, n=5)
    path = run(s, "csv", tmp_path / "out")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = [f.name for f in s.project.task.fields]
    q = QUESTION[template]
    assert list(rows[0]) == [
        "id",
        "external_id",
        *fields,
        q,
        "provenance",
        "confidence",
        "metadata",
    ]
    assert json.loads(rows[0]["metadata"]) == {"n": 0}
    assert [int(r["id"]) for r in rows] == s.ids
    assert [r[q] for r in rows] == [str(_cell(template, v)) for v in s.values]
    assert rows[0][fields[0]] == str(s.fields[0][fields[0]])


# --------------------------------------------------------------------------- tool formats


@pytest.mark.parametrize("template", SFT_TEMPLATES)
def test_label_studio_tasks(seeded: Seed, tmp_path: Path, template: str) -> None:
    s = seeded(template, n=6)
    tasks = json.loads(run(s, "label-studio", tmp_path / "out").read_text(encoding="utf-8"))
    assert isinstance(tasks, list) and len(tasks) == 6
    task, value = tasks[1], s.values[1]
    assert task["data"] == s.fields[1]
    assert task["meta"]["record_id"] == s.ids[1] and task["meta"]["id"] == "ext-1"
    (annotation,) = task["annotations"]
    result = annotation["result"]
    q = QUESTION[template]
    assert all(r["from_name"] == q for r in result)
    to = "prompt" if template == "sft" else "text"
    assert all(r["to_name"] == to for r in result)
    if template == "classification":
        assert [(r["type"], r["value"]) for r in result] == [("choices", {"choices": [value]})]
    elif template == "multilabel":
        assert [(r["type"], r["value"]) for r in result] == [("choices", {"choices": value})]
    elif template == "sft":
        assert [(r["type"], r["value"]) for r in result] == [("textarea", {"text": [value]})]
    elif template == "rating":
        assert [(r["type"], r["value"]) for r in result] == [("rating", {"rating": value})]
    else:
        text = s.fields[1]["text"]
        assert [r["type"] for r in result] == ["labels"] * len(value)
        assert [r["value"] for r in result] == [
            {
                "start": v["start"],
                "end": v["end"],
                "text": text[v["start"] : v["end"]],
                "labels": [v["label"]],
            }
            for v in value
        ]
        assert len({r["id"] for r in result}) == len(result)
    # the final label is the task's ground truth whatever its provenance (record 1 is
    # human-labeled, record 0 gold); it names no annotator, and the provenance is in meta
    assert annotation["ground_truth"] is True and "completed_by" not in annotation
    assert task["meta"]["provenance"] == "human" and tasks[0]["meta"]["provenance"] == "gold"


@pytest.mark.parametrize("template", ["classification", "multilabel", "ner"])
def test_prodigy_tasks(seeded: Seed, tmp_path: Path, template: str) -> None:
    s = seeded(template, n=4)
    rows = read_jsonl(run(s, "prodigy", tmp_path / "out"))
    row, value = rows[2], s.values[2]
    assert row["text"] == s.fields[2]["text"]
    assert row["answer"] == "accept"
    assert row["meta"]["record_id"] == s.ids[2] and row["meta"]["n"] == 2
    assert row["meta"]["id"] == "ext-2" and row["meta"]["provenance"] == "consensus"
    if template == "classification":
        assert row["label"] == value
    elif template == "multilabel":
        assert row["accept"] == value
        assert [o["id"] for o in row["options"]] == list(TAGS)
    else:  # plus the token range of each span (tests/export/test_export_tools.py)
        own = [{k: sp[k] for k in ("start", "end", "label")} for sp in row["spans"]]
        assert own == value


def test_conll_bio_lines(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("ner", n=3)
    blocks = run(s, "conll", tmp_path / "out").read_text(encoding="utf-8").split("\n\n")
    assert blocks[-1] == ""  # a blank line closes every record
    assert len(blocks) == 4
    assert blocks[1].splitlines() == [
        "Alice\tB-PER",
        "Smith\tI-PER",
        "visited\tO",
        "Paris\tB-LOC",
        "on\tO",
        "day\tO",
        "1.\tO",
    ]
    assert blocks[0].splitlines()[3] == "Paris\tO"  # record 0 marks only the person


# --------------------------------------------------------------------------- task shapes


def _custom(root: Path, fields: list[dict[str, Any]], labels: list[str]) -> Project:
    root.mkdir()
    data = template_task(root.name, "classification", labels)
    data["fields"] = fields
    write_config(root, data)
    return Project.open(root)


def _label(p: Project, fields: dict[str, Any], value: str) -> None:
    with p.store.write() as tx:
        (rid,) = tx.insert_records([Record(fields=fields, content_hash=content_hash(fields))])
        tx.set_final_labels([FinalLabel(rid, "label", value, Provenance.HUMAN)])


def test_a_chat_field_is_the_conversation(tmp_path: Path) -> None:
    chat = [
        {"role": "user", "content": "My bill is wrong"},
        {"role": "assistant", "content": "Sorry! Which month?"},
        {"role": "user", "content": "March"},
    ]
    with _custom(tmp_path / "c", [{"name": "chat", "kind": "chat"}], ["billing", "tech"]) as p:
        _label(p, {"chat": chat}, "billing")
        messages = read_jsonl(run(p, "openai-chat", tmp_path / "o"))[0]["messages"]
        prompt = read_jsonl(run(p, "trl-sft", tmp_path / "t"))[0]["prompt"]
    assert [m["role"] for m in messages] == ["system", *(m["role"] for m in chat), "assistant"]
    assert messages[1:-1] == chat and messages[-1]["content"] == "billing"
    assert prompt.endswith(
        "\n\nuser: My bill is wrong\nassistant: Sorry! Which month?\nuser: March"
    )


def test_several_text_fields_are_titled_blocks(tmp_path: Path) -> None:
    fields = [{"name": "subject", "kind": "text", "title": "Subject"}, {"name": "body"}]
    with _custom(tmp_path / "m", fields, ["spam", "ham"]) as p:
        _label(p, {"subject": "WIN NOW", "body": "Claim your prize."}, "spam")
        rows = read_jsonl(run(p, "openai-chat", tmp_path / "o"))
    assert rows[0]["messages"][1]["content"] == "Subject:\nWIN NOW\n\nbody:\nClaim your prize."
