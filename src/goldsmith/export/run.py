"""Run an export: final labels → split files, a dataset card, validated training files.

:func:`export` reads the store twice inside one read transaction (one snapshot):

1. it streams the final labels that pass the filters and keeps only ``(record id, stratum,
   group)`` per record, from which :func:`goldsmith.export.splits.stratified_assign` deals
   the splits;
2. it streams them again and hands each record to the sink of its split.

Texts are never held for more than one batch, so memory grows with a few machine integers per
record. Files are written under temporary names and renamed when every split is complete.

The export owns its folder (:mod:`goldsmith.export.folder`): it refuses a folder holding files
no goldsmith export wrote (unless ``options.force``), and once written it removes the files of
the previous export that it did not write again, and records its own in a manifest.

A format with a place for annotators (``Exporter.responses``: Label Studio, Prodigy) also gets
each record's submitted and discarded responses, read batch by batch in the same snapshot,
unless ``options.responses`` is off. Drafts are work in progress and never leave the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from goldsmith.dedup.leakage import leakage_report
from goldsmith.errors import ExportError
from goldsmith.export import prompts
from goldsmith.export.card import CardInfo, write_card
from goldsmith.export.exporter import ExportContext, Exporter, ResponseSink, Sink
from goldsmith.export.folder import check_folder, finish_folder
from goldsmith.export.formats import EXPORTERS, ExporterRegistry
from goldsmith.export.options import ExportOptions, ExportReport
from goldsmith.export.plan import SplitPlan, plan_splits, stratum
from goldsmith.export.validate import validate_file
from goldsmith.progress import SILENT, Progress
from goldsmith.schema import (
    FinalLabel,
    Provenance,
    Question,
    Record,
    Response,
    ResponseStatus,
    Task,
)
from goldsmith.store import Store, StoreTx

MAX_SOURCES = 1000  # distinct source files listed in the card
READ_BATCH = 10_000  # records per iter_labeled batch: texts of one batch at most in memory
EXPORTED_STATUSES = (ResponseStatus.SUBMITTED, ResponseStatus.DISCARDED)  # not drafts
Chosen = npt.NDArray[np.int64] | None  # ids a records-browser filter chose (ascending)


def export(
    store: Store,
    task: Task,
    options: ExportOptions,
    *,
    progress: Progress = SILENT,
    registry: ExporterRegistry | None = None,
) -> ExportReport:
    """Write the final labels of ``task`` in ``options.fmt``, split, with a dataset card.

    Parameters
    ----------
    store
        The project's store.
    task
        The project's task.
    options
        Format, output folder, split fractions and seed, label filters, validation.
    progress
        Receives progress of the read, write and validation passes.
    registry
        Where to look ``options.fmt`` up; default :data:`goldsmith.export.formats.EXPORTERS`.

    Returns
    -------
    ExportReport
        Files, records and examples per split, label and provenance counts, the card.

    Raises
    ------
    ExportError
        The format does not fit the question, the options are invalid, no record passes
        the filters, or ``options.out`` holds files no goldsmith export wrote (and
        ``options.force`` is not set).
    DataValidationError
        ``options.validate`` is set and a written file breaks its format's rules.
    """
    question = task.question(options.question)
    exporter = (registry or EXPORTERS).check_fits(options.fmt, question)
    _check_options(options)
    ctx = ExportContext(
        task, question, prompts.system_prompt(task, question), options.preference_pairs
    )
    out = Path(options.out)
    report = ExportReport(out=out, fmt=options.fmt)
    with store.read() as tx:
        chosen = None if options.records is None else tx.matching_ids(options.records)
        plan = _plan(tx, question, options, report, progress, chosen)
        if len(plan) == 0:
            among = "" if chosen is None else f" among the {chosen.size} records of the filter"
            raise ExportError(
                f"no record{among} has a final label for {question.name!r} with provenance in "
                f"{[str(p) for p in options.provenance]} and confidence >= "
                f"{options.min_confidence:g}; label some records or widen the filters"
            )
        folder = check_folder(out, force=options.force)  # before anything is written
        out.mkdir(parents=True, exist_ok=True)
        sources = _write(tx, exporter, ctx, plan, options, report, progress, chosen)
        imported = {str(i["source"]): str(i["format"]) for i in tx.list_imports()}
        guideline = tx.latest_guideline_version()
    report.card = write_card(
        out,
        CardInfo(
            task=task,
            question=question,
            options=options,
            extension=exporter.extension,
            task_category=exporter.task_category,
            files=report.files,
            counts=report.counts,
            examples=report.examples,
            label_counts=report.label_counts,
            provenance_counts=report.provenance_counts,
            sources=_source_lines(sources, imported),
            guideline_version=guideline,
            system_prompt=ctx.system_prompt,
            responses=report.responses,
        ),
    )
    if exporter.companions is not None:
        report.companions = exporter.companions(out, ctx)
    written = [*report.files.values(), report.card, *report.companions]
    report.removed = finish_folder(folder, written, options.fmt)
    if options.validate and exporter.validator is not None:
        progress.start("Validating", total=len(report.files))
        for path in report.files.values():
            validate_file(path, exporter.validator, max_tokens=options.max_tokens)
            progress.advance()
        progress.finish()
        report.validated = True
    return report


def _check_options(options: ExportOptions) -> None:
    split = options.split
    if not split or any(f <= 0 for f in split) or abs(sum(split) - 1.0) > 1e-6:
        raise ExportError(f"split {split}: fractions must be > 0 and sum to 1, e.g. 0.8,0.1,0.1")
    if options.preference_pairs not in ("best", "all"):
        raise ExportError(f"preference_pairs {options.preference_pairs!r}: choose 'best' or 'all'")


def _batches(
    tx: StoreTx, options: ExportOptions, chosen: Chosen = None
) -> Iterator[list[tuple[Record, dict[str, FinalLabel]]]]:
    batches = tx.iter_labeled(
        provenance=list(options.provenance),
        min_confidence=options.min_confidence,
        batch_size=READ_BATCH,
    )
    for batch in batches:
        if chosen is not None:
            keep = _among([r.id or 0 for r, _ in batch], chosen)
            batch = [b for b, k in zip(batch, keep.tolist(), strict=True) if k]
        if batch:
            yield batch


def _among(ids: Sequence[int], chosen: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which of ``ids`` are in ``chosen`` (ascending)."""
    arr = np.asarray(ids, dtype=np.int64)
    at = np.searchsorted(chosen, arr)
    found = at < chosen.size
    found[found] = chosen[at[found]] == arr[found]
    return found


