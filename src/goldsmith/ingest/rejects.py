"""Where invalid rows go: raised (strict) or written to a JSON-lines file and counted."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from goldsmith.errors import InputError


class RejectSink:
    """Handle rows that cannot be imported.

    With ``path`` None every rejection raises its :class:`InputError` (the import is rolled
    back). With a path, each rejection is written as one JSON line
    ``{"line", "field", "error", "row"}`` and counted in :attr:`count`. Use it as a context
    manager so the file is opened (and emptied) at the start and closed at the end.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._out: IO[str] | None = None

    def __enter__(self) -> RejectSink:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # backslashreplace: a lone surrogate (from a JSON escape) is written back as one
            self._out = open(self.path, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def reject(self, error: InputError, row: Any) -> None:
        """Raise ``error`` in strict mode; otherwise record it with the raw ``row``."""
        if self.path is None:
            raise error
        if self._out is None:
            raise RuntimeError("RejectSink.reject called outside its `with` block")
        entry = {"line": error.line, "field": error.field, "error": error.reason, "row": row}
        self._out.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self.count += 1
