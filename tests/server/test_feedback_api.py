"""Issue 20 items 2 and 5 over the REST API: the feedback an annotator gets carries their
answer, the final label and the reviewer's comment, and opens one read-only record, only
for them; record metadata reaches the pages as ``[task.settings] show_metadata`` says, and
never a key that tells gold apart (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from goldsmith.schema import FinalLabel, Provenance, ResponseStatus, Settings

PROBE = "<img src=x onerror=alert(1)>"


def _edited_disagreement(env: Any, comment: str | None = "tumour growth is oncology") -> int:
    """alice (cardio) and bob (onco) disagree on one record; rita sets onco. Returns its id."""
    rid = env.disagreement(queued=True)
    (item,) = env.ok("GET", "/reviews", "rita")
    body: dict[str, Any] = {"action": "edit", "value": "onco"}
    if comment is not None:
        body["comment"] = comment
    env.ok("POST", f"/reviews/{item['id']}", "rita", json=body)
    return rid


def test_feedback_lists_answer_final_and_comment(make_api_env: Any) -> None:
    env = make_api_env(records=3)
    rid = _edited_disagreement(env)
    (fb,) = env.ok("GET", "/feedback", "alice")
    assert fb["record_id"] == env.name("alice", rid) and fb["seq"] == 1
    assert (fb["question"], fb["answer"], fb["final"]) == ("label", "cardio", "onco")
    assert fb["comment"] == fb["message"] == "tumour growth is oncology"
    with env.project() as p, p.store.read() as tx:  # the store agrees: the reviewer's label
        final = tx.final_label(rid, "label")
        assert final is not None and (final.value, final.provenance) == ("onco", Provenance.REVIEW)


def test_feedback_without_a_comment_says_so(make_api_env: Any) -> None:
    env = make_api_env(records=3)
    _edited_disagreement(env, comment=None)
    (fb,) = env.ok("GET", "/feedback", "alice")
    assert fb["comment"] is None and "onco" in fb["message"]  # the default message
    assert (fb["answer"], fb["final"]) == ("cardio", "onco")


def test_the_feedback_record_opens_only_for_its_annotator(
    make_api_env: Any, api_error: Any
) -> None:
    env = make_api_env(records=[{"text": f"{PROBE} record {i}"} for i in range(3)])
    rid = _edited_disagreement(env)
    mine = env.name("alice", rid)
    seen = env.ok("GET", f"/feedback/{mine}", "alice")
    assert seen["record"]["id"] == mine and seen["seq"] == 1
    assert seen["record"]["fields"]["text"].startswith(PROBE)  # as data; the page escapes it
    assert seen["record"]["metadata"] == {} and seen["record"]["external_id"] is None
    assert seen["response"]["values"] == {"label": "cardio"}
    assert seen["response"]["record_id"] == mine
    (item,) = seen["feedback"]
    assert (item["answer"], item["final"], item["comment"]) == (
        "cardio",
        "onco",
        "tumour growth is oncology",
    )
    assert "record_id" not in item and "review_id" not in item  # no database ids at all
    # nobody else opens it: bob was right (no feedback), carol never answered, staff neither
    for who in ("bob", "carol"):
        for name in (mine, env.name(who, rid)):
            assert api_error(env.api("GET", f"/feedback/{name}", who)) == (404, "not_found")
    assert api_error(env.api("GET", f"/feedback/{rid}", "rita")) == (404, "not_found")
    # alice by the database id, or by another record of hers with no feedback: 404 as well
    assert api_error(env.api("GET", f"/feedback/{rid}", "alice")) == (404, "not_found")
    other = env.next_id("alice")
    assert other is not None and other != rid
    assert env.answer("alice", other, {"label": "neuro"}).status_code == 200
    missing = env.api("GET", f"/feedback/{env.name('alice', other)}", "alice")
    assert api_error(missing) == (404, "not_found")
    message = missing.json()["error"]["message"]  # named by handle, never by id
    assert env.name("alice", other) in message and f"record {other}" not in message
    assert api_error(env.api("GET", "/feedback/r0123456789abcdef", "alice"))[0] == 404
    assert env.api("GET", "/feedback/7; DROP", "alice").status_code == 422
    # dismissed, it stays readable (the link in an old tab keeps working), marked seen
    env.ok("POST", "/feedback/seen", "alice", json={"ids": [item["id"]]})
    assert env.ok("GET", "/feedback", "alice") == []
    again = env.ok("GET", f"/feedback/{mine}", "alice")
    assert again["feedback"][0]["seen_at"] is not None
    # reading wrote nothing: alice's answer is as she submitted it
    with env.project() as p:
        (r,) = p.responses(user="alice", record_id=rid)
        assert r.values == {"label": "cardio"} and r.status == ResponseStatus.SUBMITTED


def test_metadata_follows_show_metadata_and_hides_telling_keys(
    make_api_env: Any, api_error: Any
) -> None:
    env = make_api_env(records=0)
    meta = {
        "channel": "email",
        "note": PROBE,
        "provenance": "gold",  # an export imported again as data
        "label": "onco",  # an exported answer column, named like the question
        "is_gold": True,
        "_batch": "b7",
        "secret": "owners only",
    }
    with env.project() as p:
        (rid,) = p.add_records([{"fields": {"text": "a note"}, "metadata": meta}]).ids
    # by default annotators see no metadata at all; owners and reviewers all of it
    item = env.next("alice")
    assert item is not None and item["record"]["metadata"] == {}
    assert env.ok("GET", f"/records/{rid}", "rita")["record"]["metadata"] == meta
    assert env.ok("GET", "/task", "alice")["show_metadata"] is None
    env.restart(show_metadata=["note", "channel", "provenance", "label", "is_gold", "_batch"])
    assert env.ok("GET", "/task", "alice")["show_metadata"] == [
        "note",
        "channel",
        "provenance",
        "label",
        "is_gold",
        "_batch",
    ]
    shown = env.ok("GET", f"/records/{env.name('alice', rid)}", "alice")["record"]["metadata"]
    assert list(shown) == ["note", "channel"] and shown["note"] == PROBE  # in the set order
    assert env.ok("GET", f"/records/{rid}", "olive")["record"]["metadata"] == meta
    # review items carry the record's metadata for the review page
    with env.project() as p, p.store.write() as tx:
        tx.add_reviews(
            [{"record_id": rid, "question": "label", "kind": "issue",
              "detail": {"given": "neuro", "proposed": "onco"}}]
        )  # fmt: skip
    (review,) = env.ok("GET", "/reviews", "rita")
    assert review["metadata"] == meta
    assert api_error(env.api("GET", "/reviews", "alice")) == (403, "forbidden")


def test_gold_records_and_others_show_the_same_metadata_keys(make_api_env: Any) -> None:
    """A gold batch with the configured keys looks like any other record to annotators."""
    env = make_api_env(records=0, settings={"show_metadata": ["channel"]})
    with env.project() as p:
        plain = p.add_records(
            [{"fields": {"text": f"t{i}"}, "metadata": {"channel": "chat"}} for i in range(2)]
        ).ids
        gold = p.add_records(
            [{"fields": {"text": "g"}, "metadata": {"channel": "chat", "provenance": "gold",
              "gold_batch": "gold.jsonl"}}]
        ).ids  # fmt: skip
        with p.store.write() as tx:
            tx.set_final_labels([FinalLabel(gold[0], "label", "neuro", Provenance.GOLD)])
            tx.set_honeypots(gold)
            tx.set_meta("gold_rate", 1.0)  # every lease a gold check while any is left
    env.restart()
    seen = {}
    while (item := env.next("alice")) is not None:
        seen[env.rid("alice", item["record"]["id"])] = item["record"]["metadata"]
        assert env.answer("alice", item["record"]["id"], {"label": "cardio"}).status_code == 200
    assert set(seen) == {*plain, *gold}
    assert all(m == {"channel": "chat"} for m in seen.values())


@pytest.mark.parametrize(
    ("keys", "says"),
    [(["channel", "channel"], "more than once"), (["  "], "not blank"), (["x" * 129], "128")],
)
def test_show_metadata_is_checked(keys: list[str], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(show_metadata=tuple(keys))
