"""Opaque record handles: how annotators name records without ever seeing a database id.

A database id tells things apart: gold imported in its own batch has ids out of sequence, and
a gap between two ids says how much came in between. Annotators therefore get a **handle**
instead, ``"r"`` plus 16 hex digits: the record id put through a keyed pseudo-random
permutation of 64-bit numbers (a six-round Feistel network whose round function is keyed
BLAKE2b). The key is derived from a per-project secret (``meta.record_handle_secret``,
made on first use) and the annotator's name, so

* a handle says nothing about the id, its batch or its order (handles of consecutive ids look
  as unrelated as any two random numbers);
* two annotators get different handles for the same record (they cannot compare notes by
  handle to find the records everybody was served, the gold checks);
* a handle turns back into its id without a lookup table; another annotator's handle, or a
  made-up one, turns into a random 64-bit number, almost surely no record at all.

>>> h = RecordHandles(b"secret", "alice")
>>> h.handle(306)  # doctest: +ELLIPSIS
'r...'
>>> h.record_id(h.handle(306))
306
>>> h.handle(306) != RecordHandles(b"secret", "bob").handle(306)
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SECRET_KEY = "record_handle_secret"
"""The ``meta`` key of the project's handle secret (hex)."""
MAX_ID = 2**53
"""Ids above this are no record (the REST API's bound, what JavaScript numbers hold)."""
_ROUNDS = 6
_MASK = 0xFFFFFFFF
_HANDLE = re.compile(r"r[0-9a-f]{16}")


def new_secret() -> str:
    """A fresh project secret (256 random bits, hex)."""
    return secrets.token_hex(32)


def is_handle(text: str) -> bool:
    """Whether ``text`` has the form of a handle (``r`` and 16 lowercase hex digits)."""
    return _HANDLE.fullmatch(text) is not None


class RecordHandles:
    """One annotator's handles: :meth:`handle` (id to handle) and :meth:`record_id` (back)."""

    __slots__ = ("_keys",)

    def __init__(self, secret: bytes, user: str) -> None:
        user_key = hmac.new(secret, b"record-handle\x00" + user.encode(), hashlib.sha256).digest()
        self._keys = [
            hmac.new(user_key, bytes([i]), hashlib.sha256).digest() for i in range(_ROUNDS)
        ]

    def _f(self, i: int, half: int) -> int:
        digest = hashlib.blake2b(half.to_bytes(4, "big"), key=self._keys[i], digest_size=4)
        return int.from_bytes(digest.digest(), "big")

    def handle(self, record_id: int) -> str:
        """The handle of ``record_id`` (an int in ``[0, 2**64)``)."""
        left, right = (record_id >> 32) & _MASK, record_id & _MASK
        for i in range(_ROUNDS):
            left, right = right, left ^ self._f(i, right)
        return f"r{(left << 32) | right:016x}"

    def record_id(self, handle: str) -> int | None:
        """The id behind ``handle``, or None when it is not one of this annotator's."""
        if not is_handle(handle):
            return None
        value = int(handle[1:], 16)
        left, right = value >> 32, value & _MASK
        for i in reversed(range(_ROUNDS)):
            left, right = right ^ self._f(i, left), left
        record_id = (left << 32) | right
        return record_id if 1 <= record_id <= MAX_ID else None
