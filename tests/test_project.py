"""The Project front: lifecycle, guidelines, responses, consensus and gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldsmith import FinalLabel, Project, Provenance, Record, Response, ResponseStatus
from goldsmith.config import load_config, template_task, write_config
from goldsmith.errors import ConfigError, NotFoundError, SchemaError
from goldsmith.schema import content_hash

LABELS = ["pos", "neg", "neu"]


def _add_records(project: Project, texts: list[str]) -> list[int]:
    recs = [Record(fields={"text": t}, content_hash=content_hash({"text": t})) for t in texts]
    with project.store.write() as tx:
        return tx.insert_records(recs)


def test_init_creates_folder_config_and_store(tmp_path: Path) -> None:
    with Project.init(tmp_path / "clin", labels=LABELS) as p:
        assert p.task.name == "clin"
        assert p.task.question().labels == tuple(LABELS)  # type: ignore[union-attr]
        assert (tmp_path / "clin" / "goldsmith.db").is_file()
        assert p.status()["records"] == {"total": 0, "labeled": 0, "annotated": 0, "pending": 0}
    with pytest.raises(ConfigError, match="already holds a project"):
        Project.init(tmp_path / "clin", labels=LABELS)
    with pytest.raises(ConfigError, match="not a goldsmith project"):
        Project.open(tmp_path / "nowhere")


def test_guidelines_are_versioned_and_stamped_on_responses(tmp_path: Path) -> None:
    with Project.init(tmp_path / "p", labels=LABELS) as p:
        with pytest.raises(NotFoundError, match="no guidelines"):
            p.guidelines()
        assert p.set_guidelines("# v1") == 1
        assert p.set_guidelines("# v1") == 1  # unchanged text keeps its version
        assert p.set_guidelines("# v2") == 2
        assert p.guidelines(1) == (1, "# v1")
        assert p.guidelines() == (2, "# v2")
        (rid,) = _add_records(p, ["a text"])
        p.add_responses([Response(record_id=rid, user="alice", values={"label": "pos"})])
        with p.store.read() as tx:
            (resp,) = tx.responses_for([rid])
        assert resp.guideline_version == 2
        with pytest.raises(SchemaError):
            p.add_responses([Response(record_id=rid, user="bob", values={"label": "nope"})])


def test_majority_consensus_respects_overlap_and_gold(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    data = template_task("p", "classification", LABELS)
    data["settings"] = {"overlap": 2}
    write_config(root, data)
    assert load_config(root).task.settings.overlap == 2
    with Project.open(root) as p:
        r1, r2, r3, r4 = _add_records(p, ["one", "two", "three", "four"])
        p.add_responses(
            [
                Response(record_id=r1, user="a", values={"label": "pos"}),
                Response(record_id=r1, user="b", values={"label": "pos"}),
                Response(record_id=r2, user="a", values={"label": "pos"}),
                Response(record_id=r2, user="b", values={"label": "neg"}),  # tie: unresolved
                Response(record_id=r3, user="a", values={"label": "neu"}),  # below overlap
                Response(record_id=r4, user="a", values={"label": "neg"}),
                Response(record_id=r4, user="b", values={"label": "neg"}),
                Response(
                    record_id=r4, user="c", values={"label": "pos"}, status=ResponseStatus.DRAFT
                ),
            ]
        )
        with p.store.write() as tx:
            tx.set_final_labels([FinalLabel(r4, "label", "neu", Provenance.GOLD, 1.0)])
        assert p.resolve_final_labels() == 1
        with p.store.read() as tx:
            finals = {f.record_id: f for f in tx.final_labels_for([r1, r2, r3, r4])}
        assert finals[r1].value == "pos"
        assert finals[r1].provenance == Provenance.CONSENSUS
        assert finals[r1].confidence == 1.0
        assert r2 not in finals and r3 not in finals
        assert finals[r4].value == "neu" and finals[r4].provenance == Provenance.GOLD


def test_mark_gold_promotes_a_stratified_fraction(tmp_path: Path) -> None:
    with Project.init(tmp_path / "p", labels=LABELS) as p:
        ids = _add_records(p, [f"text number {i}" for i in range(100)])
        labels = ["pos"] * 60 + ["neg"] * 30 + ["neu"] * 10
        p.add_responses(
            Response(record_id=i, user="a", values={"label": lab})
            for i, lab in zip(ids, labels, strict=True)
        )
        assert p.resolve_final_labels() == 100
        assert p.mark_gold(0.1, seed=3) == 10
        with p.store.read() as tx:
            gold = [f for f in tx.final_labels_for(ids) if f.provenance == Provenance.GOLD]
        by_label = {lab: sum(f.value == lab for f in gold) for lab in LABELS}
        assert by_label == {"pos": 6, "neg": 3, "neu": 1}
        status = p.status()
        assert status["provenance"] == {"gold": 10, "human": 90}
        assert status["labels"]["label"] == {"pos": 60, "neg": 30, "neu": 10}
