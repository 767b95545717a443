"""Task distribution through the API: leases, overlap, drafts, skips, Backspace, validation.

Every outcome is checked against the database (responses, leases, records.queue_done), on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from typing import Any

import pytest


def _ids(env: Any, user: str) -> int:
    """The id of the record leased to ``user`` next (annotators get a handle: turned back)."""
    rid = env.next_id(user)
    assert rid is not None, f"{user} got no item"
    return int(rid)


def _submitted(env: Any) -> dict[int, list[str]]:
    rows = env.query(
        "SELECT record_id, \"user\" FROM responses WHERE status = 'submitted' "
        'ORDER BY record_id, "user"'
    )
    out: dict[int, list[str]] = {}
    for rid, user in rows:
        out.setdefault(rid, []).append(user)
    return out


def _leases(env: Any) -> set[tuple[int, str]]:
    return {(r[0], r[1]) for r in env.query('SELECT record_id, "user" FROM leases')}


def test_overlap_leases_a_record_to_at_most_n_annotators(make_api_env: Any) -> None:
    env = make_api_env(records=3, settings={"overlap": 2})
    r1, r2, r3 = env.record_ids
    first = env.next("alice")
    assert env.rid("alice", first["record"]["id"]) == r1 and first["response"] is None
    assert first["lease_expires_at"] > time.time() + 1700  # lease_seconds defaults to 1800
    again = env.next("alice")  # asking again with a live lease gives the same record
    assert again["record"]["id"] == first["record"]["id"]
    assert again["lease_expires_at"] >= first["lease_expires_at"]
    assert _ids(env, "bob") == r1
    assert _ids(env, "carol") == r2  # r1 already has two live leases
    assert _leases(env) == {(r1, "alice"), (r1, "bob"), (r2, "carol")}
    assert env.answer("alice", r1, {"label": "onco"}).status_code == 200
    assert _leases(env) == {(r1, "bob"), (r2, "carol")}
    assert _ids(env, "alice") == r2  # never r1 again
    assert env.answer("carol", r2, {"label": "neuro"}).status_code == 200
    assert env.answer("alice", r2, {"label": "neuro"}).status_code == 200
    assert env.answer("bob", r1, {"label": "onco"}).status_code == 200
    assert _submitted(env) == {r1: ["alice", "bob"], r2: ["alice", "carol"]}
    assert env.ok("GET", "/progress", "bob")["complete"] == 2
    assert _ids(env, "bob") == r3
    assert _ids(env, "carol") == r3
    assert env.next("alice") is None  # r3 is leased to two others already
    done = {r.id: bool(r.queue_done) for r in env.query("SELECT id, queue_done FROM records")}
    assert done == {r1: True, r2: True, r3: False}


def test_a_full_record_is_not_leased_to_a_third_annotator(make_api_env: Any) -> None:
    env = make_api_env(records=2, settings={"overlap": 2})
    r1, r2 = env.record_ids
    assert _ids(env, "alice") == r1 and _ids(env, "bob") == r1
    assert _ids(env, "carol") == r2
    assert env.answer("carol", r2, {"label": "onco"}).status_code == 200
    assert env.next("carol") is None  # r1 is leased to two others; r2 she answered
    assert (r1, "carol") not in _leases(env)


def test_never_serves_what_the_annotator_submitted_or_skipped(make_api_env: Any) -> None:
    env = make_api_env(records=4, settings={"overlap": 3})
    seen = []
    while (item := env.next("alice")) is not None:
        rid = env.rid("alice", item["record"]["id"])
        assert rid not in seen, f"record {rid} served twice"
        seen.append(rid)
        if len(seen) == 1:
            skip = env.answer("alice", rid, {}, status="discarded")
            assert skip.status_code == 200
        else:
            assert env.answer("alice", rid, {"label": "cardio"}).status_code == 200
        assert len(seen) <= 4
    assert seen == env.record_ids  # queue order: insertion order
    mine = env.ok("GET", "/progress", "alice")
    assert mine == {"total": 4, "complete": 0, "mine": {"submitted": 3, "discarded": 1, "draft": 0}}
    assert _leases(env) == set()
    # the skipped record is still open for others
    assert _ids(env, "bob") == env.record_ids[0]


def test_an_expired_lease_returns_the_record_to_the_queue(
    make_api_env: Any, api_error: Any
) -> None:
    env = make_api_env(records=2, settings={"overlap": 1, "lease_seconds": 1})
    r1, r2 = env.record_ids
    item = env.next("alice")
    assert env.rid("alice", item["record"]["id"]) == r1
    assert item["lease_expires_at"] == pytest.approx(time.time() + 1, abs=0.5)
    assert _ids(env, "bob") == r2
    assert env.next("carol") is None  # both records leased, overlap 1
    time.sleep(1.3)
    assert _ids(env, "carol") == r1  # alice's lease ran out
    # alice lost the record: she may not read or answer it any more
    assert api_error(env.api("GET", f"/records/{env.name('alice', r1)}", "alice")) == (
        403,
        "forbidden",
    )
    assert api_error(env.answer("alice", r1, {"label": "onco"})) == (403, "forbidden")
    assert env.answer("carol", r1, {"label": "onco"}).status_code == 200
    assert _submitted(env) == {r1: ["carol"]}


def test_a_stale_draft_can_still_fill_the_record_and_the_next_holder_gets_409(
    make_api_env: Any, api_error: Any
) -> None:
    """How a 409 arises between annotators: alice's lease ran out while she held a draft; bob
    got the record; alice's submit still counts (her draft lets her at the record), so bob's
    submit would exceed overlap."""
    env = make_api_env(records=1, settings={"overlap": 1, "lease_seconds": 1})
    (r1,) = env.record_ids
    assert _ids(env, "alice") == r1
    assert env.answer("alice", r1, {"label": "onco"}, status="draft").status_code == 200
    time.sleep(1.3)
    assert _ids(env, "bob") == r1
    assert env.answer("alice", r1, {"label": "onco"}).status_code == 200
    assert api_error(env.answer("bob", r1, {"label": "neuro"})) == (409, "conflict")
    assert _submitted(env) == {r1: ["alice"]}


def test_a_submit_beyond_overlap_is_a_conflict(api_env: Any, api_error: Any) -> None:
    env = api_env  # overlap 1
    # the owner, annotating as herself, holds an expired lease with a draft on r1 (as a
    # stale draft lets anyone at their record); alice gets r1 and the owner fills it
    env.restart(lease_seconds=1)
    r1 = _ids(env, "olive")
    assert env.answer("olive", r1, {"label": "cardio"}, status="draft").status_code == 200
    time.sleep(1.3)
    assert _ids(env, "alice") == r1
    assert env.answer("olive", r1, {"label": "cardio"}).status_code == 200
    r = env.answer("alice", r1, {"label": "onco"})
    assert api_error(r) == (409, "conflict")
    assert "1 submitted" in r.json()["error"]["message"]
    assert _submitted(env) == {r1: ["olive"]}
    # the one who already submitted may change their answer; the count stays right
    assert env.answer("olive", r1, {"label": "neuro"}).status_code == 200
    assert _submitted(env) == {r1: ["olive"]}
    row = env.query("SELECT n_submitted, queue_done FROM records WHERE id = :i", i=r1)[0]
    assert row[0] == 1 and bool(row[1])
    values = env.query('SELECT "values" FROM responses WHERE record_id = :i', i=r1)[0][0]
    assert "neuro" in str(values)


def test_drafts_keep_the_lease_and_never_count(api_env: Any, api_error: Any) -> None:
    env = api_env  # overlap 1
    r1 = _ids(env, "alice")
    r = env.answer("alice", r1, {"label": "onco"}, status="draft")
    assert r.status_code == 200 and r.json()["response"]["status"] == "draft"
    assert env.answer("alice", r1, {}, status="draft").status_code == 200  # partial is fine
    assert env.answer("alice", r1, {"label": "neuro"}, status="draft").status_code == 200
    progress = env.ok("GET", "/progress", "alice")
    assert progress["complete"] == 0 and progress["mine"]["draft"] == 1
    assert (r1, "alice") in _leases(env)
    back = env.next("alice")  # the draft comes back with the same record
    assert env.rid("alice", back["record"]["id"]) == r1
    assert back["response"]["status"] == "draft" and back["response"]["values"] == {
        "label": "neuro"
    }
    assert _ids(env, "bob") != r1  # still leased to alice
    assert env.answer("alice", r1, {"label": "neuro"}).status_code == 200
    assert (r1, "alice") not in _leases(env)
    assert env.ok("GET", "/progress", "alice")["complete"] == 1
    r = env.answer("alice", r1, {"label": "cardio"}, status="draft")
    assert api_error(r) == (409, "conflict")
    rows = env.query('SELECT status, "values" FROM responses')
    assert len(rows) == 1 and rows[0][0] == "submitted" and "neuro" in str(rows[0][1])


def test_backspace_walks_back_through_ones_own_answers(make_api_env: Any) -> None:
    env = make_api_env(records=5, settings={"overlap": 2})
    r1, r2, r3, r4, _ = env.record_ids
    assert _ids(env, "bob") == r1
    assert env.answer("bob", r1, {"label": "onco"}).status_code == 200  # not in alice's history
    for rid, status in ((r1, "submitted"), (r2, "discarded"), (r3, "submitted")):
        assert _ids(env, "alice") == rid
        values = {"label": "cardio"} if status == "submitted" else {}
        assert env.answer("alice", rid, values, status=status).status_code == 200
    assert _ids(env, "alice") == r4

    def previous(before: int | None) -> Any:
        query = "" if before is None else f"?before={env.name('alice', before)}"
        return env.ok("GET", f"/queue/previous{query}", "alice")["item"]

    def rid(item: Any) -> int:
        return env.rid("alice", item["record"]["id"])

    assert rid(previous(None)) == r3
    assert rid(previous(r4)) == r3  # r4 is not answered yet: the latest answer
    back = previous(r3)
    assert rid(back) == r2
    assert back["response"] == {
        "record_id": env.name("alice", r2),
        "user": "alice",
        "values": {},
        "status": "discarded",
        "guideline_version": None,
        "time_spent": None,
    }
    assert rid(previous(r2)) == r1
    assert previous(r1) is None
    # going back, alice may change her skip into an answer
    assert env.answer("alice", r2, {"label": "onco"}).status_code == 200
    assert _submitted(env)[r2] == ["alice"]
    assert env.rid("bob", env.ok("GET", "/queue/previous", "bob")["item"]["record"]["id"]) == r1


def test_previous_is_empty_before_any_answer(api_env: Any) -> None:
    assert api_env.ok("GET", "/queue/previous", "alice") == {"item": None}
    assert api_env.ok("GET", "/queue/previous?before=3", "alice") == {"item": None}


MIXED_TASK = {
    "name": "mixed",
    "fields": [{"name": "text", "kind": "text"}],
    "questions": [
        {"name": "label", "kind": "label", "labels": ["cardio", "onco"]},
        {"name": "note", "kind": "text", "required": False},
        {"name": "rating", "kind": "rating", "min": 1, "max": 5, "required": False},
    ],
}


def test_answers_are_validated_against_the_questions(make_api_env: Any, api_error: Any) -> None:
    env = make_api_env(records=2, task=MIXED_TASK)
    rid = _ids(env, "alice")

    def refused(values: dict[str, Any], status: str = "submitted") -> str:
        r = env.answer("alice", rid, values, status=status)
        assert api_error(r) == (422, "invalid"), (values, r.text)
        return str(r.json()["error"]["message"])

    assert "label" in refused({})
    assert "label" in refused({"note": "forgot the label"})
    assert "label" in refused({"label": "dermato"})
    assert "label" in refused({"label": ["cardio"]})
    assert "rating" in refused({"label": "onco", "rating": 9})
    assert "rating" in refused({"label": "onco", "rating": "high"}, status="draft")
    assert "mood" in refused({"label": "onco", "mood": "happy"})
    assert "note" in refused({"label": "onco", "note": 42})
    assert env.query("SELECT count(*) FROM responses")[0][0] == 0
    for bad_body in (
        {"values": {"label": "onco"}, "status": "final"},
        {"values": {"label": "onco"}, "time_spent": -1},
        {"values": {"label": "onco"}, "extra": 1},
        {"values": ["onco"]},
    ):
        r = env.api("PUT", f"/records/{env.name('alice', rid)}/response", "alice", json=bad_body)
        assert api_error(r) == (422, "invalid"), bad_body
    # a draft may be partial; a submission needs only the required questions
    assert env.answer("alice", rid, {"note": "thinking"}, status="draft").status_code == 200
    body = {"values": {"label": "onco", "rating": "4"}, "time_spent": 3.5}
    out = env.ok("PUT", f"/records/{env.name('alice', rid)}/response", "alice", json=body)
    out = out["response"]
    assert out["values"] == {"label": "onco", "rating": 4} and out["time_spent"] == 3.5
    rows = env.query("SELECT status, time_spent FROM responses WHERE \"user\" = 'alice'")
    assert [(r[0], r[1]) for r in rows] == [("submitted", 3.5)]


def test_changing_overlap_in_the_toml_recomputes_completeness(make_api_env: Any) -> None:
    env = make_api_env(records=3, settings={"overlap": 2})
    r1, r2, r3 = env.record_ids
    for user in ("alice", "bob"):
        assert _ids(env, user) == r1
        assert env.answer(user, r1, {"label": "onco"}).status_code == 200
    assert _ids(env, "alice") == r2
    assert env.answer("alice", r2, {"label": "onco"}).status_code == 200
    assert env.ok("GET", "/progress", "olive")["complete"] == 1

    def done() -> dict[int, bool]:
        return {r.id: bool(r.queue_done) for r in env.query("SELECT id, queue_done FROM records")}

    env.restart(overlap=1)
    assert env.ok("GET", "/task", "olive")["overlap"] == 1
    assert env.ok("GET", "/progress", "olive")["complete"] == 2
    assert done() == {r1: True, r2: True, r3: False}
    assert _ids(env, "carol") == r3  # r1 and r2 are complete now
    env.restart(overlap=3)
    assert env.ok("GET", "/progress", "olive")["complete"] == 0
    assert done() == {r1: False, r2: False, r3: False}
    assert _ids(env, "carol") == r3  # her live lease first
    assert env.answer("carol", r3, {"label": "cardio"}).status_code == 200
    assert _ids(env, "carol") == r1  # r1 needs a third answer now
    assert env.answer("carol", r1, {"label": "cardio"}).status_code == 200
    assert done()[r1] is True


def test_the_queue_runs_dry(make_api_env: Any) -> None:
    env = make_api_env(records=3)  # overlap 1
    for rid in env.record_ids:
        assert _ids(env, "alice") == rid
        assert env.answer("alice", rid, {"label": "onco"}).status_code == 200
    assert env.ok("GET", "/queue/next", "alice") == {"item": None}
    assert env.ok("GET", "/queue/next", "bob") == {"item": None}
    assert env.ok("GET", "/progress", "bob") == {
        "total": 3,
        "complete": 3,
        "mine": {"submitted": 0, "discarded": 0, "draft": 0},
    }
    assert _leases(env) == set()


def test_submit_with_next_answers_and_leases_in_one_call(make_api_env: Any) -> None:
    env = make_api_env(records=3)
    first = env.next("alice")["record"]["id"]
    body = {"values": {"label": "onco"}, "status": "submitted"}
    out = env.ok("PUT", f"/records/{first}/response?next=true", "alice", json=body)
    assert out["response"]["record_id"] == first and out["response"]["status"] == "submitted"
    second = out["next"]["record"]["id"]
    assert second != first and out["next"]["lease_expires_at"] is not None
    # the lease is real: bob is not given the record alice now holds
    assert env.next("bob")["record"]["id"] not in (first, second)
    rows = env.query('SELECT record_id, "user" AS who FROM leases ORDER BY record_id')
    mine = env.rid("alice", first), env.rid("alice", second)
    want = [(mine[1], "alice"), (6 - sum(mine), "bob")]
    assert sorted((r.record_id, r.who) for r in rows) == sorted(want)
    last = env.ok("PUT", f"/records/{second}/response?next=true", "alice", json=body)
    assert last["next"] is None  # the third record is leased to bob
    plain = env.ok("PUT", f"/records/{second}/response", "alice", json=body)
    assert plain["next"] is None
