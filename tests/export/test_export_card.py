"""The dataset card, and exported files loading with Hugging Face ``datasets``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import yaml

from goldsmith import ExportOptions, Project, Provenance

Fill = Callable[..., tuple[list[int], list[dict[str, Any]], list[Any]]]
COMMAND = "goldsmith export --format parquet --split 0.6,0.2,0.2 --seed 3"


def front_matter(card: Path) -> tuple[dict[str, Any], str]:
    _, head, body = card.read_text(encoding="utf-8").split("---\n", 2)
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict)
    return meta, body


def test_card_records_counts_guidelines_provenance_and_command(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("classification")
    p.set_guidelines("# v1")
    p.set_guidelines("# v2: neutral means no opinion")
    fill(p, "classification", range(30), provenance=[Provenance.GOLD, Provenance.HUMAN])
    fill(p, "classification", range(30, 40), source_file="extra.jsonl")
    fill(p, "classification", range(40, 45), provenance=[Provenance.WEAK])  # filtered out
    opts = ExportOptions(
        fmt="parquet", out=tmp_path / "o", split=(0.6, 0.2, 0.2), seed=3, command=COMMAND
    )
    report = p.export(opts)
    assert report.card == tmp_path / "o" / "README.md"
    meta, body = front_matter(report.card)

    assert meta["license"] == "other"
    assert meta["task_categories"] == ["text-classification"]
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "train.parquet"},
                {"split": "validation", "path": "validation.parquet"},
                {"split": "test", "path": "test.parquet"},
            ],
        }
    ]
    assert COMMAND in body
    assert "Guideline version: 2" in body
    assert sum(report.counts.values()) == 40 and list(report.counts) == [
        "train",
        "validation",
        "test",
    ]
    for split, n in report.counts.items():
        assert f"| {split} | `{split}.parquet` | {n} | {n} |" in body
    for label in ("pos", "neg", "neu"):
        row = [report.label_counts[s][label] for s in ("train", "validation", "test")]
        assert f"| `{label}` | {' | '.join(map(str, row))} | {sum(row)} |" in body
    assert report.provenance_counts == {"consensus": 3, "gold": 19, "human": 18}
    assert "| gold | 19 | 47.5% |" in body
    assert "| consensus | 3 | 7.5% |" in body
    assert "weak" not in report.provenance_counts
    assert "Included provenance: gold, review, human, consensus" in body
    assert "`data.csv`: 30 record(s) exported" in body
    assert "`extra.jsonl`: 10 record(s) exported" in body
    assert "Classify the text into one of: pos, neg, neu." in body


def test_card_without_guidelines_or_command(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("preference")
    fill(p, "preference", range(4), source_file=None)
    report = p.export(ExportOptions(fmt="trl-kto", out=tmp_path / "o", preference_pairs="all"))
    assert report.card is not None
    meta, body = front_matter(report.card)
    assert meta["task_categories"] == ["text-generation"]
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "train.jsonl"}]
    assert "Guideline version: none recorded." in body
    assert "(not recorded)" in body
    assert "(no source file): 4 record(s) exported" in body
    assert "every ordered pair of the ranking" in body
    assert "| train | `train.jsonl` | 4 | 12 |" in body


def test_conll_card_has_no_data_files(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("ner")
    fill(p, "ner", range(6))
    report = p.export(ExportOptions(fmt="conll", out=tmp_path / "o"))
    assert report.card is not None
    meta, body = front_matter(report.card)
    assert "configs" not in meta
    assert meta["task_categories"] == ["token-classification"]
    assert "## Labels (mentions)" in body


def test_parquet_loads_with_datasets(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("multilabel")
    ids, _, values = fill(p, "multilabel", range(40))
    report = p.export(ExportOptions(fmt="parquet", out=tmp_path / "o", split=(0.75, 0.25)))
    files = {split: str(path) for split, path in report.files.items()}
    ds = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    assert isinstance(ds, datasets.DatasetDict)
    assert {s: ds[s].num_rows for s in ds} == report.counts
    assert ds["train"].column_names == [
        "id",
        "external_id",
        "text",
        "labels",
        "provenance",
        "confidence",
        "metadata",
    ]
    got = {r["id"]: r["labels"] for s in ds for r in ds[s]}
    assert got == {rid: json.dumps(v) for rid, v in zip(ids, values, strict=True)}


def test_the_card_configs_load_the_folder(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("sft")
    fill(p, "sft", range(20))
    report = p.export(ExportOptions(fmt="openai-chat", out=tmp_path / "o", split=(0.5, 0.5)))
    ds = datasets.load_dataset(str(tmp_path / "o"), cache_dir=str(tmp_path / "hf"))
    assert isinstance(ds, datasets.DatasetDict)
    assert sorted(ds) == ["train", "validation"]
    assert {s: ds[s].num_rows for s in ds} == report.counts
    assert [m["role"] for m in ds["train"][0]["messages"]] == ["user", "assistant"]
