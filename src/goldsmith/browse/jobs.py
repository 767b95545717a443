"""Background jobs kept in the store: a job's stage, progress and outcome live in its
``jobs`` row, so any server worker can answer for a job another one runs.

:class:`JobProgress` is a :class:`~goldsmith.progress.Progress` that writes to that row, at
most every ``every`` seconds (each write is a short transaction of its own). :func:`run`
runs a function as a job and keeps what it returned, or the error that stopped it. A job
whose heartbeat is older than :data:`LOST_AFTER` is reported ``lost``: the process that ran
it stopped (a server restart) before it finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from goldsmith.errors import GoldsmithError
from goldsmith.progress import Progress
from goldsmith.store import Store

log = logging.getLogger("goldsmith.jobs")
LOST_AFTER = 600.0  # seconds without a heartbeat: the job's process is gone
T = TypeVar("T")


class JobProgress:
    """Progress of job ``job_id``, written to the store at most every ``every`` seconds."""

    def __init__(
        self,
        store: Store,
        job_id: int,
        *,
        every: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.job_id = job_id
        self.every = every
        self.clock = clock
        self.stage = ""
        self.done = 0
        self.total: int | None = None
        self._written = 0.0

    def _write(self, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._written < self.every:
            return
        self._written = now
        with self.store.write() as tx:
            tx.update_job(
                self.job_id, stage=self.stage, done=self.done, total=self.total, heartbeat=now
            )

    def start(self, description: str, total: int | None = None) -> None:
        self.stage, self.done, self.total = description, 0, total
        self._write(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._write()

    def finish(self) -> None:
        self._write(force=True)

    def beat(self) -> None:
        """Say the job is alive (a long step with no progress to report)."""
        with self.store.write() as tx:
            tx.update_job(self.job_id, heartbeat=self.clock())


def start(store: Store, kind: str, user: str, params: dict[str, Any]) -> int:
    """Record a new running job; returns its id."""
    with store.write() as tx:
        return tx.create_job(kind, user, params, now=time.time())


def run(
    store: Store,
    job_id: int,
    work: Callable[[Progress], T],
    summary: Callable[[T], dict[str, Any]],
) -> T | None:
    """Run ``work`` as job ``job_id``: its progress goes to the job's row, then ``summary``
    of what it returned (status ``done``) or the error that stopped it (``failed``; a
    :class:`GoldsmithError` keeps its message, anything else its type too)."""
    progress = JobProgress(store, job_id)
    try:
        result = work(progress)
    except Exception as exc:
        message = str(exc) if isinstance(exc, GoldsmithError) else f"{type(exc).__name__}: {exc}"
        log.warning("job %s failed: %s", job_id, message)
        with store.write() as tx:
            tx.update_job(job_id, status="failed", error=message, heartbeat=time.time())
        return None
    with store.write() as tx:
        tx.update_job(
            job_id,
            status="done",
            stage="Done",
            result=summary(result),
            heartbeat=time.time(),
        )
    return result


def state(store: Store, job_id: int, *, now: float | None = None) -> dict[str, Any]:
    """Job ``job_id`` as stored, ``running`` turned ``lost`` when its heartbeat stopped."""
    with store.read() as tx:
        job = tx.get_job(job_id)
    now = time.time() if now is None else now
    if job["status"] == "running" and now - float(job["heartbeat"]) > LOST_AFTER:
        job["status"] = "lost"
        job["error"] = "the server stopped while this job ran, so it did not finish: start it again"
    return job
