"""Settings of one server process; passed to :func:`~goldsmith.server.create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where the project is and how the server guards it.

    ``login_failures`` failed logins within ``login_window`` seconds, per user name or per
    client address, lock further attempts until the window has passed.
    """

    project_root: Path
    db_url: str | None = None
    secure_cookies: bool = False  # set behind HTTPS so cookies are never sent in clear
    session_seconds: float = 12 * 3600
    login_failures: int = 5
    login_window: float = 300.0
    read_workers: int = 8
    key_cache_seconds: float = 10.0  # how long a checked API key is trusted without a lookup
    retrain_every: int = 0  # retrain the model in the loop after this many submits; 0 = never
