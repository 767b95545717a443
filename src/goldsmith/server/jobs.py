"""Background jobs of the server (an export started from the records browser), each on a
daemon thread of its own. The job's progress and outcome live in the store
(:mod:`goldsmith.browse.jobs`), so every worker answers for it; while it runs, a heartbeat
every :data:`BEAT_S` seconds keeps it from being reported lost during a long step."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

log = logging.getLogger("goldsmith.server")
BEAT_S = 30.0


class JobThreads:
    """Start jobs on threads; :meth:`wait` waits for those still running (tests, shutdown)."""

    def __init__(self, *, beat_every: float = BEAT_S) -> None:
        self.beat_every = beat_every
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, name: str, work: Callable[[], Any], beat: Callable[[], None]) -> None:
        """Run ``work`` on a thread; call ``beat`` every ``beat_every`` seconds meanwhile."""
        stop = threading.Event()

        def beating() -> None:
            while not stop.wait(self.beat_every):
                try:
                    beat()
                except Exception as exc:  # a missed beat must not stop the job
                    log.warning("job %s: heartbeat failed: %s", name, exc)

        def running() -> None:
            ticker = threading.Thread(target=beating, name=f"goldsmith-{name}-beat", daemon=True)
            ticker.start()
            try:
                work()
            except Exception:  # the job records its own failure; this is what it could not
                log.exception("job %s stopped", name)
            finally:
                stop.set()

        thread = threading.Thread(target=running, name=f"goldsmith-{name}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float | None = None) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)


def job_threads(app: FastAPI) -> JobThreads:
    """The app's job threads, made on first use."""
    threads: JobThreads | None = getattr(app.state, "jobs", None)
    if threads is None:
        threads = app.state.jobs = JobThreads()
    return threads
