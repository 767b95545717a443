"""Bad input, fuzzed: every importer either imports a mutated file sanely or refuses it cleanly.

For each import format a small valid file (real-looking medical text with astral characters)
is mutated by Hypothesis: truncated at a byte, given invalid UTF-8 or NUL bytes, a line
duplicated or dropped, a JSON value given another type, a key or column dropped, the file
emptied. Each mutated file is imported into one real SQLite project per format, and then:

- either the import succeeds, and its report agrees with the store (records and labels
  reported = records and labels stored, one more ``imports`` row) and nothing stored holds a
  NUL or a replacement character;
- or it raises a :class:`~goldsmith.errors.GoldsmithError` naming the file and (for a file
  that still has content) the line, row or task, and, where one key or cell was changed, the
  field; and the store is exactly as before.

Any other exception would be a traceback for a user, so it fails the test. A few mutated
files also go through the real ``goldsmith import`` command, and each bug the fuzzing found
is kept as a plain regression test. The valid files and the strategies live in
``tests/_import_fuzz.py``. Examples are derandomised under CI; for a longer hunt run e.g.
``GOLDSMITH_TEST_FUZZ_EXAMPLES=2000 pytest tests/ingest/test_import_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _ci import in_ci
from _import_fuzz import (
    CASES,
    LABELS,
    Case,
    Mutated,
    argilla_rows,
    classified_rows,
    conll_bytes,
    delimited_bytes,
    json_bytes,
    jsonl_bytes,
    label_studio_tasks,
    mutations,
    parquet_bytes,
    write_input,
)
from goldsmith.cli import app
from goldsmith.errors import GoldsmithError, InputError
from goldsmith.ingest.options import ImportOptions, ImportReport
from goldsmith.project import Project

EXAMPLES = int(os.environ.get("GOLDSMITH_TEST_FUZZ_EXAMPLES", "150"))  # per format; ~20 s in all
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=in_ci(),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Counts:
    records: int
    finals: int
    responses: int
    suggestions: int
    imports: tuple[tuple[Any, ...], ...]
    texts: tuple[str, ...]


def counts(project: Project) -> Counts:
    """What an import can change: records, labels of every kind, the imports table."""
    with project.store.read() as tx:
        records = [r for batch in tx.iter_records() for r in batch]
        ids = [r.id for r in records]
        imports = tuple(tuple(sorted(row.items())) for row in tx.list_imports())
        return Counts(
            records=len(records),
            finals=len(tx.final_labels_for(ids)),
            responses=len(tx.responses_for(ids)),
            suggestions=len(tx.suggestions_for(ids)),
            imports=imports,
            texts=tuple(json.dumps([r.fields, r.metadata], ensure_ascii=False) for r in records),
        )


WHOLE_ROW = re.compile(r"\d+ values? for \d+ columns?")  # a row's cell count: no one field
LOCATED = re.compile(r"\b(line|row|task(?: index)?)\s+\d+", re.IGNORECASE)


def check_refusal(err: BaseException, m: Mutated, path: Path) -> None:
    """A refusal must be ours and say where: the file, the line or task, the field."""
    if not isinstance(err, GoldsmithError):
        trace = "".join(traceback.format_exception(err))
        pytest.fail(f"{m.what}: a {type(err).__name__} would reach the user:\n{trace}")
    message = str(err)
    assert path.name in message, f"{m.what}: the error does not name the file: {message}"
    # a file left with no row at all (emptied, cut inside its header) has no line to name
    rowless = "no records to import" in message or (
        not path.is_dir() and not path.read_bytes().strip()
    )
    if m.key is not None and isinstance(err, InputError) and not WHOLE_ROW.search(message):
        assert err.field is not None, f"{m.what}: the error names no field: {message}"
    if m.local and not rowless:
        assert (isinstance(err, InputError) and err.line is not None) or LOCATED.search(message), (
            f"{m.what}: the error names no line, row or task: {message}"
        )


def check_success(report: ImportReport, before: Counts, after: Counts, m: Mutated) -> None:
    """A successful import's report agrees with the store, and nothing corrupt was stored."""
    assert after.records - before.records == report.n_inserted, m.what
    assert report.n_read == report.n_inserted + report.n_duplicates + report.n_rejected, m.what
    labels = sum(
        getattr(after, k) - getattr(before, k) for k in ("finals", "responses", "suggestions")
    )
    assert labels == report.n_labels, f"{m.what}: {report.n_labels} labels reported, {labels}"
    assert len(after.imports) == len(before.imports) + 1, m.what
    assert all(isinstance(w, str) and w for w in report.warnings), m.what
    for stored in after.texts[before.records :]:
        assert "\\u0000" not in stored and "\ufffd" not in stored, f"{m.what}: stored {stored}"
        odd = [v for v in json.loads(stored)[0].values() if isinstance(v, str) and _odd(v)]
        assert not odd or report.warnings, f"{m.what}: stored {odd} without a warning"


