"""Bulk reads and writes of the store hold one chunk at a time, whatever the total."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from goldsmith.schema import FinalLabel, Provenance, Record, Suggestion, SuggestionKind
from goldsmith.store import Store
from goldsmith.store.base import WRITE_CHUNK, batched


def _records(store: Store, n: int) -> list[int]:
    with store.write() as tx:
        return tx.insert_records(
            [Record(fields={"text": f"text {i}"}, content_hash=f"h{i}") for i in range(n)]
        )


def test_batched_pulls_one_chunk_ahead_at_most() -> None:
    pulled: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10):
            pulled.append(i)
            yield i

    chunks = batched(source(), 4)
    assert next(chunks) == [0, 1, 2, 3]
    assert len(pulled) == 4  # nothing beyond the chunk handed out has been read
    assert next(chunks) == [4, 5, 6, 7]
    assert len(pulled) == 8
    assert list(chunks) == [[8, 9]]


def test_bulk_writes_take_generators_longer_than_a_chunk(store: Store) -> None:
    ids = _records(store, 3)
    n = WRITE_CHUNK + 7
    suggestions = (
        Suggestion(ids[i % 3], "label", "a", "label-model:x", SuggestionKind.LABEL_MODEL, 0.5)
        for i in range(n)
    )
    finals = (FinalLabel(rid, "label", "b", Provenance.WEAK, 0.9) for rid in ids)
    with store.write() as tx:
        assert tx.add_suggestions(suggestions) == n
        assert tx.set_final_labels(finals) == 3
    with store.read() as tx:
        pages = list(tx.iter_suggestion_scores("label", agent_prefix="label-model:", page=5000))
        assert [len(p[0]) for p in pages] == [5000] * (n // 5000) + [n % 5000]
        assert sorted(set(np.concatenate([p[0] for p in pages]).tolist())) == ids
        assert {v for _, v in tx.final_values("label", ["weak"])} == {"b"}


def test_record_id_array_reads_in_pages(store: Store) -> None:
    ids = _records(store, 25)
    with store.read() as tx:
        for page in (1, 7, 25, 100):
            found = tx.record_id_array(page=page)
            assert found.dtype == np.int64 and found.tolist() == ids


def test_replacing_the_queue_order_writes_only_ranked_rows(store: Store) -> None:
    from goldsmith.store.queue import LLM_FRONT, ROUND_FRONT, STRATEGY_HEAD

    ids = _records(store, 12)
    with store.write() as tx:
        tx.set_queue_ranks([(ids[0], ROUND_FRONT), (ids[1], LLM_FRONT + 0.3), (ids[2], 7.0)])
        # written: the two head rows, the waiting one, and two others reset to 0
        assert tx.replace_queue_order([ids[9], ids[4]], waiting=[ids[0]]) == 5
        assert tx.replace_queue_order([ids[9], ids[4]], waiting=[ids[0]]) == 0  # unchanged
    with store.read() as tx:
        ranks = tx.queue_ranks(ids)
    assert ranks[ids[9]] == STRATEGY_HEAD and ranks[ids[4]] == STRATEGY_HEAD + 1
    assert ranks[ids[0]] == 1.0  # awaiting responses: after every unranked record
    assert all(ranks[i] == 0.0 for i in ids if i not in (ids[9], ids[4], ids[0]))  # reset
    served = sorted(ids, key=lambda i: (ranks[i], i))
    assert served[:3] == [ids[9], ids[4], ids[1]] and served[-1] == ids[0]
