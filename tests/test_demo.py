"""``goldsmith demo`` runs the whole loop on the real medical abstracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _ci import skip_or_fail
from goldsmith.cli import app
from goldsmith.train.extra import available as hf_available

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/healthcare/medical_abstracts/medical_tc_test.csv"
)


@pytest.fixture()
def data() -> Path:
    if not DATA.is_file():
        skip_or_fail(f"demo data not found at {DATA}")
    return DATA


def test_demo_end_to_end(data: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data", str(data), "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    # 20 % (578 of 2,888, stratified) held out before the import as the simulation's test slice;
    # 10 % of the rest imported as gold
    imported = summary["import"]
    assert {k: imported[k] for k in ("read", "inserted", "duplicates")} == {
        "read": 2310,
        "inserted": 2234,
        "duplicates": 76,
    }
    n_gold = imported["gold"]
    assert n_gold == pytest.approx(231, abs=5)
    annotation = summary["annotation"]
    assert annotation["annotators"] == 3
    # overlap 2: two answers per record, plus the gold checks answered on the way
    assert annotation["submitted"] > 2 * (2234 - n_gold)
    assert annotation["distinct_records"] <= 2234
    assert annotation["retrains"] >= 1  # the classifier retrained while the server ran
    weak = summary["weak_supervision"]
    assert weak["lfs"] == 4 and 0.3 < weak["coverage"] < 0.9 and weak["suggestions"] > 1000
    hygiene = summary["hygiene"]
    assert isinstance(hygiene["pii_findings"], dict) and hygiene["near_duplicate_records"] >= 0
    quality = summary["quality"]
    assert 0 < quality["label_issues"] <= 50
    # real disagreement: alpha defined and well below 1
    assert 0.5 < quality["agreement"]["value"] < 0.9
    team = quality["annotators"]
    assert set(team) == {"careful", "steady", "careless"}
    for name, row in team.items():  # Dawid-Skene recovers each simulated annotator's accuracy
        assert row["ds_accuracy"] == pytest.approx(row["true_accuracy"], abs=0.07), name
        assert row["true_accuracy"] == pytest.approx(row["simulated_accuracy"], abs=0.07), name
    assert [n for n, row in team.items() if row["paused"]] == ["careless"]  # the pause rule
    assert team["careful"]["gold_accuracy"] > team["steady"]["gold_accuracy"] > 0.7
    assert quality["review_items"] > quality["label_issues"]  # disagreements and gold failures
    decision = quality["decision"]  # a reviewer decided one item, and it became feedback
    assert decision is not None and decision["feedback"]
    assert set(decision["feedback"]) <= set(team)
    html = Path(quality["report"]).read_text(encoding="utf-8")
    assert html.startswith("<!") and "<script" not in html.lower()
    assert '<span class="paused">careless</span>' in html
    loop = summary["active_learning"]
    assert loop["labels"] == 2234 and loop["suggestions"] == 0  # every record is labeled now
    assert set(loop["aulc_vs_random"]) == {"random", "auto"}
    assert set(loop["with_weak"]["aulc_vs_random"]) == {"random", "auto"}
    assert 0.4 < loop["full_f1"] < 0.8  # tfidf + logistic regression on five categories
    assert 500 < loop["test_size"] <= 578  # the held-out slice, less rows also in the project
    assert (Path(loop["curves"]) / "curves.png").is_file()
    assert summary["records"]["labeled"] == 2234
    assert summary["provenance"]["gold"] == n_gold
    assert summary["provenance"]["consensus"] == quality["final_labels"] - summary[
        "provenance"
    ].get("review", 0)
    assert sum(summary["provenance"].values()) == 2234
    chat = summary["exports"]["openai-chat"]
    assert chat["validated"] is True
    assert sum(chat["counts"].values()) == 2234
    for split in ("validation", "test"):  # 10 % each, stratified by label
        assert chat["counts"][split] == pytest.approx(0.1 * 2234, abs=5)
    lines = Path(chat["files"]["test"]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == chat["counts"]["test"]
    assert json.loads(lines[0])["messages"][2]["content"] in {
        "neoplasms",
        "digestive",
        "nervous",
        "cardiovascular",
        "general",
    }
    parquet = summary["exports"]["parquet"]
    assert set(parquet["files"]) == {"train", "validation", "test"}
    assert Path(parquet["card"]).read_text(encoding="utf-8").count("goldsmith demo") == 1
    clf = summary["training"]["classifier"]
    assert clf["n_test"] == pytest.approx(0.3 * summary["provenance"]["gold"], abs=3)
    assert clf["n_train"] == 2234 - clf["n_test"]
    assert 0.4 < clf["macro_f1"] < 0.9 and clf["macro_f1"] > clf["majority_macro_f1"] + 0.2
    assert Path(clf["report"]).is_file()
    sft = summary["training"].get("sft")
    assert (sft is not None) == hf_available()  # the tiny SFT runs with the train extra
    if sft is not None:
        assert sft["n"] == 40 and sft["steps"] == 30
        assert sft["tuned_accuracy"] > sft["base_accuracy"]


def test_demo_names_missing_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "demo data not found" in result.output
