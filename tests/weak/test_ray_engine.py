"""The Ray engine gives the local engine's votes, on a local Ray cluster with 2 CPUs."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from goldsmith.errors import InputError, LabelingFunctionError, MissingExtraError
from goldsmith.weak import ABSTAIN, keyword_lf, labeling_function, regex_lf
from goldsmith.weak.apply import Column, RecordRow, apply_lfs
from goldsmith.weak.loader import load_lf_file
from goldsmith.weak.ray_engine import apply_lfs_ray, records_to_parquet

LABELS = ["neoplasms", "cardiovascular", "nervous"]
WORDS = [
    "tumour",
    "Carcinoma",
    "myocardial",
    "coronary",
    "seizure",
    "brain",
    "stage II",
    "heart",
    "the",
    "patient",
]

LF_FILE = """
from goldsmith.weak import ABSTAIN, labeling_function

THRESHOLD = 12  # a module constant and a helper: shipped to Ray workers by value


def word_count(text):
    return len(text.split())


@labeling_function()
def long_cardiac(record):
    if word_count(record.text) > THRESHOLD and "heart" in record.text:
        return "cardiovascular"
    return ABSTAIN


@labeling_function()
def from_metadata(record):
    return "nervous" if record.metadata.get("ward") == "neuro" else ABSTAIN
