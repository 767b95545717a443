"""Settings of one server process; passed to :func:`~goldsmith.server.create_app`."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from goldsmith.errors import ConfigError

ENV_SETTINGS = "GOLDSMITH_SERVER_SETTINGS"  # how `serve --workers N` hands settings to workers


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where the project is and how the server guards it.

    ``login_failures`` failed logins of one user name from one client address within
    ``login_window`` seconds lock that name at that address until the window has passed;
    other names, and that name from other addresses, still log in. ``login_address_failures``
    failures from one address (any names: spraying) lock that address for names that have
    not logged in there successfully since the server started (see
    :class:`~goldsmith.server.login_limit.LoginLimiter`).

    ``trusted_proxies`` (addresses or networks such as ``10.0.0.0/8``): only when the direct
    peer is one of them is ``X-Forwarded-For`` read for the client's address.
    """

    project_root: Path
    db_url: str | None = None
    secure_cookies: bool = False  # set behind HTTPS so cookies are never sent in clear
    session_seconds: float = 12 * 3600
    login_failures: int = 5
    login_window: float = 300.0
    login_address_failures: int = 50
    trusted_proxies: tuple[str, ...] = ()
    read_workers: int = 8
    key_cache_seconds: float = 10.0  # how long a checked API key is trusted without a lookup
    retrain_every: int = 0  # retrain the model in the loop after this many submits; 0 = never

    def __post_init__(self) -> None:
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(
                    f"trusted proxy {entry!r} is not an IP address or network; "
                    "give addresses such as 10.0.0.5 or networks such as 10.0.0.0/8"
                ) from None
        for name in ("login_failures", "login_address_failures"):
            if getattr(self, name) < 1:
                raise ConfigError(f"server setting {name} must be at least 1")

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
