"""A round end to end on a real store, with a simulated team labeling financial phrasebank
sentences: honeypots, pausing, consensus, review items, feedback, label issues, the report."""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from goldsmith.config import CONFIG_NAME
from goldsmith.errors import ConflictError, PermissionDeniedError
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Role

DATA = Path(__file__).resolve().parents[3] / "shared/data/finance/financial_phrasebank"
LABELS = ("positive", "negative", "neutral")
TEAM = {"ann": 0.95, "ben": 0.9, "cat": 0.85, "dan": 0.2}  # true accuracies


def _sentences(n: int) -> list[tuple[str, str]]:
    with (DATA / "Sentences_AllAgree.txt").open(encoding="latin-1") as fh:
        rows = [line.strip().rpartition("@")[::2] for line in fh]
    return [(t, lab) for t, lab in rows if t][:n]


@pytest.fixture
def team(tmp_path: Path) -> Iterator[tuple[Project, dict[int, str]]]:
    rows = _sentences(150)
    root = tmp_path / "fin"
    Project.init(root, labels=LABELS).close()
    path = root / CONFIG_NAME
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    doc["task"].setdefault("settings", {}).update(
        overlap=3, pause_below=0.5, pause_min_gold=4, redact_before_llm=False
    )
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    with Project.open(root) as p:
        p.add_records([{"fields": {"text": t}} for t, _ in rows])
        truth = {i + 1: lab for i, (_, lab) in enumerate(rows)}
        with p.store.write() as tx:  # 30 gold records
            tx.set_final_labels(
                [FinalLabel(i, "label", truth[i], Provenance.GOLD) for i in range(121, 151)]
            )
        for name in TEAM:
            p.add_user(name, Role.ANNOTATOR)
        yield p, truth


def _work(p: Project, truth: dict[int, str], rng: random.Random) -> dict[str, int]:
    """Every annotator answers until the queue is empty for them (or they are paused)."""
    served = {name: 0 for name in TEAM}
    active = set(TEAM)
    while active:
        for name in sorted(active):
            try:
                item = p.next_item(name)
            except PermissionDeniedError:
                active.discard(name)
                continue
            if item is None:
                active.discard(name)
                continue
            rid = item.record.id
            assert rid is not None
            right = rng.random() < TEAM[name]
            label = truth[rid] if right else rng.choice([x for x in LABELS if x != truth[rid]])
            p.answer(name, rid, {"label": label}, ResponseStatus.SUBMITTED)
            served[name] += 1
    return served


