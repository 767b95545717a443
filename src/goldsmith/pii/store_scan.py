"""Count the PII of a whole store, streaming: one page of records in memory at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from goldsmith.pii.redactor import Redactor, ScanReport
from goldsmith.store import Store


def scan_store(store: Store, *, kinds: Sequence[str] | None = None) -> ScanReport:
    """Count the PII in every record's text fields, per kind, with masked examples."""
    with store.read() as tx:

        def texts() -> Iterator[str]:
            for batch in tx.iter_records():
                for record in batch:
                    yield from (v for v in record.fields.values() if isinstance(v, str))

        return Redactor(kinds=kinds).scan(texts())
