"""Import one file into the store, all or nothing.

Rows stream from a reader through a converter in batches of ``options.batch_size``. Each
batch is hashed (:func:`goldsmith.schema.content_hash`), exact duplicates are dropped (those
already stored, earlier rows of this file included, and repeats within the batch), the rest
are inserted, and their labels are stored as gold final labels, responses or suggestions.

Each batch is its own short write transaction, so annotators submitting through ``serve``
wait for one batch at most. The records stay hidden until the last transaction publishes the
import (:mod:`goldsmith.ingest.staging`): readers see all of it or none of it. An error takes
back what was written, so the store is left as it was, without even an ``imports`` row; a
process killed mid-import is cleaned up by the next open of the project.

Questionable input is refused or counted, never passed over in silence: a file with no rows
is refused; disagreeing gold answers of one record are refused unless
``options.on_conflict`` resolves them (:mod:`goldsmith.ingest.conflicts`); external ids that
repeat (in the file or in the store) and the mapper's observations (integer label codes,
number-only or partly empty text fields) become ``report.warnings``.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError, InputError
from goldsmith.ingest import staging
from goldsmith.ingest.conflicts import GoldVotes
from goldsmith.ingest.formats import FormatRegistry, default_formats, detect_format
from goldsmith.ingest.mapping import ImportItem, Row
from goldsmith.ingest.options import ImportOptions, ImportReport, LabelsAs, OnConflict
from goldsmith.ingest.readers import ReadContext
from goldsmith.ingest.rejects import RejectSink
from goldsmith.kinds.base import span_choice
from goldsmith.pii import Redactor, map_spans
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Record,
    Response,
    ResponseStatus,
    Suggestion,
    SuggestionKind,
    Task,
    content_hash,
)
from goldsmith.store.base import Store, StoreTx


def import_file(
    store: Store,
    task: Task,
    path: Path,
    options: ImportOptions,
    *,
    progress: Progress = SILENT,
    formats: FormatRegistry | None = None,
) -> ImportReport:
    """Import ``path`` into ``store`` as records of ``task``.

    Parameters
    ----------
    store:
        The project's store; one write transaction holds the whole import.
    task:
        The task the rows are mapped onto.
    path:
        A file, or a folder for Hugging Face datasets.
    options:
        Format, field mapping, label handling, ``skip_invalid`` and batch size.
    progress:
        Told the total (bytes or rows) and advanced per batch.
    formats:
        The format registry; the built-ins when None.

    Returns
    -------
    ImportReport
        Counts: read, inserted, duplicates, rejected, labels stored.

    Raises
    ------
    InputError
        The file is missing, unreadable or holds no rows, a row is invalid and
        ``skip_invalid`` is not set, or gold answers disagree and ``on_conflict`` is unset
        or ``error``. ``file``, ``line`` and ``field`` say where.
    ConfigError
        ``on_conflict`` is set with ``labels_as`` other than gold.
    RegistryError
        The format is unknown or cannot be detected.
    """
    path = Path(path)
    source = str(path.resolve())
    if not path.exists():
        raise InputError("no such file or folder", file=source)
    try:
        codecs.lookup(options.encoding)
    except LookupError as exc:
        raise InputError(f"unknown encoding {options.encoding!r}", file=source) from exc
    policy = _conflict_policy(options)
    registry = formats if formats is not None else default_formats()
    fmt = registry.get(options.fmt or detect_format(path))
    if options.answer_from is not None and not fmt.answer_from:
        raise ConfigError(
            f"--answer-from does not apply to --format {fmt.name}: it reads a chat field of "
            "csv, tsv, jsonl, json, parquet or hf rows (the SFT formats always read their "
            "answer); drop --answer-from"
        )
    convert = fmt.convert(task, options, source)
    total = fmt.measure(path)
    progress.start(f"importing {path.name}", total)
    import_id: int | None = None
    try:
        with store.write() as tx:
            import_id = staging.claim(tx, source, fmt.name, _options_json(options))
        with RejectSink(options.skip_invalid) as rejects, store.bulk():
            report = _write_all(
                store, task, import_id, path, fmt, convert, options, policy, rejects, progress
            )
    except BaseException:
        if import_id is not None:
            _take_back(store, import_id)
        raise
    finally:
        progress.finish()
    return report


def _write_all(
    store: Store,
    task: Task,
    import_id: int,
    path: Path,
    fmt: Any,
    convert: Any,
    options: ImportOptions,
    policy: OnConflict,
    rejects: RejectSink,
    progress: Progress,
) -> ImportReport:
    """Read, convert and write every batch in its own short transaction (hidden until
    published), then publish the import in one more: the only moment its records appear."""
    source = str(path.resolve())
    ctx = ReadContext(file=source, options=options, reject=rejects.reject)
    writer = _Writer(store, options, source, agent=f"import:{path.name}")
    writer.import_id = import_id
    writer.votes = GoldVotes(policy, source)
    writer.redactor = _redactor(options)
    writer.span_fields = _span_fields(task)
    batch: list[ImportItem] = []
    size = max(1, options.batch_size)
    done = 0
    for line, row in _guarded(fmt.read(path, ctx), source):
        try:
            batch.append(convert(line, row))
        except InputError as exc:
            rejects.reject(exc, row)
            continue
        if len(batch) >= size:
            writer.write(batch)
            batch = []
            if ctx.pos > done:  # a reader may recount after switching strategy
                progress.advance(ctx.pos - done)
                done = ctx.pos
    writer.write(batch)
    if ctx.pos > done:
        progress.advance(ctx.pos - done)
    if writer.n_items + rejects.count == 0:
        raise InputError(_nothing_read(path), file=source)
    writer.votes.check()
    report = ImportReport(
        import_id=import_id,
        source=source,
        fmt=fmt.name,
        n_read=writer.n_items + rejects.count,
        n_inserted=writer.n_inserted,
        n_duplicates=writer.n_duplicates,
        n_duplicate_labels=writer.n_duplicate_labels,
        n_rejected=rejects.count,
        n_labels=writer.n_labels,
        rejected_path=options.skip_invalid if rejects.count else None,
        pii=dict(writer.pii),
        n_conflicts=writer.votes.n_conflicts,
        n_conflict_labels=writer.votes.n_lost,
        conflict_policy=policy.value if options.labels_as == LabelsAs.GOLD else None,
        n_duplicate_ids=writer.n_duplicate_ids,
        duplicate_ids=list(writer.duplicate_ids),
        warnings=_warnings(writer, convert),
    )
    with store.write() as tx:
        tx.finish_import(
            import_id,
            n_read=report.n_read,
            n_inserted=report.n_inserted,
            n_duplicates=report.n_duplicates,
            n_rejected=report.n_rejected,
        )
    return report


def _take_back(store: Store, import_id: int) -> None:
    """Delete what a failed import wrote; if even that fails (the store went away), the
    next open of the project does it (:func:`goldsmith.ingest.staging.recover`)."""
    with contextlib.suppress(Exception):  # the import's own error is the one to report
        staging.discard(store, import_id)


def read_items(
    task: Task,
    path: Path,
    options: ImportOptions,
    *,
    formats: FormatRegistry | None = None,
) -> list[ImportItem]:
    """Read and map ``path`` as :func:`import_file` would, storing nothing (e.g. a test set
    that must stay outside the project). All-or-nothing: an invalid row raises
    :class:`InputError` naming the file, line and field. Redaction applies as on import."""
    path = Path(path)
    source = str(path.resolve())
    if not path.exists():
        raise InputError("no such file or folder", file=source)
    registry = formats if formats is not None else default_formats()
    fmt = registry.get(options.fmt or detect_format(path))
    convert = fmt.convert(task, options, source)
    redactor = _redactor(options)
    items: list[ImportItem] = []

    def fail(error: InputError, _raw: Any) -> None:
        raise error

    ctx = ReadContext(file=source, options=options, reject=fail)
    for line, row in _guarded(fmt.read(path, ctx), source):
        items.append(convert(line, row))
    if redactor is not None:
        span_fields = _span_fields(task)
        for item in items:
            redact_item(redactor, item, span_fields, {})
    return items


def _conflict_policy(options: ImportOptions) -> OnConflict:
    """``options.on_conflict`` checked against ``labels_as``; ERROR when unset."""
    if options.on_conflict is not None and options.labels_as != LabelsAs.GOLD:
        raise ConfigError(
            f"--on-conflict applies to --labels-as gold only: as {options.labels_as.value}s "
            "every annotator's answer is kept, so answers cannot conflict; drop --on-conflict"
        )
    return OnConflict(options.on_conflict or OnConflict.ERROR)


def _nothing_read(path: Path) -> str:
    if path.is_file() and path.stat().st_size == 0:
        what = "the file is empty"
    else:
        what = "it holds no rows (only a header, blank lines or an empty list)"
    return (
        f"no records to import: {what}; check that this is the right file and --format; "
        "nothing was imported"
    )


def _warnings(writer: _Writer, convert: Any) -> list[str]:
    """The report's warnings: the writer's and those of the converter (if it keeps any)."""
    out: list[str] = []
    if writer.n_duplicate_ids:
        shown = ", ".join(repr(i) for i in writer.duplicate_ids)
        more = ", ..." if writer.n_duplicate_ids > len(writer.duplicate_ids) else ""
        out.append(
            f"{writer.n_duplicate_ids} record(s) reuse an external id already taken in this "
            f"file or the store ({shown}{more}); their texts differ, so all were imported. "
            "Pick a unique column with --id-field if ids must identify records"
        )
    noted = getattr(convert, "warnings", None) or getattr(
        getattr(convert, "mapper", None), "warnings", None
    )
    if callable(noted):
        out.extend(noted())
    summary = writer.votes.summary()
    if summary:
        out.append(summary)
    return out


def _span_fields(task: Task) -> dict[str, str]:
    """Each question marking spans -> the field its spans point into."""
    return {q.name: q.field for q in task.questions if span_choice(q, many=None)}


def redact_item(
    redactor: Redactor, item: ImportItem, span_fields: dict[str, str], counts: dict[str, int]
) -> None:
    """Redact PII in ``item``'s text fields, re-map span labels on them (``span_fields``:
    span question -> its field) and count the PII kinds found into ``counts``."""
    for name, value in list(item.fields.items()):
        if not isinstance(value, str):
            continue
        done = redactor.redact(value)
        if not done.spans:
            continue
        item.fields[name] = done.text
        for span in done.spans:
            counts[span.kind] = counts.get(span.kind, 0) + 1
        for lab in item.labels:
            if span_fields.get(lab.question) == name and isinstance(lab.value, list):
                lab.value = map_spans(lab.value, done.offset_map)


def _guarded(rows: Iterator[tuple[int, Row]], source: str) -> Iterator[tuple[int, Row]]:
    """Rows, with an operating-system read failure turned into an :class:`InputError`."""
    try:
        yield from rows
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", file=source) from exc


def _redactor(options: ImportOptions) -> Redactor | None:
    if options.redact is None:
        return None
    if options.redact not in ("mask", "hash", "fake"):
        raise ConfigError(f"--redact must be mask, hash or fake, got {options.redact!r}")
    salt = options.redact_salt or os.environ.get("GOLDSMITH_PII_SALT")
    return Redactor(options.redact, salt=salt)  # type: ignore[arg-type]


def _options_json(options: ImportOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(options):
        if f.name == "redact_salt":  # a secret: never stored with the import
            continue
        value = getattr(options, f.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


@dataclass
class _Writer:
    """Writes batches of items and their labels, a transaction per batch, counting."""

    store: Store
    options: ImportOptions
    source: str
    agent: str
    import_id: int | None = None
    n_items: int = 0
    n_inserted: int = 0
    n_duplicates: int = 0
    n_duplicate_labels: int = 0  # labels that came with skipped duplicates (not stored)
    n_labels: int = 0
    n_duplicate_ids: int = 0
    duplicate_ids: list[str] = field(default_factory=list)  # the first few
    votes: GoldVotes = field(default_factory=lambda: GoldVotes(OnConflict.ERROR, ""))
    _guideline: int | None = None
    _guideline_read: bool = False
    redactor: Redactor | None = None
    span_fields: dict[str, str] = field(default_factory=dict)  # span question -> its field
    pii: dict[str, int] = field(default_factory=dict)

    def write(self, items: list[ImportItem]) -> None:
        """Write one batch in its own short transaction (the records stay hidden until the
        import is published); redaction and hashing run before it, outside the lock."""
        if not items:
            return
        self.n_items += len(items)
        if self.redactor is not None:
            for item in items:
                self._redact(item)
        hashes = [content_hash(it.fields) for it in items]
        assert self.import_id is not None
        with self.store.write() as tx:
            self._store(tx, items, hashes)
            tx.touch_import(self.import_id, time.time())

    def _store(self, tx: StoreTx, items: list[ImportItem], hashes: list[str]) -> None:
        existing = tx.existing_hashes(hashes)
        seen: set[str] = set()
        records: list[Record] = []
        kept: list[ImportItem] = []
        for item, digest in zip(items, hashes, strict=True):
            if digest in existing or digest in seen:
                self.n_duplicates += 1
                self.n_duplicate_labels += len(item.labels)
                continue
            seen.add(digest)
            records.append(
                Record(
                    fields=item.fields,
                    metadata=item.metadata,
                    external_id=item.external_id,
                    source_file=self.source,
                    source_row=item.line,
                    content_hash=digest,
                )
            )
            kept.append(item)
        self._check_ids(tx, records)
        ids = tx.insert_records(records, import_id=self.import_id)
        self.n_inserted += len(ids)
        self._labels(tx, kept, ids)

    def _check_ids(self, tx: StoreTx, records: list[Record]) -> None:
        """Count records whose external id repeats one in the store, this import included."""
        ext = [r.external_id for r in records if r.external_id is not None]
        if not ext:
            return
        taken = tx.existing_external_ids(list(set(ext)))
        for ext_id in ext:
            if ext_id in taken:
                self.n_duplicate_ids += 1
                if len(self.duplicate_ids) < 5 and ext_id not in self.duplicate_ids:
                    self.duplicate_ids.append(ext_id)
            taken.add(ext_id)

    def _redact(self, item: ImportItem) -> None:
        """Redact PII in the item's text fields and re-map span labels on them."""
        assert self.redactor is not None
        redact_item(self.redactor, item, self.span_fields, self.pii)

    def _guideline_version(self, tx: StoreTx) -> int | None:
        if not self._guideline_read:
            self._guideline = tx.latest_guideline_version()
            self._guideline_read = True
        return self._guideline

    def _labels(self, tx: StoreTx, items: list[ImportItem], ids: list[int]) -> None:
        mode = self.options.labels_as
        gold: dict[tuple[int, str], list[Any]] = {}
        decided: dict[tuple[int, str], list[Any]] = {}  # answers the file marks as reviewed
        where: dict[int, ImportItem] = {}  # named in a refusal
        responses: dict[tuple[int, str], Response] = {}
        suggestions: list[Suggestion] = []
        for item, rid in zip(items, ids, strict=True):
            for lab in item.labels:
                blank = lab.value is None  # a response with no answer (a skip): no value
                if lab.predicted or mode == LabelsAs.SUGGESTION:
                    if blank:
                        continue
                    suggestions.append(
                        Suggestion(
                            record_id=rid,
                            question=lab.question,
                            value=lab.value,
                            agent=lab.agent or self.agent,
                            kind=SuggestionKind.IMPORT,
                            score=lab.score,
                        )
                    )
                elif mode == LabelsAs.GOLD:
                    if lab.status == ResponseStatus.SUBMITTED and not blank:
                        gold.setdefault((rid, lab.question), []).append(lab.value)
                        if lab.decided:
                            decided.setdefault((rid, lab.question), []).append(lab.value)
                        where[rid] = item
                else:
                    user = lab.user or self.options.label_user
                    resp = responses.get((rid, user))
                    if resp is None:
                        resp = responses[(rid, user)] = Response(
                            record_id=rid,
                            user=user,
                            values={},
                            status=lab.status,
                            guideline_version=self._guideline_version(tx),
                        )
                    if not blank:
                        resp.values[lab.question] = lab.value
        finals = [
            FinalLabel(rid, q, v[0], Provenance.GOLD, 1.0)
            if len(v) == 1
            else FinalLabel(
                rid, q, self.votes.resolve(_where(where[rid]), q, v), Provenance.GOLD, 1.0
            )
            for (rid, q), values in gold.items()
            for v in [decided.get((rid, q)) or values]
        ]
        # records in this batch are new, so their labels are plain inserts
        self.n_labels += tx.set_final_labels(finals, replace=False)
        self.n_labels += tx.upsert_responses(responses.values())
        self.n_labels += tx.add_suggestions(suggestions)


def _where(item: ImportItem) -> str:
    """An item's line, and its external id when it has one (named in a refusal)."""
    return f"line {item.line}" + (f" (id {item.external_id!r})" if item.external_id else "")
