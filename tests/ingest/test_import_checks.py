"""Questionable input is refused or counted, never imported in silence.

Empty files, NUL characters, empty texts, repeated external ids, integer label codes,
number-only texts, and disagreeing answers imported as gold: each is an error naming the
file, line and field (and the store is left as it was), or a warning with a count.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.config import write_config
from goldsmith.errors import ConfigError, InputError
from goldsmith.ingest.formats import ImportFormat, default_formats
from goldsmith.ingest.mapping import FoundLabel, ImportItem, Row, RowMapper
from goldsmith.ingest.options import ImportOptions, LabelsAs, OnConflict
from goldsmith.ingest.pipeline import import_file
from goldsmith.ingest.readers import read_jsonl
from goldsmith.project import Project
from goldsmith.schema import Task

Snapshot = Callable[[Project], dict[str, Any]]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def finals(project: Project) -> dict[str, Any]:
    with project.store.read() as tx:
        recs = {r.id: r for batch in tx.iter_records() for r in batch}
        return {recs[f.record_id].fields["text"]: f.value for f in tx.final_labels_for(list(recs))}


# --------------------------------------------------------------------------- empty input


@pytest.mark.parametrize(
    ("name", "body", "why"),
    [
        ("empty.csv", "", "the file is empty"),
        ("header.csv", "text,label\n", "only a header"),
        ("header.tsv", "text\tlabel\n\n\n", "only a header"),
        ("blank.jsonl", "\n\n", "only a header, blank lines"),
        ("empty.json", "[]", "an empty list"),
    ],
)
def test_a_file_without_rows_is_refused(
    project: Project, snapshot: Snapshot, tmp_path: Path, name: str, body: str, why: str
) -> None:
    before = snapshot(project)
    with pytest.raises(InputError, match=f"no records to import: .*{why}") as err:
        project.import_records(write(tmp_path / name, body))
    assert err.value.file == str((tmp_path / name).resolve())
    assert snapshot(project) == before


def test_cli_refuses_a_header_only_file(project: Project, tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", "text,label\n")
    result = CliRunner().invoke(app, ["import", str(path), "-p", str(project.root)])
    assert result.exit_code == 1
    assert "no records to import" in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------- bad texts


def test_a_nul_character_is_refused_naming_line_and_field(
    project: Project, snapshot: Snapshot, tmp_path: Path
) -> None:
    path = write(tmp_path / "n.csv", b'text,label\nfine,1\n"bad\x00text",2\n')
    before = snapshot(project)
    with pytest.raises(InputError, match="line 3, field 'text': holds a NUL") as err:
        project.import_records(path)
    assert "--encoding utf-16" in str(err.value)
    assert snapshot(project) == before
    rows = [{"text": "ok"}, {"text": "a\u0000b"}]
    jsonl = write(tmp_path / "n.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    report = project.import_records(jsonl, ImportOptions(skip_invalid=tmp_path / "rej.jsonl"))
    assert (report.n_inserted, report.n_rejected) == (1, 1)


def test_a_nul_in_a_chat_answer_is_refused(
    make_project: Callable[..., Project], tmp_path: Path
) -> None:
    project = make_project("sft")
    row = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "\0"}]}
    path = write(tmp_path / "c.jsonl", json.dumps(row) + "\n")
    with pytest.raises(InputError, match="line 1, field 'messages': .*NUL"):
        project.import_records(path, ImportOptions(fmt="openai-chat"))


def test_an_encoding_error_names_the_cli_flag(project: Project, tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", b"text,label\ncaf\xe9,1\n")
    with pytest.raises(InputError, match="line 2: .*--encoding latin-1"):
        project.import_records(path)
    assert project.import_records(path, ImportOptions(encoding="latin-1")).n_inserted == 1


# --------------------------------------------------------------------------- warnings


def test_repeated_external_ids_are_counted_and_named(project: Project, tmp_path: Path) -> None:
    rows = "id,text\n" + "".join(f"k{i % 3},Text number {i}.\n" for i in range(8))
    report = project.import_records(write(tmp_path / "a.csv", rows))
    assert (report.n_inserted, report.n_duplicate_ids) == (8, 5)
    assert report.duplicate_ids == ["k0", "k1", "k2"]
    assert any("5 record(s) reuse an external id" in w for w in report.warnings)
    # an id already in the store counts too
    again = project.import_records(write(tmp_path / "b.csv", "id,text\nk1,A new text.\n"))
    assert (again.n_duplicate_ids, again.duplicate_ids) == (1, ["k1"])
    fresh = project.import_records(write(tmp_path / "c.csv", "id,text\nz9,Unique.\n"))
    assert (fresh.n_duplicate_ids, fresh.warnings) == (0, [])


def test_integer_label_codes_and_number_only_texts_are_reported(
    project: Project, tmp_path: Path
) -> None:
    path = write(tmp_path / "codes.csv", "text,label\nColon tumour.,1\nUlcer.,2\nPolyp.,1\n")
    report = project.import_records(path)
    (note,) = report.warnings
    assert "column 'label' holds integer codes" in note and "3 value(s)" in note
    assert "1 -> 'neoplasms', 2 -> 'digestive'" in note and "--label-map" in note
    named = write(tmp_path / "named.csv", "text,label\nGastritis.,digestive\n")
    assert project.import_records(named).warnings == []
    swapped = write(tmp_path / "swapped.csv", "id,text\n1,10\n2,20.5\n3,-3\n")
    (note,) = project.import_records(swapped).warnings
    assert "field 'text' (column 'text') holds only numbers in all 3 record(s)" in note


def test_cli_prints_the_warnings(project: Project, tmp_path: Path) -> None:
    path = write(tmp_path / "w.csv", "id,text,label\nx,One.,1\nx,Two.,2\n")
    result = CliRunner().invoke(app, ["import", str(path), "-p", str(project.root)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "warning: 1 record(s) reuse an external id" in text
    assert "warning: column 'label' holds integer codes" in text


def test_a_partly_empty_record_is_counted(tmp_path: Path) -> None:
    root = tmp_path / "two"
    root.mkdir()
    write_config(
        root,
        {
            "name": "two",
            "fields": [{"name": "text"}, {"name": "context"}],
            "questions": [{"name": "label", "kind": "label", "labels": ["a", "b"]}],
        },
    )
    with Project.open(root) as project:
        path = write(tmp_path / "t.csv", "text,context\nOne.,\nTwo.,More.\n,\n")
        with pytest.raises(InputError, match="line 4, field 'text': the text is empty"):
            project.import_records(path)
        report = project.import_records(path, ImportOptions(skip_invalid=tmp_path / "r.jsonl"))
    assert (report.n_inserted, report.n_rejected) == (2, 1)
    assert report.warnings == ["1 record(s) have an empty 'context' field (column 'context')"]


# --------------------------------------------------------------------------- conflicts


def _annotated(task: Task, options: ImportOptions, file: str) -> Callable[[int, Row], ImportItem]:
    """Rows ``{"text", "answers": [label, ...], "reviewed"?: label}``: one label each."""
    mapper = RowMapper(task, options, file, labels=False)

    def convert(line: int, row: Row) -> ImportItem:
        item = mapper.item(line, row, exclude=frozenset({"answers", "reviewed"}))
        for i, value in enumerate(row["answers"]):
            item.labels.append(FoundLabel("label", value, user=f"ann{i}"))
        if "reviewed" in row:
            item.labels.append(FoundLabel("label", row["reviewed"], user="lead", decided=True))
        return item

    return convert


@pytest.fixture
def annotated(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``annotated(project, rows, **options)``: import rows through a multi-answer format."""
    registry = default_formats()
    registry.register(ImportFormat("annotated", read_jsonl, _annotated))

    def run(project: Project, rows: list[dict[str, Any]], **options: Any) -> Any:
        path = tmp_path / "annotated.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        opts = ImportOptions(fmt="annotated", **options)
        return import_file(project.store, project.task, path, opts, formats=registry)

    yield run


