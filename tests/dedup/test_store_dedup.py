"""assign_near_dup_groups writes records.dup_group on SQLite and PostgreSQL."""

from __future__ import annotations

from goldsmith.dedup import assign_near_dup_groups, record_text
from goldsmith.schema import Record, content_hash
from goldsmith.store import Store

TEXTS = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period.",
    "The Licensee shall not assign this Agreement without the prior written consent.",
    "OPERATING PROFIT ROSE TO EUR 13.1 MN FROM EUR 8.7 MN IN THE CORRESPONDING PERIOD",
    "What is the name of the longest river that flows through South America?",
    "The licensee shall not assign this agreement without prior written consent.",
]


def _insert(store: Store, texts: list[str]) -> list[int]:
    recs = [
        Record(fields={"text": t, "n": i}, content_hash=content_hash({"text": t}))
        for i, t in enumerate(texts)
    ]
    with store.write() as tx:
        return tx.insert_records(recs)


def _dup_groups(store: Store) -> dict[int, int | None]:
    with store.read() as tx:
        return {r.id: r.dup_group for b in tx.iter_records(batch_size=2) for r in b}  # type: ignore[misc]


def test_round_trip(store: Store) -> None:
    ids = _insert(store, TEXTS)
    out = assign_near_dup_groups(store, threshold=0.8, batch_size=2)
    assert out.record_ids == ids
    assert out.groups == {ids[0]: ids[0], ids[2]: ids[0], ids[1]: ids[1], ids[4]: ids[1]}
    stored = _dup_groups(store)
    assert stored[ids[0]] == stored[ids[2]] == ids[0]
    assert stored[ids[1]] == stored[ids[4]] == ids[1]
    assert stored[ids[3]] is None  # alone: left untouched
    assert out.updated == 4  # leaders are written too
    # idempotent: a second run changes nothing
    assert assign_near_dup_groups(store, threshold=0.8).updated == 0
    # a stricter threshold breaks the looser group; its former members become groups of one
    strict = assign_near_dup_groups(store, threshold=0.99)
    assert strict.groups == {ids[0]: ids[0], ids[2]: ids[0]}
    stored = _dup_groups(store)
    assert stored[ids[1]] == ids[1] and stored[ids[4]] == ids[4]
    assert stored[ids[0]] == stored[ids[2]] == ids[0]


def test_record_text_picks_fields() -> None:
    assert record_text({"b": "two", "a": "one", "x": 1}) == "one\ntwo"
    assert record_text({"b": "two", "a": "one"}, ["b"]) == "two"
    assert record_text({"a": None}, ["a", "missing"]) == ""
