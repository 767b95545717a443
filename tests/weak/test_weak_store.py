"""Applying LFs to a project's store: incremental runs equal a full run, a failing LF leaves
the stored votes untouched, and the report measures LFs against gold and human labels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from goldsmith import Project
from goldsmith.errors import LabelingFunctionError, SchemaError
from goldsmith.schema import FinalLabel, Provenance
from goldsmith.weak import ABSTAIN, LFRecord, keyword_lf, labeling_function
from goldsmith.weak.run import load_label_matrix

LABELS = ["neoplasms", "cardiovascular", "general"]
LF_FILE = """
from goldsmith.weak import keyword_lf, labeling_function, ABSTAIN

tumour = keyword_lf("neoplasms", ["tumour", "carcinoma"])
heart = keyword_lf("cardiovascular", ["heart", "coronary"])

@labeling_function()
def short(record):
    return "general" if len(record.text) < 25 else ABSTAIN
"""


def _texts(start: int, n: int) -> list[dict[str, object]]:
    kinds = ["a tumour of case {i}", "heart failure case {i} with a long description", "note {i}"]
    return [{"fields": {"text": kinds[i % 3].format(i=i)}} for i in range(start, start + n)]


@pytest.fixture
def project(tmp_path: Path, store_url: tuple[str, str | None]) -> Iterator[Project]:
    url, schema = store_url
    if schema is not None:  # PostgreSQL: the project's store lives in this test's schema
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        url = f"{url}?options=-csearch_path%3D{schema}"
    p = Project.init(tmp_path / "p", labels=LABELS, db_url=url)
    p.add_records(_texts(0, 30))
    (tmp_path / "lfs.py").write_text(LF_FILE, encoding="utf-8")
    try:
        yield p
    finally:
        p.close()


def _matrix(p: Project) -> np.ndarray:
    return load_label_matrix(p.store, p.task).L.toarray()


def test_incremental_apply_equals_a_full_apply(project: Project, tmp_path: Path) -> None:
    first = project.apply_lfs(tmp_path / "lfs.py")
    assert sorted(first.recomputed) == ["keyword_cardiovascular", "keyword_neoplasms", "short"]
    again = project.apply_lfs(tmp_path / "lfs.py")
    assert again.new_votes == {} and len(again.unchanged) == 3
    project.add_records(_texts(30, 12))
    more = project.apply_lfs(tmp_path / "lfs.py")
    assert len(more.incremental) == 3 and more.new_votes == {
        "keyword_neoplasms": 4,
        "keyword_cardiovascular": 4,
        "short": 8,  # the 4 short tumour notes and the 4 plain notes
    }
    incremental = _matrix(project)
    with project.store.write() as tx:
        tx.drop_lfs(list(tx.lf_runs()))
    project.apply_lfs(tmp_path / "lfs.py")
    assert np.array_equal(_matrix(project), incremental)
    assert incremental.shape == (42, 3) and (incremental > 0).sum() == 56


def test_a_changed_lf_is_recomputed_and_a_removed_one_dropped(
    project: Project, tmp_path: Path
) -> None:
    project.apply_lfs(tmp_path / "lfs.py")
    changed = LF_FILE.replace('["tumour", "carcinoma"]', '["carcinoma"]').replace(
        "@labeling_function()\ndef short", "@labeling_function()\ndef gone"
    )
    changed = changed.split("@labeling_function()")[0]
    (tmp_path / "lfs.py").write_text(changed, encoding="utf-8")
    report = project.apply_lfs(tmp_path / "lfs.py")
    assert report.recomputed == ["keyword_neoplasms"] and report.removed == ["short"]
    assert report.new_votes["keyword_neoplasms"] == 0
    data = load_label_matrix(project.store, project.task)
    assert data.lfs == ["keyword_neoplasms", "keyword_cardiovascular"]
    assert data.L[:, 0].nnz == 0


def test_a_failing_lf_leaves_stored_votes_as_they_were(project: Project, tmp_path: Path) -> None:
    project.apply_lfs(tmp_path / "lfs.py")
    before = _matrix(project)

    @labeling_function(name="short")
    def broken(record: LFRecord) -> str:
        if record.id == 17:
            raise KeyError("missing")
        return ABSTAIN

    with pytest.raises(LabelingFunctionError, match="'short' on record 17"):
        project.apply_lfs([keyword_lf("neoplasms", ["x"]), broken], workers=1)
    assert np.array_equal(_matrix(project), before)
    with project.store.read() as tx:
        assert sorted(tx.lf_runs()) == ["keyword_cardiovascular", "keyword_neoplasms", "short"]


def test_report_measures_against_gold_and_human(project: Project, tmp_path: Path) -> None:
    project.apply_lfs(tmp_path / "lfs.py")
    # records 1, 4, 7, ... are tumours; say gold agrees on two and disagrees on one
    gold = [FinalLabel(1, "label", "neoplasms", Provenance.GOLD)]
    gold += [FinalLabel(4, "label", "neoplasms", Provenance.GOLD)]
    gold += [FinalLabel(7, "label", "general", Provenance.GOLD)]
    human = [FinalLabel(2, "label", "cardiovascular", Provenance.HUMAN)]
    with project.store.write() as tx:
        tx.set_final_labels(gold + human)
    report = project.lf_report()
    by_lf = {s["lf"]: s for s in report["lfs"]}
    assert report["gold"] == 3 and report["human"] == 1 and report["records"] == 30
    assert by_lf["keyword_neoplasms"]["gold_n"] == 3
    assert by_lf["keyword_neoplasms"]["gold_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert by_lf["keyword_cardiovascular"]["human_accuracy"] == 1.0
    assert by_lf["keyword_neoplasms"]["coverage"] == pytest.approx(10 / 30, abs=1e-4)
    assert by_lf["short"]["polarity"] == ["general"]
    assert report["totals"]["coverage"] == 1.0


def test_weak_supervision_needs_a_label_question(tmp_path: Path) -> None:
    with (
        Project.init(tmp_path / "ner", template="ner", labels=["Disease"]) as p,
        pytest.raises(SchemaError, match="single-label question"),
    ):
        p.apply_lfs([keyword_lf("Disease", ["x"])])