def _odd(text: str) -> bool:
    """An empty text: imported (beside a non-empty one) only with a warning counting them.
    A number-only text is only warned about when its whole column is numbers."""
    return not text.strip()


# --------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def projects(workdir: Path) -> Iterator[dict[str, Project]]:
    """One real SQLite project per format, reused across its examples."""
    opened: dict[str, Project] = {}
    for case in CASES.values():
        opened[case.fmt] = Project.init(
            workdir / f"project-{case.fmt}", template=case.template, labels=case.labels
        )
    yield opened
    for p in opened.values():
        p.close()


def attempt(project: Project, case: Case, m: Mutated, path: Path) -> None:
    """Import the mutated input and check the outcome, whichever it is."""
    before = counts(project)
    options = ImportOptions(fmt=case.fmt, labels_as=case.labels_as)
    try:
        report = project.import_records(path, options)
    except Exception as err:  # noqa: BLE001 - anything not ours is the failure looked for
        check_refusal(err, m, path)
        assert counts(project) == before, f"{m.what}: a refused import changed the store"
        return
    check_success(report, before, counts(project), m)


_serial = iter(range(1_000_000))


@pytest.mark.parametrize("fmt", list(CASES))
@FUZZ
@given(data=st.data())
def test_a_mutated_file_is_imported_sanely_or_refused_cleanly(
    fmt: str, data: st.DataObject, projects: dict[str, Project], workdir: Path
) -> None:
    case = CASES[fmt]
    m = data.draw(mutations(case), label="mutation")
    path = write_input(case, m, workdir / f"{fmt}-{next(_serial)}")
    attempt(projects[fmt], case, m, path)


def test_every_valid_file_imports(tmp_path: Path) -> None:
    """The unmutated files are valid: each imports every record (and its labels)."""
    for case in CASES.values():
        with Project.init(
            tmp_path / case.fmt, template=case.template, labels=case.labels
        ) as project:
            path = write_input(
                case,
                Mutated("valid", case.content(), rows=_rows(case)),
                tmp_path / f"in-{case.fmt}",
            )
            report = project.import_records(
                path, ImportOptions(fmt=case.fmt, labels_as=case.labels_as)
            )
            assert report.n_inserted >= 3 and report.n_labels >= 3, (case.fmt, report)
            assert report.n_rejected == 0 and report.warnings == [], (case.fmt, report)


def _rows(case: Case) -> list[dict[str, Any]] | None:
    return case.rows if case.layout in ("jsonl", "json", "parquet", "hf") else None


# --------------------------------------------------------------------------- regressions
# Bugs the fuzzing found, kept as plain examples.


