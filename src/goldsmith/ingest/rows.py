"""Add records given as Python mappings (the SDK's and the API's ``add_records``).

Each item is ``{"fields": {...}, "metadata": {...}?, "external_id": str?}``. Fields are checked
like a file's rows; exact duplicates (stored ones and repeats in the batch) are skipped. The
batch is stored all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldsmith.errors import InputError
from goldsmith.ingest.mapping import RowMapper
from goldsmith.ingest.options import ImportOptions
from goldsmith.schema import Record, Task, content_hash
from goldsmith.store import Store


@dataclass(slots=True)
class AddReport:
    """``ids`` holds one id per input item: the new record's, or the stored duplicate's."""

    ids: list[int] = field(default_factory=list)
    inserted: int = 0
    duplicates: int = 0


def add_rows(
    store: Store, task: Task, items: Iterable[Mapping[str, Any]], *, source: str = "<records>"
) -> AddReport:
    mapper = RowMapper(task, ImportOptions(), source, labels=False)
    batch: list[Record] = []
    for line, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("fields"), Mapping):
            raise InputError("each record needs a 'fields' object", file=source, line=line)
        metadata = item.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise InputError("metadata must be an object", file=source, line=line, field="metadata")
        fields = mapper.fields(line, dict(item["fields"]))
        ext = item.get("external_id")
        batch.append(
            Record(
                fields=fields,
                metadata=dict(metadata),
                external_id=None if ext is None else str(ext),
                source_file=source,
                source_row=line,
                content_hash=content_hash(fields),
            )
        )
    report = AddReport()
    with store.write() as tx:
        known = tx.existing_hash_ids([r.content_hash for r in batch])
        fresh: dict[str, Record] = {}
        for rec in batch:
            if rec.content_hash not in known and rec.content_hash not in fresh:
                fresh[rec.content_hash] = rec
        new_ids = tx.insert_records(list(fresh.values()))
        known.update(zip(fresh, new_ids, strict=True))
    report.ids = [known[r.content_hash] for r in batch]
    report.inserted = len(fresh)
    report.duplicates = len(batch) - len(fresh)
    return report
