"""Store reads and writes of the records browser (a mixin of :class:`StoreTx`).

:class:`RecordFilter` says which records to list; :meth:`BrowseTx.browse_page` lists them a
page at a time by keyset (the page after a cursor, never an ``OFFSET``), so the thousandth page
costs what the first does. A page examines at most ``scan`` records past its cursor, in the
sort order, whatever the filters: a filter that matches one record in a million answers in
bounded time with the matches of that stretch and a cursor to go on from (``partial``), instead
of reading the whole table in one request. Reads that list or count records see published
records only (``self._live()``).

Text search is a case-insensitive substring match of the record's fields, through ``LIKE``
(SQLite) or ``ILIKE`` (PostgreSQL), bounded like every filter. An FTS5 index kept in sync by
triggers was measured and left out: it made each imported record cost ~100 µs more, more than
the whole import costs per record today.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from goldsmith.errors import ArgumentError, NotFoundError
from goldsmith.schema import ResponseStatus
from goldsmith.store.imports import ImportsTx
from goldsmith.store.tables import (
    final_labels,
    honeypots,
    imports,
    jobs,
    record_events,
    records,
    responses,
    review_history,
    reviews,
    round_records,
    rounds,
    suggestions,
)

STATUSES = ("pending", "annotated", "labeled")
SORTS = ("id", "-id", "queue", "responses", "-responses", "confidence", "-confidence")
SCAN = 50_000  # records a page examines past its cursor, at most
MAX_PAGE = 500
PREVIEW = 240  # characters of each text field in a listing
_META_KEY = 128


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records the browser lists; unset fields do not filter.

    ``question`` is the question that ``label``, ``provenance``, the suggestion filters and
    ``disagreement`` refer to (the caller fills in the task's first). ``label`` matches a final
    value equal to it, or holding it (a multi-label answer); ``status`` is ``pending`` (no
    submitted response, no final label), ``annotated`` (submitted responses, no final label)
    or ``labeled`` (a final label). ``metadata`` pairs match ``metadata[key]`` as text;
    ``split`` is ``metadata["split"]`` (the split a Hugging Face import came from); ``round``
    is a round number. ``text`` searches ``text_fields`` (all fields when empty).
    """

    text: str | None = None
    text_fields: tuple[str, ...] = ()
    status: str | None = None
    question: str | None = None
    label: str | None = None
    provenance: tuple[str, ...] = ()
    has_suggestion: bool | None = None
    score_min: float | None = None
    score_max: float | None = None
    disagreement: bool | None = None
    in_review: bool | None = None
    label_error: bool | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    dup_group: int | None = None
    split: str | None = None
    round: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ArgumentError(f"status {self.status!r}: choose one of {', '.join(STATUSES)}")
        for key, _ in self.metadata:
            if not key or len(key) > _META_KEY or '"' in key or "\\" in key:
                raise ArgumentError(
                    f"metadata key {key!r}: give 1-{_META_KEY} characters, without quotes "
                    "or backslashes"
                )
        low, high = self.score_min, self.score_max
        if low is not None and high is not None and low > high:
            raise ArgumentError(f"score_min {low} is above score_max {high}")

    @property
    def empty(self) -> bool:
        """Whether nothing is filtered (every record passes)."""
        return self == RecordFilter(text_fields=self.text_fields, question=self.question)

    def to_json(self) -> dict[str, Any]:
        """The filter as JSON (stored with a job, shown in a dataset card)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "text_fields" or value in (None, ()):
                continue
            out[name] = [list(p) for p in value] if name == "metadata" else value
        return out


@dataclass(slots=True)
class BrowsePage:
    """One page of the browser's listing.

    ``next`` is the cursor of the following page (None: no more records). ``partial`` says
    the page stopped at its scan bound before filling up: more matches may follow ``next``.
    """

    rows: list[dict[str, Any]]
    next: str | None
    partial: bool = False
    scanned: int = 0  # records examined (an upper bound when the page filled up)
    sort: str = "id"
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------- cursors


def encode_cursor(sort: str, key: Sequence[Any]) -> str:
    """An opaque cursor: the sort and the last key, URL-safe."""
    text = json.dumps([sort, list(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, width: int) -> list[Any]:
    """The key in ``cursor``; a cursor of another sort or a damaged one is an error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise ArgumentError(f"cursor {cursor[:40]!r} is not one this server gave") from exc
    if made != sort or not isinstance(key, list) or len(key) != width:
        raise ArgumentError(
            f"the cursor belongs to a listing sorted by {made!r}, not {sort!r}: start again "
            "from the first page"
        )
    if not all(_sane(k) for k in key):
        raise ArgumentError(f"cursor {cursor[:40]!r} is not one this server gave")
    return key


