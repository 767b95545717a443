"""Readers stream rows with the right line numbers; detection and the format registry."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _ci import import_or_skip
from goldsmith.errors import InputError, RegistryError
from goldsmith.ingest.columnar import read_hf, read_parquet
from goldsmith.ingest.delimited import read_csv, read_tsv
from goldsmith.ingest.formats import (
    FormatRegistry,
    ImportFormat,
    default_formats,
    detect_format,
)
from goldsmith.ingest.options import ImportOptions
from goldsmith.ingest.readers import ReadContext, read_json, read_jsonl


def ctx(path: Path, **options: object) -> ReadContext:
    return ReadContext(file=str(path), options=ImportOptions(**options))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- csv / tsv


def test_csv_rows_line_numbers_multiline_and_huge_cells(tmp_path: Path) -> None:
    big = "x" * 150_000  # over csv's default 128 KB field limit
    path = tmp_path / "a.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["label", "text"])
        w.writerow(["1", "first"])
        w.writerow(["2", "two\nlines"])  # a quoted cell spanning lines 3-4
        w.writerow(["3", big])
    rows = list(read_csv(path, ctx(path)))
    assert [line for line, _ in rows] == [2, 3, 5]
    assert rows[0][1] == {"label": "1", "text": "first"}
    assert rows[1][1]["text"] == "two\nlines"
    assert len(rows[2][1]["text"]) == 150_000


def test_csv_strips_utf8_bom_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,1\n\nworld,2\n".encode())
    rows = list(read_csv(path, ctx(path)))
    assert rows == [(2, {"text": "hello", "label": "1"}), (4, {"text": "world", "label": "2"})]


def test_tsv_and_custom_delimiter(tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("text\tlabel\na, b\t1\n", encoding="utf-8")
    assert list(read_tsv(tsv, ctx(tsv))) == [(2, {"text": "a, b", "label": "1"})]
    semi = tmp_path / "a.csv"
    semi.write_text("text;label\nhi;2\n", encoding="utf-8")
    assert list(read_csv(semi, ctx(semi, delimiter=";"))) == [(2, {"text": "hi", "label": "2"})]


def test_csv_encoding_option_reads_latin1(tmp_path: Path) -> None:
    path = tmp_path / "l1.csv"
    path.write_bytes("text\ncaf\xe9 au lait\n".encode("latin-1"))
    assert list(read_csv(path, ctx(path, encoding="latin-1"))) == [(2, {"text": "café au lait"})]
    with pytest.raises(InputError) as err:
        list(read_csv(path, ctx(path)))
    assert err.value.line == 2
    assert "0xe9" in str(err.value)


def test_csv_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_text("text,label\nnaïve,1\n", encoding="utf-16")
    assert list(read_csv(path, ctx(path, encoding="utf-16"))) == [
        (2, {"text": "naïve", "label": "1"})
    ]


def test_csv_ragged_row_and_duplicate_header(tmp_path: Path) -> None:
    ragged = tmp_path / "r.csv"
    ragged.write_text("text,label\nok,1\ntoo,many,cells\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(read_csv(ragged, ctx(ragged)))
    assert err.value.line == 3
    dup = tmp_path / "d.csv"
    dup.write_text("text,text\na,b\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(read_csv(dup, ctx(dup)))
    assert (err.value.line, err.value.field) == (1, "text")


# --------------------------------------------------------------------------- json


def test_jsonl_line_numbers_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b"}\n{"text": \n[1, 2]\n', encoding="utf-8")
    c = ctx(path)
    it = read_jsonl(path, c)
    assert next(it) == (1, {"text": "a"})
    assert next(it) == (3, {"text": "b"})
    with pytest.raises(InputError) as err:
        next(it)
    assert err.value.line == 4
    assert "malformed JSON" in str(err.value)
    assert c.pos == path.stat().st_size - len(b"[1, 2]\n")


def test_json_array_streams_across_chunks(tmp_path: Path) -> None:
    items = [{"text": f"row {i} " + "y" * 900, "n": i} for i in range(3000)]  # ~2.8 MB
    path = tmp_path / "big.json"
    path.write_text("[\n" + ",\n".join(json.dumps(x) for x in items) + "\n]\n", encoding="utf-8")
    rows = list(read_json(path, ctx(path)))
    assert [r for _, r in rows] == items
    assert [line for line, _ in rows[:3]] == [2, 3, 4]
    assert rows[-1][0] == 3001


def test_json_array_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n{"text": "a"},\n{"text": "b",,}\n]', encoding="utf-8")
    with pytest.raises(InputError) as err:
        list(read_json(path, ctx(path)))
    assert err.value.line == 3
    obj = tmp_path / "obj.json"
    obj.write_text('{"text": "a"}', encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON array"):
        list(read_json(obj, ctx(obj)))


# --------------------------------------------------------------------------- parquet / hf


def test_parquet_reads_batch_by_batch(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    table = pa.table({"text": [f"t{i}" for i in range(25)], "label": list(range(25))})
    pq.write_table(table, path, row_group_size=10)
    c = ctx(path, batch_size=7)
    rows = list(read_parquet(path, c))
    assert [line for line, _ in rows] == list(range(1, 26))
    assert rows[24][1] == {"text": "t24", "label": 24}
    assert c.pos == 25


def test_hf_save_to_disk_folder_with_class_labels(tmp_path: Path) -> None:
    datasets = import_or_skip("datasets", install="pip install 'goldsmith[dev]'")
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
    )
    ds = datasets.Dataset.from_dict(
        {"text": ["bad", "good", "fine"], "label": [0, 1, 1]}, features=features
    )
    ds.save_to_disk(str(tmp_path / "saved"))
    path = tmp_path / "saved"
    assert detect_format(path) == "hf"
    rows = list(read_hf(path, ctx(path)))
    assert rows == [
        (1, {"text": "bad", "label": "neg"}),
        (2, {"text": "good", "label": "pos"}),
        (3, {"text": "fine", "label": "pos"}),
    ]


def test_hf_dataset_dict_adds_split(tmp_path: Path) -> None:
    datasets = import_or_skip("datasets", install="pip install 'goldsmith[dev]'")
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["a", "b"]}),
            "test": datasets.Dataset.from_dict({"text": ["c"]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "dd"))
    rows = list(read_hf(tmp_path / "dd", ctx(tmp_path / "dd")))
    assert sorted((r["text"], r["split"]) for _, r in rows) == [
        ("a", "train"),
        ("b", "train"),
        ("c", "test"),
    ]
    assert [line for line, _ in rows] == [1, 2, 3]


def test_hf_folder_of_parquet_files(tmp_path: Path) -> None:
    datasets = import_or_skip("datasets", install="pip install 'goldsmith[dev]'")
    folder = tmp_path / "hub" / "data"
    folder.mkdir(parents=True)
    datasets.Dataset.from_dict({"text": ["a", "b"]}).to_parquet(str(folder / "train-0.parquet"))
    datasets.Dataset.from_dict({"text": ["c"]}).to_parquet(str(folder / "train-1.parquet"))
    path = tmp_path / "hub"
    assert detect_format(path) == "hf"
    assert list(read_hf(path, ctx(path))) == [
        (1, {"text": "a"}),
        (2, {"text": "b"}),
        (3, {"text": "c"}),
    ]


def test_hf_folder_without_data_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a Hugging Face dataset folder"):
        list(read_hf(tmp_path / "empty", ctx(tmp_path / "empty")))


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.csv", "text\nx\n", "csv"),
        ("a.tsv", "text\nx\n", "tsv"),
        ("a.jsonl", '{"text": "x"}\n', "jsonl"),
        ("a.json", '[{"text": "x"}]', "json"),
        ("ls.json", '[{"id": 1, "data": {"text": "x"}, "annotations": []}]', "label-studio"),
        ("p.jsonl", '{"text": "x", "answer": "accept", "_input_hash": 1}\n', "prodigy"),
        ("ag.jsonl", '{"id": "1", "text": "x", "label.responses": ["a"]}\n', "argilla"),
        ("ag.json", '[{"id": "1", "fields": {"text": "x"}, "responses": {}}]', "argilla"),
    ],
)
def test_detect_format(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert detect_format(path) == expected


def test_detect_format_parquet_and_argilla_parquet(tmp_path: Path) -> None:
    plain = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["x"]}), plain)
    argilla = tmp_path / "b.parquet"
    pq.write_table(pa.table({"text": ["x"], "_server_id": ["s"]}), argilla)
    assert (detect_format(plain), detect_format(argilla)) == ("parquet", "argilla")


def test_detect_format_unknown_and_missing(tmp_path: Path) -> None:
    odd = tmp_path / "data.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(RegistryError, match="pass fmt="):
        detect_format(odd)
    with pytest.raises(InputError, match="no such file"):
        detect_format(tmp_path / "nope.csv")


# --------------------------------------------------------------------------- registry


def test_registry_rejects_duplicate_names_and_names_unknown_ones() -> None:
    registry = default_formats()
    assert {"csv", "tsv", "jsonl", "json", "parquet", "hf"} <= set(registry)
    assert {"label-studio", "prodigy", "argilla"} <= set(registry)
    with pytest.raises(RegistryError, match="'csv' is already registered"):
        registry.register(ImportFormat("csv", read_csv))
    with pytest.raises(RegistryError, match="unknown import format 'xlsx'"):
        registry.get("xlsx")


def test_registry_accepts_a_third_party_format() -> None:
    registry = FormatRegistry()
    fmt = registry.register(ImportFormat("semicolon", read_csv, description="x"))
    assert registry.get("semicolon") is fmt
    assert len(registry) == 1


# --------------------------------------------------------------------------- csv: arrow == csv

FRAGMENTS = ["plain", "with, comma", 'a "quote"', "two\nlines", "crlf\r\nend", "", " sp ", "é"]


def _oracle(path: Path) -> list[tuple[int, dict[str, str]]]:
    """What the csv module alone reads, with the line each row starts on."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        out, last = [], reader.line_num
        for values in reader:
            if values:
                out.append((last + 1, dict(zip(header, values, strict=True))))
            last = reader.line_num
    return out


@pytest.mark.parametrize("seed", range(12))
def test_csv_fast_path_matches_the_csv_module(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    path = tmp_path / "r.csv"
    newline = "\r\n" if seed % 3 == 0 else "\n"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator=newline)
        w.writerow(["text", "label", "note"])
        for i in range(rng.randint(5, 60)):
            if rng.random() < 0.08 and seed % 2:
                f.write(newline)  # a blank line: Arrow hands over to csv here
            w.writerow(
                [f"{rng.choice(FRAGMENTS)} {i}", rng.choice(FRAGMENTS), rng.choice(FRAGMENTS)]
            )
    assert list(read_csv(path, ctx(path))) == _oracle(path)


def test_csv_blank_line_then_multiline_rows_progress_reaches_file_size(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text('text,label\na,1\n\n"b\nc",2\nd,3\n\n', encoding="utf-8")
    c = ctx(path)
    assert list(read_csv(path, c)) == [
        (2, {"text": "a", "label": "1"}),
        (4, {"text": "b\nc", "label": "2"}),
        (6, {"text": "d", "label": "3"}),
    ]
    assert c.pos == path.stat().st_size