def test_a_parquet_text_that_is_not_utf8_is_refused_naming_row_and_column(
    projects: dict[str, Project], workdir: Path
) -> None:
    """Was a raw UnicodeDecodeError from pyarrow's ``to_pylist`` (a flipped byte in a page)."""
    text = pa.array([b"Colon tumour.", b"Migraine \xff aura."], pa.binary()).view(pa.string())
    path = workdir / "not-utf8.parquet"
    pq.write_table(pa.table({"text": text, "label": ["neoplasms", "nervous"]}), path)
    project = projects["parquet"]
    before = counts(project)
    with pytest.raises(InputError, match="not valid UTF-8") as err:
        project.import_records(path, ImportOptions(fmt="parquet"))
    assert (err.value.file, err.value.line, err.value.field) == (str(path.resolve()), 2, "text")
    assert counts(project) == before


def test_a_nul_in_a_conll_token_is_refused_naming_line_and_field(
    projects: dict[str, Project], workdir: Path
) -> None:
    """Was stored as it was: CoNLL builds its text from tokens, past the row mapper's check."""
    path = workdir / "nul.conll"
    path.write_bytes(b"Colon\tB-DISEASE\ncan\x00cer\tI-DISEASE\n\nOK\tO\n")
    project = projects["conll"]
    before = counts(project)
    with pytest.raises(InputError, match="NUL") as err:
        project.import_records(path, ImportOptions(fmt="conll"))
    assert (err.value.line, err.value.field) == (2, "token")
    assert counts(project) == before


# --------------------------------------------------------------------------- the CLI


def _cli_inputs() -> list[tuple[str, Mutated]]:
    ls = json.loads(json.dumps(label_studio_tasks()))
    ls[1]["annotations"][0]["result"] = {"start": "x"}
    argilla = argilla_rows()
    argilla[2]["label.responses"] = 7
    return [
        ("csv", Mutated("bad byte", delimited_bytes(",").replace(b"Migraine", b"Mi\xffgraine"))),
        ("jsonl", Mutated("truncated", jsonl_bytes(classified_rows())[:-30])),
        ("label-studio", Mutated("result not a list", rows=ls)),
        ("argilla", Mutated("responses a number", rows=argilla)),
        ("parquet", Mutated("truncated", parquet_bytes(classified_rows())[:-9], local=False)),
        ("conll", Mutated("unknown tag", conll_bytes().replace(b"B-DRUG", b"B-GENE"))),
    ]


@pytest.mark.parametrize(("fmt", "m"), _cli_inputs(), ids=lambda v: getattr(v, "what", v))
def test_the_cli_refuses_a_mutated_file_without_a_traceback(
    fmt: str, m: Mutated, projects: dict[str, Project], workdir: Path
) -> None:
    case = CASES[fmt]
    path = write_input(case, m, workdir / f"cli-{fmt}-{next(_serial)}")
    project = projects[fmt]
    before = counts(project)
    args = ["import", str(path), "-p", str(project.root), "--format", fmt]
    result = CliRunner().invoke(app, [*args, "--labels-as", case.labels_as.value])
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and "--debug" not in result.output, result.output
    assert path.name in result.output.replace("\n", ""), result.output
    assert counts(project) == before


@pytest.mark.parametrize(
    "column", ["label.responses", "label.responses.users", "label.responses.status"]
)
def test_an_argilla_response_column_that_is_not_a_list_is_refused(
    projects: dict[str, Project], workdir: Path, column: str
) -> None:
    """Was passed over in silence (the answers) or a raw TypeError (``len()`` of the users)."""
    rows = argilla_rows()
    rows[1][column] = 7
    path = workdir / f"{column}.jsonl"
    path.write_bytes(jsonl_bytes(rows))
    project = projects["argilla"]
    before = counts(project)
    with pytest.raises(InputError, match="expected a list with one entry per annotator") as err:
        project.import_records(path, ImportOptions(fmt="argilla"))
    assert (err.value.line, err.value.field) == (2, column)
    assert counts(project) == before