def _sane(value: Any) -> bool:
    """A key value a cursor can hold: a boolean, a 64-bit integer or a finite float."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


# ------------------------------------------------------------------------------- the mixin


class BrowseTx(ImportsTx):
    _conn: Connection

    # ---------------------------------------------------------------- filters

    def _text_of(self, name: str) -> ColumnElement[Any]:
        """Field ``name`` of a record as text (JSON text for a chat field)."""
        text: ColumnElement[Any] = records.c.fields[name].as_string()
        return text

    def _search(self, flt: RecordFilter) -> ColumnElement[bool]:
        term = flt.text or ""
        names = flt.text_fields
        if not names:
            return cast(records.c.fields, Text).icontains(term, autoescape=True)
        exact = or_(*(self._text_of(n).icontains(term, autoescape=True) for n in names))
        if self._conn.dialect.name != "sqlite":
            return exact
        # SQLite: a plain LIKE over the stored JSON first (non-ASCII is stored \u-escaped, so
        # the term is escaped the same way): it rejects most records before JSON is parsed
        escaped = json.dumps(term)[1:-1]
        raw = cast(records.c.fields, Text)
        rough = raw.contains(escaped, autoescape=True)
        if escaped != term:
            rough = rough | raw.contains(term, autoescape=True)
        return and_(rough, exact)

    def _label_matches(self, question: str, label: str) -> ColumnElement[bool]:
        fl = final_labels
        if self._conn.dialect.name == "sqlite":
            each = func.json_each(fl.c.value).table_valued("value").alias("each")
            inner = (
                select(literal(1))
                .select_from(fl)
                .join(each, true())
                .where(fl.c.record_id == records.c.id, fl.c.question == question)
                .where(cast(each.c.value, Text) == label)
            )
            return exists(inner)
        value = cast(fl.c.value, JSONB)
        whole = value.op("#>>")(literal_column("'{}'")) == label
        member = and_(func.jsonb_typeof(value) == "array", func.jsonb_exists(value, label))
        inner = select(literal(1)).where(
            fl.c.record_id == records.c.id, fl.c.question == question, or_(whole, member)
        )
        return exists(inner)

    def _conditions(self, flt: RecordFilter) -> list[ColumnElement[bool]]:
        q = flt.question or ""
        fl, sg, rv = final_labels, suggestions, reviews
        out: list[ColumnElement[bool]] = []
        if flt.text:
            out.append(self._search(flt))
        if flt.status is not None:
            labeled = exists(select(literal(1)).where(fl.c.record_id == records.c.id))
            if flt.status == "labeled":
                out.append(labeled)
            elif flt.status == "annotated":
                out.append(and_(~labeled, records.c.n_submitted > 0))
            else:
                out.append(and_(~labeled, records.c.n_submitted == 0))
        if flt.label is not None:
            out.append(self._label_matches(q, flt.label))
        if flt.provenance:
            out.append(
                exists(
                    select(literal(1)).where(
                        fl.c.record_id == records.c.id,
                        fl.c.question == q,
                        fl.c.provenance.in_(list(flt.provenance)),
                    )
                )
            )
        if flt.has_suggestion is not None:
            has = exists(
                select(literal(1)).where(sg.c.record_id == records.c.id, sg.c.question == q)
            )
            out.append(has if flt.has_suggestion else ~has)
        if flt.score_min is not None or flt.score_max is not None:
            scored = [sg.c.record_id == records.c.id, sg.c.question == q, sg.c.score.is_not(None)]
            if flt.score_min is not None:
                scored.append(sg.c.score >= flt.score_min)
            if flt.score_max is not None:
                scored.append(sg.c.score <= flt.score_max)
            out.append(exists(select(literal(1)).where(*scored)))
        if flt.disagreement is not None:
            value = responses.c["values"][q]
            distinct = (
                select(func.count(func.distinct(value)))
                .where(
                    responses.c.record_id == records.c.id,
                    responses.c.status == str(ResponseStatus.SUBMITTED),
                    value.is_not(None),
                )
                .scalar_subquery()
            )
            out.append(distinct > 1 if flt.disagreement else distinct <= 1)
        # the few records with open review items, or of one round: read once (an IN list the
        # database builds one time), not looked up per record through an index on status
        if flt.in_review is not None:
            open_ = records.c.id.in_(select(rv.c.record_id).where(rv.c.status == "open"))
            out.append(open_ if flt.in_review else ~open_)
        if flt.label_error is not None:
            issue = records.c.id.in_(
                select(rv.c.record_id).where(rv.c.status == "open", rv.c.kind == "issue")
            )
            out.append(issue if flt.label_error else ~issue)
        pairs = list(flt.metadata) + ([("split", flt.split)] if flt.split is not None else [])
        for key, wanted in pairs:
            out.append(cast(records.c.metadata[key].as_string(), Text) == wanted)
        if flt.dup_group is not None:
            out.append(records.c.dup_group == flt.dup_group)
        if flt.round is not None:
            batch = select(round_records.c.record_id).join(
                rounds, rounds.c.id == round_records.c.round_id
            )
            out.append(records.c.id.in_(batch.where(rounds.c.number == flt.round)))
        return out

    # ---------------------------------------------------------------- sorting

    def _sort(self, sort: str, question: str) -> tuple[list[Any], bool, Any]:
        """``(key columns, descending, FROM clause)`` of a sort."""
        if sort not in SORTS:
            raise ArgumentError(f"sort {sort!r}: choose one of {', '.join(SORTS)}")
        desc = sort.startswith("-")
        name = sort.lstrip("-")
        if name == "id":
            return [records.c.id], desc, records
        if name == "queue":
            return [records.c.queue_done, records.c.queue_rank, records.c.id], False, records
        if name == "responses":
            return [records.c.n_submitted, records.c.id], desc, records
        fl = final_labels
        joined = records.join(fl, and_(fl.c.record_id == records.c.id, fl.c.question == question))
        return [fl.c.confidence, fl.c.record_id], desc, joined

    @staticmethod
    def _order(keys: list[Any], desc: bool) -> list[Any]:
        return [k.desc() for k in keys] if desc else list(keys)

    @staticmethod
    def _past(keys: list[Any], key: Sequence[Any], desc: bool) -> ColumnElement[bool]:
        """Rows strictly after ``key`` in the sort order."""
        left = tuple_(*keys) if len(keys) > 1 else keys[0]
        right = tuple_(*[literal(v) for v in key]) if len(keys) > 1 else literal(key[0])
        return left < right if desc else left > right

    @staticmethod
    def _upto(keys: list[Any], key: Sequence[Any], desc: bool) -> ColumnElement[bool]:
        """Rows at or before ``key`` in the sort order."""
        left = tuple_(*keys) if len(keys) > 1 else keys[0]
        right = tuple_(*[literal(v) for v in key]) if len(keys) > 1 else literal(key[0])
        return left >= right if desc else left <= right

    # ---------------------------------------------------------------- listing

    def browse_page(
        self,
        flt: RecordFilter,
        *,
        sort: str = "id",
        after: str | None = None,
        limit: int = 50,
        scan: int = SCAN,
    ) -> BrowsePage:
        """One page of records passing ``flt``, in ``sort`` order, after cursor ``after``.

        Each row has the record's ``id``, ``external_id``, ``metadata``, ``dup_group``,
        ``n_submitted``, ``preview`` (each field, cut to :data:`PREVIEW` characters) and the
        sort's key; :meth:`browse_details` adds labels, suggestions and reviews.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise ArgumentError(f"limit {limit}: give 1 to {MAX_PAGE}")
        keys, desc, source = self._sort(sort, flt.question or "")
        conds = self._conditions(flt)
        base = [self._live()]
        if after is not None:
            base.append(self._past(keys, decode_cursor(after, sort, len(keys)), desc))
        end: list[Any] | None = None
        if conds:  # bound the stretch examined: the scan-th record past the cursor, unless
            # no record follows it (then the rest is the stretch, and no page follows)
            edge = (
                select(*keys)
                .select_from(source)
                .where(*base)
                .order_by(*self._order(keys, desc))
                .offset(scan - 1)
                .limit(2)
            )
            found = self._conn.execute(edge).all()
            end = list(found[0]) if len(found) == 2 else None
        where = list(base) + conds
        if end is not None:
            where.append(self._upto(keys, end, desc))
        q: Select[Any] = (
            select(
                records.c.id,
                records.c.external_id,
                records.c.fields,
                records.c.metadata,
                records.c.dup_group,
                records.c.n_submitted,
                *[k.label(f"_k{i}") for i, k in enumerate(keys)],
            )
            .select_from(source)
            .where(*where)
            .order_by(*self._order(keys, desc))
            .limit(limit + 1)
        )
        rows = [dict(r._mapping) for r in self._conn.execute(q)]
        width = len(keys)

        def key_of(row: dict[str, Any]) -> list[Any]:
            return [_plain(row.pop(f"_k{i}")) for i in range(width)]

        page_keys = [key_of(r) for r in rows]
        for row in rows:
            row["preview"] = _preview(row.pop("fields"))
        if len(rows) > limit:
            return BrowsePage(
                rows[:limit], encode_cursor(sort, page_keys[limit - 1]), False, scan, sort
            )
        if end is not None:  # the stretch ended before the page filled: go on after it
            return BrowsePage(rows, encode_cursor(sort, end), True, scan, sort)
        return BrowsePage(rows, None, False, scan if conds else len(rows), sort)

    def browse_details(self, record_ids: Sequence[int], question: str) -> dict[int, dict[str, Any]]:
        """Per record of a page: its final labels (all questions), the best-scored suggestion
        of ``question`` and the kinds of its open review items."""
        ids = sorted({int(i) for i in record_ids})
        out: dict[int, dict[str, Any]] = {
            i: {"final": {}, "suggestion": None, "reviews": []} for i in ids
        }
        if not ids:
            return out
        fl, sg, rv = final_labels, suggestions, reviews
        for r in self._conn.execute(select(fl).where(fl.c.record_id.in_(ids))):
            out[int(r.record_id)]["final"][r.question] = {
                "value": r.value,
                "provenance": r.provenance,
                "confidence": r.confidence,
            }
        q = (
            select(sg.c.record_id, sg.c.value, sg.c.agent, sg.c.kind, sg.c.score)
            .where(sg.c.record_id.in_(ids), sg.c.question == question)
            .order_by(sg.c.record_id, sg.c.id)
        )
        for r in self._conn.execute(q):
            best = out[int(r.record_id)]["suggestion"]
            better = r.score is not None and (
                best is None or best["score"] is None or best["score"] < r.score
            )
            if best is None or better:
                out[int(r.record_id)]["suggestion"] = {
                    "value": r.value,
                    "agent": r.agent,
                    "kind": r.kind,
                    "score": r.score,
                }
        q2 = select(rv.c.record_id, rv.c.kind).where(rv.c.record_id.in_(ids), rv.c.status == "open")
        for r in self._conn.execute(q2.order_by(rv.c.id)):
            kinds = out[int(r.record_id)]["reviews"]
            if r.kind not in kinds:
                kinds.append(r.kind)
        return out

    def browse_count(self, flt: RecordFilter, *, cap: int | None = None) -> tuple[int, bool]:
        """``(n, exact)``: how many records pass ``flt``; with ``cap``, counting stops past
        it (``exact`` False then means "more than ``cap``")."""
        conds = self._conditions(flt)
        if not conds:  # every record: a plain count is cheap at any size, and exact
            n = self._conn.execute(select(func.count()).select_from(records).where(self._live()))
            return int(n.scalar_one()), True
        inner = select(records.c.id).where(self._live(), *conds)
        if cap is not None:
            inner = inner.limit(cap + 1)
        total = int(
            self._conn.execute(select(func.count()).select_from(inner.subquery())).scalar_one()
        )
        if cap is not None and total > cap:
            return cap, False
        return total, True

    def matching_ids(self, flt: RecordFilter, *, batch: int = 50_000) -> npt.NDArray[np.int64]:
        """Ids of every published record passing ``flt``, ascending (keyset batches)."""
        conds = self._conditions(flt)
        parts: list[npt.NDArray[np.int64]] = []
        last = 0
        while True:
            q = (
                select(records.c.id)
                .where(records.c.id > last, self._live(), *conds)
                .order_by(records.c.id)
                .limit(batch)
            )
            got = np.fromiter(self._conn.execute(q).scalars(), dtype=np.int64)
            if got.size == 0:
                break
            parts.append(got)
            last = int(got[-1])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    # ---------------------------------------------------------------- one record

    def record_detail(self, record_id: int) -> dict[str, Any]:
        """Everything stored about one record: the record, its import, suggestions,
        responses, final labels, review items with their history, rounds, whether it is a
        gold check, owners' actions on it, and the other records of its duplicate group."""
        row = self._conn.execute(select(records).where(records.c.id == record_id)).first()
        if row is None:
            raise NotFoundError(f"no record {record_id}")
        rec = dict(row._mapping)
        rid = int(rec["id"])
        source = None
        if rec["import_id"] is not None:
            imp = self._conn.execute(
                select(
                    imports.c.id, imports.c.source, imports.c.format, imports.c.created_at
                ).where(imports.c.id == rec["import_id"])
            ).first()
            source = None if imp is None else dict(imp._mapping)

        def rows(q: Any) -> list[dict[str, Any]]:
            return [dict(r._mapping) for r in self._conn.execute(q)]

        sg, rs, fl, rv = suggestions, responses, final_labels, reviews
        review_rows = rows(select(rv).where(rv.c.record_id == rid).order_by(rv.c.id))
        history: dict[int, list[dict[str, Any]]] = {}
        if review_rows:
            q = (
                select(review_history)
                .where(review_history.c.review_id.in_([r["id"] for r in review_rows]))
                .order_by(review_history.c.id)
            )
            for h in rows(q):
                history.setdefault(int(h["review_id"]), []).append(h)
        for r in review_rows:
            r["history"] = history.get(int(r["id"]), [])
        group: list[int] = []
        if rec["dup_group"] is not None:
            q = (
                select(records.c.id)
                .where(records.c.dup_group == rec["dup_group"], records.c.id != rid, self._live())
                .order_by(records.c.id)
                .limit(50)
            )
            group = [int(i) for i in self._conn.execute(q).scalars()]
        round_q = (
            select(rounds.c.number, rounds.c.status, rounds.c.started_at)
            .join(round_records, round_records.c.round_id == rounds.c.id)
            .where(round_records.c.record_id == rid)
            .order_by(rounds.c.number)
        )
        events_q = select(record_events).where(record_events.c.record_id == rid)
        gold_check = self._conn.execute(
            select(honeypots.c.record_id).where(honeypots.c.record_id == rid)
        ).first()
        return {
            "record": {
                "id": rid,
                "external_id": rec["external_id"],
                "fields": rec["fields"],
                "metadata": rec["metadata"],
                "source_file": rec["source_file"],
                "source_row": rec["source_row"],
                "dup_group": rec["dup_group"],
                "created_at": rec["created_at"],
                "n_submitted": rec["n_submitted"],
                "queue_done": bool(rec["queue_done"]),
                "queue_rank": rec["queue_rank"],
            },
            "import": source,
            "suggestions": rows(select(sg).where(sg.c.record_id == rid).order_by(sg.c.id)),
            "responses": rows(
                select(
                    rs.c.user,
                    rs.c["values"],
                    rs.c.status,
                    rs.c.guideline_version,
                    rs.c.time_spent,
                    rs.c.created_at,
                    rs.c.updated_at,
                )
                .where(rs.c.record_id == rid)
                .order_by(rs.c.id)
            ),
            "final": rows(select(fl).where(fl.c.record_id == rid).order_by(fl.c.question)),
            "reviews": review_rows,
            "rounds": rows(round_q),
            "gold_check": gold_check is not None,
            "events": rows(events_q.order_by(record_events.c.id)),
            "duplicates": group,
        }

    # ---------------------------------------------------------------- owners' actions

    def add_record_events(self, items: Sequence[dict[str, Any]]) -> int:
        """Keep owners' actions: ``record_id``, ``action``, ``actor``, ``question``,
        ``detail``."""
        if items:
            self._conn.execute(insert(record_events), list(items))
        return len(items)

    def last_gold_events(
        self, record_ids: Sequence[int], question: str
    ) -> dict[int, dict[str, Any]]:
        """The detail of the latest ``gold`` event of each record (what it replaced)."""
        out: dict[int, dict[str, Any]] = {}
        ids = sorted({int(i) for i in record_ids})
        ev = record_events
        for i in range(0, len(ids), 900):
            q = (
                select(ev.c.record_id, ev.c.detail)
                .where(ev.c.record_id.in_(ids[i : i + 900]), ev.c.action == "gold")
                .where(ev.c.question == question)
                .order_by(ev.c.id)
            )
            out.update({int(r.record_id): dict(r.detail or {}) for r in self._conn.execute(q)})
        return out

    def drop_honeypots(self, record_ids: Sequence[int]) -> int:
        """Stop mixing ``record_ids`` into queues as gold checks."""
        ids = sorted({int(i) for i in record_ids})
        n = 0
        for i in range(0, len(ids), 900):
            done = self._conn.execute(
                delete(honeypots).where(honeypots.c.record_id.in_(ids[i : i + 900]))
            )
            n += int(done.rowcount)
        return n

    def min_queue_rank(self) -> float:
        """The lowest ``queue_rank`` of an open record (0 when none is lower)."""
        q = (
            select(records.c.queue_rank)
            .where(records.c.queue_done.is_(False))
            .order_by(records.c.queue_rank)
            .limit(1)
        )
        found = self._conn.execute(q).scalar()
        return min(0.0, float(found)) if found is not None else 0.0

    def open_review_keys(self, record_ids: Sequence[int], question: str, kind: str) -> set[int]:
        """Which of ``record_ids`` have an open review item of ``question`` and ``kind``."""
        ids = sorted({int(i) for i in record_ids})
        out: set[int] = set()
        for i in range(0, len(ids), 900):
            q = select(reviews.c.record_id).where(
                reviews.c.record_id.in_(ids[i : i + 900]),
                reviews.c.question == question,
                reviews.c.kind == kind,
                reviews.c.status == "open",
            )
            out.update(int(r) for r in self._conn.execute(q).scalars())
        return out

    def open_record_ids(self, record_ids: Sequence[int]) -> set[int]:
        """Which of ``record_ids`` still wait for responses (not ``queue_done``)."""
        ids = sorted({int(i) for i in record_ids})
        out: set[int] = set()
        for i in range(0, len(ids), 900):
            q = select(records.c.id).where(
                records.c.id.in_(ids[i : i + 900]), not_(records.c.queue_done)
            )
            out.update(int(r) for r in self._conn.execute(q).scalars())
        return out

    # ---------------------------------------------------------------- jobs

    def create_job(self, kind: str, user: str, params: dict[str, Any], *, now: float) -> int:
        row = self._conn.execute(
            insert(jobs)
            .values(kind=kind, user=user, status="running", stage="Queued", done=0,
                    params=params, heartbeat=now)
            .returning(jobs.c.id)
        ).one()  # fmt: skip
        return int(row.id)

    def update_job(self, job_id: int, **values: Any) -> None:
        """Set fields of job ``job_id`` (``stage``, ``done``, ``total``, ``heartbeat``,
        ``status``, ``result``, ``error``); a finished status stamps ``finished_at``."""
        if values.get("status") in ("done", "failed"):
            values["finished_at"] = func.now()
        self._conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def get_job(self, job_id: int) -> dict[str, Any]:
        row = self._conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job {job_id}")
        return dict(row._mapping)


def _plain(value: Any) -> Any:
    """A key value as JSON can hold it (booleans stay booleans; numbers stay numbers)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    return float(value)


def _preview(fields: Any) -> dict[str, Any]:
    """Each field cut to :data:`PREVIEW` characters (a chat field: its last message)."""
    out: dict[str, Any] = {}
    for name, value in (fields or {}).items():
        if isinstance(value, list) and value and isinstance(value[-1], dict):
            value = str(value[-1].get("content", ""))
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out[name] = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    return out
