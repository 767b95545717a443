"""The REST API in process: every route for every role, the bodies, and the error shape.

Each test runs on SQLite and on PostgreSQL (``api_db``). Forbidden actions are checked one by
one with their stable error codes; successful ones are checked against the database.
"""

from __future__ import annotations

from typing import Any

import pytest

ROLES = ["owner", "reviewer", "annotator", None]  # None: no credentials
NAME = {"owner": "olive", "reviewer": "rita", "annotator": "alice", None: None}
STAFF = {"owner", "reviewer"}


def _expected(role: str | None, rule: str) -> int:
    """The status ``role`` gets for a route whose access ``rule`` is one of
    ``any`` (200), ``staff`` (200 for owner and reviewer), ``owner`` (200 for owners only),
    ``nobody`` (403 for every role)."""
    if role is None:
        return 401
    allowed = {"any": True, "staff": role in STAFF, "owner": role == "owner", "nobody": False}[rule]
    return 200 if allowed else 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_route_for_every_role(api_env: Any, api_error: Any, role: str | None) -> None:
    env = api_env
    me = NAME[role]
    env.ok("PUT", "/guidelines", "olive", json={"markdown": "# Rules\n\nBe careful."})
    leased = env.next(me)["record"]["id"] if me else env.record_ids[0]
    other_id = env.record_ids[-1]  # nobody ever leases it in this test
    other = env.name(me, other_id)  # as the caller names it: a handle for annotators
    draft = {"values": {"label": "onco"}, "status": "draft"}
    suggestion = {"record_id": other_id, "question": "label", "value": "onco", "agent": "rules@1"}
    routes: list[tuple[str, str, dict[str, Any], str, int]] = [
        ("GET", "/me", {}, "any", 200),
        ("GET", "/task", {}, "any", 200),
        ("GET", "/guidelines", {}, "any", 200),
        ("GET", "/guidelines?version=1", {}, "any", 200),
        ("PUT", "/guidelines", {"json": {"markdown": f"# by {me}"}}, "owner", 200),
        ("GET", "/progress", {}, "any", 200),
        ("GET", "/status", {}, "staff", 200),
        ("GET", "/queue/next", {}, "any", 200),
        ("GET", f"/queue/previous?before={leased}", {}, "any", 200),
        ("GET", "/records?offset=0&limit=2", {}, "staff", 200),
        (
            "POST",
            "/records",
            {"json": {"records": [{"fields": {"text": f"new {me}"}}]}},
            "owner",
            201,
        ),
        ("GET", f"/records/{leased}", {}, "any", 200),
        ("GET", f"/records/{other}", {}, "staff", 200),
        ("PUT", f"/records/{leased}/response", {"json": draft}, "any", 200),
        # issue 19: owners and reviewers too answer only what the queue leased them
        ("PUT", f"/records/{other}/response", {"json": draft}, "nobody", 200),
        ("POST", "/suggestions", {"json": {"suggestions": [suggestion]}}, "owner", 201),
        ("GET", "/responses", {}, "any", 200),
        ("GET", f"/responses?user={me or 'alice'}", {}, "any", 200),
        ("GET", "/responses?user=bob", {}, "staff", 200),
        ("GET", "/users", {}, "owner", 200),
        ("POST", "/users", {"json": {"name": f"new-{role}", "role": "annotator"}}, "owner", 201),
        ("POST", f"/users/{me or 'alice'}/keys", {}, "any", 201),
        ("POST", "/users/bob/keys", {}, "owner", 201),
        # the records browser (issue 20): staff read, owners act
        ("GET", "/browse/records?q=record&limit=2", {}, "staff", 200),
        ("GET", "/browse/count", {}, "staff", 200),
        ("GET", f"/browse/records/{other_id}", {}, "staff", 200),
        ("GET", "/browse/formats", {}, "staff", 200),
        ("POST", "/browse/actions", {"json": {"action": "front", "ids": [other_id]}}, "owner", 200),
    ]
    wrong = []
    for method, path, kw, rule, ok_status in routes:
        r = env.api(method, path, me, **kw)
        want = _expected(role, rule)
        want = ok_status if want == 200 else want
        got = r.status_code
        if got >= 400:
            code = api_error(r)[1]
            want_code = {401: "unauthenticated", 403: "forbidden"}.get(want)
            if want_code is not None and code != want_code:
                wrong.append(f"{method} {path}: code {code!r}, expected {want_code!r}")
        if got != want:
            wrong.append(f"{method} {path}: {got} {r.text[:120]}, expected {want}")
    assert not wrong, f"as {role}:\n" + "\n".join(wrong)
    # the writes that were allowed reached the database, the refused ones did not
    names = {row.name for row in env.query("SELECT name FROM users")}
    assert (f"new-{role}" in names) == (role == "owner")
    texts = [row[0] for row in env.query("SELECT text FROM guidelines ORDER BY version")]
    assert texts == ["# Rules\n\nBe careful."] + (["# by olive"] if role == "owner" else [])
    owner = role == "owner"
    assert env.query("SELECT count(*) FROM records")[0][0] == (6 if owner else 5)
    assert env.query("SELECT count(*) FROM suggestions")[0][0] == (1 if owner else 0)
    drafts = {(r[0], r[1]) for r in env.query('SELECT record_id, "user" FROM responses')}
    assert drafts == ({(env.rid(me, leased), me)} if me else set())


