"""Inputs for the import fuzzing (``tests/ingest/test_import_fuzz.py``): one small valid file
per import format, and the Hypothesis strategies that damage it.

Each :class:`Case` holds a format's valid content (real-looking medical text with astral
characters), its file layout, the task template it fits and how its labels are stored.
:func:`mutations` gives every mutation that applies to a case: truncation, invalid UTF-8,
NUL or JSON-syntax bytes inserted or overwritten, a line repeated or dropped, the file
emptied, a JSON value given another type, a key, column or cell dropped or changed, a
CoNLL tag broken. :func:`write_input` puts a mutated input on disk.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from goldsmith.ingest.options import LabelsAs

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

# --------------------------------------------------------------------------- valid files


def _utf16(text: str, at: int) -> int:
    return len(text[:at].encode("utf-16-le")) // 2


def _spans(text: str, ents: list[tuple[str, str]]) -> list[tuple[int, int, str, str]]:
    out = []
    for surface, label in ents:
        start = text.index(surface)
        out.append((start, start + len(surface), surface, label))
    return out


def classified_rows() -> list[dict[str, Any]]:
    return [
        {"id": f"pm-{i}", "text": t, "label": LABELS[i % len(LABELS)], "source": "pubmed"}
        for i, t in enumerate(TEXTS)
    ]


def label_studio_tasks() -> list[dict[str, Any]]:
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


def prodigy_rows() -> list[dict[str, Any]]:
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


def argilla_rows() -> list[dict[str, Any]]:
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


def sft_rows(shape: str) -> list[dict[str, Any]]:
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


def conll_bytes() -> bytes:
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


def delimited_bytes(sep: str) -> bytes:
    rows = classified_rows()
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
            return jsonl_bytes(self.rows)
        if self.layout == "json":
            return json_bytes(self.rows)
        return self.raw


def _utf8(text: str) -> bytes:
    """UTF-8, with a lone surrogate (which it cannot encode) written as a JSON escape."""
    return re.sub("[\ud800-\udfff]", lambda c: f"\\u{ord(c[0]):04x}", text).encode("utf-8")


def jsonl_bytes(rows: list[Any]) -> bytes:
    return _utf8("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def json_bytes(rows: list[Any]) -> bytes:
    return _utf8(json.dumps(rows, ensure_ascii=False, indent=1))


CASES = {
    c.fmt: c
    for c in [
        Case("csv", "classification", LABELS, ".csv", "text", raw=delimited_bytes(",")),
        Case("tsv", "classification", LABELS, ".tsv", "text", raw=delimited_bytes("\t")),
        Case("jsonl", "classification", LABELS, ".jsonl", "jsonl", classified_rows()),
        Case("json", "classification", LABELS, ".json", "json", classified_rows()),
        Case("parquet", "classification", LABELS, ".parquet", "parquet", classified_rows()),
        Case("hf", "classification", LABELS, "", "hf", classified_rows()),
        Case("label-studio", "ner", ENTITIES, ".json", "json", label_studio_tasks()),
        Case(
            "prodigy",
            "classification",
            LABELS,
            ".jsonl",
            "jsonl",
            prodigy_rows(),
            labels_as=LabelsAs.RESPONSE,
        ),
        Case("conll", "ner", ENTITIES, ".conll", "text", raw=conll_bytes()),
        Case("argilla", "classification", LABELS, ".jsonl", "jsonl", argilla_rows()),
        Case("openai-chat", "sft", None, ".jsonl", "jsonl", sft_rows("chat")),
        Case("trl-sft-chat", "sft", None, ".jsonl", "jsonl", sft_rows("chat")),
        Case("trl-sft", "sft", None, ".jsonl", "jsonl", sft_rows("prompt-completion")),
        Case("alpaca", "sft", None, ".jsonl", "jsonl", sft_rows("alpaca")),
        Case("sharegpt", "sft", None, ".jsonl", "jsonl", sft_rows("sharegpt")),
    ]
}


# --------------------------------------------------------------------------- mutations

BAD_BYTES = [b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf0\x9f", b"\x00", b"\x00\x00"]
SYNTAX_BYTES = [b'"', b"{", b"]", b",", b"\t", b"\n", b"\r", b"\\"]
NEW_VALUES: list[Any] = [
    *(None, 0, -7, 2.5, True, 10**30, float("nan")),
    *("", "oncology", "te\x00xt", "lone \ud83e surrogate"),
    *([], [1, "a"], {}, {"k": 1}),
]
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


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
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
    """A value somewhere in one row given another JSON type, a key dropped, or the whole row
    replaced by something that is not an object."""
    rows = json.loads(json.dumps(rows))
    i = draw(st.integers(0, len(rows) - 1))
    if draw(st.integers(0, 9)) == 0:
        rows[i] = draw(st.sampled_from([v for v in NEW_VALUES if not isinstance(v, dict)]))
        return Mutated(f"row {i} = {rows[i]!r}", rows=rows)
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
            byte_mutations(parquet_bytes(case.rows), lines=False),
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
    except (pa.ArrowException, TypeError, ValueError, OverflowError, AttributeError):
        return False
    return True


def write_input(case: Case, m: Mutated, where: Path) -> Path:
    """The mutated input on disk: a file, or a Hugging Face folder of one parquet part."""
    if m.rows is not None:
        data = parquet_bytes(m.rows) if case.layout in ("parquet", "hf") else None
        if data is None:
            data = jsonl_bytes(m.rows) if case.layout == "jsonl" else json_bytes(m.rows)
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
