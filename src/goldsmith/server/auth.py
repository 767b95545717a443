"""Who is asking: a bearer API key (SDK) or a session cookie with a CSRF token (the page).

Cookie-authenticated writes must carry the session's CSRF token in ``X-CSRF-Token``; bearer
requests need none, since browsers never attach them on their own. Failed logins are
rate-limited per user name plus client address (:mod:`goldsmith.server.login_limit`); the
client address comes from ``X-Forwarded-For`` only behind a trusted proxy
(:mod:`goldsmith.server.client_address`).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from fastapi import Request

from goldsmith.access import credentials
from goldsmith.errors import AuthenticationError, PermissionDeniedError
from goldsmith.project import Project
from goldsmith.schema import User
from goldsmith.server.client_address import ClientAddress
from goldsmith.server.login_limit import LoginLimiter
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


class Authenticator:
    def __init__(self, project: Project, runner: StoreRunner, settings: ServerSettings) -> None:
        self.project = project
        self.runner = runner
        self.settings = settings
        self.limiter = LoginLimiter(
            settings.login_failures,
            settings.login_window,
            address_failures=settings.login_address_failures,
        )
        self.addresses = ClientAddress(settings.trusted_proxies)
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

    def client_address(self, request: Request) -> str:
        """The client's address: the peer's, or from ``X-Forwarded-For`` when the peer is a
        trusted proxy (``ServerSettings.trusted_proxies``)."""
        peer = request.client.host if request.client else None
        return self.addresses.of(peer, request.headers.getlist("x-forwarded-for"))

    async def login(self, name: str, password: str, client: str) -> tuple[User, str, str]:
        """Check a password from ``client`` (an address) and open a session:
        ``(user, cookie token, csrf)``."""
        self.limiter.check(name, client)
        try:
            user = await self.runner.read(self.project.check_password, name, password)
        except AuthenticationError:
            self.limiter.failed(name, client)
            raise
        self.limiter.succeeded(name, client)
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
