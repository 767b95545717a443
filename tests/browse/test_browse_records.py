"""The records browser through ``Project`` on SQLite and PostgreSQL (issue 20, item 4): every
filter, keyset pages in every sort, the scan bound, a record's story, owners' bulk actions,
and an export of a filtered set run as a job."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import tomli_w

from goldsmith.browse import jobs
from goldsmith.config import CONFIG_NAME
from goldsmith.errors import ArgumentError, NotFoundError, SchemaError
from goldsmith.export.options import ExportOptions
from goldsmith.project import Project
from goldsmith.schema import FinalLabel, Provenance, Suggestion, SuggestionKind
from goldsmith.store.browse import RecordFilter
from goldsmith.store.queue import STRATEGY_HEAD

LABELS = ["cardio", "onco", "neuro"]
TEXTS = [
    "Chest pain after exercise, relieved by rest.",  # 1: gold cardio, email, train, group 7
    "Tumour growth in the left lung, Ünïcode 🧬 café.",  # 2: alice onco vs bob neuro
    "Seizures in children with fever.",  # 3: pending, phone, test, group 7
    "Beta blockers after infarction.",  # 4: consensus cardio, low suggestion
    "Glioma imaging with MRI.",  # 5: human neuro, an open suspected label error
    "100% of 50_50 cases",  # 6: LIKE's own wildcards, as text
]


def _task() -> dict[str, Any]:
    return {
        "name": "topics",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [
            {"name": "label", "kind": "label", "labels": LABELS},
            {
                "name": "tags",
                "kind": "multilabel",
                "labels": ["adult", "child", "imaging"],
                "required": False,
            },
        ],
        "settings": {"overlap": 2},
    }


@pytest.fixture
def project(store_url: tuple[str, str | None], tmp_path: Path) -> Iterator[Project]:
    """A project on each backend (PostgreSQL: its own schema, dropped by ``store_url``)."""
    url, schema = store_url
    doc: dict[str, Any] = {"task": _task()}
    if schema is not None:
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        doc["store"] = {"url": f"{url}?options=-csearch_path%3D{schema}"}
    root = tmp_path / "p"
    root.mkdir()
    (root / CONFIG_NAME).write_text(tomli_w.dumps(doc), encoding="utf-8")
    with Project.open(root) as p:
        yield p


def _fill(p: Project) -> list[int]:
    meta = [
        {"channel": "email", "split": "train"},
        {"channel": "web"},
        {"channel": "phone", "split": "test"},
        {"channel": "email", "n": 3},
        {},
        {"channel": "web"},
    ]
    ids = p.add_records(
        [{"fields": {"text": t}, "metadata": m} for t, m in zip(TEXTS, meta, strict=True)]
    ).ids
    r1, r2, r3, r4, r5, r6 = ids
    p.start_round(size=2, gold_rate=0.0)  # the first two open records: r1, r2
    p.answer("alice", r2, {"label": "onco", "tags": ["adult"]})
    p.answer("bob", r2, {"label": "neuro", "tags": ["adult"]})
    p.answer("alice", r4, {"label": "cardio"})
    with p.store.write() as tx:
        tx.set_final_labels(
            [
                FinalLabel(r1, "label", "cardio", Provenance.GOLD),
                FinalLabel(r4, "label", "cardio", Provenance.CONSENSUS, 0.6),
                FinalLabel(r5, "label", "neuro", Provenance.HUMAN, 0.9),
                FinalLabel(r5, "tags", ["child", "imaging"], Provenance.HUMAN),
            ]
        )
        tx.set_dup_groups({r1: 7, r3: 7})
        tx.add_reviews(
            [{"record_id": r5, "question": "label", "kind": "issue", "priority": 0.4,
              "detail": {"given": "neuro", "proposed": "onco"}}]
        )  # fmt: skip
    p.add_suggestions(
        [
            Suggestion(r1, "label", "cardio", "model:x", SuggestionKind.MODEL, 0.9),
            Suggestion(r2, "label", "onco", "llm:y", SuggestionKind.LLM, 0.3),
            Suggestion(r4, "label", "cardio", "model:x", SuggestionKind.MODEL, 0.1),
            Suggestion(r4, "label", "neuro", "llm:y", SuggestionKind.LLM, 0.55),
        ]
    )
    return ids


def _ids(p: Project, **fields: Any) -> list[int]:
    page = p.browse(p.record_filter(**fields), limit=100)
    assert page.next is None and not page.partial
    return [r["id"] for r in page.rows]


def test_every_filter_picks_exactly_its_records(project: Project) -> None:
    p = project
    r1, r2, r3, r4, r5, r6 = _fill(p)
    assert _ids(p) == [r1, r2, r3, r4, r5, r6]
    # text: case-insensitive, inside words, non-ASCII, LIKE's wildcards taken literally
    assert _ids(p, text="after") == [r1, r4]
    assert _ids(p, text="TUMOUR") == [r2]
    assert _ids(p, text="🧬 café") == [r2]
    assert _ids(p, text="Ünïcode") == [r2]
    assert _ids(p, text="100%") == [r6]
    assert _ids(p, text="50_50") == [r6]
    assert _ids(p, text="%") == [r6]
    assert _ids(p, text="text") == []  # the field's name is not its text
    # status
    assert _ids(p, status="labeled") == [r1, r4, r5]
    assert _ids(p, status="annotated") == [r2]
    assert _ids(p, status="pending") == [r3, r6]
    # final label (a multi-label value holds it), provenance
    assert _ids(p, label="cardio") == [r1, r4]
    assert _ids(p, question="tags", label="imaging") == [r5]
    assert _ids(p, question="tags", label="adult") == []  # answers are not final labels
    assert _ids(p, provenance=("gold",)) == [r1]
    assert _ids(p, provenance=("human", "consensus")) == [r4, r5]
    # suggestions: any, none, by the best or any score in a range
    assert _ids(p, has_suggestion=True) == [r1, r2, r4]
    assert _ids(p, has_suggestion=False) == [r3, r5, r6]
    assert _ids(p, score_min=0.5) == [r1, r4]
    assert _ids(p, score_min=0.2, score_max=0.4) == [r2]
    assert _ids(p, question="tags", has_suggestion=True) == []
    # submitted answers that differ; review items
    assert _ids(p, disagreement=True) == [r2]
    assert _ids(p, question="tags", disagreement=True) == []
    assert r2 not in _ids(p, disagreement=False)
    assert _ids(p, in_review=True) == [r5]
    assert _ids(p, label_error=True) == [r5]
    assert _ids(p, label_error=False) == [r1, r2, r3, r4, r6]
    # metadata (as text), split, duplicate group, round
    assert _ids(p, metadata=(("channel", "email"),)) == [r1, r4]
    assert _ids(p, metadata=(("n", "3"),)) == [r4]
    assert _ids(p, metadata=(("channel", "email"), ("split", "train"))) == [r1]
    assert _ids(p, split="test") == [r3]
    assert _ids(p, dup_group=7) == [r1, r3]
    assert _ids(p, round=1) == [r1, r2]
    assert _ids(p, round=2) == []
    # filters combine
    assert _ids(p, text="after", status="labeled", provenance=("consensus",)) == [r4]


def test_rows_carry_status_labels_best_suggestion_and_reviews(project: Project) -> None:
    p = project
    r1, r2, r3, r4, r5, _ = _fill(p)
    rows = {r["id"]: r for r in p.browse(limit=10).rows}
    assert rows[r1]["status"] == "labeled"
    assert rows[r1]["final"]["label"] == {
        "value": "cardio",
        "provenance": "gold",
        "confidence": 1.0,
    }
    assert rows[r4]["suggestion"]["score"] == 0.55  # the best of two
    assert rows[r4]["suggestion"]["agent"] == "llm:y"
    assert rows[r5]["reviews"] == ["issue"]
    assert rows[r2]["status"] == "annotated" and rows[r2]["n_submitted"] == 2
    assert rows[r3]["status"] == "pending" and rows[r3]["dup_group"] == 7
    assert rows[r3]["metadata"] == {"channel": "phone", "split": "test"}
    assert rows[r2]["preview"] == {"text": TEXTS[1]}


def test_keyset_pages_walk_each_sort_without_gaps_or_repeats(project: Project) -> None:
    p = project
    ids = p.add_records([{"fields": {"text": f"row {i}"}} for i in range(23)]).ids
    with p.store.write() as tx:  # confidences with ties, for the confidence sorts
        tx.set_final_labels(
            [
                FinalLabel(r, "label", "onco", Provenance.HUMAN, (i % 4) / 4)
                for i, r in enumerate(ids[:17])
            ]
        )
        tx.set_queue_ranks([(ids[20], -5.0), (ids[3], -2.0)])
    for i, rid in enumerate(ids[:5]):  # responses 0..2, for the responses sorts
        for user in ["alice", "bob"][: i % 3]:
            p.answer(user, rid, {"label": "onco"})

    def walk(sort: str, limit: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after = None
        while True:
            page = p.browse(sort=sort, after=after, limit=limit)
            rows += page.rows
            if page.next is None:
                return rows
            after = page.next

    assert [r["id"] for r in walk("id", 5)] == ids
    assert [r["id"] for r in walk("-id", 4)] == ids[::-1]
    queue = [r["id"] for r in walk("queue", 6)]
    assert queue[:2] == [ids[20], ids[3]] and sorted(queue) == ids
    by_conf = walk("confidence", 3)
    keys = [(r["final"]["label"]["confidence"], r["id"]) for r in by_conf]
    assert keys == sorted(keys) and len(keys) == 17  # only labeled records
    down = walk("-confidence", 5)
    keys = [(r["final"]["label"]["confidence"], r["id"]) for r in down]
    assert keys == sorted(keys, reverse=True) and len(keys) == 17
    most = walk("-responses", 2)
    keys = [(r["n_submitted"], r["id"]) for r in most]
    assert keys == sorted(keys, reverse=True) and len(keys) == 23
    assert keys[0][0] == 2


def test_a_page_examines_a_bounded_stretch_and_goes_on_after_it(project: Project) -> None:
    p = project
    ids = p.add_records([{"fields": {"text": f"row {i}"}} for i in range(30)]).ids
    needles = {ids[2], ids[17], ids[28]}
    with p.store.write() as tx:
        tx.set_dup_groups({r: 1 for r in needles})
    flt = p.record_filter(dup_group=1)
    found: list[int] = []
    after = None
    pages = 0
    while True:
        with p.store.read() as tx:  # the store's own bound, made small
            page = tx.browse_page(flt, after=after, limit=5, scan=10)
        pages += 1
        found += [r["id"] for r in page.rows]
        if page.next is None:
            break
        assert page.partial  # each stretch ends before 5 matches
        after = page.next
    assert found == sorted(needles)
    assert pages == 3  # 30 records, 10 at a time
    # a page that fills up inside its stretch says where it stopped, not partial
    with p.store.read() as tx:
        page = tx.browse_page(p.record_filter(text="row"), limit=4, scan=10)
    assert [r["id"] for r in page.rows] == ids[:4] and not page.partial


def test_counts_exact_and_capped(project: Project) -> None:
    p = project
    _fill(p)
    assert p.count_matching() == (6, True)
    assert p.count_matching(p.record_filter(label="cardio")) == (2, True)
    assert p.count_matching(p.record_filter(text="e"), cap=3) == (3, False)


def test_bad_filters_sorts_and_cursors_are_clear_errors(project: Project) -> None:
    p = project
    _fill(p)
    with pytest.raises(ArgumentError, match="status 'done'"):
        p.record_filter(status="done")
    with pytest.raises(SchemaError, match="no question 'nope'"):
        p.record_filter(question="nope")
    with pytest.raises(ArgumentError, match="metadata key"):
        p.record_filter(metadata=(('a"b', "x"),))
    with pytest.raises(ArgumentError, match="score_min 0.9 is above score_max 0.1"):
        p.record_filter(score_min=0.9, score_max=0.1)
    with pytest.raises(ArgumentError, match="sort 'text'"):
        p.browse(sort="text")
    first = p.browse(limit=2)
    assert first.next is not None
    with pytest.raises(ArgumentError, match="sorted by 'id', not '-id'"):
        p.browse(sort="-id", after=first.next)
    with pytest.raises(ArgumentError, match="not one this server gave"):
        p.browse(after="garbage!")
    with pytest.raises(ArgumentError, match="limit 0"):
        p.browse(limit=0)


def test_a_records_story_holds_everything_and_its_history(project: Project) -> None:
    p = project
    r1, r2, _, _, r5, _ = _fill(p)
    story = p.record_story(r2)
    assert story["record"]["fields"] == {"text": TEXTS[1]}
    assert story["record"]["metadata"] == {"channel": "web"}
    assert [(s["agent"], s["score"]) for s in story["suggestions"]] == [("llm:y", 0.3)]
    assert {r["user"]: r["values"]["label"] for r in story["responses"]} == {
        "alice": "onco",
        "bob": "neuro",
    }
    assert [r["number"] for r in story["rounds"]] == [1]
    events = [e["event"] for e in story["history"]]
    assert events[0] == "added"
    assert events.count("answered") == 2 and "suggested" in events
    assert all(e["at"] is None or e["at"].endswith("+00:00") for e in story["history"])

    p.decide_review(
        p.reviews()[0]["id"], reviewer="rita", action="edit", value="onco", comment="lung"
    )
    story = p.record_story(r5)
    assert story["final"][0]["value"] == "onco" and story["final"][0]["provenance"] == "review"
    (item,) = story["reviews"]
    assert item["status"] == "edited" and item["history"][0]["actor"] == "rita"
    decided = [e for e in story["history"] if e["event"] == "review edit"]
    assert decided[0]["detail"]["after"]["value"] == "onco"
    assert decided[0]["detail"]["comment"] == "lung"
    assert p.record_story(r1)["duplicates"] == [r1 + 2]
    with pytest.raises(NotFoundError, match="no record 999"):
        p.record_story(999)


def test_owners_bulk_actions_change_the_store_and_leave_a_trace(project: Project) -> None:
    p = project
    r1, r2, r3, r4, r5, r6 = _fill(p)
    # front of the queue: ahead of the round's batch, the latest sent first, kept by retrain
    report = p.act_on_records("front", [r6, r3], actor="olive")
    assert report["changed"] == 2 and report["complete"]["n"] == 0
    report = p.act_on_records("front", [r5], actor="olive")
    with p.store.read() as tx:
        ranks = tx.queue_ranks([r1, r3, r5, r6])
    assert ranks[r5] < ranks[r6] < ranks[r3] < ranks[r1]
    assert p.next_item("carol").record.id == r5  # type: ignore[union-attr]
    with p.store.write() as tx:  # what a retrain writes
        tx.replace_queue_order([r4, r3], [])
    with p.store.read() as tx:
        after = tx.queue_ranks([r3, r4, r5, r6])
    assert [after[r] for r in (r3, r5, r6)] == [ranks[r3], ranks[r5], ranks[r6]]
    assert after[r4] == STRATEGY_HEAD  # r3 kept its place, so r4 heads the strategy's order

    # review: one manual item per record, the current label proposed, answers beside it
    report = p.act_on_records("review", [r2, r4], actor="olive")
    assert report["changed"] == 2
    items = {i["record_id"]: i for i in p.reviews(limit=10) if i["kind"] == "manual"}
    assert items[r4]["detail"]["proposed"] == "cardio"
    assert items[r2]["detail"]["answers"] == {"alice": "onco", "bob": "neuro"}
    assert "proposed" not in items[r2]["detail"]
    again = p.act_on_records("review", [r2, r3], actor="olive")
    assert again["changed"] == 1 and again["unchanged"]["already in review"]["ids"] == [r2]
    assert _ids(p, in_review=True) == [r2, r3, r4, r5]

    # gold: only a record with a final label; clearing brings the provenance back
    report = p.act_on_records("gold", [r4, r3, r1], actor="olive")
    assert report["changed"] == 1
    assert report["unchanged"]["no final label"]["ids"] == [r3]
    assert report["unchanged"]["already gold"]["ids"] == [r1]
    assert _ids(p, provenance=("gold",)) == [r1, r4]
    with p.store.write() as tx:
        tx.set_honeypots([r1, r4])
    report = p.act_on_records("ungold", [r4, r1, r2], actor="olive")
    assert report["changed"] == 2 and report["unchanged"]["not gold"]["ids"] == [r2]
    with p.store.read() as tx:
        assert tx.final_label(r4, "label") == FinalLabel(
            r4, "label", "cardio", Provenance.CONSENSUS, 0.6
        )
        assert tx.final_label(r1, "label").provenance == Provenance.HUMAN  # type: ignore[union-attr]
        assert tx.honeypot_ids() == []
    events = [(e["event"], e["actor"]) for e in p.record_story(r4)["history"]]
    assert ("front", "olive") not in events
    assert ("review", "olive") in events and ("gold", "olive") in events
    assert ("ungold", "olive") in events
    with pytest.raises(ArgumentError, match="action 'delete'"):
        p.act_on_records("delete", [r1], actor="olive")
    with pytest.raises(NotFoundError):
        p.act_on_records("gold", [r1, 999], actor="olive")
    with pytest.raises(ArgumentError, match="at least one record"):
        p.act_on_records("front", [], actor="olive")


def test_an_export_of_a_filter_holds_only_its_records_and_runs_as_a_job(
    project: Project, tmp_path: Path
) -> None:
    p = project
    r1, _, _, r4, r5, _ = _fill(p)
    flt = p.record_filter(metadata=(("channel", "email"),))
    options = ExportOptions(
        fmt="csv", out=tmp_path / "out", provenance=tuple(Provenance), records=flt
    )
    job = p.start_job("export", "olive", {"filter": flt.to_json()})
    assert p.job(job)["status"] == "running"
    report = p.export_job(job, options)
    assert report is not None
    with (tmp_path / "out" / "train.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(x["id"]) for x in rows) == [r1, r4]  # not r5: labeled, but no email
    state = p.job(job)
    assert state["status"] == "done" and state["stage"] == "Done"
    assert state["result"]["files"] == {"train": "train.csv"}
    assert state["result"]["counts"] == {"train": 2}
    assert state["done"] >= 2 and state["finished_at"] is not None
    card = (tmp_path / "out" / "README.md").read_text()
    assert '"channel", "email"' in card
    # a filter that leaves nothing to export fails the job with the export's reason
    empty = ExportOptions(fmt="csv", out=tmp_path / "none", records=p.record_filter(text="zzz"))
    failed = p.start_job("export", "olive", {})
    assert p.export_job(failed, empty) is None
    state = p.job(failed)
    assert state["status"] == "failed" and "among the 0 records of the filter" in state["error"]
    with pytest.raises(NotFoundError, match="no job 999"):
        p.job(999)


def test_a_filter_is_json_for_jobs_and_cards() -> None:
    flt = RecordFilter(text="a", question="label", text_fields=("text",), metadata=(("k", "v"),))
    assert flt.to_json() == {"text": "a", "question": "label", "metadata": [["k", "v"]]}
    assert RecordFilter(question="label").empty and not flt.empty


def test_a_job_whose_heartbeat_stopped_is_reported_lost(project: Project) -> None:
    p = project
    job = p.start_job("export", "olive", {})
    with p.store.read() as tx:
        beat = float(tx.get_job(job)["heartbeat"])
    assert jobs.state(p.store, job, now=beat + jobs.LOST_AFTER - 1)["status"] == "running"
    lost = jobs.state(p.store, job, now=beat + jobs.LOST_AFTER + 1)
    assert lost["status"] == "lost" and "start it again" in lost["error"]
    p.job_alive(job)  # a heartbeat moves it on
    with p.store.read() as tx:
        assert float(tx.get_job(job)["heartbeat"]) >= beat