ROWS = [
    {"text": "Colon tumour.", "answers": ["neoplasms", "digestive", "digestive"]},
    {"text": "Gastric ulcer.", "answers": ["digestive", "digestive"]},  # agree: no conflict
    {"text": "Headache.", "answers": ["nervous", "general"]},  # a tie
    {"text": "Angina.", "answers": ["general"], "reviewed": "cardiovascular"},
]


def test_disagreeing_gold_answers_are_refused_by_default(
    project: Project, snapshot: Snapshot, annotated: Callable[..., Any]
) -> None:
    before = snapshot(project)
    with pytest.raises(InputError, match="2 record\\(s\\) have disagreeing answers") as err:
        annotated(project, ROWS)
    message = str(err.value)
    assert "line 1, question 'label': 'neoplasms' vs 'digestive'" in message
    assert "line 3, question 'label': 'nervous' vs 'general'" in message
    assert "--on-conflict first" in message and "--labels-as response" in message
    assert snapshot(project) == before
    with pytest.raises(InputError, match="disagreeing"):
        annotated(project, ROWS, on_conflict=OnConflict.ERROR)


@pytest.mark.parametrize(
    ("policy", "colon", "headache"),
    [(OnConflict.FIRST, "neoplasms", "nervous"), (OnConflict.MAJORITY, "digestive", "nervous")],
)
def test_on_conflict_first_or_majority_picks_one_and_counts(
    project: Project, annotated: Callable[..., Any], policy: OnConflict, colon: str, headache: str
) -> None:
    report = annotated(project, ROWS, on_conflict=policy)
    assert finals(project) == {
        "Colon tumour.": colon,
        "Gastric ulcer.": "digestive",
        "Headache.": headache,
        "Angina.": "cardiovascular",  # the reviewed answer wins without a conflict
    }
    lost = 2 if policy == OnConflict.FIRST else 1
    assert (report.n_labels, report.n_conflicts, report.n_conflict_labels) == (4, 2, lost + 1)
    assert report.conflict_policy == policy.value
    assert (
        f"2 record(s) had disagreeing gold answers, resolved by --on-conflict {policy.value}"
        in (report.warnings[-1])
    )


