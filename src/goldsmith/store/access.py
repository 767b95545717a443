"""Store operations for users, API keys and login sessions (a mixin of :class:`StoreTx`).

Only digests of keys and session tokens are stored; password hashes come in already hashed.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from goldsmith.errors import ConflictError, NotFoundError
from goldsmith.schema import Role, User
from goldsmith.store.tables import api_keys, sessions, users


def _user(row: object) -> User:
    return User(name=row.name, role=Role(row.role), id=row.id)  # type: ignore[attr-defined]


class AccessTx:
    _conn: Connection

    def add_user(self, name: str, role: Role, password_hash: str | None) -> User:
        try:
            uid = self._conn.execute(
                users.insert()
                .values(name=name, role=str(role), password_hash=password_hash)
                .returning(users.c.id)
            ).scalar_one()
        except IntegrityError as exc:
            raise ConflictError(f"a user called {name!r} already exists") from exc
        return User(name=name, role=role, id=int(uid))

    def user(self, name: str) -> User:
        row = self._conn.execute(
            select(users).where(users.c.name == name, users.c.active.is_(True))
        ).first()
        if row is None:
            raise NotFoundError(f"no user {name!r}")
        return _user(row)

    def password_hash(self, name: str) -> tuple[User, str | None] | None:
        row = self._conn.execute(
            select(users).where(users.c.name == name, users.c.active.is_(True))
        ).first()
        return None if row is None else (_user(row), row.password_hash)

    def list_users(self) -> list[User]:
        q = select(users).where(users.c.active.is_(True)).order_by(users.c.id)
        return [_user(r) for r in self._conn.execute(q)]

    # ------------------------------------------------------------------ API keys

    def add_api_key(self, user_id: int, digest: str, prefix: str) -> None:
        self._conn.execute(api_keys.insert().values(user_id=user_id, digest=digest, prefix=prefix))

    def user_for_key(self, digest: str) -> User | None:
        q = (
            select(users)
            .join(api_keys, api_keys.c.user_id == users.c.id)
            .where(api_keys.c.digest == digest, users.c.active.is_(True))
        )
        row = self._conn.execute(q).first()
        return None if row is None else _user(row)

    # ------------------------------------------------------------------ sessions

    def add_session(self, digest: str, user_id: int, csrf: str, expires_at: float) -> None:
        self._conn.execute(
            sessions.insert().values(
                digest=digest, user_id=user_id, csrf=csrf, expires_at=expires_at
            )
        )

    def session(self, digest: str, now: float) -> tuple[User, str] | None:
        """The user and CSRF token of a live session."""
        q = (
            select(users, sessions.c.csrf)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(
                sessions.c.digest == digest,
                sessions.c.expires_at > now,
                users.c.active.is_(True),
            )
        )
        row = self._conn.execute(q).first()
        return None if row is None else (_user(row), str(row.csrf))

    def delete_session(self, digest: str) -> None:
        self._conn.execute(delete(sessions).where(sessions.c.digest == digest))

    def purge_sessions(self, now: float) -> int:
        return int(
            self._conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount
        )
