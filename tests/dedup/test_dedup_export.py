"""`goldsmith dedup` stores near-duplicate groups and the export keeps each group in one split:
the leakage report counts 0 near-duplicate pairs across splits (financial phrasebank)."""

from __future__ import annotations

import random
from pathlib import Path

from typer.testing import CliRunner

from goldsmith.cli import app
from goldsmith.export.options import ExportOptions
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"


def test_near_duplicates_never_straddle_splits(tmp_path: Path) -> None:
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh][:200]
    rng = random.Random(0)
    texts, labels = [t for t, _ in rows], [lab for _, lab in rows]
    for i in range(0, 200, 4):  # 50 near copies: one word dropped from a long sentence
        words = texts[i].split()
        if len(words) > 12:
            del words[rng.randrange(len(words))]
            texts.append(" ".join(words))
            labels.append(labels[i])
    root = tmp_path / "fin"
    with Project.init(root, labels=("positive", "negative", "neutral")) as p:
        p.add_records([{"fields": {"text": t}} for t in texts])
        with p.store.write() as tx:
            tx.set_final_labels(
                [FinalLabel(i + 1, "label", lab, Provenance.HUMAN) for i, lab in enumerate(labels)]
            )
        before = p.export(ExportOptions(fmt="csv", out=tmp_path / "a", split=(0.5, 0.25, 0.25)))
    out = CliRunner().invoke(app, ["dedup", "-p", str(root), "--near", "0.8"])
    assert out.exit_code == 0, out.output
    planted = len(texts) - 200
    assert planted >= 20 and "near-duplicate groups at Jaccard >= 0.8" in out.output
    with Project.open(root) as p:
        with p.store.read() as tx:
            grouped = [r for b in tx.iter_records() for r in b if r.dup_group is not None]
        assert len({r.dup_group for r in grouped}) >= planted - 2  # near-copies found
        after = p.export(ExportOptions(fmt="csv", out=tmp_path / "b", split=(0.5, 0.25, 0.25)))
    assert after.leakage["pairs_crossing"] == 0
    assert before.leakage.get("pairs_crossing", 0) == 0  # nothing grouped yet: nothing known
    assert after.leakage["items_in_crossing_groups"] == 0
    exported = CliRunner().invoke(
        app,
        [
            "export",
            "-p",
            str(root),
            "--format",
            "csv",
            "--out",
            str(tmp_path / "c"),
            "--split",
            "0.5,0.25,0.25",
        ],
    )
    assert exported.exit_code == 0 and "near-duplicate pairs across splits: 0" in exported.output
