"""The annotating half of :class:`goldsmith.project.Project`: leases, answers and progress
(mixed into ``Project``; each method delegates to :mod:`goldsmith.annotation.queue`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.schema import Response, ResponseStatus, Task
from goldsmith.store import Store

if TYPE_CHECKING:
    from goldsmith.annotation import queue as _queue
    from goldsmith.annotation.queue import Item
else:  # loaded when a method first needs it, so the CLI starts at once
    _queue = lazy_module("goldsmith.annotation.queue")


class AnnotationFront:
    """Leases and answers; needs ``store`` and ``task`` from the class it is mixed into."""

    store: Store

    @property
    def task(self) -> Task:
        raise NotImplementedError

    def next_item(self, user: str) -> Item | None:
        """Lease the next record for ``user`` (see :mod:`goldsmith.annotation.queue`)."""
        return _queue.next_item(self.store, self.task, user)

    def item(self, record_id: int, user: str) -> Item:
        """A record with its suggestions and ``user``'s own response and lease."""
        return _queue.get_item(self.store, record_id, user)

    def previous_item(self, user: str, before: int | None = None) -> Item | None:
        return _queue.previous_item(self.store, user, before)

    def answer(
        self,
        user: str,
        record_id: int,
        values: dict[str, Any],
        status: ResponseStatus = ResponseStatus.SUBMITTED,
        *,
        time_spent: float | None = None,
        assigned_only: bool = False,
    ) -> Response:
        """Submit, skip (``discarded``) or save a draft of ``user``'s answer to a record.

        With ``assigned_only`` the record must be leased to ``user`` or already answered by
        them (:class:`~goldsmith.errors.PermissionDeniedError` otherwise).
        """
        return _queue.answer(
            self.store,
            self.task,
            user,
            record_id,
            values,
            status,
            time_spent=time_spent,
            assigned_only=assigned_only,
        )

    def answer_and_next(
        self,
        user: str,
        record_id: int,
        values: dict[str, Any],
        status: ResponseStatus = ResponseStatus.SUBMITTED,
        *,
        time_spent: float | None = None,
        assigned_only: bool = False,
        fetch_next: bool = True,
    ) -> tuple[Response, Item | None]:
        """:meth:`answer`, then (``fetch_next``) lease ``user``'s next record, in one
        transaction."""
        return _queue.answer_and_next(
            self.store,
            self.task,
            user,
            record_id,
            values,
            status,
            time_spent=time_spent,
            assigned_only=assigned_only,
            fetch_next=fetch_next,
        )

    def progress(self, user: str) -> dict[str, Any]:
        return _queue.progress(self.store, user)
