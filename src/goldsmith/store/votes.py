"""Store operations for labeling-function votes (a mixin of :class:`StoreTx`).

Each LF's votes are one sparse column of the label matrix, kept as chunks of two packed
arrays: record ids (int64, ascending) and label indices (int16) into the chunk's label
names. An incremental run appends a chunk; a changed LF replaces all of its chunks.

A span LF's output (for a spans question) is kept the same way in ``lf_spans``: chunks of
record ids (one per span), start and end offsets (int32 code points) and label indices.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, func, select, update

from goldsmith.store.imports import ImportsTx
from goldsmith.store.tables import (
    final_labels,
    lf_runs,
    lf_spans,
    lf_votes,
    records,
    suggestions,
)

ID_PAGE = 500_000  # record ids per query of record_id_array


@dataclass(frozen=True, slots=True)
class LFRun:
    lf: str
    question: str
    version: str
    kind: str
    last_record_id: int
    position: int


class VotesTx(ImportsTx):
    _conn: Connection

    def lf_runs(self) -> dict[str, LFRun]:
        rows = self._conn.execute(select(lf_runs).order_by(lf_runs.c.position))
        return {
            r.lf: LFRun(r.lf, r.question, r.version, r.kind, r.last_record_id, r.position)
            for r in rows
        }

    def drop_lfs(self, names: list[str]) -> None:
        if names:
            self._conn.execute(delete(lf_votes).where(lf_votes.c.lf.in_(names)))
            self._conn.execute(delete(lf_spans).where(lf_spans.c.lf.in_(names)))
            self._conn.execute(delete(lf_runs).where(lf_runs.c.lf.in_(names)))

    def put_lf_run(self, run: LFRun, *, replace: bool) -> None:
        """Create or update an LF's run; ``replace`` drops its stored votes first."""
        if replace:
            self.drop_lfs([run.lf])
        values = {
            "question": run.question,
            "version": run.version,
            "kind": run.kind,
            "last_record_id": run.last_record_id,
            "position": run.position,
            "updated_at": func.now(),
        }
        done = self._conn.execute(update(lf_runs).where(lf_runs.c.lf == run.lf).values(**values))
        if done.rowcount == 0:
            self._conn.execute(lf_runs.insert().values(lf=run.lf, **values))

    def add_lf_votes(
        self,
        lf: str,
        labels: list[str],
        record_ids: npt.NDArray[np.int64],
        votes: npt.NDArray[np.int16],
    ) -> None:
        if len(record_ids) == 0:
            return
        last = self._conn.execute(
            select(func.max(lf_votes.c.chunk)).where(lf_votes.c.lf == lf)
        ).scalar()
        self._conn.execute(
            lf_votes.insert().values(
                lf=lf,
                chunk=0 if last is None else int(last) + 1,
                labels=labels,
                record_ids=record_ids.astype("<i8").tobytes(),
                votes=votes.astype("<i2").tobytes(),
            )
        )

    def lf_column(
        self, lf: str, labels: list[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int16]]:
        """All votes of ``lf`` as (record ids, indices into ``labels``); unknown names are -1."""
        ids, votes = [], []
        q = select(lf_votes).where(lf_votes.c.lf == lf).order_by(lf_votes.c.chunk)
        index = {name: i for i, name in enumerate(labels)}
        for row in self._conn.execute(q):
            remap = np.array([index.get(name, -1) for name in row.labels], dtype=np.int16)
            ids.append(np.frombuffer(row.record_ids, dtype="<i8").astype(np.int64))
            votes.append(remap[np.frombuffer(row.votes, dtype="<i2")])
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int16)
        return np.concatenate(ids), np.concatenate(votes)

    def add_lf_spans(
        self,
        lf: str,
        labels: list[str],
        record_ids: npt.NDArray[np.int64],
        starts: npt.NDArray[np.int32],
        ends: npt.NDArray[np.int32],
        votes: npt.NDArray[np.int16],
    ) -> None:
        """Append one chunk of a span LF's spans (record ids ascending)."""
        if len(record_ids) == 0:
            return
        last = self._conn.execute(
            select(func.max(lf_spans.c.chunk)).where(lf_spans.c.lf == lf)
        ).scalar()
        self._conn.execute(
            lf_spans.insert().values(
                lf=lf,
                chunk=0 if last is None else int(last) + 1,
                labels=labels,
                record_ids=record_ids.astype("<i8").tobytes(),
                starts=starts.astype("<i4").tobytes(),
                ends=ends.astype("<i4").tobytes(),
                votes=votes.astype("<i2").tobytes(),
            )
        )

    def lf_span_column(
        self, lf: str, labels: list[str]
    ) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.int16]
    ]:
        """All spans of ``lf`` as (record ids, starts, ends, indices into ``labels``);
        unknown label names are -1."""
        parts: list[list[npt.NDArray[np.int64]]] = [[], [], [], []]
        q = select(lf_spans).where(lf_spans.c.lf == lf).order_by(lf_spans.c.chunk)
        index = {name: i for i, name in enumerate(labels)}
        for row in self._conn.execute(q):
            remap = np.array([index.get(name, -1) for name in row.labels], dtype=np.int64)
            parts[0].append(np.frombuffer(row.record_ids, dtype="<i8").astype(np.int64))
            parts[1].append(np.frombuffer(row.starts, dtype="<i4").astype(np.int64))
            parts[2].append(np.frombuffer(row.ends, dtype="<i4").astype(np.int64))
            parts[3].append(remap[np.frombuffer(row.votes, dtype="<i2")])
        ids, starts, ends, votes = (
            np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts
        )
        return (
            ids.astype(np.int64),
            starts.astype(np.int32),
            ends.astype(np.int32),
            votes.astype(np.int16),
        )

    def record_id_array(self, *, page: int = ID_PAGE) -> npt.NDArray[np.int64]:
        """Every record id, ascending: the rows of a label matrix.

        Read in keyset pages straight into int64 arrays (8 bytes a record, not a Python int
        in a list)."""
        parts, last, live = [], 0, self._live()
        while True:
            q = select(records.c.id).where(records.c.id > last, live).order_by(records.c.id)
            found = np.fromiter(
                self._conn.execute(q.limit(page)).scalars(), dtype=np.int64, count=-1
            )
            if len(found) == 0:
                break
            parts.append(found)
            last = int(found[-1])
            if len(found) < page:
                break
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def iter_suggestion_scores(
        self, question: str, *, agent_prefix: str, page: int = 100_000
    ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """``(record ids, scores)`` of one producer's suggestions for ``question`` in pages of
        at most ``page`` rows (keyset on the suggestion id; a missing score is NaN)."""
        last = 0
        base = select(suggestions.c.id, suggestions.c.record_id, suggestions.c.score).where(
            suggestions.c.question == question,
            suggestions.c.agent.startswith(agent_prefix),
            self._live_ref(suggestions.c.record_id),
        )
        while True:
            q = base.where(suggestions.c.id > last).order_by(suggestions.c.id).limit(page)
            rows = self._conn.execute(q).all()
            if not rows:
                return
            ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
            scores = np.fromiter(
                (np.nan if r[2] is None else r[2] for r in rows), dtype=np.float64, count=len(rows)
            )
            yield ids, scores
            last = int(rows[-1][0])
            if len(rows) < page:
                return

    def max_record_id(self) -> int:
        """The highest id up to which every record is published: an incremental pass over
        ``(last, max_record_id()]`` never steps over the records of an import still writing."""
        top = select(func.coalesce(func.max(records.c.id), 0))
        highest = int(self._conn.execute(top).scalar_one())
        hidden = self._hidden_imports()
        if hidden:
            first = select(func.min(records.c.id)).where(records.c.import_id.in_(hidden))
            lowest_hidden = self._conn.execute(first).scalar_one_or_none()
            if lowest_hidden is not None:
                highest = min(highest, int(lowest_hidden) - 1)
        return highest

    def final_values(self, question: str, provenances: list[str]) -> list[tuple[int, object]]:
        """``(record id, value)`` of final labels of ``question`` with those provenances."""
        q = select(final_labels.c.record_id, final_labels.c.value).where(
            final_labels.c.question == question,
            final_labels.c.provenance.in_(provenances),
            self._live_ref(final_labels.c.record_id),
        )
        return [(int(r), v) for r, v in self._conn.execute(q)]

    def delete_suggestions(
        self,
        question: str,
        *,
        agent_prefix: str,
        record_ids: Sequence[int] | None = None,
        id_range: tuple[int, int | None] | None = None,
    ) -> int:
        """Drop one producer's suggestions for ``question`` (agents starting with the prefix),
        on every record, only on ``record_ids``, or on records with ``lo < id <= hi`` for
        ``id_range=(lo, hi)`` (``hi`` None: no upper bound)."""
        q = delete(suggestions).where(
            suggestions.c.question == question, suggestions.c.agent.startswith(agent_prefix)
        )
        if id_range is not None:
            lo, hi = id_range
            q = q.where(suggestions.c.record_id > lo)
            q = q if hi is None else q.where(suggestions.c.record_id <= hi)
        if record_ids is None:
            return int(self._conn.execute(q).rowcount)
        ids, n = sorted(set(record_ids)), 0
        for i in range(0, len(ids), 900):
            n += int(
                self._conn.execute(q.where(suggestions.c.record_id.in_(ids[i : i + 900]))).rowcount
            )
        return n

    def delete_final_labels(self, question: str, *, provenance: str) -> int:
        q = delete(final_labels).where(
            final_labels.c.question == question, final_labels.c.provenance == provenance
        )
        return int(self._conn.execute(q).rowcount)