# ---------------------------------------------------------------- forbidden, one by one


def test_annotator_cannot_read_another_annotators_responses(api_env: Any, api_error: Any) -> None:
    env = api_env
    rid = env.next("bob")["record"]["id"]
    assert env.answer("bob", rid, {"label": "neuro"}).status_code == 200
    r = env.api("GET", "/responses?user=bob", "alice")
    assert api_error(r) == (403, "forbidden")
    r = env.api("GET", f"/responses?user=bob&record_id={rid}", "alice")
    assert api_error(r) == (403, "forbidden")
    # without a user filter an annotator's listing is their own, even for bob's record
    assert env.ok("GET", f"/responses?record_id={rid}", "alice") == {"responses": []}
    assert env.ok("GET", "/responses?status=submitted", "alice") == {"responses": []}
    # staff see bob's answer
    (resp,) = env.ok("GET", "/responses?user=bob", "rita")["responses"]
    assert resp["values"] == {"label": "neuro"} and resp["user"] == "bob"


def test_annotator_cannot_read_a_record_leased_to_someone_else(
    api_env: Any, api_error: Any
) -> None:
    env = api_env
    handle = env.next("bob")["record"]["id"]
    rid = env.rid("bob", handle)
    mine = env.name("alice", rid)  # alice's own handle of bob's record
    assert api_error(env.api("GET", f"/records/{mine}", "alice")) == (403, "forbidden")
    r = env.answer("alice", rid, {"label": "onco"})
    assert api_error(r) == (403, "forbidden")
    # bob's handle means nothing to alice: no record, as for any made-up handle
    assert api_error(env.api("GET", f"/records/{handle}", "alice")) == (404, "not_found")
    assert api_error(env.answer("alice", handle, {"label": "onco"})) == (404, "not_found")
    assert env.query("SELECT id FROM responses") == []
    # bob, who holds the lease, and staff may read it
    assert env.ok("GET", f"/records/{handle}", "bob")["record"]["id"] == handle
    assert env.ok("GET", f"/records/{rid}", "rita")["record"]["id"] == rid


def test_blind_mode_annotators_never_see_other_values(make_api_env: Any) -> None:
    env = make_api_env(records=2, settings={"overlap": 2})
    first = env.next_id("bob")
    assert first is not None and env.next_id("alice") == first
    assert env.answer("bob", first, {"label": "neuro"}).status_code == 200
    assert env.answer("alice", first, {"label": "cardio"}).status_code == 200
    env.answer("carol", first, {"label": "onco"})  # refused either way; must not leak
    for user, mine in (("alice", "cardio"), ("bob", "neuro")):
        other = "bob" if user == "alice" else "alice"
        listing = env.ok("GET", "/responses", user)["responses"]
        assert [(r["user"], r["values"]["label"]) for r in listing] == [(user, mine)]
        item = env.ok("GET", f"/records/{env.name(user, first)}", user)
        assert item["response"]["user"] == user and item["response"]["values"] == {"label": mine}
        prev = env.ok("GET", "/queue/previous", user)["item"]
        assert prev["response"]["values"] == {"label": mine}
        body = str(env.ok("GET", "/progress", user))
        assert other not in body
    assert len(env.ok("GET", f"/responses?record_id={first}", "olive")["responses"]) == 2