def test_on_conflict_is_for_gold_only(project: Project, annotated: Callable[..., Any]) -> None:
    with pytest.raises(ConfigError, match="--on-conflict applies to --labels-as gold only"):
        annotated(project, ROWS, labels_as=LabelsAs.RESPONSE, on_conflict=OnConflict.FIRST)
    report = annotated(project, ROWS, labels_as=LabelsAs.RESPONSE)  # every answer is kept
    assert (report.n_conflicts, report.n_labels) == (0, 9)


def test_cli_on_conflict_prints_what_was_stored(tmp_path: Path) -> None:
    tasks = [
        {
            "id": i,
            "data": {"text": f"Text {i}."},
            "annotations": [
                {"completed_by": 1, "result": [_choice("a")]},
                {"completed_by": 2, "result": [_choice("b" if i % 2 else "a")]},
            ],
        }
        for i in range(4)
    ]
    path = write(tmp_path / "ls.json", json.dumps(tasks))
    runner = CliRunner()
    root = tmp_path / "p"
    assert runner.invoke(app, ["init", "p", "--labels", "a,b", "--dir", str(root)]).exit_code == 0
    refused = runner.invoke(app, ["import", str(path), "-p", str(root)])
    assert refused.exit_code == 1 and "2 record(s) have disagreeing" in refused.output
    done = runner.invoke(app, ["import", str(path), "-p", str(root), "--on-conflict", "first"])
    text = " ".join(done.output.split())
    assert done.exit_code == 0, text
    assert "4 label(s) as gold" in text and "2 record(s) had disagreeing gold answers" in text


def _choice(label: str) -> dict[str, Any]:
    return {
        "from_name": "label",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [label]},
    }
