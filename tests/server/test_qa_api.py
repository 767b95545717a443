"""The quality routes: reviewers work the review queue; annotators reach neither the queue,
nor anyone's scores, nor the gold answers, only their own feedback (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from goldsmith.annotation.handles import is_handle
from goldsmith.schema import FinalLabel, Provenance


def test_review_flow_and_feedback_over_the_api(make_api_env: Any, api_error: Any) -> None:
    env = make_api_env(records=4)
    rid = env.disagreement(queued=True)
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


def _shape(value: Any) -> Any:
    """The keys and value types of a JSON body, values left out."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_gold_is_never_revealed_to_annotators(make_api_env: Any, api_error: Any) -> None:
    """Issue 19: an annotator's view of a honeypot and of a normal record differ only in the
    text of their fields. Gold imported later, in its own batch, with its own external ids and
    metadata: no id, no order, no metadata gives it away."""
    env = make_api_env(records=[{"text": f"abstract about topic {c}"} for c in "abcdefghij"])
    with env.project() as p:
        gold = p.add_records(
            [
                {"fields": {"text": f"gold abstract {c}"}, "metadata": {"batch": "gold.jsonl"},
                 "external_id": f"gold-{c}"}
                for c in "xyz"
            ]
        ).ids  # fmt: skip
        with p.store.write() as tx:
            tx.set_final_labels([FinalLabel(r, "label", "neuro", Provenance.GOLD) for r in gold])
            tx.set_honeypots(gold)
            tx.set_meta("gold_rate", 1.0)  # every lease a gold check while any is left
    assert min(gold) > max(env.record_ids)  # out of sequence, as a separate import is
    served = []
    while (item := env.next("alice")) is not None:
        served.append(item)
        assert env.answer("alice", item["record"]["id"], {"label": "cardio"}).status_code == 200
    ids = [env.rid("alice", i["record"]["id"]) for i in served]
    assert sorted(ids[:3]) == gold and sorted(ids[3:]) == env.record_ids  # three gold checks
    honeypot, normal = served[0], served[3]
    assert _shape(honeypot) == _shape(normal)  # same keys, same shapes
    for item in (honeypot, normal):
        record = item["record"]
        assert is_handle(record["id"]) and record["metadata"] == {}
        assert record["external_id"] is None and item["suggestions"] == []
        text = str({k: v for k, v in item.items() if k != "record"}) + str(record["id"])
        assert "neuro" not in str(item) and "gold" not in text.lower()
    assert [i["seq"] for i in served] == list(range(1, len(served) + 1))  # "#N in your queue"
    handles = [i["record"]["id"] for i in served]
    by_id = [h for _, h in sorted(zip(ids, handles, strict=True))]
    assert by_id != sorted(handles)  # handles are not ordered like ids
    with env.project() as p:
        assert p.record_handle("bob", gold[0]) != handles[0]  # nor shared between annotators
    # the same record read back, by handle: still no id, no metadata; ids mean nothing here
    again = env.ok("GET", f"/records/{handles[0]}", "alice")
    assert again["record"]["id"] == handles[0] and again["seq"] == 1
    assert _shape(again) == _shape(env.ok("GET", f"/records/{handles[3]}", "alice"))
    assert api_error(env.api("GET", f"/records/{gold[0]}", "alice")) == (404, "not_found")
    # an error names the record by its handle, never by its id
    refused = env.answer("alice", handles[0], {"label": "onco"}, status="draft")
    assert api_error(refused) == (409, "conflict")
    message = refused.json()["error"]["message"]
    assert handles[0] in message and f"record {gold[0]}" not in message
    (mine,) = {r["record_id"] for r in env.ok("GET", "/responses?record_id=" + handles[0], "alice")[
        "responses"
    ]}  # fmt: skip
    assert mine == handles[0]
    # owners and reviewers see ids, metadata and external ids
    staff = env.ok("GET", f"/records/{gold[0]}", "rita")["record"]
    assert staff["id"] == gold[0] and staff["external_id"] == "gold-x"
    assert staff["metadata"] == {"batch": "gold.jsonl"}
    scores = env.ok("GET", "/qa/annotators", "olive")
    assert isinstance(scores, list)


