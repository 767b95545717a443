"""Retrain the model in the loop in the background while serving.

Every ``every`` submitted answers, :meth:`Retrainer.submitted` starts one retrain on a
daemon thread, unless one is already running (answers that arrive meanwhile count toward the
next one). A submit only bumps a counter under a lock, so it never waits for a retrain; the
retrain's own writes are short transactions (embedding batches, then the suggestions, then
the queue ranks), which the store interleaves with the server's writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("goldsmith.server")


class Retrainer:
    """Run ``retrain()`` in the background after every ``every`` submitted answers.

    Attributes
    ----------
    runs : int
        Retrains finished (successfully or not).
    last_report : Any
        What the last successful ``retrain()`` returned.
    last_error : str | None
        The last failure, as text (the server keeps serving).
    """

    def __init__(self, retrain: Callable[[], Any], *, every: int) -> None:
        self._retrain = retrain
        self.every = every
        self._count = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_report: Any = None
        self.last_error: str | None = None

    def submitted(self, n: int = 1) -> bool:
        """Count ``n`` submitted answers; returns whether a retrain was started."""
        if self.every <= 0:
            return False
        with self._lock:
            self._count += n
            busy = self._thread is not None and self._thread.is_alive()
            if self._count < self.every or busy:
                return False
            self._count = 0
            self._thread = threading.Thread(target=self._run, name="goldsmith-retrain")
            self._thread.daemon = True
            self._thread.start()
            return True

    def _run(self) -> None:
        try:
            self.last_report = self._retrain()
            self.last_error = None
        except Exception as exc:  # a failed retrain must not take the server down
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("background retrain failed: %s", self.last_error)
        finally:
            with self._lock:
                self.runs += 1

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a running retrain to finish (used at shutdown and in tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
