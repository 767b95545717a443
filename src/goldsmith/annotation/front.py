"""The annotating half of :class:`goldsmith.project.Project`: leases, answers and progress
(mixed into ``Project``; each method delegates to :mod:`goldsmith.annotation.queue`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from goldsmith._lazy import lazy_module
from goldsmith.annotation.handles import SECRET_KEY, RecordHandles, new_secret
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
    _handle_secret: bytes | None = None
    _handles: dict[str, RecordHandles] | None = None

    @property
    def task(self) -> Task:
        raise NotImplementedError

    def record_handles(self, user: str) -> RecordHandles:
        """``user``'s opaque record handles, what annotators see instead of record ids (see
        :mod:`goldsmith.annotation.handles`). The project's secret is made on first use."""
        cache = self._handles
        if cache is None or len(cache) > 4096:
            cache = self._handles = {}
        if user not in cache:
            cache[user] = RecordHandles(self._secret(), user)
        return cache[user]

    def warm_record_handles(self) -> None:
        """Read (or make) the project's handle secret now, so that :meth:`record_handles`
        never touches the store afterwards (the server calls this as it starts)."""
        self._secret()

    def sequence_numbers(self, user: str, record_ids: list[int]) -> dict[int, int]:
        """``user``'s own number ("#37 in your queue") of each record they answered."""
        with self.store.read() as tx:
            return tx.sequence_numbers(user, record_ids)

    def record_handle(self, user: str, record_id: int) -> str:
        """The handle ``user`` knows record ``record_id`` by."""
        return self.record_handles(user).handle(record_id)

    def record_id_of(self, user: str, handle: str) -> int | None:
        """The record id behind one of ``user``'s handles (None: not one of theirs)."""
        return self.record_handles(user).record_id(handle)

    def _secret(self) -> bytes:
        if self._handle_secret is None:
            with self.store.read() as tx:
                value = tx.get_meta(SECRET_KEY)
            if value is None:
                with self.store.write() as tx:
                    value = tx.meta_setdefault(SECRET_KEY, new_secret())
            self._handle_secret = bytes.fromhex(str(value))
        return self._handle_secret

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