def _plan(
    tx: StoreTx,
    question: Question,
    options: ExportOptions,
    report: ExportReport,
    progress: Progress,
    chosen: Chosen = None,
) -> SplitPlan:
    """First pass: (record id, stratum, group) of each exportable record, then the splits
    (only the ``chosen`` records, when a filter chose them)."""

    groups: dict[int, int] = {}

    def keys() -> Iterator[tuple[int, str, Any]]:
        for batch in tx.iter_label_keys(
            question.name,
            provenance=list(options.provenance),
            min_confidence=options.min_confidence,
            batch_size=READ_BATCH,
        ):
            if chosen is not None:
                keep = _among([k[0] for k in batch], chosen)
                batch = [k for k, kept in zip(batch, keep.tolist(), strict=True) if kept]
            for record_id, value, group in batch:
                if group is not None:
                    groups[record_id] = int(group)
                yield record_id, stratum(question, value), group
            progress.advance(len(batch))

    progress.start("Reading final labels")
    plan = plan_splits(keys(), options.split, seed=options.seed)
    progress.finish()
    if Provenance.SYNTHETIC in options.provenance:
        plan = _synthetic_in_train(tx, question.name, plan, chosen)
    # only records in a near-duplicate group can leak: the report needs them alone, not a
    # Python list per exported record
    grouped = np.sort(np.fromiter(groups, dtype=np.int64, count=len(groups)))
    where = plan.splits_of(grouped)
    grouped, where = grouped[where >= 0], where[where >= 0]
    report.leakage = leakage_report(
        [groups[int(r)] for r in grouped],
        [plan.names[int(a)] for a in where],
        ids=grouped.tolist(),
    )
    return plan


