"""The quality routes: reviewers work the review queue; annotators reach neither the queue,
nor anyone's scores, nor the gold answers, only their own feedback (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from goldsmith.schema import FinalLabel, Provenance


def _disagreement(env: Any) -> int:
    """alice and bob answer the same record differently; returns the record id."""
    env.restart(overlap=2)
    first = env.next("alice")
    rid = first["record"]["id"]
    assert env.answer("alice", rid, {"label": "cardio"}).status_code == 200
    assert env.next("bob")["record"]["id"] == rid
    assert env.answer("bob", rid, {"label": "onco"}).status_code == 200
    return int(rid)


def test_review_flow_and_feedback_over_the_api(make_api_env: Any, api_error: Any) -> None:
    env = make_api_env(records=4)
    rid = _disagreement(env)
    with env.project() as p, p.store.write() as tx:
        tx.add_reviews(
            [
                {
                    "record_id": rid,
                    "question": "label",
                    "kind": "disagreement",
                    "detail": {"answers": {"alice": "cardio", "bob": "onco"}, "proposed": None},
                }
            ]
        )
    for who in ("alice", "bob", "carol"):  # annotators: no queue, no scores
        assert api_error(env.api("GET", "/reviews", who)) == (403, "forbidden")
        assert api_error(env.api("GET", "/qa/annotators", who)) == (403, "forbidden")
        assert api_error(env.api("POST", "/reviews/1", who, json={"action": "reject"})) == (
            403,
            "forbidden",
        )
        assert api_error(env.api("POST", "/users/alice/resume", who)) == (403, "forbidden")
    items = env.ok("GET", "/reviews", "rita")
    assert [i["record_id"] for i in items] == [rid] and items[0]["fields"]["text"]
    bad = env.api("POST", f"/reviews/{items[0]['id']}", "rita", json={"action": "accept"})
    assert api_error(bad) == (422, "invalid")  # nothing proposed: edit instead
    done = env.ok(
        "POST",
        f"/reviews/{items[0]['id']}",
        "rita",
        json={"action": "edit", "value": "onco", "comment": "tumour growth is oncology"},
    )
    assert done["status"] == "edited" and done["reviewer"] == "rita"
    assert env.ok("GET", "/reviews", "rita") == []
    mine = env.ok("GET", "/feedback", "alice")  # alice answered cardio: she hears why
    assert [f["message"] for f in mine] == ["tumour growth is oncology"]
    assert env.ok("GET", "/feedback", "bob") == []  # bob was right
    assert env.ok("GET", "/feedback", "carol") == []  # nobody reads another's feedback
    env.ok("POST", "/feedback/seen", "bob", json={"ids": [mine[0]["id"]]})  # not bob's
    assert len(env.ok("GET", "/feedback", "alice")) == 1
    env.ok("POST", "/feedback/seen", "alice", json={"ids": [mine[0]["id"]]})
    assert env.ok("GET", "/feedback", "alice") == []
    with env.project() as p:
        p.set_paused("alice", True)
    scores = {a["name"]: a for a in env.ok("GET", "/qa/annotators", "rita")}
    assert scores["alice"]["paused"] is True and scores["bob"]["paused"] is False
    env.ok("POST", "/users/alice/resume", "olive")
    assert {a["name"]: a["paused"] for a in env.ok("GET", "/qa/annotators", "rita")}[
        "alice"
    ] is False
    rows = env.query("SELECT value, provenance FROM final_labels WHERE record_id = :r", r=rid)
    assert [(r[0], r[1]) for r in rows] in ([("onco", "review")], [('"onco"', "review")])


def test_gold_is_never_revealed_to_annotators(make_api_env: Any) -> None:
    env = make_api_env(records=3)
    with env.project() as p, p.store.write() as tx:
        tx.set_final_labels([FinalLabel(env.record_ids[0], "label", "neuro", Provenance.GOLD)])
        tx.set_honeypots([env.record_ids[0]])
        tx.set_meta("gold_rate", 1.0)  # every lease a gold check: deterministic
    item = env.next("alice")
    assert item["record"]["id"] == env.record_ids[0]  # a gold check, looking like any record
    assert "neuro" not in str(item) and "gold" not in str(item).lower()
    listed = env.api("GET", f"/records/{env.record_ids[0]}", "alice").json()
    assert "neuro" not in str(listed) and "gold" not in str(listed).lower()
    scores = env.ok("GET", "/qa/annotators", "olive")
    assert isinstance(scores, list)


def test_feedback_ids_out_of_range_are_invalid_not_a_crash(api_env: Any, api_error: Any) -> None:
    """Found by schemathesis: an id past SQLite's 64-bit integers used to raise a 500."""
    huge = api_env.api("POST", "/feedback/seen", "alice", json={"ids": [2**63]})
    assert api_error(huge) == (422, "invalid")
    assert api_error(api_env.api("GET", "/reviews?offset=9223372036854775808", "rita")) == (
        422,
        "invalid",
    )
