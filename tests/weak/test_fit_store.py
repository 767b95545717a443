"""Fitting a label model on stored votes: suggestions for every voted record, weak final
labels above the threshold that never replace gold or human ones, and a refit replaces."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldsmith import Project
from goldsmith.errors import RegistryError, SchemaError
from goldsmith.schema import FinalLabel, Provenance, SuggestionKind
from goldsmith.weak import keyword_lf

LABELS = ["neoplasms", "cardiovascular", "general"]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with Project.init(tmp_path / "p", labels=LABELS) as p:
        texts = [f"a tumour, case {i}" for i in range(20)] + [f"heart case {i}" for i in range(20)]
        texts += [f"tumour and heart, case {i}" for i in range(5)] + [
            f"other {i}" for i in range(5)
        ]
        p.add_records([{"fields": {"text": t}} for t in texts])
        p.apply_lfs(
            [
                keyword_lf("neoplasms", ["tumour"]),
                keyword_lf("cardiovascular", ["heart"]),
                keyword_lf("cardiovascular", ["heart"], name="heart_again"),
            ]
        )
        yield p


def _suggestions(p: Project) -> dict[int, tuple[str, float]]:
    with p.store.read() as tx:
        found = tx.suggestions_for(list(range(1, 51)))
    assert {s.kind for s in found} <= {SuggestionKind.LABEL_MODEL}
    return {s.record_id: (s.value, s.score) for s in found}


def test_fit_writes_suggestions_and_weak_labels(project: Project) -> None:
    with project.store.write() as tx:  # a human label the fit must not replace
        tx.set_final_labels([FinalLabel(1, "label", "general", Provenance.HUMAN)])
    report = project.fit_label_model("majority", threshold=0.9)
    assert report.model == "majority" and report.note == ""
    got = _suggestions(project)
    assert len(got) == 45 == report.n_suggestions  # "other" records have no votes
    assert got[2][0] == "neoplasms" and got[25][0] == "cardiovascular"
    assert got[43][0] == "cardiovascular"  # two heart LFs outvote one tumour LF
    with project.store.read() as tx:
        finals = {f.record_id: f for f in tx.final_labels_for(list(range(1, 51)))}
    assert finals[1].provenance == Provenance.HUMAN and finals[1].value == "general"
    weak = {rid for rid, f in finals.items() if f.provenance == Provenance.WEAK}
    # majority vote is sure of a 2-to-1 win (as Snorkel's voter is): 41-45 pass 0.9 too
    assert weak == set(range(2, 46))
    assert report.n_weak_labels == 44


def test_refit_replaces_the_previous_output(project: Project) -> None:
    project.fit_label_model("majority", threshold=0.5)
    project.fit_label_model("label-model", threshold=None)
    with project.store.read() as tx:
        weak = [f for f in tx.final_labels_for(list(range(1, 51))) if f.provenance == "weak"]
        agents = {s.agent for s in tx.suggestions_for(list(range(1, 51)))}
    assert weak == [] and agents == {"label-model:label-model"}


def test_auto_uses_gold_and_reports_scores(project: Project) -> None:
    gold = [FinalLabel(i, "label", "neoplasms", Provenance.GOLD) for i in (1, 2, 3)]
    gold += [FinalLabel(i, "label", "cardiovascular", Provenance.GOLD) for i in (21, 22, 41)]
    with project.store.write() as tx:
        tx.set_final_labels(gold)
    report = project.fit_label_model("auto", threshold=0.9)
    assert report.n_gold == 6 and set(report.scores) >= {"majority", "label-model"}
    assert report.model in report.scores and report.note == ""
    assert _weak_ids(project).isdisjoint({1, 2, 3, 21, 22, 41})  # gold stays gold


def _weak_ids(p: Project) -> set[int]:
    with p.store.read() as tx:
        return {
            f.record_id for f in tx.final_labels_for(list(range(1, 51))) if f.provenance == "weak"
        }


def test_auto_without_gold_falls_back_and_says_so(project: Project) -> None:
    report = project.fit_label_model("auto")
    assert report.model == "label-model" and "needs gold" in report.note


def test_bad_requests_are_clear(project: Project, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="unknown label model 'snorkel'"):
        project.fit_label_model("snorkel")
    with pytest.raises(SchemaError, match="threshold"):
        project.fit_label_model("majority", threshold=1.5)
    with (
        Project.init(tmp_path / "empty", labels=LABELS) as empty,
        pytest.raises(SchemaError, match="lf apply"),
    ):
        empty.fit_label_model()