@pytest.mark.parametrize("labels", [-7, True])
def test_a_label_studio_span_whose_labels_are_not_a_list_is_refused(
    projects: dict[str, Project], workdir: Path, labels: Any
) -> None:
    """Was a raw TypeError from the spans kind iterating an integer."""
    tasks = label_studio_tasks()
    tasks[2]["annotations"][0]["result"][0]["value"]["labels"] = labels
    path = workdir / f"ls-labels-{type(labels).__name__}.json"
    path.write_bytes(json_bytes(tasks))
    project = projects["label-studio"]
    before = counts(project)
    with pytest.raises(InputError, match="task index 2 .*does not have the shape") as err:
        project.import_records(path, ImportOptions(fmt="label-studio"))
    assert err.value.field == "label"
    assert counts(project) == before


@pytest.mark.parametrize("fmt", ["parquet", None])
def test_a_parquet_footer_with_a_column_name_not_utf8_is_refused(
    projects: dict[str, Project], workdir: Path, fmt: str | None
) -> None:
    """Was a raw UnicodeDecodeError from ``pq.ParquetFile`` (a flipped byte in the footer),
    when measuring the file, detecting its format and reading it."""
    data = parquet_bytes(classified_rows())
    path = workdir / f"bad-footer-{fmt}.parquet"
    path.write_bytes(data.replace(b"label", b"lab\xffl"))
    project = projects["parquet"]
    before = counts(project)
    with pytest.raises(InputError, match="not a readable parquet file") as err:
        project.import_records(path, ImportOptions(fmt=fmt))
    assert err.value.file == str(path.resolve())
    assert counts(project) == before


@pytest.mark.parametrize("fmt", ["jsonl", "openai-chat", "label-studio", "json"])
def test_a_lone_surrogate_escape_in_a_text_is_refused_naming_line_and_field(
    projects: dict[str, Project], workdir: Path, fmt: str
) -> None:
    """Was a raw UnicodeEncodeError from hashing or storing the record: JSON's ``"\\ud83e"``
    escape without its pair decodes to a lone surrogate that UTF-8 cannot encode."""
    case = CASES[fmt]
    rows = json.loads(json.dumps(case.rows))
    if fmt in ("jsonl", "json"):
        rows[1]["text"] = "Migraine \ud83e aura."
    elif fmt == "openai-chat":
        rows[1]["messages"][0]["content"] = "Define \ud83e."
    else:
        rows[1]["data"]["text"] = "No finding \ud83e today."
    path = workdir / f"surrogate-{fmt}{case.suffix}"
    path.write_bytes(jsonl_bytes(rows) if case.layout == "jsonl" else json_bytes(rows))
    assert b"\\ud83e" in path.read_bytes()
    project = projects[fmt]
    before = counts(project)
    with pytest.raises(InputError, match="lone surrogate") as err:
        project.import_records(path, ImportOptions(fmt=fmt, labels_as=case.labels_as))
    field = {"openai-chat": "messages", "label-studio": "data"}.get(fmt, "text")
    line = {"jsonl": 2, "json": 8, "openai-chat": 2, "label-studio": 46}[fmt]
    assert (err.value.line, err.value.field) == (line, field)
    assert (fmt != "label-studio") or "task index 1 (id 101)" in str(err.value)
    assert counts(project) == before


def test_a_lone_surrogate_row_is_skipped_and_written_back_with_skip_invalid(
    tmp_path: Path,
) -> None:
    """The rejects file keeps the row as it was (the escape), instead of failing to write."""
    rows = classified_rows()
    rows[2]["text"] = "Gastric \udc8a ulcer."
    path = tmp_path / "in.jsonl"
    path.write_bytes(jsonl_bytes(rows))
    rejects = tmp_path / "rejects.jsonl"
    with Project.init(tmp_path / "p", template="classification", labels=LABELS) as project:
        report = project.import_records(path, ImportOptions(skip_invalid=rejects))
        assert (report.n_inserted, report.n_rejected) == (3, 1)
    (entry,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert (entry["line"], entry["field"]) == (3, "text")
    assert entry["row"]["text"] == "Gastric \udc8a ulcer."
