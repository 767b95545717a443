"""An import's life in the store: written in chunks, published at once, or taken back.

:func:`goldsmith.ingest.pipeline.import_file` writes each batch in its own short transaction,
so an annotator's submit waits for one chunk at most, never for the whole file. The records
stay hidden (:mod:`goldsmith.store.imports`) until the import is published by a one-row
update. An import that fails is taken back chunk by chunk (:func:`discard`); one whose process
died (``kill -9``, a power cut) is found and taken back by the next open of the project
(:func:`recover`), which says so.

Only one import writes at a time: :func:`claim` refuses a second one while the first runs,
naming it, and takes back an abandoned one first.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from goldsmith.errors import ConflictError
from goldsmith.store import Store
from goldsmith.store.base import StoreTx

log = logging.getLogger("goldsmith")

STALE_AFTER_S = 600.0
"""An import of another host counts as abandoned when it has not written for this long."""
DISCARD_CHUNK = 5_000
"""Records deleted per transaction when an import is taken back."""


def owner() -> str:
    """This process, as an import's owner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def abandoned(row: dict[str, Any], *, now: float | None = None) -> bool:
    """Whether a writing import's process is gone: on this host, its pid is not running;
    elsewhere, its heartbeat is older than :data:`STALE_AFTER_S`."""
    now = time.time() if now is None else now
    host, _, pid = str(row.get("owner") or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _running(int(pid))
    beat = row.get("heartbeat")
    return beat is None or now - float(beat) > STALE_AFTER_S


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, dead but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc: trust the signal
    return state not in ("Z", "X")


def claim(tx: StoreTx, source: str, fmt: str, options: dict[str, Any]) -> int:
    """Start an import in ``tx``; refuses while another live import is writing."""
    for row in tx.writing_imports():
        if not abandoned(row):
            raise ConflictError(
                f"another import is still writing to this project: import {row['id']} of "
                f"{row['source']} (process {row['owner']}); imports run one at a time. "
                "Wait for it to finish, then import again"
            )
    return tx.start_import(source, fmt, options, owner=owner(), now=time.time())


def discard(store: Store, import_id: int) -> int:
    """Take an unpublished import back: delete its records (and so their labels) a chunk per
    transaction, then its row. Returns the number of records deleted."""
    total = 0
    while True:
        with store.write() as tx:
            n = tx.discard_import_records(import_id, DISCARD_CHUNK)
            if n == 0:
                tx.drop_import(import_id)
                return total
        total += n


def recover(store: Store) -> list[str]:
    """Take back every import whose process died while writing; a warning per import,
    logged and returned. Cheap when there is none (one indexed read)."""
    with store.read() as tx:
        stale = [row for row in tx.writing_imports() if abandoned(row)]
    notices = []
    for row in stale:
        n = discard(store, int(row["id"]))
        notice = (
            f"removed an unfinished import of {row['source']} (import {row['id']}, process "
            f"{row['owner']} stopped while writing): {n} record(s) it had written were never "
            "published and are gone; import the file again"
        )
        log.warning(notice)
        notices.append(notice)
    return notices
