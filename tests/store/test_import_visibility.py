"""An import still writing is hidden from every read that lists or counts records, on both
backends, until one statement publishes it (issue 18: imports never block annotators).

Each read is asked the same question three times: before the import, while its chunks are
committed but unpublished (it must answer as before), and after publication (it must see the
new records). A read added to the store without the filter fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

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
from goldsmith.store.base import StoreTx
from goldsmith.store.browse import RecordFilter
from goldsmith.store.tables import records

OLD, NEW = 6, 9  # published records before; records of the import under test


def _records(prefix: str, n: int) -> list[Record]:
    out = []
    for i in range(n):
        fields = {"text": f"{prefix} record {i} 🧬"}
        out.append(Record(fields=fields, metadata={}, content_hash=content_hash(fields)))
    return out


def _labels(tx: StoreTx, ids: list[int]) -> None:
    """Gold on the first half, a response, an LLM suggestion and a draft on the others."""
    half = len(ids) // 2
    tx.set_final_labels([FinalLabel(r, "label", "a", Provenance.GOLD) for r in ids[:half]])
    tx.upsert_responses([Response(r, "ann", {"label": "b"}, ResponseStatus.SUBMITTED) for r in ids])
    tx.add_suggestions(
        [Suggestion(r, "label", "a", "llm:x", SuggestionKind.LLM, score=0.5) for r in ids]
    )


def _walk(tx: StoreTx, flt: RecordFilter) -> list[int]:
    """Every page of the browser's listing, 3 records examined per page (its scan bound)."""
    ids: list[int] = []
    after = None
    while True:
        page = tx.browse_page(flt, after=after, limit=2, scan=3)
        ids += [r["id"] for r in page.rows]
        if page.next is None:
            return ids
        after = page.next


READS: dict[str, Callable[[StoreTx], Any]] = {
    "count_records": lambda tx: tx.count_records(),
    "count_records_between": lambda tx: tx.count_records_between(0, 10_000),
    "list_records": lambda tx: [r.id for r in tx.list_records(limit=1000)],
    "iter_records": lambda tx: [r.id for b in tx.iter_records(batch_size=4) for r in b],
    "record_id_array": lambda tx: tx.record_id_array(page=4).tolist(),
    "max_record_id": lambda tx: tx.max_record_id(),
    "status_counts": lambda tx: tx.status_counts(),
    "provenance_counts": lambda tx: tx.provenance_counts(),
    "suggestion_counts": lambda tx: tx.suggestion_counts(),
    "final_value_counts": lambda tx: tx.final_value_counts("label"),
    "final_values": lambda tx: sorted(tx.final_values("label", ["gold"])),
    "iter_labeled": lambda tx: [r.id for b in tx.iter_labeled(batch_size=3) for r, _ in b],
    "iter_label_keys": lambda tx: [k[0] for b in tx.iter_label_keys("label") for k in b],
    "records_with_responses": lambda tx: list(
        tx.records_with_responses(status=ResponseStatus.SUBMITTED)
    ),
    "list_responses": lambda tx: [r.record_id for r in tx.list_responses()],
    "user_counts": lambda tx: tx.user_counts("ann"),
    "gold_answers": lambda tx: tx.gold_answers("label"),
    "queue_counts": lambda tx: tx.queue_counts(),
    "done_record_array": lambda tx: tx.done_record_array().tolist(),
    "missing_embeddings": lambda tx: tx.missing_embeddings("m", None),
    "suggestion_scores": lambda tx: [
        ids.tolist() for ids, _ in tx.iter_suggestion_scores("label", agent_prefix="llm:")
    ],
    "list_imports": lambda tx: [i["id"] for i in tx.list_imports()],
    "browse_page": lambda tx: [r["id"] for r in tx.browse_page(RecordFilter(), limit=100).rows],
    "browse_pages_scanned": lambda tx: _walk(tx, RecordFilter(text="record")),
    "browse_count": lambda tx: tx.browse_count(RecordFilter(status="labeled")),
    "matching_ids": lambda tx: tx.matching_ids(RecordFilter(label="a", question="label")).tolist(),
}


