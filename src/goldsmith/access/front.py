"""The users half of :class:`goldsmith.project.Project`: accounts, API keys and login
sessions (mixed into ``Project``; each method delegates to :mod:`goldsmith.access.users`)."""

from __future__ import annotations

from goldsmith.access import users as _users
from goldsmith.schema import Role, User
from goldsmith.store import Store


class AccessFront:
    """Users, keys and sessions; needs ``store`` from the class it is mixed into."""

    store: Store

    def add_user(self, name: str, role: Role | str, password: str | None = None) -> str:
        """Create a user; returns ``password`` or a generated one-time password."""
        return _users.add_user(self.store, name, role, password)

    def users(self) -> list[User]:
        with self.store.read() as tx:
            return tx.list_users()

    def user(self, name: str) -> User:
        with self.store.read() as tx:
            return tx.user(name)

    def create_api_key(self, name: str) -> str:
        """A new API key for ``name``, stored hashed: this is the only time it is shown."""
        return _users.create_api_key(self.store, name)

    def user_for_key(self, key: str) -> User:
        return _users.user_for_key(self.store, key)

    def check_password(self, name: str, password: str) -> User:
        return _users.check_password(self.store, name, password)

    def open_session(
        self, user: User, *, seconds: float = _users.SESSION_SECONDS
    ) -> tuple[str, str]:
        """``(token, csrf)`` of a new login session for ``user``, valid for ``seconds``."""
        return _users.open_session(self.store, user, seconds=seconds)

    def session_user(self, token: str) -> tuple[User, str]:
        return _users.session_user(self.store, token)

    def close_session(self, token: str) -> None:
        _users.close_session(self.store, token)
