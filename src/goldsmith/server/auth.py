"""Who is asking: a bearer API key (SDK) or a session cookie with a CSRF token (the page).

Cookie-authenticated writes must carry the session's CSRF token in ``X-CSRF-Token``; bearer
requests need none, since browsers never attach them on their own. Failed logins are
rate-limited per user name and per client address.
"""

from __future__ import annotations

import hmac
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from fastapi import Request

from goldsmith.access import credentials
from goldsmith.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from goldsmith.project import Project
from goldsmith.schema import User
from goldsmith.server.runner import StoreRunner
from goldsmith.server.settings import ServerSettings

SESSION_COOKIE = "gs_session"
LOGIN_CSRF_COOKIE = "gs_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfError(PermissionDeniedError):
    """A cookie-authenticated write without the session's CSRF token."""


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    csrf: str | None  # set for cookie sessions


class LoginLimiter:
    """Counts failed logins in a sliding window, per user name and per client address."""

    def __init__(self, failures: int, window: float) -> None:
        self.failures = failures
        self.window = window
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        seen = self._seen[key]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            seen = self._recent(key, now)
            if len(seen) >= self.failures:
                retry = max(1.0, seen[0] + self.window - now)
                raise RateLimitedError(
                    f"too many failed logins; try again in {int(retry) + 1} s", retry_after=retry
                )

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 100_000:  # bound memory: forget names whose window has passed
            for key in [k for k, seen in self._seen.items() if not self._recent(k, now)]:
                del self._seen[key]
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, name_key: str) -> None:
        self._seen.pop(name_key, None)


class Authenticator:
    def __init__(self, project: Project, runner: StoreRunner, settings: ServerSettings) -> None:
        self.project = project
        self.runner = runner
        self.settings = settings
        self.limiter = LoginLimiter(settings.login_failures, settings.login_window)
        self._keys: dict[str, tuple[User, float]] = {}  # key digest -> (user, trusted until)

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise AuthenticationError("use 'Authorization: Bearer <API key>'")
            return Principal(await self._user_for_key(key.strip()), None)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise AuthenticationError("log in, or send an API key as 'Authorization: Bearer …'")
        user, csrf = await self.runner.read(self.project.session_user, token)
        if request.method not in _SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise CsrfError(f"missing or wrong {CSRF_HEADER} header; reload the page")
        return Principal(user, csrf)

    async def _user_for_key(self, key: str) -> User:
        digest = credentials.digest(key)
        now = time.monotonic()
        cached = self._keys.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        user = await self.runner.read(self.project.user_for_key, key)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (user, now + self.settings.key_cache_seconds)
        return user

    async def login(self, name: str, password: str, client: str) -> tuple[User, str, str]:
        """Check a password and open a session: ``(user, cookie token, csrf)``."""
        name_key, client_key = f"user:{name}", f"addr:{client}"
        self.limiter.check(name_key, client_key)
        try:
            user = await self.runner.read(self.project.check_password, name, password)
        except AuthenticationError:
            self.limiter.failed(name_key, client_key)
            raise
        self.limiter.succeeded(name_key)
        token, csrf = await self.runner.write(
            self.project.open_session, user, seconds=self.settings.session_seconds
        )
        return user, token, csrf


def authenticator(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


async def current_principal(request: Request) -> Principal:
    return await authenticator(request).principal(request)


async def current_user(request: Request) -> User:
    return (await current_principal(request)).user