def test_reviewers_and_owners_answer_only_what_the_queue_leased_them(
    make_api_env: Any, api_error: Any
) -> None:
    """Issue 19: a reviewer answered a gold record without a lease, and it counted in their
    gold accuracy. Now every role answers only leased records, and the queue serves
    reviewers and owners no gold checks."""
    env = make_api_env(records=4)
    gold = env.record_ids[0]
    with env.project() as p, p.store.write() as tx:
        tx.set_final_labels([FinalLabel(gold, "label", "neuro", Provenance.GOLD)])
        tx.set_honeypots([gold])
        tx.set_meta("gold_rate", 1.0)
    for who in ("rita", "olive"):
        for rid in (gold, env.record_ids[-1]):
            refused = env.answer(who, rid, {"label": "cardio"})
            assert api_error(refused) == (403, "forbidden")
            assert "review queue" in refused.json()["error"]["message"]
    assert env.query("SELECT count(*) FROM responses")[0][0] == 0
    for who in ("rita", "olive"):  # annotating as themselves: through the queue, no gold
        rid = env.next_id(who)
        assert rid is not None and rid != gold
        assert env.answer(who, rid, {"label": "cardio"}).status_code == 200
    assert env.next_id("alice") == gold  # annotators do meet the gold check
    with env.project() as p, p.store.read() as tx:
        assert {u for u, *_ in tx.gold_answers("label")} == set()
    scores = {s["name"]: s for s in env.ok("GET", "/qa/annotators", "rita")}
    assert all(s["gold_n"] == 0 for s in scores.values())


def test_model_proposed_accept_needs_confirm_and_decisions_undo_over_the_api(
    make_api_env: Any, api_error: Any
) -> None:
    env = make_api_env(records=2)
    env.disagreement(queued=True, proposed="neuro", model_proposed=True)
    (item,) = env.ok("GET", "/reviews", "rita")
    assert item["detail"]["model_proposed"] is True and item["history"] == []
    path = f"/reviews/{item['id']}"
    one_key = env.api("POST", path, "rita", json={"action": "accept"})
    assert api_error(one_key) == (422, "invalid")
    assert "no annotator chose" in one_key.json()["error"]["message"]
    assert env.query("SELECT count(*) FROM final_labels")[0][0] == 0
    done = env.ok("POST", path, "rita", json={"action": "accept", "confirm": True})
    assert done["status"] == "accepted" and done["value"] == "neuro"
    assert len(env.ok("GET", "/feedback", "alice")) == 1
    for who in ("alice", "carol"):
        assert api_error(env.api("POST", f"{path}/undo", who)) == (403, "forbidden")
        assert api_error(env.api("GET", f"{path}/history", who)) == (403, "forbidden")
    back = env.ok("POST", f"{path}/undo", "olive")
    assert back["status"] == "open" and back["fields"]["text"]
    assert [(h["action"], h["actor"]) for h in back["history"]] == [
        ("accept", "rita"),
        ("undo", "olive"),
    ]
    assert back["history"][0]["after"]["value"] == "neuro" and back["history"][0]["before"] is None
    assert env.ok("GET", f"{path}/history", "rita") == back["history"]
    assert env.query("SELECT count(*) FROM final_labels")[0][0] == 0
    assert env.ok("GET", "/feedback", "alice") == []  # withdrawn with the decision
    assert api_error(env.api("POST", f"{path}/undo", "olive")) == (409, "conflict")
    assert api_error(env.api("POST", "/reviews/999/undo", "olive")) == (404, "not_found")
    assert [i["id"] for i in env.ok("GET", "/reviews", "rita")] == [item["id"]]


def test_feedback_names_the_record_as_the_annotator_knows_it(make_api_env: Any) -> None:
    env = make_api_env(records=2)
    rid = env.disagreement(queued=True)
    (item,) = env.ok("GET", "/reviews", "rita")
    env.ok("POST", f"/reviews/{item['id']}", "rita", json={"action": "edit", "value": "onco"})
    (note,) = env.ok("GET", "/feedback", "alice")
    assert note["record_id"] == env.name("alice", rid) and note["seq"] == 1


def test_feedback_ids_out_of_range_are_invalid_not_a_crash(api_env: Any, api_error: Any) -> None:
    """Found by schemathesis: an id past SQLite's 64-bit integers used to raise a 500."""
    huge = api_env.api("POST", "/feedback/seen", "alice", json={"ids": [2**63]})
    assert api_error(huge) == (422, "invalid")
    assert api_error(api_env.api("GET", "/reviews?offset=9223372036854775808", "rita")) == (
        422,
        "invalid",
    )
