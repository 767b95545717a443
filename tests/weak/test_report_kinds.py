"""`lf report` on every question kind that takes LFs: single-label (tested elsewhere),
multi-label (one report per label) and spans (token level), through Project and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from goldsmith import Project
from goldsmith.cli import app
from goldsmith.weak import gazetteer_lf, keyword_lf


def test_multilabel_report_has_one_part_per_label(tmp_path: Path) -> None:
    root = tmp_path / "ml"
    with Project.init(root, template="multilabel", labels=["sports", "tech"]) as p:
        texts = ["football and chips", "football", "new chips", "nothing here"]
        p.add_records([{"fields": {"text": t}} for t in texts])
        p.apply_lfs([keyword_lf("sports", ["football"]), keyword_lf("tech", ["chips"])])
        report = p.lf_report()
    assert report["records"] == 4 and set(report["labels"]) == {"sports", "tech"}
    sports = {s["lf"]: s for s in report["labels"]["sports"]["lfs"]}
    assert sports["keyword_sports"]["coverage"] == 0.5  # votes "present" on 2 of 4
    assert sports["keyword_tech"]["coverage"] == 0.0  # it says nothing about sports
    out = CliRunner().invoke(app, ["lf", "report", "-p", str(root)])
    assert out.exit_code == 0, out.output
    assert "'labels' / sports" in out.output and "'labels' / tech" in out.output


def test_span_report_is_token_level(tmp_path: Path) -> None:
    root = tmp_path / "ner"
    with Project.init(root, template="ner", labels=["Disease"]) as p:
        texts = ["Type 2 diabetes and asthma.", "No findings.", "asthma 😀 again"]
        p.add_records([{"fields": {"text": t}} for t in texts])
        p.apply_lfs([gazetteer_lf("Disease", ["asthma", "type 2 diabetes"])])
        report = p.lf_report()
    assert report["records"] == 3 and report["tokens"] > 3
    (lf,) = report["lfs"]
    assert lf["polarity"] == ["Disease"] and lf["n_votes"] == 5  # type, 2, diabetes, asthma x2
    out = CliRunner().invoke(app, ["lf", "report", "-p", str(root), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["lfs"][0]["lf"] == lf["lf"]