def _synthetic_in_train(
    tx: StoreTx, question: str, plan: SplitPlan, chosen: Chosen = None
) -> SplitPlan:
    """Synthetic records go to the training split, and only when their parent is there: a
    paraphrase of a test record in training would leak it. The others are not exported."""
    ids = [
        rid
        for batch in tx.iter_label_keys(question, provenance=[Provenance.SYNTHETIC])
        for rid, _, _ in batch
    ]
    if chosen is not None:
        ids = [r for r, kept in zip(ids, _among(ids, chosen).tolist(), strict=True) if kept]
    if not ids:
        return plan
    parents = tx.synthetic_parents(ids)
    in_plan = plan.splits_of([parents.get(r, -1) for r in ids])
    train = np.asarray(
        [r for r, split in zip(ids, in_plan.tolist(), strict=True) if split == 0], dtype=np.int64
    )
    keep = ~np.isin(plan.ids, np.asarray(ids, dtype=np.int64))  # planned like real ones: undo
    all_ids = np.concatenate([plan.ids[keep], train])
    assignment = np.concatenate([plan.assignment[keep], np.zeros(train.size, dtype=np.int64)])
    order = np.argsort(all_ids, kind="stable")
    return SplitPlan(plan.names, all_ids[order], assignment[order])


def _write(
    tx: StoreTx,
    exporter: Exporter,
    ctx: ExportContext,
    plan: SplitPlan,
    options: ExportOptions,
    report: ExportReport,
    progress: Progress,
    chosen: Chosen = None,
) -> Counter[str | None]:
    """Second pass: stream records into their split's sink; return source-file counts."""
    out = Path(options.out)
    names = plan.names
    counts = plan.counts()
    report.counts = dict(counts)
    report.examples = {name: 0 for name in names}
    label_counts: dict[str, Counter[str]] = {name: Counter() for name in names}
    provenance: Counter[str] = Counter()
    sources: Counter[str | None] = Counter()
    partial = {name: out / f"{name}.{exporter.extension}.partial" for name in names}
    sinks: dict[str, Sink] = {}
    progress.start(f"Writing {options.fmt}", total=len(plan))
    with_responses = exporter.responses and options.responses
    try:
        for batch in _batches(tx, options, chosen):
            ids = [r.id or 0 for r, _ in batch]
            where = plan.splits_of(ids)
            answers = _responses(tx, ids) if with_responses else {}
            for (record, labels), k in zip(batch, where.tolist(), strict=True):
                if k < 0:  # passes the filters, but has no label for the exported question
                    report.skipped += 1
                    continue
                name = names[k]
                if name not in sinks:
                    sinks[name] = exporter.writer(partial[name], ctx)
                if exporter.responses:
                    given = answers.get(record.id or 0, ())
                    report.responses += len(given)
                    written = cast(ResponseSink, sinks[name]).write(record, labels, given)
                else:
                    written = sinks[name].write(record, labels)
                report.examples[name] += written
                label = labels[ctx.question.name]
                label_counts[name].update(ctx.question.counted_labels(label.value))
                provenance[str(label.provenance)] += 1
                if record.source_file in sources or len(sources) < MAX_SOURCES:
                    sources[record.source_file] += 1
                progress.advance()
        for sink in sinks.values():
            sink.close()
    except BaseException:
        for sink in sinks.values():
            with suppress(Exception):  # the first error is the one to report
                sink.close()
        for path in partial.values():
            path.unlink(missing_ok=True)
        raise
    finally:
        progress.finish()
    for name in (n for n in names if n in sinks):
        final = out / f"{name}.{exporter.extension}"
        partial[name].replace(final)
        report.files[name] = final
    report.label_counts = {n: dict(sorted(c.items())) for n, c in label_counts.items()}
    report.provenance_counts = dict(sorted(provenance.items()))
    return sources


def _responses(tx: StoreTx, record_ids: list[int]) -> dict[int, Sequence[Response]]:
    """The submitted and discarded responses of ``record_ids``, by record, in arrival order."""
    out: dict[int, list[Response]] = {}
    for response in tx.responses_for(record_ids):
        if response.status in EXPORTED_STATUSES:
            out.setdefault(response.record_id, []).append(response)
    return dict(out)


def _source_lines(sources: Counter[str | None], imported: dict[str, str]) -> list[str]:
    lines = []
    for source, n in sorted(sources.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        name = f"`{source}`" if source is not None else "(no source file)"
        how = f", imported as {imported[source]}" if source in imported else ""
        lines.append(f"{name}: {n} record(s) exported{how}")
    return lines
