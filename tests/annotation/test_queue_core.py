"""The annotation queue and the access module as a library, without HTTP.

Time is passed explicitly (``now=``) so lease expiry is tested without sleeping. Runs on
SQLite and PostgreSQL through the shared ``store`` fixture.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from goldsmith.access import credentials, users
from goldsmith.annotation import queue
from goldsmith.errors import AuthenticationError, ConflictError, NotFoundError, SchemaError
from goldsmith.ingest.rows import add_rows
from goldsmith.schema import ResponseStatus, Role, Task
from goldsmith.store import Store
from goldsmith.store.tables import api_keys, leases, records, responses
from goldsmith.store.tables import users as users_table

T0 = 1_000_000.0
SUBMITTED, DISCARDED, DRAFT = (
    ResponseStatus.SUBMITTED,
    ResponseStatus.DISCARDED,
    ResponseStatus.DRAFT,
)


def _task(overlap: int = 1, lease_seconds: int = 60) -> Task:
    return Task.model_validate(
        {
            "name": "t",
            "fields": [{"name": "text"}],
            "questions": [
                {"name": "label", "kind": "label", "labels": ["a", "b"]},
                {"name": "note", "kind": "text", "required": False},
            ],
            "settings": {"overlap": overlap, "lease_seconds": lease_seconds},
        }
    )


def _records(store: Store, task: Task, n: int) -> list[int]:
    return add_rows(store, task, [{"fields": {"text": f"text {i}"}} for i in range(n)]).ids


def _next(store: Store, task: Task, user: str, now: float) -> int | None:
    item = queue.next_item(store, task, user, now=now)
    return None if item is None else item.record.id


def _leases(store: Store) -> dict[tuple[int, str], float]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(leases.c.record_id, leases.c.user, leases.c.expires_at))
        return {(r[0], r[1]): r[2] for r in rows}


def _table(store: Store, table: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(table)))


# ---------------------------------------------------------------- leases


def test_a_lease_lasts_lease_seconds_then_the_record_returns(store: Store) -> None:
    task = _task(overlap=1, lease_seconds=60)
    r1, r2 = _records(store, task, 2)
    item = queue.next_item(store, task, "alice", now=T0)
    assert item is not None and item.record.id == r1
    assert item.lease_expires_at == T0 + 60 and item.response is None
    assert _next(store, task, "bob", T0) == r2
    assert _next(store, task, "carol", T0 + 59) is None  # both leased, overlap 1
    assert _next(store, task, "carol", T0 + 60) == r1  # alice's lease ended at T0 + 60
    assert _next(store, task, "alice", T0 + 61) == r2  # bob's has ended too
    leased = _leases(store)
    assert leased[(r1, "carol")] == T0 + 120 and leased[(r2, "alice")] == T0 + 121
    assert (r1, "alice") not in leased  # her expired lease was cleared when she asked again
    # reading the record: alice's lease on r1 is gone, carol's is live
    assert queue.get_item(store, r1, "alice", now=T0 + 61).lease_expires_at is None
    assert queue.get_item(store, r1, "carol", now=T0 + 61).lease_expires_at == T0 + 120


def test_asking_again_renews_the_same_lease(store: Store) -> None:
    task = _task(lease_seconds=60)
    r1, _ = _records(store, task, 2)
    assert _next(store, task, "alice", T0) == r1
    assert _next(store, task, "alice", T0 + 30) == r1
    assert _leases(store) == {(r1, "alice"): T0 + 90}


def test_overlap_caps_live_leases_per_record(store: Store) -> None:
    task = _task(overlap=3)
    r1, r2 = _records(store, task, 2)
    got = {u: _next(store, task, u, T0) for u in ("u1", "u2", "u3", "u4", "u5", "u6", "u7")}
    assert got == {"u1": r1, "u2": r1, "u3": r1, "u4": r2, "u5": r2, "u6": r2, "u7": None}
    queue.answer(store, task, "u1", r1, {"label": "a"}, SUBMITTED)
    assert _next(store, task, "u7", T0) is None  # r1: 1 submitted + 2 live leases = 3
    queue.answer(store, task, "u2", r1, {}, DISCARDED)  # a skip frees a place
    assert _next(store, task, "u7", T0) == r1
    per_record: dict[int, int] = {}
    for rid, _user in _leases(store):
        per_record[rid] = per_record.get(rid, 0) + 1
    assert per_record == {r1: 2, r2: 3}


def test_answered_records_are_never_served_again(store: Store) -> None:
    task = _task(overlap=2)
    r1, r2, r3 = _records(store, task, 3)
    assert _next(store, task, "alice", T0) == r1
    queue.answer(store, task, "alice", r1, {}, DISCARDED)
    assert _next(store, task, "alice", T0) == r2
    queue.answer(store, task, "alice", r2, {"label": "b"}, SUBMITTED)
    assert _next(store, task, "alice", T0) == r3
    queue.answer(store, task, "alice", r3, {"label": "a"}, SUBMITTED)
    assert _next(store, task, "alice", T0 + 10_000) is None
    assert _leases(store) == {}
    assert queue.progress(store, "alice") == {
        "total": 3,
        "complete": 0,
        "mine": {"draft": 0, "submitted": 2, "discarded": 1},
    }


# ---------------------------------------------------------------- answering


def test_answer_rules(store: Store) -> None:
    task = _task(overlap=1)
    r1, r2 = _records(store, task, 2)
    assert _next(store, task, "alice", T0) == r1
    with pytest.raises(SchemaError, match="label"):
        queue.answer(store, task, "alice", r1, {"note": "only a note"}, SUBMITTED)
    with pytest.raises(SchemaError, match="label"):
        queue.answer(store, task, "alice", r1, {"label": "z"}, DRAFT)
    with pytest.raises(SchemaError, match="mood"):
        queue.answer(store, task, "alice", r1, {"label": "a", "mood": 1}, SUBMITTED)
    with pytest.raises(NotFoundError):
        queue.answer(store, task, "alice", 999_999, {"label": "a"}, SUBMITTED)
    draft = queue.answer(store, task, "alice", r1, {"note": "hmm"}, DRAFT)
    assert draft.status == DRAFT and (r1, "alice") in _leases(store)
    assert queue.progress(store, "alice")["complete"] == 0
    queue.answer(store, task, "bob", r1, {"label": "b"}, SUBMITTED)  # staff-style direct answer
    with pytest.raises(ConflictError, match="already has its 1"):
        queue.answer(store, task, "alice", r1, {"label": "a"}, SUBMITTED)
    queue.answer(store, task, "bob", r1, {"label": "a", "note": "changed"}, SUBMITTED)
    with pytest.raises(ConflictError, match="already submitted"):
        queue.answer(store, task, "bob", r1, {"label": "a"}, DRAFT)
    rows = {(r.user, r.status) for r in _table(store, responses)}
    assert rows == {("alice", "draft"), ("bob", "submitted")}
    (rec,) = [r for r in _table(store, records) if r.id == r1]
    assert rec.n_submitted == 1 and rec.queue_done
    assert queue.get_item(store, r2, "alice", now=T0).response is None


def test_responses_are_stamped_with_the_latest_guidelines(store: Store) -> None:
    task = _task()
    (r1,) = _records(store, task, 1)
    with store.write() as tx:
        tx.add_guideline("v1")
        tx.add_guideline("v2")
    response = queue.answer(store, task, "alice", r1, {"label": "a"}, SUBMITTED, time_spent=2.5)
    assert response.guideline_version == 2
    (row,) = _table(store, responses)
    assert row.guideline_version == 2 and row.time_spent == 2.5


def test_previous_item_walks_back_through_own_answers(store: Store) -> None:
    task = _task(overlap=2)
    r1, r2, r3, r4 = _records(store, task, 4)
    for rid in (r1, r2, r3):
        assert _next(store, task, "alice", T0) == rid
        queue.answer(store, task, "alice", rid, {"label": "a"}, SUBMITTED)
    assert _next(store, task, "alice", T0) == r4
    queue.answer(store, task, "alice", r4, {"note": "later"}, DRAFT)  # a draft is not history
    queue.answer(store, task, "bob", r1, {"label": "b"}, SUBMITTED)

    def prev(before: int | None) -> int | None:
        item = queue.previous_item(store, "alice", before, now=T0)
        return None if item is None else item.record.id

    assert prev(None) == r3
    assert prev(r4) == r3
    assert prev(r3) == r2
    assert prev(r2) == r1
    assert prev(r1) is None
    item = queue.previous_item(store, "alice", r2, now=T0)
    assert item is not None and item.response is not None and item.response.user == "alice"
    assert queue.previous_item(store, "carol", None) is None


# ---------------------------------------------------------------- users, keys, sessions


def test_users_are_validated_and_unique(store: Store) -> None:
    pw = users.add_user(store, "alice", "annotator")
    assert len(pw) == 16
    assert users.add_user(store, "olive", Role.OWNER, "a long password") == "a long password"
    with pytest.raises(ConflictError, match="alice"):
        users.add_user(store, "alice", "reviewer", "another password")
    for name in ("", "has space", "-dash-first", "x" * 129, "semi;colon"):
        with pytest.raises(SchemaError, match="user name"):
            users.add_user(store, name, "annotator", "long enough")
    with pytest.raises(SchemaError, match="role"):
        users.add_user(store, "rex", "admin", "long enough")
    with pytest.raises(SchemaError, match="8 characters"):
        users.add_user(store, "rex", "annotator", "short")
    stored = {r.name: r for r in _table(store, users_table)}
    assert set(stored) == {"alice", "olive"}
    assert stored["alice"].role == "annotator" and stored["olive"].role == "owner"
    assert stored["alice"].password_hash.startswith("$argon2id$")
    assert pw not in stored["alice"].password_hash


def test_passwords_check_with_one_message_for_every_failure(store: Store) -> None:
    users.add_user(store, "alice", "annotator", "right password")
    assert users.check_password(store, "alice", "right password").name == "alice"
    messages = set()
    for name, password in (("alice", "wrong password"), ("nobody", "right password")):
        with pytest.raises(AuthenticationError) as err:
            users.check_password(store, name, password)
        messages.add(str(err.value))
    assert messages == {"wrong user name or password"}


def test_api_keys_are_stored_as_digests(store: Store) -> None:
    with store.write() as tx:
        tx.add_user("alice", Role.ANNOTATOR, None)
    key = users.create_api_key(store, "alice")
    assert key.startswith(credentials.KEY_PREFIX) and len(key) > 40
    assert users.user_for_key(store, key).name == "alice"
    (row,) = _table(store, api_keys)
    assert row.digest == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[:8]
    with pytest.raises(AuthenticationError):
        users.user_for_key(store, key + "x")
    with pytest.raises(NotFoundError):
        users.create_api_key(store, "nobody")
    # a user without a password cannot log in with any password
    with pytest.raises(AuthenticationError):
        users.check_password(store, "alice", "")


def test_sessions_open_expire_and_close(store: Store) -> None:
    with store.write() as tx:
        user = tx.add_user("alice", Role.ANNOTATOR, None)
    token, csrf = users.open_session(store, user)
    assert token != csrf
    found, found_csrf = users.session_user(store, token)
    assert found.name == "alice" and found_csrf == csrf
    with pytest.raises(AuthenticationError):
        users.session_user(store, token + "x")
    old, _ = users.open_session(store, user, seconds=-1)  # already expired
    with pytest.raises(AuthenticationError, match="expired"):
        users.session_user(store, old)
    users.close_session(store, token)
    with pytest.raises(AuthenticationError):
        users.session_user(store, token)


def test_credentials_primitives() -> None:
    hashed = credentials.hash_password("s3cret pass")
    assert hashed.startswith("$argon2id$")
    assert credentials.verify_password(hashed, "s3cret pass")
    assert not credentials.verify_password(hashed, "s3cret pasS")
    assert not credentials.verify_password(None, "anything")
    assert not credentials.verify_password("not-a-hash", "anything")
    assert credentials.digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert credentials.new_token() != credentials.new_token()
