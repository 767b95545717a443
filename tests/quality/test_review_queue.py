"""The review queue without false work (issue 19): records nobody answered stay open instead
of becoming ties; a label no annotator chose is marked model-proposed and needs a confirmed
accept; every decision is kept in a history and can be undone; reviewers and owners who
annotate as themselves meet no gold checks and get no gold score."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from goldsmith.config import CONFIG_NAME
from goldsmith.errors import ConflictError, SchemaError
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, Role

LABELS = ("cardio", "onco", "neuro")


def _open(root: Path, **settings: object) -> Project:
    root.mkdir()
    task = {
        "name": "topics",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [{"name": "label", "kind": "label", "labels": list(LABELS)}],
        "settings": {"overlap": 2, **settings},
    }
    (root / CONFIG_NAME).write_text(tomli_w.dumps({"task": task}), encoding="utf-8")
    return Project.open(root)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with _open(tmp_path / "p") as p:
        yield p


@pytest.fixture
def pausing(tmp_path: Path) -> Iterator[Project]:
    """A project that pauses an annotator below 50 % after one gold answer."""
    with _open(tmp_path / "p", pause_below=0.5, pause_min_gold=1) as p:
        yield p


def _final(p: Project, rid: int) -> FinalLabel | None:
    with p.store.read() as tx:
        return tx.final_label(rid, "label")


def test_records_nobody_answered_stay_open_and_never_become_ties(project: Project) -> None:
    p = project
    tie, agreed, nobody = p.add_records([{"fields": {"text": t}} for t in "abc"]).ids
    p.start_round(size=3, gold_rate=0.0)
    p.answer("alice", tie, {"label": "cardio"})
    p.answer("bob", tie, {"label": "onco"})
    for user in ("alice", "bob"):
        p.answer(user, agreed, {"label": "neuro"})
    done = p.close_round()
    assert done["reviews"] == 1 and done["unanswered"] == 1
    (item,) = p.reviews()
    assert item["record_id"] == tie and item["kind"] == "disagreement"
    assert item["detail"]["proposed"] is None and item["detail"]["model_proposed"] is False
    assert _final(p, nobody) is None  # no final label, no review item: still open
    leased = p.next_item("carol")
    assert leased is not None and leased.record.id == nobody


def _confused_pair(p: Project) -> int:
    """alice says onco and bob cardio on six gold records whose truth is neuro, and both
    agree elsewhere: Dawid-Skene learns that their onco + cardio means neuro. Returns the
    record where they answer so again, outside gold."""
    texts = [f"record {i}" for i in range(15)]
    ids = p.add_records([{"fields": {"text": t}} for t in texts]).ids
    gold, onco, cardio, target = ids[:6], ids[6:10], ids[10:14], ids[14]
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(r, "label", "neuro", Provenance.GOLD) for r in gold])
    p.start_round(size=9, gold_rate=0.0)
    answers = {"alice": "onco", "bob": "cardio"}
    for rid in [*gold, target]:
        for user, label in answers.items():
            p.answer(user, rid, {"label": label})
    for rid, label in [*((r, "onco") for r in onco), *((r, "cardio") for r in cardio)]:
        for user in answers:
            p.answer(user, rid, {"label": label})
    return target


def test_a_label_no_annotator_chose_is_model_proposed_and_needs_a_confirmed_accept(
    project: Project,
) -> None:
    p = project
    target = _confused_pair(p)
    p.close_round()
    (item,) = [i for i in p.reviews() if i["record_id"] == target]
    assert item["detail"]["answers"] == {"alice": "onco", "bob": "cardio"}
    assert item["detail"]["proposed"] == "neuro" and item["detail"]["model_proposed"] is True
    with pytest.raises(SchemaError, match="no annotator chose"):
        p.decide_review(item["id"], reviewer="rita", action="accept")
    decided = p.decide_review(item["id"], reviewer="rita", action="accept", confirm=True)
    assert decided["status"] == "accepted" and decided["value"] == "neuro"
    final = _final(p, target)
    assert final is not None and (final.value, final.provenance) == ("neuro", Provenance.REVIEW)
    gold_items = [i for i in p.reviews() if i["kind"] == "gold"]
    assert gold_items and all("model_proposed" not in i["detail"] for i in gold_items)


def test_a_decision_is_kept_in_history_and_undone(project: Project) -> None:
    p = project
    rid, other = p.add_records([{"fields": {"text": t}} for t in "ab"]).ids
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(rid, "label", "cardio", Provenance.CONSENSUS, 0.6)])
        tx.add_reviews(
            [
                {"record_id": r, "question": "label", "kind": "low_confidence", "priority": 0.4,
                 "detail": {"answers": {"alice": "cardio", "bob": "onco"}, "proposed": "cardio"}}
                for r in (rid, other)
            ]
        )  # fmt: skip
    p.answer("bob", rid, {"label": "onco"})
    item = next(i for i in p.reviews() if i["record_id"] == rid)
    assert item["history"] == []
    p.decide_review(item["id"], reviewer="rita", action="edit", value="neuro", comment="why")
    assert [f["message"] for f in p.feedback("bob")] == ["why"]
    final = _final(p, rid)
    assert final is not None and (final.value, final.provenance) == ("neuro", Provenance.REVIEW)

    back = p.undo_review(item["id"], reviewer="olive")
    assert back["status"] == "open" and back["reviewer"] is None and back["value"] is None
    final = _final(p, rid)
    assert final is not None
    assert (final.value, final.provenance, final.confidence) == (
        "cardio",
        Provenance.CONSENSUS,
        0.6,
    )
    assert p.feedback("bob") == []  # the decision's feedback is withdrawn
    history = p.review_history(item["id"])
    assert [(h["action"], h["actor"]) for h in history] == [("edit", "rita"), ("undo", "olive")]
    edit, undo = history
    assert edit["before"] == {"value": "cardio", "provenance": "consensus", "confidence": 0.6}
    assert edit["after"] == {"value": "neuro", "provenance": "review", "confidence": 1.0}
    assert edit["comment"] == "why" and edit["at"] is not None
    assert undo["before"] == edit["after"] and undo["after"] == edit["before"]
    assert back["history"] == history
    with pytest.raises(ConflictError, match="no decision to undo"):
        p.undo_review(item["id"], reviewer="olive")

    # decided again; the label changes by another way since: undoing would lose that change
    p.decide_review(item["id"], reviewer="rita", action="accept")
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(rid, "label", "onco", Provenance.GOLD)])
    with pytest.raises(ConflictError, match="changed since"):
        p.undo_review(item["id"], reviewer="rita")

    # undoing a decision on a record with no final label before takes the label away
    second = next(i for i in p.reviews() if i["record_id"] == other)
    p.decide_review(second["id"], reviewer="rita", action="accept")
    assert _final(p, other) is not None
    p.undo_review(second["id"], reviewer="rita")
    assert _final(p, other) is None
    assert [i["record_id"] for i in p.reviews()] == [other]


def test_reviewers_annotating_as_themselves_meet_no_gold_checks(pausing: Project) -> None:
    p = pausing
    for name, role in (("rita", Role.REVIEWER), ("olive", Role.OWNER), ("alice", Role.ANNOTATOR)):
        p.add_user(name, role)
    gold, *rest = p.add_records([{"fields": {"text": f"r{i}"}} for i in range(4)]).ids
    with p.store.write() as tx:
        tx.set_final_labels([FinalLabel(gold, "label", "neuro", Provenance.GOLD)])
        tx.set_honeypots([gold])
        tx.set_meta("gold_rate", 1.0)  # every annotator lease a gold check
    for staff in ("rita", "olive"):
        item = p.next_item(staff)
        assert item is not None and item.record.id != gold  # never a honeypot
        p.answer(staff, item.record.id, {"label": "cardio"}, assigned_only=True)
    alice = p.next_item("alice")
    assert alice is not None and alice.record.id == gold  # annotators meet it
    # the library (an owner's own tool) can still write a reviewer's wrong gold answer: it
    # pauses nobody and scores nobody
    p.answer("rita", gold, {"label": "cardio"})
    with p.store.read() as tx:
        assert not tx.is_paused("rita")
    p.answer("alice", gold, {"label": "cardio"}, assigned_only=True)
    with p.store.read() as tx:
        assert tx.is_paused("alice")  # below 0.5 after one gold answer
    scores = {s["name"]: s for s in p.annotator_scores()}
    assert scores["rita"]["gold_n"] == 0 and scores["rita"]["gold_accuracy"] is None
    assert scores["alice"]["gold_n"] == 1 and scores["alice"]["gold_accuracy"] == 0.0