def _answers(store: Store) -> dict[str, Any]:
    with store.read() as tx:
        return {name: read(tx) for name, read in READS.items()}


def _physical_records(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(records)).scalar_one())


def test_every_listing_read_hides_a_writing_import_until_it_is_published(store: Store) -> None:
    with store.write() as tx:
        first = tx.start_import("old.csv", "csv", {})
        old = tx.insert_records(_records("old", OLD), import_id=first)
        _labels(tx, old)
        tx.finish_import(first, n_read=OLD, n_inserted=OLD)
    with store.write() as tx:  # a record added outside any import (e.g. the SDK's add)
        tx.insert_records(_records("loose", 1))
    before = _answers(store)

    with store.write() as tx:
        second = tx.start_import("new.csv", "csv", {}, owner="test:1", now=0.0)
    for part in (_records("new", NEW)[:5], _records("new", NEW)[5:]):  # two committed chunks
        with store.write() as tx:
            ids = tx.insert_records(part, import_id=second)
            _labels(tx, ids)
    assert _physical_records(store) == OLD + 1 + NEW  # the chunks are really there
    during = _answers(store)
    for name in READS:
        assert during[name] == before[name], name
    with store.read() as tx:
        assert [i["id"] for i in tx.writing_imports()] == [second]

    with store.write() as tx:
        tx.finish_import(second, n_read=NEW, n_inserted=NEW)
    after = _answers(store)
    changed = {name for name in READS if after[name] != before[name]}
    assert changed == set(READS)  # every read now sees the published import
    assert after["count_records"] == OLD + 1 + NEW


def test_the_queue_never_leases_a_record_of_a_writing_import(store: Store) -> None:
    with store.write() as tx:
        (published,) = tx.insert_records(_records("published", 1))
        writing = tx.start_import("new.csv", "csv", {}, owner="test:1", now=0.0)
        tx.insert_records(_records("hidden", 3), import_id=writing)
    leased = []
    with store.write() as tx:
        for user in ("a", "b", "c"):
            leased.append(tx.lease_next(user, overlap=1, ttl=60, now=0.0))
    assert leased == [published, None, None]
    with store.write() as tx:
        tx.finish_import(writing)
        assert tx.lease_next("b", overlap=1, ttl=60, now=0.0) == published + 1


def test_an_incremental_pass_stops_below_the_first_hidden_record(store: Store) -> None:
    """LF votes cover records up to ``max_record_id``; a published record inserted after a
    writing import began must not carry the watermark past the hidden records."""
    with store.write() as tx:
        writing = tx.start_import("new.csv", "csv", {}, owner="test:1", now=0.0)
        hidden = tx.insert_records(_records("hidden", 3), import_id=writing)
    with store.write() as tx:
        (later,) = tx.insert_records(_records("later", 1))
    assert later > max(hidden)
    with store.read() as tx:
        assert tx.max_record_id() == min(hidden) - 1
        assert tx.record_id_array().tolist() == [later]


def test_taking_an_import_back_deletes_its_records_and_labels(store: Store) -> None:
    with store.write() as tx:
        writing = tx.start_import("new.csv", "csv", {}, owner="test:1", now=0.0)
        ids = tx.insert_records(_records("doomed", 7), import_id=writing)
        _labels(tx, ids)
    removed = []
    while True:
        with store.write() as tx:
            n = tx.discard_import_records(writing, 3)
            removed.append(n)
            if n == 0:
                tx.drop_import(writing)
                break
    assert removed == [3, 3, 1, 0]
    assert _physical_records(store) == 0
    with store.read() as tx:
        assert tx.writing_imports() == []
        assert tx.final_labels_for(ids) == []
        assert tx.responses_for(ids) == []
        assert tx.suggestions_for(ids) == []


@pytest.mark.parametrize("n", [0, 1])
def test_list_imports_names_published_imports_only(store: Store, n: int) -> None:
    with store.write() as tx:
        for i in range(n):
            done = tx.start_import(f"done{i}.csv", "csv", {})
            tx.finish_import(done)
        tx.start_import("writing.csv", "csv", {}, owner="test:1", now=0.0)
    with store.read() as tx:
        assert len(tx.list_imports()) == n
        assert len(tx.writing_imports()) == 1
