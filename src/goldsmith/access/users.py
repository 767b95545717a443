"""User accounts, API keys and login sessions over a :class:`~goldsmith.store.Store`."""

from __future__ import annotations

import re
import time

from goldsmith.access import credentials
from goldsmith.errors import AuthenticationError, SchemaError
from goldsmith.schema import Role, User
from goldsmith.store import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD = 8


def add_user(store: Store, name: str, role: Role | str, password: str | None = None) -> str:
    """Create a user and return the password: ``password`` or a new one-time password."""
    if not _NAME.match(name):
        raise SchemaError(
            f"user name {name!r} must be 1-128 letters, digits or . _ @ -, starting with a "
            "letter or digit"
        )
    try:
        role = Role(role)
    except ValueError as exc:
        raise SchemaError(f"role {role!r} is not one of {[str(r) for r in Role]}") from exc
    if password is None:
        password = credentials.new_password()
    elif len(password) < MIN_PASSWORD:
        raise SchemaError(f"a password needs at least {MIN_PASSWORD} characters")
    with store.write() as tx:
        tx.add_user(name, role, credentials.hash_password(password))
    return password


def create_api_key(store: Store, name: str) -> str:
    """A new API key for ``name``; only its digest is stored, so show it once."""
    key = credentials.new_api_key()
    with store.write() as tx:
        user = tx.user(name)
        assert user.id is not None
        tx.add_api_key(user.id, credentials.digest(key), key[:8])
    return key


def user_for_key(store: Store, key: str) -> User:
    with store.read() as tx:
        user = tx.user_for_key(credentials.digest(key))
    if user is None:
        raise AuthenticationError("unknown API key")
    return user


def check_password(store: Store, name: str, password: str) -> User:
    """The user when ``password`` is theirs; the same error whether or not the user exists."""
    with store.read() as tx:
        found = tx.password_hash(name)
    user, stored = found if found is not None else (None, None)
    if not credentials.verify_password(stored, password) or user is None:
        raise AuthenticationError("wrong user name or password")
    return user


def open_session(store: Store, user: User, *, seconds: float = SESSION_SECONDS) -> tuple[str, str]:
    """Start a login session; returns ``(cookie token, CSRF token)``."""
    token, csrf = credentials.new_token(), credentials.new_token()
    now = time.time()
    assert user.id is not None
    with store.write() as tx:
        tx.purge_sessions(now)
        tx.add_session(credentials.digest(token), user.id, csrf, now + seconds)
    return token, csrf


def session_user(store: Store, token: str) -> tuple[User, str]:
    """The user and CSRF token of a live session."""
    with store.read() as tx:
        found = tx.session(credentials.digest(token), time.time())
    if found is None:
        raise AuthenticationError("the session has expired; log in again")
    return found


def close_session(store: Store, token: str) -> None:
    with store.write() as tx:
        tx.delete_session(credentials.digest(token))
