"""The Python SDK (:class:`goldsmith.Client`) against a real uvicorn server on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from goldsmith import ApiError, Client, GoldsmithError


@pytest.fixture
def sdk_env(make_api_env: Any) -> Any:
    return make_api_env(records=0, settings={"overlap": 2}, live=True)


def _client(env: Any, user: str) -> Client:
    return Client(env.url, api_key=env.keys[user], timeout=30)


def test_owner_adds_records_and_suggestions(sdk_env: Any) -> None:
    env = sdk_env
    with _client(env, "olive") as c:
        assert c.me() == {"name": "olive", "role": "owner"}
        ids = c.add_records(
            [
                {"fields": {"text": "Aspirin lowers risk"}, "external_id": "a-1"},
                {"fields": {"text": "Tumour growth rate"}, "metadata": {"src": "pubmed"}},
            ]
        )
        assert len(ids) == 2 and ids[0] != ids[1]
        again = c.add_records(
            [{"fields": {"text": "aspirin  LOWERS risk"}}, {"fields": {"text": "New one"}}]
        )
        assert again[0] == ids[0] and again[1] not in ids  # a duplicate gives the stored id
        n = c.add_suggestions(
            [
                {
                    "record_id": ids[0],
                    "question": "label",
                    "value": "cardio",
                    "agent": "rules@1",
                    "score": 0.7,
                },
                {"record_id": ids[1], "question": "label", "value": "onco", "agent": "rules@1"},
            ]
        )
        assert n == 2
        records = c.records(limit=10)
        assert [r["id"] for r in records] == [*ids, again[1]]
        assert records[1]["metadata"] == {"src": "pubmed"}
        assert c.record(ids[0])["suggestions"][0]["value"] == "cardio"
        assert c.set_guidelines("# Label the main topic") == 1
        assert c.guidelines()["version"] == 1
        assert c.guidelines(1)["markdown"] == "# Label the main topic"
        assert c.status()["records"]["total"] == 3
        assert c.task()["overlap"] == 2
    rows = env.query("SELECT id, external_id FROM records ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [(ids[0], "a-1"), (ids[1], None), (again[1], None)]
    assert env.query("SELECT count(*) FROM suggestions")[0][0] == 2


def test_annotators_next_submit_skip_and_responses(sdk_env: Any) -> None:
    env = sdk_env
    with _client(env, "olive") as owner:
        ids = owner.add_records([{"fields": {"text": f"abstract {i}"}} for i in range(3)])
    alice, bob = _client(env, "alice"), _client(env, "bob")
    try:
        item = alice.next()  # an annotator names records by opaque handles, never by id
        assert item is not None and env.rid("alice", item["record"]["id"]) == ids[0]
        assert item["lease_expires_at"] is not None and item["seq"] == 1
        h0 = item["record"]["id"]
        out = alice.submit(h0, {"label": "cardio"}, time_spent=4.2)
        assert out["status"] == "submitted" and out["time_spent"] == 4.2
        h1 = alice.next()["record"]["id"]
        assert env.rid("alice", h1) == ids[1]
        assert alice.skip(h1)["status"] == "discarded"
        item = alice.next()
        h2 = item["record"]["id"]
        assert env.rid("alice", h2) == ids[2] and item["seq"] == 3
        assert alice.submit(h2, {}, status="draft")["status"] == "draft"
        theirs = bob.next()["record"]["id"]
        assert theirs != h0 and env.rid("bob", theirs) == ids[0]
        bob.submit(theirs, {"label": "onco"})
        mine = alice.responses()
        assert [(r["record_id"], r["status"]) for r in mine] == [
            (h0, "submitted"),
            (h1, "discarded"),
            (h2, "draft"),
        ]
        assert alice.responses(status="submitted")[0]["values"] == {"label": "cardio"}
        assert alice.progress()["mine"] == {"submitted": 1, "discarded": 1, "draft": 1}
        with _client(env, "rita") as rita:
            both = rita.responses(record_id=ids[0])
            assert sorted(r["user"] for r in both) == ["alice", "bob"]
            assert rita.responses(user="bob")[0]["values"] == {"label": "onco"}
    finally:
        alice.close()
        bob.close()
    rows = env.query('SELECT "user", status FROM responses WHERE record_id = :i', i=ids[0])
    assert sorted((r[0], r[1]) for r in rows) == [("alice", "submitted"), ("bob", "submitted")]


def test_api_errors_carry_status_code_and_message(sdk_env: Any) -> None:
    env = sdk_env
    with _client(env, "olive") as owner:
        (rid,) = owner.add_records([{"fields": {"text": "only record"}}])
        with pytest.raises(ApiError) as err:
            owner.add_user("alice")
        assert (err.value.status, err.value.code) == (409, "conflict")
        assert "alice" in err.value.message
        with pytest.raises(ApiError) as err:
            owner.record(424242)
        assert (err.value.status, err.value.code) == (404, "not_found")
    with _client(env, "alice") as alice:
        with pytest.raises(ApiError) as err:
            alice.set_guidelines("# mine now")
        assert (err.value.status, err.value.code) == (403, "forbidden")
        assert isinstance(err.value, GoldsmithError)
        assert str(err.value).startswith("403 forbidden: ")
        with pytest.raises(ApiError) as err:
            alice.responses(user="bob")
        assert (err.value.status, err.value.code) == (403, "forbidden")
        handle = alice.next()["record"]["id"]
        assert env.rid("alice", handle) == rid
        with pytest.raises(ApiError) as err:
            alice.submit(handle, {"label": "dermato"})
        assert (err.value.status, err.value.code) == (422, "invalid")
        assert "label" in err.value.message
    with Client(env.url, api_key="gsk_wrong") as stranger:
        with pytest.raises(ApiError) as err:
            stranger.me()
        assert (err.value.status, err.value.code) == (401, "unauthenticated")
    assert env.query("SELECT count(*) FROM guidelines")[0][0] == 0


def test_owner_manages_users_and_keys(sdk_env: Any) -> None:
    env = sdk_env
    with _client(env, "olive") as owner:
        password = owner.add_user("dora", "reviewer")
        assert len(password) >= 16
        assert owner.add_user("eve", password="eve's password") == "eve's password"
        names = [u["name"] for u in owner.users()]
        assert names[-2:] == ["dora", "eve"]
        key = owner.create_api_key("dora")
    with Client(env.url + "/", api_key=key) as dora:  # a trailing slash is fine
        assert dora.me() == {"name": "dora", "role": "reviewer"}
        own = dora.create_api_key("dora")
        with pytest.raises(ApiError) as err:
            dora.create_api_key("eve")
        assert err.value.code == "forbidden"
    with Client(env.url, api_key=own) as dora_again:
        assert dora_again.me()["name"] == "dora"
    row = env.query("SELECT role, password_hash FROM users WHERE name = 'dora'")[0]
    assert row[0] == "reviewer" and row[1].startswith("$argon2id$")
