"""The store on SQLite and PostgreSQL: migrations, pragmas, CRUD, upserts and transactions.

Every test that takes ``store`` runs once per backend (see ``tests/conftest.py``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect, text
from sqlalchemy.exc import IntegrityError

from goldsmith.errors import NotFoundError, StoreError, StoreVersionError
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    SuggestionKind,
    content_hash,
)
from goldsmith.store import Store
from goldsmith.store.base import CHUNK
from goldsmith.store.engine import BUSY_TIMEOUT_MS, head_revision
from goldsmith.store.tables import metadata

TABLES = {"imports", "records", "guidelines", "suggestions", "responses", "final_labels"}
TABLES |= {"meta", "users", "api_keys", "sessions", "leases", "lf_runs", "lf_votes"}
TABLES |= {"lf_spans", "embeddings", "rounds", "round_records", "honeypots", "reviews"}
TABLES |= {"feedback", "review_history", "record_events", "jobs"}


def _record(text_: str, **meta: object) -> Record:
    fields = {"text": text_}
    return Record(fields=fields, metadata=dict(meta), content_hash=content_hash(fields))


def _insert(store: Store, *texts: str) -> list[int]:
    with store.write() as tx:
        return tx.insert_records([_record(t) for t in texts])


# --------------------------------------------------------------------------- migrations


def test_open_applies_migrations_up_to_head(store: Store) -> None:
    assert store.revision() == head_revision()
    with store.read() as tx, store.engine.connect() as conn:
        assert tx.count_records() == 0
        names = set(inspect(conn).get_table_names())
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert names == TABLES | {"alembic_version"}
    assert versions == [head_revision()]


def test_reopening_a_migrated_store_keeps_its_data(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    first = Store(url, schema=schema)
    with first.write() as tx:
        tx.insert_records([_record("kept")])
    first.close()
    again = Store(url, schema=schema)
    try:
        assert again.revision() == head_revision()
        with again.read() as tx:
            assert [r.fields for r in tx.get_records([1])] == [{"text": "kept"}]
    finally:
        again.close()


def test_migrations_build_exactly_the_tables_module(store: Store) -> None:
    opts = {"compare_type": True, "compare_server_default": True}
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(ctx, metadata) == []
        # The comparison is live: a table the migrations lack shows up as a diff.
        extra = MetaData()
        for table in metadata.tables.values():
            table.to_metadata(extra)
        Table("not_migrated", extra, Column("id", Integer, primary_key=True))
        diffs = compare_metadata(ctx, extra)
    assert [(d[0], d[1].name) for d in diffs] == [("add_table", "not_migrated")]


def test_store_from_a_newer_goldsmith_is_refused(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    s = Store(url, schema=schema)
    with s.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    s.close()
    with pytest.raises(StoreVersionError, match="newer goldsmith") as info:
        Store(url, schema=schema)
    assert "9999_from_the_future" in str(info.value)
    assert "upgrade goldsmith" in str(info.value)


def test_unsupported_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unsupported store URL 'mysql://x/y'"):
        Store("mysql://x/y")


# --------------------------------------------------------------------------- sqlite settings


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    s = Store(sqlite_url)
    try:
        with s.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        s.close()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "synchronous": 1,  # NORMAL
    }


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.write() as tx:
        tx.upsert_responses([Response(record_id=424242, user="ann", values={"label": "a"})])
    with store.read() as tx:
        assert tx.responses_for([424242]) == []


def test_two_sqlite_writers_in_threads_both_commit(sqlite_url: str) -> None:
    """Read-then-write transactions deadlock when deferred; BEGIN IMMEDIATE makes them queue."""
    Store(sqlite_url).close()  # migrate once, up front
    stores = [Store(sqlite_url), Store(sqlite_url)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            with stores[n].write() as tx:
                batch = [_record(f"writer {n} row {i}") for i in range(200)]
                fresh = tx.existing_hashes([r.content_hash for r in batch])
                assert fresh == set()
                time.sleep(0.2)  # hold the write lock while the other waits
                tx.insert_records(batch)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        with stores[0].read() as tx:
            assert tx.count_records() == 400
            texts = {r.fields["text"] for batch in tx.iter_records() for r in batch}
        assert {"writer 0 row 199", "writer 1 row 0"} <= texts
    finally:
        for s in stores:
            s.close()


# --------------------------------------------------------------------------- records


def test_insert_get_and_iterate_records(store: Store) -> None:
    recs = [
        Record(
            fields={"text": "Fièvre et toux — 3 jours"},
            metadata={"site": "A", "tags": ["x", "y"], "n": 3},
            external_id="ext-1",
            source_file="in.csv",
            source_row=2,
            content_hash=content_hash({"text": "Fièvre et toux — 3 jours"}),
        ),
        _record("second"),
        _record("third"),
    ]
    with store.write() as tx:
        import_id = tx.start_import("in.csv", "csv", {"text_field": "text"})
        ids = tx.insert_records(recs, import_id=import_id)
        tx.finish_import(import_id, n_read=3, n_inserted=3)
    assert ids == [1, 2, 3]
    assert [r.id for r in recs] == ids
    with store.read() as tx:
        assert tx.count_records() == 3
        got = tx.get_records([3, 1])
        batches = [[r.id for r in batch] for batch in tx.iter_records(batch_size=2)]
        (imp,) = tx.list_imports()
        with pytest.raises(NotFoundError, match=r"no record\(s\) with id \[7\]"):
            tx.get_records([1, 7])
    assert [r.fields["text"] for r in got] == ["third", "Fièvre et toux — 3 jours"]
    first = got[1]
    assert first.metadata == {"site": "A", "tags": ["x", "y"], "n": 3}
    assert (first.external_id, first.source_file, first.source_row) == ("ext-1", "in.csv", 2)
    assert first.content_hash == content_hash({"text": "fièvre  et toux — 3 jours "})
    assert batches == [[1, 2], [3]]
    assert (imp["source"], imp["format"], imp["options"]) == (
        "in.csv",
        "csv",
        {"text_field": "text"},
    )
    assert (imp["n_read"], imp["n_inserted"], imp["n_duplicates"]) == (3, 3, 0)


def test_insert_nothing_is_a_no_op(store: Store) -> None:
    with store.write() as tx:
        assert tx.insert_records([]) == []
        assert tx.count_records() == 0


def test_existing_hashes_across_chunks(store: Store) -> None:
    n = CHUNK + 50  # more than one IN (...) chunk
    stored = [_record(f"stored {i}") for i in range(n)]
    with store.write() as tx:
        tx.insert_records(stored)
    new = [content_hash({"text": f"new {i}"}) for i in range(n)]
    with store.read() as tx:
        found = tx.existing_hashes([r.content_hash for r in stored] + new)
        assert tx.existing_hashes([]) == set()
    assert len(found) == n
    assert found == {r.content_hash for r in stored}


def test_content_hash_is_unique(store: Store) -> None:
    _insert(store, "Same text")
    with pytest.raises(StoreError, match="could not insert records"), store.write() as tx:
        tx.insert_records([_record("other"), _record("  same   TEXT ")])
    with store.read() as tx:
        assert tx.count_records() == 1
        assert [r.fields["text"] for r in tx.get_records([1])] == ["Same text"]


def test_set_dup_groups(store: Store) -> None:
    ids = _insert(store, "a", "b", "c")
    with store.write() as tx:
        tx.set_dup_groups({ids[0]: 1, ids[2]: 1})
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, dup_group FROM records ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, 1), (2, None), (3, 1)]


# --------------------------------------------------------------------------- guidelines


def test_guidelines_are_versioned_and_same_text_keeps_the_version(store: Store) -> None:
    with store.read() as tx:
        assert tx.latest_guideline_version() is None
        with pytest.raises(NotFoundError, match="goldsmith guidelines set"):
            tx.guideline()
    with store.write() as tx:
        assert tx.add_guideline("# v1\nPick one.") == 1
        assert tx.add_guideline("# v1\nPick one.") == 1
        assert tx.add_guideline("# v2\nPick the main one.") == 2
        assert tx.add_guideline("# v1\nPick one.") == 3  # differs from the latest: new version
    with store.read() as tx:
        assert tx.guideline() == (3, "# v1\nPick one.")
        assert tx.guideline(2) == (2, "# v2\nPick the main one.")
        assert tx.latest_guideline_version() == 3
        assert [v for v, _created in tx.guideline_versions()] == [1, 2, 3]
        with pytest.raises(NotFoundError, match="no guideline version 9"):
            tx.guideline(9)


# --------------------------------------------------------------------------- annotations


def test_suggestions_round_trip_and_count(store: Store) -> None:
    a, b = _insert(store, "a", "b")
    with store.write() as tx:
        n = tx.add_suggestions(
            [
                Suggestion(a, "label", "x", "clf-v1", SuggestionKind.MODEL, score=0.75),
                Suggestion(a, "label", "y", "gpt", SuggestionKind.LLM),
                Suggestion(b, "label", "x", "clf-v1", SuggestionKind.MODEL, score=0.5),
            ]
        )
        assert tx.add_suggestions([]) == 0
    assert n == 3
    with store.read() as tx:
        got = tx.suggestions_for([a])
        counts = tx.suggestion_counts()
    assert [(s.value, s.agent, s.kind, s.score) for s in got] == [
        ("x", "clf-v1", SuggestionKind.MODEL, 0.75),
        ("y", "gpt", SuggestionKind.LLM, None),
    ]
    assert counts == {"model": 2, "llm": 1}


def test_responses_upsert_replaces_per_record_and_user(store: Store) -> None:
    (rid,) = _insert(store, "a")
    with store.write() as tx:
        version = tx.add_guideline("g")
        tx.upsert_responses([Response(rid, "ann", {"label": "x"}, guideline_version=version)])
        tx.upsert_responses(
            [
                Response(rid, "ann", {"label": "y"}, ResponseStatus.DRAFT, time_spent=4.5),
                Response(rid, "bob", {"label": "x"}),
            ]
        )
        assert tx.upsert_responses([]) == 0
    with store.read() as tx:
        got = {r.user: r for r in tx.responses_for([rid])}
        submitted = tx.responses_for([rid], status=ResponseStatus.SUBMITTED)
        with_submitted = list(tx.records_with_responses(status=ResponseStatus.SUBMITTED))
    assert set(got) == {"ann", "bob"}
    ann = got["ann"]
    assert (ann.values, ann.status, ann.guideline_version, ann.time_spent) == (
        {"label": "y"},
        ResponseStatus.DRAFT,
        None,
        4.5,
    )
    assert [r.user for r in submitted] == ["bob"]
    assert with_submitted == [rid]


def test_final_labels_upsert_replaces_per_record_and_question(store: Store) -> None:
    (rid,) = _insert(store, "a")
    with store.write() as tx:
        tx.set_final_labels(
            [
                FinalLabel(rid, "label", "x", Provenance.HUMAN, 0.6),
                FinalLabel(rid, "rating", 4, Provenance.HUMAN),
            ]
        )
        tx.set_final_labels([FinalLabel(rid, "label", "y", Provenance.GOLD, 1.0)])
        assert tx.set_final_labels([]) == 0
    with store.read() as tx:
        got = sorted(tx.final_labels_for([rid]), key=lambda f: f.question)
    assert [(f.question, f.value, f.provenance, f.confidence) for f in got] == [
        ("label", "y", Provenance.GOLD, 1.0),
        ("rating", 4, Provenance.HUMAN, 1.0),
    ]


def test_iter_labeled_filters_by_provenance_and_confidence(store: Store) -> None:
    ids = _insert(store, "r1", "r2", "r3", "r4", "r5", "r6")
    labels = [
        FinalLabel(ids[0], "label", "a", Provenance.GOLD, 1.0),
        FinalLabel(ids[1], "label", "b", Provenance.HUMAN, 0.9),
        FinalLabel(ids[2], "label", "a", Provenance.WEAK, 0.95),
        FinalLabel(ids[3], "label", "b", Provenance.HUMAN, 0.4),
        FinalLabel(ids[4], "label", "a", Provenance.CONSENSUS, 0.7),
        FinalLabel(ids[4], "tags", ["t"], Provenance.LLM, 0.8),
    ]  # ids[5] has no final label
    with store.write() as tx:
        tx.set_final_labels(labels)
    with store.read() as tx:
        everything = [
            (rec.id, sorted(found)) for batch in tx.iter_labeled() for rec, found in batch
        ]
        human = [
            [(rec.fields["text"], found["label"].value) for rec, found in batch]
            for batch in tx.iter_labeled(
                provenance=[Provenance.GOLD, Provenance.HUMAN, Provenance.CONSENSUS],
                min_confidence=0.5,
                batch_size=2,
            )
        ]
        llm_only = [
            (rec.id, sorted(found))
            for batch in tx.iter_labeled(provenance=[Provenance.LLM])
            for rec, found in batch
        ]
    assert everything == [
        (1, ["label"]),
        (2, ["label"]),
        (3, ["label"]),
        (4, ["label"]),
        (5, ["label", "tags"]),
    ]
    assert human == [[("r1", "a"), ("r2", "b")], [("r5", "a")]]
    assert llm_only == [(5, ["tags"])]


def test_status_and_summary_counts(store: Store) -> None:
    ids = _insert(store, "labeled", "answered", "draft only", "untouched", "labeled+answered")
    with store.write() as tx:
        tx.set_final_labels(
            [
                FinalLabel(ids[0], "label", "a", Provenance.GOLD),
                FinalLabel(ids[4], "label", "b", Provenance.HUMAN),
                FinalLabel(ids[4], "rating", 5, Provenance.HUMAN),
            ]
        )
        tx.upsert_responses(
            [
                Response(ids[1], "ann", {"label": "a"}),
                Response(ids[2], "ann", {"label": "a"}, ResponseStatus.DRAFT),
                Response(ids[4], "ann", {"label": "b"}),
            ]
        )
    with store.read() as tx:
        assert tx.status_counts() == {"total": 5, "labeled": 2, "annotated": 1, "pending": 2}
        assert tx.final_value_counts("label") == {"a": 1, "b": 1}
        assert tx.final_value_counts("rating") == {"5": 1}
        assert tx.provenance_counts() == {"gold": 1, "human": 1}


# --------------------------------------------------------------------------- transactions


def test_a_failed_write_transaction_leaves_nothing_behind(store: Store) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.write() as tx:
        import_id = tx.start_import("x.csv", "csv", {})
        (rid,) = tx.insert_records([_record("doomed")], import_id=import_id)
        tx.add_guideline("doomed guidelines")
        tx.set_final_labels([FinalLabel(rid, "label", "a", Provenance.GOLD)])
        raise Boom
    with store.read() as tx:
        assert tx.count_records() == 0
        assert tx.list_imports() == []
        assert tx.latest_guideline_version() is None
        assert tx.status_counts() == {"total": 0, "labeled": 0, "annotated": 0, "pending": 0}


def test_sqlite_store_file_lives_where_the_url_says(tmp_path: Path) -> None:
    path = tmp_path / "nested.db"
    Store(f"sqlite:///{path}").close()
    assert path.is_file()
    assert path.stat().st_size > 0
