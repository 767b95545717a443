"""Password hashing (Argon2id) and random tokens stored as SHA-256 digests.

API keys and session tokens carry 256 bits of randomness, so a fast digest is enough to
store them safely; passwords are low-entropy and get a slow, salted Argon2id hash.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

KEY_PREFIX = "gsk_"
_HASHER = PasswordHasher()  # argon2id with the library's maintained defaults


@cache
def _dummy_hash() -> str:
    """Verifying against this when a user does not exist keeps both failures equally slow."""
    return _HASHER.hash("goldsmith-no-such-user")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one verification."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A one-time password of 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The stored form of an API key or session token."""
    return hashlib.sha256(token.encode()).hexdigest()
