"""Splits (stratified, seeded, duplicate groups kept whole) and the label filters of an export."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from goldsmith import ExportError, ExportOptions, FinalLabel, Project, Provenance, Record
from goldsmith.config import template_task, write_config
from goldsmith.export.plan import plan_splits
from goldsmith.schema import content_hash

Seed = Callable[..., Any]
Fill = Callable[..., tuple[list[int], list[dict[str, Any]], list[Any]]]
FRACTIONS = (0.8, 0.1, 0.1)


def split_ids(report: Any) -> dict[str, list[int]]:
    """Record ids per split of a csv export."""
    out = {}
    for split, path in report.files.items():
        with path.open(encoding="utf-8", newline="") as f:
            out[split] = [int(r["id"]) for r in csv.DictReader(f)]
    return out


def test_splits_are_stratified_by_label(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=240)  # pos 120, neg 80, neu 40
    report = s.project.export(ExportOptions(fmt="openai-chat", out=tmp_path / "o", split=FRACTIONS))
    assert list(report.files) == ["train", "validation", "test"]
    assert report.counts == {"train": 192, "validation": 24, "test": 24}
    totals = {"pos": 120, "neg": 80, "neu": 40}
    for split, fraction in zip(report.files, FRACTIONS, strict=True):
        for label, total in totals.items():
            assert abs(report.label_counts[split][label] - fraction * total) <= 1
        lines = report.files[split].read_text(encoding="utf-8").splitlines()
        assert len(lines) == report.counts[split] == report.examples[split]
        answers = [json.loads(line)["messages"][-1]["content"] for line in lines]
        assert {lab: answers.count(lab) for lab in totals} == report.label_counts[split]


def test_multilabel_and_spans_are_stratified_too(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("ner", n=90)  # 30 records with PER only, 60 with PER and LOC
    report = s.project.export(ExportOptions(fmt="conll", out=tmp_path / "o", split=(0.5, 0.5)))
    assert report.label_counts["train"] == {"LOC": 30, "PER": 45}  # mentions
    assert report.label_counts["validation"] == {"LOC": 30, "PER": 45}


def test_same_seed_same_files_other_seed_other_split(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=60)
    runs = [
        s.project.export(ExportOptions(fmt="csv", out=tmp_path / name, split=(0.5, 0.5), seed=seed))
        for name, seed in (("a", 7), ("b", 7), ("c", 8))
    ]
    a, b, c = runs
    for split in a.files:
        assert a.files[split].read_bytes() == b.files[split].read_bytes()
    assert split_ids(a) != split_ids(c)
    assert sorted(sum(split_ids(c).values(), [])) == s.ids


def test_plan_keeps_each_group_in_one_split() -> None:
    items = [(i, "pos" if i % 2 else "neg", f"g{i // 4}") for i in range(1, 81)]
    for seed in range(5):
        plan = plan_splits(items, (0.5, 0.25, 0.25), seed=seed)
        where = plan.splits_of([i for i, _, _ in items]).tolist()
        groups: dict[str, set[int]] = {}
        for (_, _, g), k in zip(items, where, strict=True):
            groups.setdefault(g, set()).add(k)
        assert all(len(ks) == 1 for ks in groups.values())
        counts = plan.counts()
        assert abs(counts["train"] - 40) <= 4 and abs(counts["test"] - 20) <= 4
    assert plan.splits_of([999]).tolist() == [-1]


def test_plan_in_slices_stays_stratified_seeded_and_grouped() -> None:
    """Very large exports assign in slices; proportions, seeds and groups still hold."""
    items = [
        (i, "rare" if i % 50 == 0 else ("pos", "neg")[i % 2], f"g{i // 3}" if i % 7 == 0 else None)
        for i in range(1, 2001)
    ]
    plan = plan_splits(items, FRACTIONS, seed=4, chunk=300)
    again = plan_splits(items, FRACTIONS, seed=4, chunk=300)
    other = plan_splits(items, FRACTIONS, seed=5, chunk=300)
    assert plan.assignment.tolist() == again.assignment.tolist()
    assert plan.assignment.tolist() != other.assignment.tolist()
    where = dict(zip(plan.ids.tolist(), plan.assignment.tolist(), strict=True))
    for stratum in ("rare", "pos", "neg"):
        members = [i for i, s, _ in items if s == stratum]
        for k, fraction in enumerate(FRACTIONS):
            count = sum(where[i] == k for i in members)
            # a slice boundary costs at most a record or two of rounding
            assert abs(count - fraction * len(members)) <= 2 + 0.01 * len(members)
    grouped: dict[str, set[int]] = {}
    for i, _, g in items:
        if g is not None:
            grouped.setdefault(g, set()).add(where[i])
    assert all(len(ks) == 1 for ks in grouped.values())


def test_a_duplicate_group_stays_in_one_split(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=60)
    groups = {rid: k // 6 for k, rid in enumerate(s.ids)}  # ten groups of six
    with s.project.store.write() as tx:
        tx.set_dup_groups(groups)
    for seed in range(3):
        report = s.project.export(
            ExportOptions(fmt="csv", out=tmp_path / str(seed), split=(0.5, 0.5), seed=seed)
        )
        where = {rid: split for split, ids in split_ids(report).items() for rid in ids}
        for g in set(groups.values()):
            assert len({where[rid] for rid, gg in groups.items() if gg == g}) == 1


def test_one_fraction_writes_only_train(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("sft", n=5)
    report = s.project.export(ExportOptions(fmt="trl-sft", out=tmp_path / "o"))
    assert report.files == {"train": tmp_path / "o" / "train.jsonl"}
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        ".goldsmith-export.json",
        "README.md",
        "train.jsonl",
    ]


def test_bad_fractions_are_refused(seeded: Seed, tmp_path: Path) -> None:
    s = seeded("classification", n=3)
    with pytest.raises(ExportError, match="sum to 1"):
        s.project.export(ExportOptions(fmt="csv", out=tmp_path / "o", split=(0.5, 0.4)))


# --------------------------------------------------------------------------- filters


def test_provenance_filter(blank: Callable[[str], Project], fill: Fill, tmp_path: Path) -> None:
    p = blank("classification")
    human, _, _ = fill(p, "classification", range(0, 6), provenance=[Provenance.HUMAN])
    weak, _, _ = fill(p, "classification", range(6, 10), provenance=[Provenance.WEAK])
    llm, _, _ = fill(p, "classification", range(10, 13), provenance=[Provenance.LLM])
    default = p.export(ExportOptions(fmt="csv", out=tmp_path / "d"))
    assert split_ids(default) == {"train": human}
    assert default.provenance_counts == {"human": 6}
    chosen = p.export(
        ExportOptions(fmt="csv", out=tmp_path / "w", provenance=(Provenance.WEAK, Provenance.LLM))
    )
    assert split_ids(chosen) == {"train": weak + llm}
    assert chosen.provenance_counts == {"llm": 3, "weak": 4}


def test_min_confidence_filter(blank: Callable[[str], Project], fill: Fill, tmp_path: Path) -> None:
    p = blank("classification")
    low, _, _ = fill(p, "classification", range(0, 5), confidence=0.5)
    high, _, _ = fill(p, "classification", range(5, 9), confidence=0.9)
    everything = p.export(ExportOptions(fmt="csv", out=tmp_path / "a"))
    assert split_ids(everything) == {"train": low + high}
    sure = p.export(ExportOptions(fmt="csv", out=tmp_path / "b", min_confidence=0.8))
    assert split_ids(sure) == {"train": high}


def test_nothing_passing_is_an_error(
    blank: Callable[[str], Project], fill: Fill, tmp_path: Path
) -> None:
    p = blank("classification")
    fill(p, "classification", range(4), provenance=[Provenance.WEAK])
    with pytest.raises(ExportError, match="no record has a final label for 'label'.*widen"):
        p.export(ExportOptions(fmt="openai-chat", out=tmp_path / "o"))


def test_records_without_the_exported_question_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "two"
    root.mkdir()
    data = template_task("two", "classification", ["pos", "neg"])
    data["questions"].append({"name": "score", "kind": "rating", "min": 1, "max": 3})
    write_config(root, data)
    with Project.open(root) as p:
        records = [
            Record(fields={"text": f"t{i}"}, content_hash=content_hash({"text": f"t{i}"}))
            for i in range(4)
        ]
        with p.store.write() as tx:
            ids = tx.insert_records(records)
            tx.set_final_labels(
                [
                    FinalLabel(ids[0], "label", "pos", Provenance.GOLD),
                    FinalLabel(ids[0], "score", 3, Provenance.HUMAN),
                    FinalLabel(ids[1], "label", "neg", Provenance.GOLD),
                    FinalLabel(ids[2], "score", 1, Provenance.HUMAN),
                ]
            )
        by_label = p.export(ExportOptions(fmt="parquet", out=tmp_path / "l"))
        by_score = p.export(ExportOptions(fmt="parquet", out=tmp_path / "s", question="score"))
    assert by_label.skipped == 1 and by_label.counts == {"train": 2}
    rows = pq.read_table(by_label.files["train"]).to_pylist()
    assert [(r["label"], r["score"], r["provenance"]) for r in rows] == [
        ("pos", 3, "gold"),
        ("neg", None, "gold"),
    ]
    assert by_score.skipped == 1 and by_score.counts == {"train": 2}
    rows = pq.read_table(by_score.files["train"]).to_pylist()
    assert [(r["label"], r["score"], r["provenance"]) for r in rows] == [
        ("pos", 3, "human"),
        (None, 1, "human"),
    ]


def test_a_failed_export_leaves_no_partial_files(
    blank: Callable[[str], Project], tmp_path: Path
) -> None:
    p = blank("ner")
    fields = {"text": "short"}
    with p.store.write() as tx:
        (rid,) = tx.insert_records([Record(fields=fields, content_hash=content_hash(fields))])
        bad = [{"start": 0, "end": 40, "label": "PER"}]
        tx.set_final_labels([FinalLabel(rid, "spans", bad, Provenance.GOLD)])
    out = tmp_path / "o"
    with pytest.raises(ExportError, match=r"span \[0, 40\) .* outside field 'text' \(length 5\)"):
        p.export(ExportOptions(fmt="openai-chat", out=out))
    assert list(out.iterdir()) == []
