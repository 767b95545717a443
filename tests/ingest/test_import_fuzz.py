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
files also go through the real ``goldsmith import`` command.
"""

from __future__ import annotations

import io
import json
import os
import re
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _ci import in_ci
from goldsmith.cli import app
from goldsmith.errors import GoldsmithError, InputError
from goldsmith.ingest.options import ImportOptions, ImportReport, LabelsAs
from goldsmith.project import Project

LABELS = ["neoplasms", "digestive", "nervous", "cardiovascular", "general"]
TEXTS = [
    "Colon tumour 🧬 resected; margins clear.",
    "Migraine with aura treated with 𝛽-blockers.",
    "Gastric ulcer after NSAID use 💊 in 𝑛 = 40 patients.",
    "Atrial fibrillation 🫀 in elderly patients.",
]
ENTITIES = ["DISEASE", "DRUG"]
NER = [  # text, [(surface, label)]
    ("🧬 Colon cancer treated with FOLFOX.", [("Colon cancer", "DISEASE"), ("FOLFOX", "DRUG")]),
    ("No finding 🩺 today.", []),
    ("𝛽-thalassemia responds to luspatercept.", [("𝛽-thalassemia", "DISEASE")]),
]
SFT = [
    ("Summarise: colon tumour 🧬 resected.", "A colon tumour was removed."),
    ("What does 𝛽-blocker treat?", "Hypertension and migraine 💊."),
    ("Define atrial fibrillation 🫀.", "An irregular heart rhythm."),
]

EXAMPLES = int(os.environ.get("GOLDSMITH_FUZZ_EXAMPLES", "25"))  # per format; ~15 s in all
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=in_ci(),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --------------------------------------------------------------------------- valid files


def _utf16(text: str, at: int) -> int:
    return len(text[:at].encode("utf-16-le")) // 2


def _spans(text: str, ents: list[tuple[str, str]]) -> list[tuple[int, int, str, str]]:
    out = []
    for surface, label in ents:
        start = text.index(surface)
        out.append((start, start + len(surface), surface, label))
    return out


def _classified() -> list[dict[str, Any]]:
    return [
        {"id": f"pm-{i}", "text": t, "label": LABELS[i % len(LABELS)], "source": "pubmed"}
        for i, t in enumerate(TEXTS)
    ]


def _label_studio() -> list[dict[str, Any]]:
    tasks = []
    for i, (text, ents) in enumerate(NER):
        result = [
            {
                "id": f"r{i}-{k}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {
                    "start": _utf16(text, s),
                    "end": _utf16(text, e),
                    "text": surface,
                    "labels": [label],
                },
            }
            for k, (s, e, surface, label) in enumerate(_spans(text, ents))
        ]
        tasks.append(
            {
                "id": 100 + i,
                "data": {"text": text, "ward": "B"},
                "annotations": [{"completed_by": 3, "result": result, "was_cancelled": False}],
                "predictions": [],
            }
        )
    return tasks


def _prodigy() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, text in enumerate(TEXTS):
        rows.append(
            {
                "text": text,
                "label": LABELS[i % len(LABELS)],
                "answer": "accept" if i != 2 else "reject",
                "_input_hash": 1000 + i,
                "_task_hash": 2000 + i,
                "_annotator_id": "db-alice",
                "meta": {"source": "pubmed"},
            }
        )
    rows.append({**rows[0], "_annotator_id": "db-bob", "label": LABELS[0]})
    return rows


def _argilla() -> list[dict[str, Any]]:
    return [
        {
            "id": f"r{i}",
            "status": "completed",
            "_server_id": f"8f3c-{i}",
            "text": text,
            "label.responses": [LABELS[i % len(LABELS)]],
            "label.responses.users": ["u-1"],
            "label.responses.status": ["submitted"],
            "label.suggestion": LABELS[(i + 1) % len(LABELS)],
            "label.suggestion.score": 0.5,
            "label.suggestion.agent": "bert-v1",
        }
        for i, text in enumerate(TEXTS)
    ]


def _sft(shape: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, (prompt, answer) in enumerate(SFT):
        if shape == "chat":
            row: dict[str, Any] = {
                "messages": [
                    {"role": "user", "content": prompt},
                    {"role": "assistant", "content": answer},
                ]
            }
        elif shape == "prompt-completion":
            row = {"prompt": prompt, "completion": answer}
        elif shape == "alpaca":
            row = {"instruction": prompt, "input": "", "output": answer}
        else:
            row = {
                "conversations": [
                    {"from": "human", "value": prompt},
                    {"from": "gpt", "value": answer},
                ]
            }
        row["id"] = f"s-{i}"
        rows.append(row)
    return rows


def _conll() -> bytes:
    out = ["-DOCSTART-\tO", ""]
    for text, ents in NER:
        tokens = text.split()
        tags = ["O"] * len(tokens)
        for surface, label in ents:
            words = surface.split()
            for k in range(len(tokens)):
                if [t.rstrip(".") for t in tokens[k : k + len(words)]] == words:
                    tags[k] = f"B-{label}"
                    for j in range(1, len(words)):
                        tags[k + j] = f"I-{label}"
        out += [f"{tok}\t{tag}" for tok, tag in zip(tokens, tags, strict=True)] + [""]
    return "\n".join(out).encode("utf-8")


def _delimited(sep: str) -> bytes:
    rows = _classified()
    lines = [sep.join(rows[0])]
    for row in rows:
        lines.append(sep.join(f'"{v}"' if sep == "," and "," in v else v for v in row.values()))
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Case:
    """One import format: its valid content, file layout, task and options."""

    fmt: str
    template: str
    labels: list[str] | None
    suffix: str
    layout: str  # "text" (bytes), "jsonl", "json" (rows re-serialised), "parquet", "hf"
    rows: list[dict[str, Any]] = field(default_factory=list)
    raw: bytes = b""
    labels_as: LabelsAs = LabelsAs.GOLD

    def content(self) -> bytes:
        if self.layout == "jsonl":
            return _jsonl(self.rows)
        if self.layout == "json":
            return _json(self.rows)
        return self.raw


def _jsonl(rows: list[Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _json(rows: list[Any]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


CASES = {
    c.fmt: c
    for c in [
        Case("csv", "classification", LABELS, ".csv", "text", raw=_delimited(",")),
        Case("tsv", "classification", LABELS, ".tsv", "text", raw=_delimited("\t")),
        Case("jsonl", "classification", LABELS, ".jsonl", "jsonl", _classified()),
        Case("json", "classification", LABELS, ".json", "json", _classified()),
        Case("parquet", "classification", LABELS, ".parquet", "parquet", _classified()),
        Case("hf", "classification", LABELS, "", "hf", _classified()),
        Case("label-studio", "ner", ENTITIES, ".json", "json", _label_studio()),
        Case(
            "prodigy",
            "classification",
            LABELS,
            ".jsonl",
            "jsonl",
            _prodigy(),
            labels_as=LabelsAs.RESPONSE,
        ),
        Case("conll", "ner", ENTITIES, ".conll", "text", raw=_conll()),
        Case("argilla", "classification", LABELS, ".jsonl", "jsonl", _argilla()),
        Case("openai-chat", "sft", None, ".jsonl", "jsonl", _sft("chat")),
        Case("trl-sft-chat", "sft", None, ".jsonl", "jsonl", _sft("chat")),
        Case("trl-sft", "sft", None, ".jsonl", "jsonl", _sft("prompt-completion")),
        Case("alpaca", "sft", None, ".jsonl", "jsonl", _sft("alpaca")),
        Case("sharegpt", "sft", None, ".jsonl", "jsonl", _sft("sharegpt")),
    ]
}


# --------------------------------------------------------------------------- mutations

BAD_BYTES = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf0\x9f", b"\x00", b"\x00\x00"]
SYNTAX_BYTES = [b'"', b"{", b"]", b",", b"\t", b"\n", b"\r", b"\\"]
NEW_VALUES: list[Any] = [None, 0, -7, 2.5, True, "", "oncology", [], [1, "a"], {}, {"k": 1}]
NEW_CELLS = ["", "7", "3.5", "null", "[1]", "oncology", '"', "\u00a0"]
NEW_TAGS = ["X-DISEASE", "B-UNKNOWN", "I-", "B-", "7", "O O"]
COLUMN_VALUES: list[Callable[[int], Any]] = [
    lambda i: i,
    lambda i: i + 0.5,
    lambda i: None,
    lambda i: i % 2 == 0,
    lambda i: [f"x{i}"],
    lambda i: {"k": i},
    lambda i: "",
]


@dataclass
class Mutated:
    """A mutated input: bytes for a text file, or rows (or bytes) for a columnar one.

    ``local`` says the fault sits in one row, so a refusal must name its line, row or task;
    ``key`` is the key, column or cell changed: a refusal must then name a field (the one
    at fault may differ, as when dropping ``data`` leaves no ``text``), unless it is about
    the row's number of cells.
    """

    what: str
    data: bytes | None = None
    rows: list[dict[str, Any]] | None = None
    local: bool = True
    key: str | None = None


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value (dict keys and list indices), the root excluded."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))


def _set(root: Any, path: tuple[Any, ...], value: Any, *, drop: bool = False) -> None:
    for step in path[:-1]:
        root = root[step]
    if drop:
        del root[path[-1]]
    else:
        root[path[-1]] = value


def _key_of(path: tuple[Any, ...]) -> str | None:
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else None


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


@st.composite
def byte_mutations(draw: st.DrawFn, content: bytes, *, lines: bool = True) -> Mutated:
    """Truncation, bad or syntax bytes inserted or overwritten, a line repeated or dropped."""
    ops = ["truncate", "insert", "replace", "empty"] + (["repeat", "drop"] if lines else [])
    op = draw(st.sampled_from(ops))
    if op == "empty":
        return Mutated("emptied", b"", local=False)
    if op in ("repeat", "drop"):
        parts = content.splitlines(keepends=True)
        i = draw(st.integers(0, len(parts) - 1))
        kept = parts[: i + 1] + parts[i:] if op == "repeat" else parts[:i] + parts[i + 1 :]
        return Mutated(f"line {i + 1} {op}ed", b"".join(kept))
    at = draw(st.integers(0, len(content) - 1))
    if op == "truncate":
        return Mutated(f"truncated at byte {at}", content[:at], local=lines and at > 0)
    bad = draw(st.sampled_from(BAD_BYTES + (SYNTAX_BYTES if lines else [])))
    end = at + (op == "replace")
    return Mutated(f"{bad!r} {op}ed at byte {at}", content[:at] + bad + content[end:], local=lines)


@st.composite
def row_mutations(draw: st.DrawFn, rows: list[dict[str, Any]]) -> Mutated:
    """A value somewhere in one row given another JSON type, or a key dropped."""
    rows = json.loads(json.dumps(rows))
    i = draw(st.integers(0, len(rows) - 1))
    path = draw(st.sampled_from(list(_paths(rows[i]))))
    if draw(st.booleans()) and isinstance(path[-1], str):
        _set(rows[i], path, None, drop=True)
        return Mutated(f"row {i}: {path} dropped", rows=rows, key=_key_of(path))
    value = draw(st.sampled_from(NEW_VALUES))
    _set(rows[i], path, value)
    return Mutated(f"row {i}: {path} = {value!r}", rows=rows, key=_key_of(path))


@st.composite
def column_mutations(draw: st.DrawFn, rows: list[dict[str, Any]]) -> Mutated:
    """A whole column given another Arrow type, dropped, or one cell nulled."""
    rows = json.loads(json.dumps(rows))
    column = draw(st.sampled_from(list(rows[0])))
    op = draw(st.sampled_from(["retype", "drop", "null"]))
    if op == "drop":
        for row in rows:
            del row[column]
        return Mutated(f"column {column!r} dropped", rows=rows, local=False, key=column)
    if op == "null":
        i = draw(st.integers(0, len(rows) - 1))
        rows[i][column] = None
        return Mutated(f"row {i}: {column!r} = None", rows=rows, key=column)
    make = draw(st.sampled_from(COLUMN_VALUES))
    for i, row in enumerate(rows):
        row[column] = make(i)
    return Mutated(f"column {column!r} = {make(0)!r}, ...", rows=rows, local=False, key=column)


@st.composite
def cell_mutations(draw: st.DrawFn, content: bytes, sep: bytes) -> Mutated:
    """csv/tsv: one cell replaced, or a column dropped from the header or from every line."""
    lines = content.decode("utf-8").splitlines()
    grid = [line.split(sep.decode()) for line in lines]
    column = draw(st.integers(0, len(grid[0]) - 1))
    name = grid[0][column]
    op = draw(st.sampled_from(["cell", "drop-column", "drop-header"]))
    if op == "cell":
        r = draw(st.integers(1, len(grid) - 1))
        grid[r][column] = draw(st.sampled_from(NEW_CELLS))
        what = f"line {r + 1}, {name!r} = {grid[r][column]!r}"
    else:
        for row in grid[: 1 if op == "drop-header" else None]:
            del row[column]
        what = f"{op} {name!r}"
    text = "\n".join(sep.decode().join(row) for row in grid) + "\n"
    return Mutated(what, text.encode("utf-8"), local=op != "drop-column", key=name)


@st.composite
def tag_mutations(draw: st.DrawFn, content: bytes) -> Mutated:
    """conll: one token's tag replaced by an unknown or malformed one, or removed."""
    lines = content.decode("utf-8").split("\n")
    tokens = [k for k, line in enumerate(lines) if "\t" in line and not line.startswith("-DOC")]
    k = draw(st.sampled_from(tokens))
    token = lines[k].split("\t")[0]
    tag = draw(st.sampled_from([*NEW_TAGS, None]))
    lines[k] = token if tag is None else f"{token}\t{tag}"
    return Mutated(f"line {k + 1} tagged {tag!r}", "\n".join(lines).encode("utf-8"), key="tag")


