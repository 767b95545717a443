"""Stored embeddings on SQLite and PostgreSQL: exact round trips, upserts, what is missing,
and the 0005 migration on a store written at 0004."""

from __future__ import annotations

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from goldsmith.errors import NotFoundError, StoreError
from goldsmith.schema import Record, content_hash
from goldsmith.store import Store
from goldsmith.store.engine import MIGRATIONS, head_revision


def _add_records(store: Store, n: int, *, start: int = 0) -> list[int]:
    recs = []
    for i in range(start, start + n):
        fields = {"text": f"record number {i}"}
        recs.append(Record(fields=fields, content_hash=content_hash(fields)))
    with store.write() as tx:
        return tx.insert_records(recs)


def _awkward_vectors(n: int, d: int) -> np.ndarray:
    """float32 values whose bytes must survive: extremes, subnormals, -0.0, inf and NaN."""
    rng = np.random.default_rng(7)
    vec = rng.standard_normal((n, d)).astype(np.float32)
    f32 = np.finfo(np.float32)
    specials = np.array([f32.max, f32.tiny, 1e-45, -0.0, np.inf, np.nan], dtype=np.float32)
    vec[0, : len(specials)] = specials
    return vec


def test_vectors_round_trip_bit_for_bit(store: Store) -> None:
    ids = _add_records(store, 1200)  # more than one IN (...) chunk
    vectors = _awkward_vectors(len(ids), 48)
    with store.write() as tx:
        assert tx.put_embeddings("m@1", ids, vectors) == len(ids)
    with store.read() as tx:
        got = tx.get_embeddings("m@1", ids)
    assert got.dtype == np.float32
    assert got.tobytes() == vectors.tobytes()


def test_get_keeps_the_order_asked_and_repeats(store: Store) -> None:
    ids = _add_records(store, 5)
    vectors = np.arange(5 * 3, dtype=np.float32).reshape(5, 3)
    with store.write() as tx:
        tx.put_embeddings("m@1", ids, vectors)
    order = [ids[3], ids[0], ids[3], ids[4]]
    with store.read() as tx:
        got = tx.get_embeddings("m@1", order)
    np.testing.assert_array_equal(got, vectors[[3, 0, 3, 4]])


def test_missing_vectors_are_named(store: Store) -> None:
    ids = _add_records(store, 4)
    with store.write() as tx:
        tx.put_embeddings("m@1", ids[:2], np.ones((2, 3), np.float32))
    with store.read() as tx, pytest.raises(NotFoundError, match=rf"\[{ids[2]}, {ids[3]}\]"):
        tx.get_embeddings("m@1", ids)
    with store.read() as tx, pytest.raises(NotFoundError, match="goldsmith embed"):
        tx.get_embeddings("other@2", ids[:1])


def test_missing_embeddings_per_model_for_ids_and_for_all(store: Store) -> None:
    ids = _add_records(store, 6)
    with store.write() as tx:
        tx.put_embeddings("a@1", ids[::2], np.zeros((3, 4), np.float32))
        tx.put_embeddings("b@1", ids[:1], np.zeros((1, 8), np.float32))
    with store.read() as tx:
        assert tx.missing_embeddings("a@1", None) == ids[1::2]
        assert tx.missing_embeddings("a@1", [ids[5], ids[0], ids[1]]) == [ids[1], ids[5]]
        assert tx.missing_embeddings("b@1", None) == ids[1:]
        assert tx.missing_embeddings("c@1", ids) == ids
        assert tx.missing_embeddings("a@1", []) == []
        assert tx.embedding_models() == {"a@1": (3, 4), "b@1": (1, 8)}
        assert tx.embedding_dim("a@1") == 4
        assert tx.embedding_dim("c@1") is None


def test_put_replaces_an_existing_vector(store: Store) -> None:
    ids = _add_records(store, 3)
    with store.write() as tx:
        tx.put_embeddings("m@1", ids, np.zeros((3, 2), np.float32))
        tx.put_embeddings("m@1", ids[1:2], np.full((1, 2), 5.0, np.float32))
    with store.read() as tx:
        got = tx.get_embeddings("m@1", ids)
        assert tx.embedding_models() == {"m@1": (3, 2)}
    np.testing.assert_array_equal(got, [[0, 0], [5, 5], [0, 0]])


def test_put_refuses_bad_shapes_and_unknown_records(store: Store) -> None:
    ids = _add_records(store, 2)
    with store.write() as tx:
        tx.put_embeddings("m@1", ids, np.zeros((2, 4), np.float32))
    with store.write() as tx, pytest.raises(StoreError, match="4-d vectors stored"):
        tx.put_embeddings("m@1", ids, np.zeros((2, 5), np.float32))
    with store.write() as tx, pytest.raises(ValueError, match="repeat"):
        tx.put_embeddings("n@1", [ids[0], ids[0]], np.zeros((2, 4), np.float32))
    with store.write() as tx, pytest.raises(ValueError, match=r"\(2, d\)"):
        tx.put_embeddings("n@1", ids, np.zeros(4, np.float32))
    with pytest.raises(NotFoundError, match="not stored"), store.write() as tx:
        tx.put_embeddings("n@1", [ids[1] + 1000], np.zeros((1, 4), np.float32))
    with store.write() as tx:  # the failed write left nothing behind
        assert tx.missing_embeddings("n@1", None) == ids
        assert tx.put_embeddings("n@1", [], np.zeros((0, 4), np.float32)) == 0


def test_delete_embeddings_drops_one_model(store: Store) -> None:
    ids = _add_records(store, 3)
    with store.write() as tx:
        tx.put_embeddings("a@1", ids, np.zeros((3, 2), np.float32))
        tx.put_embeddings("b@1", ids, np.zeros((3, 2), np.float32))
        assert tx.delete_embeddings("a@1") == 3
    with store.read() as tx:
        assert tx.embedding_models() == {"b@1": (3, 2)}


def _alembic() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def test_migration_upgrades_a_0004_store(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    old = Store(url, schema=schema, migrate=False)
    try:
        with old.engine.begin() as conn:
            cfg = _alembic()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0004")
        assert old.revision() == "0004"
        assert "embeddings" not in inspect(old.engine).get_table_names()
        ids = _add_records(old, 3)
    finally:
        old.close()

    new = Store(url, schema=schema)  # opening migrates to head
    try:
        assert new.revision() == head_revision()
        assert "embeddings" in inspect(new.engine).get_table_names()
        with new.read() as tx:
            assert [r.id for r in tx.get_records(ids)] == ids  # data kept
            assert tx.missing_embeddings("m@1", None) == ids
        with new.write() as tx:
            tx.put_embeddings("m@1", ids, np.eye(3, dtype=np.float32))
        with new.read() as tx:
            np.testing.assert_array_equal(tx.get_embeddings("m@1", ids), np.eye(3))
        with new.engine.begin() as conn:  # and the step back down works
            cfg = _alembic()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        assert "embeddings" not in inspect(new.engine).get_table_names()
    finally:
        new.close()
