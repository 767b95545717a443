"""A :class:`goldsmith.progress.Progress` that records what it was told, for tests."""

from __future__ import annotations

from typing import Any


class Recorder:
    """Keeps every ``start``, ``advance`` and ``finish`` call as ``(event, value)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def start(self, description: str, total: int | None = None) -> None:
        self.events.append(("start", total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def finish(self) -> None:
        self.events.append(("finish", None))