def mutations(case: Case) -> st.SearchStrategy[Mutated]:
    """Every mutation that applies to ``case``'s layout."""
    if case.layout in ("parquet", "hf"):
        return st.one_of(
            column_mutations(case.rows),
            row_mutations(case.rows).filter(_arrow_ok),
            byte_mutations(_parquet_bytes(case.rows), lines=False),
        )
    content = case.content()
    found = [byte_mutations(content)]
    if case.layout in ("jsonl", "json"):
        found.append(row_mutations(case.rows))
    elif case.fmt in ("csv", "tsv"):
        found.append(cell_mutations(content, b"," if case.fmt == "csv" else b"\t"))
    elif case.fmt == "conll":
        found.append(tag_mutations(content))
    return st.one_of(found)


def _arrow_ok(m: Mutated) -> bool:
    """Whether mutated rows still make an Arrow table (a column of mixed types does not)."""
    try:
        pa.Table.from_pylist(m.rows or [])
    except (pa.ArrowException, TypeError, ValueError):
        return False
    return True


def write_input(case: Case, m: Mutated, where: Path) -> Path:
    """The mutated input on disk: a file, or a Hugging Face folder of one parquet part."""
    if m.rows is not None:
        data = _parquet_bytes(m.rows) if case.layout in ("parquet", "hf") else None
        if data is None:
            data = _jsonl(m.rows) if case.layout == "jsonl" else _json(m.rows)
    else:
        assert m.data is not None
        data = m.data
    if case.layout == "hf":
        part = where / "train" / "part-00000.parquet"
        part.parent.mkdir(parents=True)
        part.write_bytes(data)
        return where
    path = where.with_suffix(case.suffix)
    path.write_bytes(data)
    return path


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
    ls = json.loads(json.dumps(_label_studio()))
    ls[1]["annotations"][0]["result"] = {"start": "x"}
    argilla = _argilla()
    argilla[2]["label.responses"] = 7
    return [
        ("csv", Mutated("bad byte", _delimited(",").replace(b"Migraine", b"Mi\xffgraine"))),
        ("jsonl", Mutated("truncated", _jsonl(_classified())[:-30])),
        ("label-studio", Mutated("result not a list", rows=ls)),
        ("argilla", Mutated("responses a number", rows=argilla)),
        ("parquet", Mutated("truncated", _parquet_bytes(_classified())[:-9], local=False)),
        ("conll", Mutated("unknown tag", _conll().replace(b"B-DRUG", b"B-GENE"))),
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
    rows = _argilla()
    rows[1][column] = 7
    path = workdir / f"{column}.jsonl"
    path.write_bytes(_jsonl(rows))
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
    tasks = _label_studio()
    tasks[2]["annotations"][0]["result"][0]["value"]["labels"] = labels
    path = workdir / f"ls-labels-{type(labels).__name__}.json"
    path.write_bytes(_json(tasks))
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
    data = _parquet_bytes(_classified())
    path = workdir / f"bad-footer-{fmt}.parquet"
    path.write_bytes(data.replace(b"label", b"lab\xffl"))
    project = projects["parquet"]
    before = counts(project)
    with pytest.raises(InputError, match="not a readable parquet file") as err:
        project.import_records(path, ImportOptions(fmt=fmt))
    assert err.value.file == str(path.resolve())
    assert counts(project) == before