def test_a_round_with_honeypots_consensus_review_and_feedback(
    team: tuple[Project, dict[int, str]], tmp_path: Path
) -> None:
    p, truth = team
    info = p.start_round(size=60, gold_rate=0.25, guidelines="# Sentiment v2\nFor investors.")
    assert info["number"] == 1 and info["size"] == 60 and info["honeypots"] == 30
    with pytest.raises(ConflictError, match="already open"):
        p.start_round(size=10)
    served = _work(p, truth, random.Random(3))
    with p.store.read() as tx:
        assert tx.is_paused("dan") and not tx.is_paused("ann")  # dan failed the gold checks
        gold_seen = {u for u, *_ in tx.gold_answers("label")}
    assert gold_seen == set(TEAM)  # everyone met honeypots, nobody was told which
    assert served["dan"] < served["ann"]

    done = p.close_round()
    assert done["round"] == 1 and done["final_labels"] >= 50
    html = Path(done["report"]).read_text(encoding="utf-8")
    assert "<img" in html and "round 1" in html.lower()
    # nobody searched for label errors: the frozen report says so, not "none found"
    assert "Label errors were not searched for" in html
    assert "No suspected label errors were found" not in html
    report = p.qa_report()
    assert report["label_issues"] is None
    # the frozen report counts the consensus labels the close just wrote
    with p.store.read() as tx:
        written = len(tx.final_values("label", ["consensus"]))
    assert written > 0 and sum(report["label_distribution"]["consensus"].values()) == written
    scores = {a["name"]: a for a in report["annotators"]}
    assert scores["dan"]["paused"] is True
    assert abs(scores["ann"]["gold_accuracy"] - TEAM["ann"]) < 0.2
    assert scores["ann"]["ds_accuracy"] > scores["dan"]["ds_accuracy"]
    with p.store.read() as tx:
        consensus = dict(tx.final_values("label", ["consensus", "human"]))
    batch_right = sum(consensus[r] == truth[r] for r in consensus) / len(consensus)
    assert batch_right > 0.85  # Dawid-Skene outweighs the careless annotator

    items = p.reviews()
    assert items and {i["kind"] for i in items} <= {"disagreement", "low_confidence", "gold"}
    target = next(i for i in items if i["kind"] != "gold")
    rid = target["record_id"]
    wrong = next(x for x in LABELS if x != truth[rid])
    decided = p.decide_review(
        target["id"], reviewer="rev", action="edit", value=wrong, comment="see guideline 2"
    )
    assert decided["status"] == "edited" and decided["value"] == wrong
    with p.store.read() as tx:
        final = [f for f in tx.final_labels_for([rid]) if f.question == "label"][0]
    assert final.provenance == Provenance.REVIEW and final.value == wrong
    with pytest.raises(ConflictError, match="already"):
        p.decide_review(target["id"], reviewer="rev", action="accept")
    answered_other = [
        r.user
        for r in p.responses(record_id=rid)
        if r.values["label"] != wrong and r.status == ResponseStatus.SUBMITTED
    ]
    for name in answered_other:
        notes = p.feedback(name, mark_seen=True)
        assert [n["message"] for n in notes] == ["see guideline 2"]
        assert p.feedback(name) == []  # seen: shown once
    p.resolve_final_labels()  # a later resolution never overrides the reviewer
    with p.store.read() as tx:
        assert [f.value for f in tx.final_labels_for([rid]) if f.question == "label"] == [wrong]

    p.set_paused("dan", False)
    with p.store.read() as tx:
        assert not tx.is_paused("dan")

    # round 2 compares itself with round 1 and carries the trend, not the whole chain
    second = p.start_round(size=30, gold_rate=0.25)
    assert second["number"] == 2 and second["guideline_version"] == 1
    _work(p, truth, random.Random(4))
    closed = p.close_round(method="majority")
    assert closed["round"] == 2
    report2 = p.qa_report(number=2)
    assert report2["previous"]["round"] == 1 and report2["previous"]["previous"] is None
    assert [t["round"] for t in report2["trends"]] == [1, 2]
    assert p.qa_report(number=1)["round"] == 1  # a closed round's report stays frozen
    html = (p.root / "qa" / "round-2.html").read_text(encoding="utf-8")
    assert "round 1" in html.lower()  # the comparison with the previous round


def test_label_issues_find_planted_errors(team: tuple[Project, dict[int, str]]) -> None:
    p, truth = team
    rng = random.Random(0)
    planted = set(rng.sample(range(1, 121), 12))
    labels = {
        r: (rng.choice([x for x in LABELS if x != truth[r]]) if r in planted else truth[r])
        for r in range(1, 121)
    }
    with p.store.write() as tx:
        tx.set_final_labels(
            [FinalLabel(r, "label", v, Provenance.HUMAN) for r, v in labels.items()]
        )
    p.embed("tfidf")
    assert p.qa_report()["label_issues"] is None  # not searched yet
    found = p.label_issues(limit=30)
    report = p.qa_report()
    assert report["label_issues_total"] == len(found) > 0
    assert len(report["label_issues"]) == min(len(found), 20)
    flagged = {i["record_id"] for i in found}
    assert len(flagged & planted) >= 4  # far above the 12 * 30 / 150 = 2.4 of chance
    assert all(i["kind"] == "issue" for i in p.reviews() if i["record_id"] in flagged)
    top = found[0]["detail"]
    assert top["given"] != top["proposed"] and top["rank"] == 1
