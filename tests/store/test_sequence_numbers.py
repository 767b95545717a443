"""Each user's own record numbers ("#37 in your queue", issue 19): ``responses.seq``, given
when a response is first saved and kept when it is replaced; migration 0008 numbers the
responses a store already holds (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from goldsmith.schema import Record, Response, ResponseStatus, content_hash
from goldsmith.store import Store
from goldsmith.store.engine import MIGRATIONS, head_revision


def _alembic(conn: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _records(store: Store, n: int) -> list[int]:
    fields = [{"text": f"r{i}"} for i in range(n)]
    recs = [Record(fields=f, content_hash=content_hash(f)) for f in fields]
    with store.write() as tx:
        return tx.insert_records(recs)


def test_numbers_are_given_once_per_user_in_order(store: Store) -> None:
    ids = _records(store, 4)
    with store.write() as tx:
        assert tx.sequence_number("alice", ids[2], answered=False) == 1
        for rid in (ids[2], ids[0]):
            tx.answer(Response(rid, "alice", {"x": 1}, ResponseStatus.DRAFT), overlap=1)
        tx.answer(Response(ids[0], "bob", {"x": 1}, ResponseStatus.SUBMITTED), overlap=2)
        # replacing a response (a draft submitted, a skip answered) keeps its number
        tx.answer(Response(ids[2], "alice", {"x": 2}, ResponseStatus.SUBMITTED), overlap=1)
        tx.upsert_responses([Response(ids[3], "alice", {"x": 3}, ResponseStatus.SUBMITTED)])
    with store.read() as tx:
        assert [tx.sequence_number("alice", r, answered=True) for r in (ids[2], ids[0])] == [1, 2]
        assert tx.sequence_number("alice", ids[3], answered=True) == 3
        assert tx.sequence_number("alice", ids[1], answered=False) == 4  # the next one
        assert tx.sequence_number("bob", ids[0], answered=True) == 1  # each user their own
        assert tx.sequence_numbers("alice", ids) == {ids[2]: 1, ids[0]: 2, ids[3]: 3}


def test_migration_0008_numbers_the_responses_a_store_holds(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    old = Store(url, schema=schema, migrate=False)
    try:
        with old.engine.begin() as conn:
            command.upgrade(_alembic(conn), "0007")
        ids = _records(old, 5)
        with old.engine.begin() as conn:  # as goldsmith 0007 wrote them: no numbers
            for rid, user in [(ids[3], "ann"), (ids[1], "bob"), (ids[0], "ann"), (ids[4], "ann")]:
                conn.execute(
                    text(
                        'INSERT INTO responses (record_id, "user", "values", status) '
                        "VALUES (:r, :u, '{}', 'submitted')"
                    ),
                    {"r": rid, "u": user},
                )
    finally:
        old.close()
    new = Store(url, schema=schema)  # opening migrates to head
    try:
        assert new.revision() == head_revision()
        with new.read() as tx:
            assert tx.sequence_numbers("ann", ids) == {ids[3]: 1, ids[0]: 2, ids[4]: 3}
            assert tx.sequence_numbers("bob", ids) == {ids[1]: 1}
        with new.write() as tx:
            tx.answer(Response(ids[2], "ann", {}, ResponseStatus.SUBMITTED), overlap=3)
            assert tx.sequence_number("ann", ids[2], answered=True) == 4
        with new.engine.begin() as conn:  # and the step back down works
            command.downgrade(_alembic(conn), "0007")
            names = set(conn.execute(text("SELECT * FROM responses LIMIT 0")).keys())
        assert "seq" not in names
    finally:
        new.close()