"""


def make_rows(n: int) -> list[RecordRow]:
    rows: list[RecordRow] = []
    for i in range(1, n + 1):
        words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(i % 17 + 3)]
        chat = [{"role": "user", "content": f"message {i}"}]
        metadata = {"ward": "neuro" if i % 5 == 0 else "general"}
        rows.append((i * 3, {"text": " ".join(words), "chat": chat}, metadata))
    return rows


def all_kinds(tmp_path: Path) -> list[Any]:
    lf_file = tmp_path / "lfs.py"
    lf_file.write_text(LF_FILE)
    pattern = re.compile(r"\bstage\s+I+\b", re.IGNORECASE)

    @labeling_function()
    def staged(record: Any) -> str | int:  # defined here: a closure, pickled by value
        return "neoplasms" if pattern.search(record.text) else ABSTAIN

    @labeling_function(field="chat")
    def chat_even(record: Any) -> str | int:
        return "nervous" if int(record.chat[0]["content"].split()[1]) % 2 == 0 else ABSTAIN

    return [
        keyword_lf("neoplasms", ["tumour", "carcinoma"]),
        keyword_lf("cardiovascular", ["myocard", "coronary"]),
        regex_lf("nervous", r"seizure|brain\b"),
        staged,
        chat_even,
        *load_lf_file(lf_file),
    ]


def test_ray_engine_gives_the_local_engines_votes(tmp_path: Path, ray_lib: Any) -> None:
    ray = ray_lib
    rows = make_rows(400)
    lfs = all_kinds(tmp_path)
    files = records_to_parquet(reversed(rows), tmp_path / "parts", rows_per_file=90)
    assert len(files) == 5  # partitions out of id order, too
    local = apply_lfs(lfs, rows, LABELS, workers=1)
    assert all(column.ids for column in local)  # every LF votes somewhere

    assert not ray.is_initialized()
    remote = apply_lfs_ray(lfs, tmp_path / "parts", LABELS, num_cpus=2)
    assert not ray.is_initialized()  # the cluster it started is stopped

    for lf, mine, theirs in zip(lfs, local, remote, strict=True):
        assert (lf.name, theirs.ids, theirs.labels) == (lf.name, mine.ids, mine.labels)


def test_ray_engine_reads_plain_parquet_and_uses_a_running_cluster(
    tmp_path: Path, ray_cluster: Any
) -> None:
    rows = make_rows(120)
    lfs = [keyword_lf("cardiovascular", ["heart"]), regex_lf("neoplasms", r"tumou?r")]
    for part in range(3):  # files written by another tool: no schema metadata, no metadata
        chunk = rows[part::3]
        table = pa.table(
            {"record_id": [r[0] for r in chunk], "text": [r[1]["text"] for r in chunk]}
        )
        pq.write_table(table, tmp_path / f"p{part}.parquet")
    files = sorted(tmp_path.glob("*.parquet"))
    remote = apply_lfs_ray(lfs, files, LABELS, id_column="record_id")
    assert ray_cluster.is_initialized()  # not ours to stop
    assert apply_lfs_ray(lfs, [], LABELS) == [Column(), Column()]
    local = apply_lfs(lfs, rows, LABELS, workers=1)
    assert [(c.ids, c.labels) for c in remote] == [(c.ids, c.labels) for c in local]

    with pytest.raises(InputError, match="no record-id column 'id'"):
        apply_lfs_ray(lfs, files, LABELS)
    missing = [keyword_lf("nervous", ["x"], field="title")]
    with pytest.raises(LabelingFunctionError, match="has no field 'title'") as on_ray:
        apply_lfs_ray(missing, files, LABELS, id_column="record_id")
    with pytest.raises(LabelingFunctionError) as here:
        apply_lfs(missing, rows, LABELS, workers=1)
    assert str(on_ray.value) == str(here.value)


def test_an_lf_error_on_ray_names_the_lf_and_the_record(tmp_path: Path, ray_cluster: Any) -> None:
    @labeling_function()
    def fragile(record: Any) -> str | int:
        if record.id == 150:
            raise ZeroDivisionError("division by zero")
        return ABSTAIN

    @labeling_function()
    def unknown_label(record: Any) -> str | int:
        return "oncology" if record.id == 33 else ABSTAIN

    records_to_parquet(make_rows(100), tmp_path / "parts", rows_per_file=30)
    with pytest.raises(LabelingFunctionError, match="ZeroDivisionError") as info:
        apply_lfs_ray([fragile], tmp_path / "parts", LABELS)
    assert (info.value.lf, info.value.record) == ("fragile", 150)
    assert "labeling function 'fragile' on record 150: raised ZeroDivisionError" in str(info.value)
    with pytest.raises(LabelingFunctionError, match="'oncology'") as info:
        apply_lfs_ray([unknown_label], tmp_path / "parts", LABELS)
    assert (info.value.lf, info.value.record) == ("unknown_label", 33)


def test_without_ray_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules is how Python marks a module as not importable: ray "uninstalled"
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'goldsmith\[ray\]'"):
        apply_lfs_ray([keyword_lf("nervous", ["brain"])], tmp_path, LABELS)


def test_store_apply_on_ray_equals_local(tmp_path: Path, ray_cluster: Any) -> None:
    from goldsmith import Project
    from goldsmith.weak.run import load_label_matrix, load_multilabel_matrices

    texts = [f"tumour case {i}" if i % 3 else f"heart case {i} 😀" for i in range(300)]
    lfs = [keyword_lf(LABELS[0], ["tumour"]), keyword_lf(LABELS[1], ["heart"])]
    results = []
    for engine in ("local", "ray"):
        with Project.init(tmp_path / engine, labels=LABELS) as p:
            p.add_records([{"fields": {"text": t}} for t in texts])
            report = p.apply_lfs(lfs, engine=engine)
            assert sorted(report.recomputed) == sorted(lf.name for lf in lfs)
            results.append(load_label_matrix(p.store, p.task).L.toarray())
    assert (results[0] == results[1]).all() and (results[0] > 0).sum() == 300
    ml = []
    for engine in ("local", "ray"):
        root = tmp_path / f"ml-{engine}"
        with Project.init(root, template="multilabel", labels=LABELS[:2]) as p:
            p.add_records([{"fields": {"text": t}} for t in texts])
            p.apply_lfs(lfs, engine=engine)
            ml.append([L.toarray() for L in load_multilabel_matrices(p.store, p.task).Ls])
    assert all((a == b).all() for a, b in zip(ml[0], ml[1], strict=True))