def test_blind_off_lets_annotators_compare_answers(make_api_env: Any) -> None:
    env = make_api_env(records=2, settings={"overlap": 2, "blind": False})
    first = env.next("bob")["record"]["id"]
    assert env.answer("bob", first, {"label": "neuro"}).status_code == 200
    listing = env.ok("GET", "/responses?user=bob", "alice")["responses"]
    assert [(r["user"], r["values"]) for r in listing] == [("bob", {"label": "neuro"})]
    assert len(env.ok("GET", "/responses", "alice")["responses"]) == 1


@pytest.mark.parametrize("user", ["alice", "rita"])
def test_only_owners_change_guidelines(api_env: Any, api_error: Any, user: str) -> None:
    env = api_env
    env.ok("PUT", "/guidelines", "olive", json={"markdown": "v1"})
    r = env.api("PUT", "/guidelines", user, json={"markdown": "hijacked"})
    assert api_error(r) == (403, "forbidden")
    assert "guidelines" in r.json()["error"]["message"]
    assert [row.text for row in env.query("SELECT text FROM guidelines")] == ["v1"]


@pytest.mark.parametrize("user", ["alice", "rita"])
def test_only_owners_add_records_suggestions_and_users(
    api_env: Any, api_error: Any, user: str
) -> None:
    env = api_env
    before = env.query("SELECT count(*) FROM records")[0][0]
    r = env.api("POST", "/records", user, json={"records": [{"fields": {"text": "sneaky"}}]})
    assert api_error(r) == (403, "forbidden")
    body = {"suggestions": [{"record_id": 1, "question": "label", "value": "onco", "agent": "x"}]}
    assert api_error(env.api("POST", "/suggestions", user, json=body)) == (403, "forbidden")
    r = env.api("POST", "/users", user, json={"name": "mallory", "role": "owner"})
    assert api_error(r) == (403, "forbidden")
    assert api_error(env.api("GET", "/users", user)) == (403, "forbidden")
    assert api_error(env.api("POST", "/users/bob/keys", user)) == (403, "forbidden")
    assert env.query("SELECT count(*) FROM records")[0][0] == before
    assert env.query("SELECT count(*) FROM suggestions")[0][0] == 0
    assert env.query("SELECT count(*) FROM users WHERE name = 'mallory'")[0][0] == 0
    keys = env.query(
        "SELECT count(*) FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.name = 'bob'"
    )
    assert keys[0][0] == 1


def test_annotator_cannot_list_records_or_read_status(api_env: Any, api_error: Any) -> None:
    assert api_error(api_env.api("GET", "/records", "alice")) == (403, "forbidden")
    assert api_error(api_env.api("GET", "/status", "alice")) == (403, "forbidden")


