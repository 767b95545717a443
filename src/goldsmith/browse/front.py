"""The records browser's half of :class:`goldsmith.project.Project` (mixed into it): listing
by filters, one record's story, owners' bulk actions and background jobs. Each method
delegates to :mod:`goldsmith.store.browse` or a module of this package."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from goldsmith.browse import actions as _actions
from goldsmith.browse import detail as _detail
from goldsmith.browse import jobs as _jobs
from goldsmith.errors import ArgumentError
from goldsmith.schema import Task
from goldsmith.store import Store
from goldsmith.store.browse import BrowsePage, RecordFilter

ACTIONS = ("front", "review", "gold", "ungold")


def _status(row: dict[str, Any]) -> str:
    if row["final"]:
        return "labeled"
    return "annotated" if row["n_submitted"] else "pending"


class BrowseFront:
    """Needs ``store`` and ``task`` from the class it is mixed into."""

    store: Store

    @property
    def task(self) -> Task:
        raise NotImplementedError

    def record_filter(self, **fields: Any) -> RecordFilter:
        """A :class:`~goldsmith.store.browse.RecordFilter` over this task: ``question``
        defaults to the first (an unknown one is a :class:`~goldsmith.errors.SchemaError`)
        and the text search looks in every field of the task."""
        question = self.task.question(fields.pop("question", None)).name
        names = tuple(f.name for f in self.task.fields)
        return RecordFilter(question=question, text_fields=names, **fields)

    def _filter(self, flt: RecordFilter | None) -> RecordFilter:
        if flt is None:
            return self.record_filter()
        question = self.task.question(flt.question).name
        names = flt.text_fields or tuple(f.name for f in self.task.fields)
        return replace(flt, question=question, text_fields=names)

    def browse(
        self,
        flt: RecordFilter | None = None,
        *,
        sort: str = "id",
        after: str | None = None,
        limit: int = 50,
    ) -> BrowsePage:
        """A page of the records passing ``flt`` (default: all), in ``sort`` order, after
        the cursor ``after`` (the previous page's ``next``). Each row carries the record's
        ``preview``, ``metadata``, ``status``, its ``final`` labels, the best-scored
        ``suggestion`` of the filter's question and its open ``reviews``. A page examines
        at most :data:`~goldsmith.store.browse.SCAN` records past its cursor: when it comes
        back ``partial``, more matches may follow ``next``."""
        flt = self._filter(flt)
        with self.store.read() as tx:
            page = tx.browse_page(flt, sort=sort, after=after, limit=limit)
            more = tx.browse_details([r["id"] for r in page.rows], flt.question or "")
        for row in page.rows:
            row.update(more[row["id"]])
            row["status"] = _status(row)
        return page

    def count_matching(
        self, flt: RecordFilter | None = None, *, cap: int | None = None
    ) -> tuple[int, bool]:
        """``(n, exact)``: how many records pass ``flt``; with ``cap`` it stops counting
        past ``cap`` (then ``exact`` is False)."""
        with self.store.read() as tx:
            return tx.browse_count(self._filter(flt), cap=cap)

    def record_story(self, record_id: int) -> dict[str, Any]:
        """Everything about one record: its fields and metadata, every suggestion (agent,
        score), every response by annotator, its final labels with provenance, its review
        items with their decisions, rounds, owners' actions, and one ``history`` timeline."""
        with self.store.read() as tx:
            story = tx.record_detail(record_id)
        return _detail.assemble(story)

    def act_on_records(
        self, action: str, ids: Sequence[int], *, actor: str, question: str | None = None
    ) -> dict[str, Any]:
        """Apply an owner's bulk ``action`` to records ``ids``: ``front`` (first in the
        annotation queue), ``review`` (a manual review item), ``gold`` or ``ungold`` (the
        final label of ``question``, default the first). Returns what changed and what was
        left alone, and why (:mod:`goldsmith.browse.actions`)."""
        name = self.task.question(question).name
        if action == "front":
            return _actions.send_to_front(self.store, ids, actor=actor)
        if action == "review":
            return _actions.send_to_review(self.store, ids, actor=actor, question=name)
        if action in _actions.ACTIONS:
            return _actions.ACTIONS[action](self.store, ids, actor=actor, question=name)
        raise ArgumentError(f"action {action!r}: choose one of {', '.join(ACTIONS)}")

    def start_job(self, kind: str, user: str, params: dict[str, Any]) -> int:
        """Record a background job (running); :meth:`job` reports on it."""
        return _jobs.start(self.store, kind, user, params)

    def job(self, job_id: int) -> dict[str, Any]:
        """A background job: ``status`` (running, done, failed, lost), ``stage``, ``done``
        of ``total``, and its ``result`` or ``error``."""
        return _detail.assemble_job(_jobs.state(self.store, job_id))

    def job_alive(self, job_id: int) -> None:
        """Keep job ``job_id`` from being reported lost during a long step."""
        _jobs.JobProgress(self.store, job_id).beat()
