"""Settings of one server process; passed to :func:`~goldsmith.server.create_app`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError

ENV_SETTINGS = "GOLDSMITH_SERVER_SETTINGS"  # how `serve --workers N` hands settings to workers


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

    def to_json(self) -> str:
        """The settings as JSON, for worker processes (:meth:`from_json` reads it back)."""
        data: dict[str, Any] = asdict(self)
        data["project_root"] = str(self.project_root)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"${ENV_SETTINGS} names unknown server setting(s) {unknown}; "
                "start workers with goldsmith serve"
            )
        return cls(**{**data, "project_root": Path(data["project_root"])})