def test_annotators_create_their_own_api_keys(api_env: Any) -> None:
    env = api_env
    key = env.ok("POST", "/users/alice/keys", "alice")["key"]
    assert key.startswith("gsk_") and key != env.keys["alice"]
    r = env.client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert r.json() == {"name": "alice", "role": "annotator"}
    assert env.query("SELECT count(*) FROM api_keys")[0][0] == 6


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer gsk_not-a-key",
        "Bearer ",
        "Bearer",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        "gsk_naked-key-without-scheme",
        "Token abc",
    ],
    ids=["none", "unknown", "empty", "scheme-only", "basic", "no-scheme", "token"],
)
def test_bad_credentials_are_401(api_env: Any, api_error: Any, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("GET", "/me"), ("GET", "/queue/next"), ("PUT", "/guidelines")):
        kw = {"json": {"markdown": "x"}} if method == "PUT" else {}
        r = api_env.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        assert api_error(r) == (401, "unauthenticated"), (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
    assert api_env.query("SELECT count(*) FROM leases")[0][0] == 0
    assert api_env.query("SELECT count(*) FROM guidelines")[0][0] == 0


def test_a_valid_key_with_a_bad_one_appended_is_refused(api_env: Any, api_error: Any) -> None:
    key = api_env.keys["olive"]
    for bad in (key + "x", key[:-1], key.upper()):
        r = api_env.client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert api_error(r) == (401, "unauthenticated")
    r = api_env.client.get("/api/v1/me", headers={"Authorization": f"bearer   {key}  "})
    assert r.json() == {"name": "olive", "role": "owner"}  # scheme is case-insensitive


# ---------------------------------------------------------------- bodies of each route


def test_me_task_progress_and_status(api_env: Any) -> None:
    env = api_env
    assert env.ok("GET", "/me", "rita") == {"name": "rita", "role": "reviewer"}
    task = env.ok("GET", "/task", "alice")
    assert set(task) == {"name", "fields", "questions", "keys", "overlap", "show_metadata"}
    assert task["overlap"] == 1 and task["questions"][0]["labels"] == ["cardio", "onco", "neuro"]
    assert task["keys"]["submit"] == "Enter"
    empty = {"submitted": 0, "discarded": 0, "draft": 0}
    assert env.ok("GET", "/progress", "alice") == {"total": 5, "complete": 0, "mine": empty}
    rid = env.next("alice")["record"]["id"]
    env.ok("PUT", f"/records/{rid}/response", "alice", json={"values": {"label": "onco"}})
    progress = env.ok("GET", "/progress", "alice")
    assert progress == {"total": 5, "complete": 1, "mine": {**empty, "submitted": 1}}
    assert env.ok("GET", "/progress", "bob")["mine"] == empty
    status = env.ok("GET", "/status", "olive")
    assert status["records"]["total"] == 5 and status["records"]["annotated"] == 1
    assert status["store"] == ("sqlite" if env.db.backend == "sqlite" else "postgresql")


def test_guidelines_are_versioned(api_env: Any, api_error: Any) -> None:
    env = api_env
    assert env.ok("GET", "/guidelines", "alice") == {"version": None, "markdown": "", "html": ""}
    assert api_error(env.api("GET", "/guidelines?version=1", "alice")) == (404, "not_found")
    assert env.ok("PUT", "/guidelines", "olive", json={"markdown": "# One"}) == {"version": 1}
    assert env.ok("PUT", "/guidelines", "olive", json={"markdown": "# One"}) == {"version": 1}
    assert env.ok("PUT", "/guidelines", "olive", json={"markdown": "# Two *now*"}) == {"version": 2}
    latest = env.ok("GET", "/guidelines", "alice")
    assert latest["version"] == 2 and latest["markdown"] == "# Two *now*"
    assert latest["html"] == "<h1>Two <em>now</em></h1>\n"
    assert env.ok("GET", "/guidelines?version=1", "bob")["markdown"] == "# One"
    assert api_error(env.api("GET", "/guidelines?version=3", "bob")) == (404, "not_found")
    assert api_error(env.api("GET", "/guidelines?version=0", "bob")) == (422, "invalid")
    assert api_error(env.api("PUT", "/guidelines", "olive", json={})) == (422, "invalid")
    # a response is stamped with the guideline version it was given under
    rid = env.next("alice")["record"]["id"]
    env.ok("PUT", f"/records/{rid}/response", "alice", json={"values": {"label": "onco"}})
    assert env.query("SELECT guideline_version FROM responses")[0][0] == 2


def test_guidelines_html_escapes_raw_html_and_drops_javascript_links(api_env: Any) -> None:
    markdown = (
        "# Rules\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [ok](https://example.org/guide) [rel](/annotate)\n"
    )
    api_env.ok("PUT", "/guidelines", "olive", json={"markdown": markdown})
    html = api_env.ok("GET", "/guidelines", "alice")["html"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;img" in html
    assert "javascript:" not in html.replace("[click](javascript:alert(1))", "")
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/guide">ok</a>' in html
    assert '<a href="/annotate">rel</a>' in html


def test_add_records_returns_stored_ids_for_duplicates(api_env: Any, api_error: Any) -> None:
    env = api_env
    body = {
        "records": [
            {
                "fields": {"text": "Aspirin lowers risk"},
                "metadata": {"src": "a"},
                "external_id": "a-1",
            },
            {"fields": {"text": "record number 0"}},  # stored by the fixture
            {"fields": {"text": "  ASPIRIN   lowers risk "}},  # same after normalisation
        ]
    }
    out = env.ok("POST", "/records", "olive", json=body)
    first = env.record_ids[0]
    assert out["inserted"] == 1 and out["duplicates"] == 2
    assert out["ids"][1] == first and out["ids"][0] == out["ids"][2]
    again = env.ok("POST", "/records", "olive", json={"records": body["records"][:1]})
    assert again == {"ids": [out["ids"][0]], "inserted": 0, "duplicates": 1}
    item = env.ok("GET", f"/records/{out['ids'][0]}", "olive")
    assert item["record"] == {
        "id": out["ids"][0],
        "fields": {"text": "Aspirin lowers risk"},
        "metadata": {"src": "a"},
        "external_id": "a-1",
    }
    assert item["suggestions"] == [] and item["response"] is None
    assert env.query("SELECT count(*) FROM records")[0][0] == 6
    for bad in (
        {"records": []},
        {"records": [{"fields": {"other": "x"}}]},
        {"records": [{"text": "no fields"}]},
        {"rows": []},
    ):
        assert api_error(env.api("POST", "/records", "olive", json=bad)) == (422, "invalid"), bad
    assert env.query("SELECT count(*) FROM records")[0][0] == 6


def test_list_records_pages(api_env: Any) -> None:
    env = api_env
    page = env.ok("GET", "/records?offset=1&limit=2", "rita")
    assert page["total"] == 5
    assert [r["id"] for r in page["records"]] == env.record_ids[1:3]
    assert page["records"][0]["fields"] == {"text": "record number 1"}
    everything = env.ok("GET", "/records?limit=1000", "olive")["records"]
    assert [r["id"] for r in everything] == env.record_ids


def test_get_record_errors(api_env: Any, api_error: Any) -> None:
    assert api_error(api_env.api("GET", "/records/99999", "olive")) == (404, "not_found")
    assert api_error(api_env.api("GET", "/records/0", "olive")) == (422, "invalid")
    assert api_error(api_env.api("GET", "/records/abc", "olive")) == (422, "invalid")
    r = api_env.api("PUT", "/records/99999/response", "olive", json={"values": {}})
    assert api_error(r) == (404, "not_found")


def test_suggestions_are_checked_and_shown_with_the_item(api_env: Any, api_error: Any) -> None:
    env = api_env
    rid = env.record_ids[0]
    body = {
        "suggestions": [
            {
                "record_id": rid,
                "question": "label",
                "value": "cardio",
                "agent": "tfidf@1",
                "score": 0.91,
            },
            {
                "record_id": rid,
                "question": "label",
                "value": "onco",
                "agent": "llm@2",
                "kind": "llm",
            },
        ]
    }
    assert env.ok("POST", "/suggestions", "olive", json=body) == {"inserted": 2}
    item = env.next("alice")
    handle = item["record"]["id"]  # alice's name for the record: her handle, never its id
    assert env.rid("alice", handle) == rid
    got = sorted(item["suggestions"], key=lambda s: s["agent"])
    assert got == [
        {
            "record_id": handle,
            "question": "label",
            "value": "onco",
            "agent": "llm@2",
            "kind": "llm",
            "score": None,
        },
        {
            "record_id": handle,
            "question": "label",
            "value": "cardio",
            "agent": "tfidf@1",
            "kind": "model",
            "score": 0.91,
        },
    ]
    bad_value = {"suggestions": [{**body["suggestions"][0], "value": "dermato"}]}
    r = env.api("POST", "/suggestions", "olive", json=bad_value)
    assert api_error(r) == (422, "invalid") and "label" in r.json()["error"]["message"]
    bad_question = {"suggestions": [{**body["suggestions"][0], "question": "mood"}]}
    r = env.api("POST", "/suggestions", "olive", json=bad_question)
    assert api_error(r) == (422, "invalid") and "mood" in r.json()["error"]["message"]
    bad_score = {"suggestions": [{**body["suggestions"][0], "score": 1.5}]}
    assert api_error(env.api("POST", "/suggestions", "olive", json=bad_score)) == (422, "invalid")
    assert env.query("SELECT count(*) FROM suggestions")[0][0] == 2


def test_a_suggestion_for_a_missing_record_is_not_found(api_env: Any, api_error: Any) -> None:
    """docs/server.md: 404 ``not_found`` for "no such record" (not a 409 from the store)."""
    body = {
        "suggestions": [{"record_id": 99999, "question": "label", "value": "onco", "agent": "a"}]
    }
    r = api_env.api("POST", "/suggestions", "olive", json=body)
    assert api_error(r) == (404, "not_found"), r.text
    assert api_env.query("SELECT count(*) FROM suggestions")[0][0] == 0


def test_responses_filters_for_staff(make_api_env: Any) -> None:
    env = make_api_env(records=3, settings={"overlap": 2})
    a1 = env.next_id("alice")
    assert env.answer("alice", a1, {"label": "onco"}).status_code == 200
    assert env.next_id("bob") == a1
    assert env.answer("bob", a1, {}, status="discarded").status_code == 200
    a2 = env.next_id("alice")
    assert env.answer("alice", a2, {"label": "neuro"}, status="draft").status_code == 200

    def pairs(query: str) -> list[tuple[str, int, str]]:
        found = env.ok("GET", f"/responses{query}", "rita")["responses"]
        return [(r["user"], r["record_id"], r["status"]) for r in found]

    assert pairs("") == [
        ("alice", a1, "submitted"),
        ("bob", a1, "discarded"),
        ("alice", a2, "draft"),
    ]
    assert pairs("?user=alice") == [("alice", a1, "submitted"), ("alice", a2, "draft")]
    assert pairs("?status=discarded") == [("bob", a1, "discarded")]
    assert pairs(f"?record_id={a2}") == [("alice", a2, "draft")]
    assert pairs("?limit=1&offset=1") == [("bob", a1, "discarded")]
    assert pairs("?user=nobody") == []
    assert env.api("GET", "/responses?status=weird", "rita").status_code == 422


def test_users_are_added_listed_and_unique(api_env: Any, api_error: Any) -> None:
    env = api_env
    out = env.ok("POST", "/users", "olive", json={"name": "dora", "role": "reviewer"})
    assert out["name"] == "dora" and out["role"] == "reviewer" and len(out["password"]) >= 16
    given = env.ok("POST", "/users", "olive", json={"name": "eve", "password": "long enough pw"})
    assert given == {"name": "eve", "role": "annotator", "password": "long enough pw"}
    users = env.ok("GET", "/users", "olive")["users"]
    assert users[-2:] == [
        {"name": "dora", "role": "reviewer"},
        {"name": "eve", "role": "annotator"},
    ]
    assert {"name": "olive", "role": "owner"} in users
    r = env.api("POST", "/users", "olive", json={"name": "dora", "role": "annotator"})
    assert api_error(r) == (409, "conflict") and "dora" in r.json()["error"]["message"]
    for bad in (
        {"name": "has space"},
        {"name": "x", "role": "admin"},
        {"name": "shorty", "password": "short"},
        {"name": ""},
        {"name": "ok", "extra": True},
    ):
        assert api_error(env.api("POST", "/users", "olive", json=bad)) == (422, "invalid"), bad
    key = env.ok("POST", "/users/dora/keys", "olive")["key"]
    r = env.client.get("/api/v1/status", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200  # dora is a reviewer
    assert api_error(env.api("POST", "/users/nobody/keys", "olive")) == (404, "not_found")


def test_unknown_routes_and_methods_keep_the_error_shape(api_env: Any, api_error: Any) -> None:
    assert api_error(api_env.api("GET", "/nope", "olive")) == (404, "not_found")
    assert api_error(api_env.api("DELETE", "/me", "olive")) == (405, "method_not_allowed")
    r = api_env.api(
        "PUT",
        "/guidelines",
        "olive",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert api_error(r) == (422, "invalid")


def test_openapi_lists_every_route(api_env: Any) -> None:
    schema = api_env.client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert routes == {
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/task"),
        ("GET", "/api/v1/guidelines"),
        ("PUT", "/api/v1/guidelines"),
        ("GET", "/api/v1/progress"),
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/queue/next"),
        ("GET", "/api/v1/queue/previous"),
        ("GET", "/api/v1/records"),
        ("POST", "/api/v1/records"),
        ("GET", "/api/v1/records/{record_id}"),
        ("PUT", "/api/v1/records/{record_id}/response"),
        ("POST", "/api/v1/suggestions"),
        ("GET", "/api/v1/responses"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("POST", "/api/v1/users/{name}/keys"),
        ("GET", "/api/v1/reviews"),
        ("POST", "/api/v1/reviews/{review_id}"),
        ("POST", "/api/v1/reviews/{review_id}/undo"),
        ("GET", "/api/v1/reviews/{review_id}/history"),
        ("GET", "/api/v1/feedback"),
        ("GET", "/api/v1/feedback/{record_id}"),
        ("POST", "/api/v1/feedback/seen"),
        ("GET", "/api/v1/qa/annotators"),
        ("POST", "/api/v1/users/{name}/resume"),
        ("GET", "/api/v1/browse/records"),
        ("GET", "/api/v1/browse/count"),
        ("GET", "/api/v1/browse/records/{record_id}"),
        ("GET", "/api/v1/browse/formats"),
        ("POST", "/api/v1/browse/actions"),
        ("POST", "/api/v1/browse/export"),
        ("GET", "/api/v1/jobs/{job_id}"),
        ("GET", "/api/v1/jobs/{job_id}/files/{name}"),
    }
