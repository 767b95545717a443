"""Run blocking store work off the event loop: one writer fed by a queue, many readers.

On SQLite every write goes through a single worker thread, so writes queue in memory instead
of fighting over the database lock, and each takes ``BEGIN IMMEDIATE``; reads run in parallel
on WAL snapshots. PostgreSQL has row locks and a connection pool, so both share a pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class StoreRunner:
    def __init__(self, dialect: str, *, read_workers: int = 8) -> None:
        self._reads = ThreadPoolExecutor(read_workers, thread_name_prefix="goldsmith-read")
        self._writes = (
            ThreadPoolExecutor(1, thread_name_prefix="goldsmith-write")
            if dialect == "sqlite"
            else self._reads
        )

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reads, partial(fn, *args, **kwargs))

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writes, partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._writes.shutdown(wait=True)
        self._reads.shutdown(wait=True)
