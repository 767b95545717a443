"""The failed-login limit: keyed on user name plus client address, so that one person's typos
never lock out anyone else.

Two counters share one sliding window:

- **Per (name, address) pair.** ``failures`` failed logins of one name from one address lock
  that pair until the oldest of them leaves the window. The right password is refused too
  while locked: it is never checked, else guessing could go on. Other names from the same
  address, and the same name from other addresses, are not affected, so nobody can lock a
  user out by typing their name somewhere else, and a team behind one proxy or NAT does not
  share one counter.
- **Per address, against spraying** (one guess for each of many names). Failures of names
  that have *not* logged in successfully from that address count; at ``address_failures``
  of them the address is refused for every such name. Names that have logged in from there
  before (since the server started) keep their own pair limit only. A team's ordinary typos
  therefore never trip it (team members who have logged in do not count, and each other
  name adds at most ``failures``), and someone spraying names from the team's address cannot
  lock out the team members who have logged in.

The answer to a locked attempt is the same whichever counter locked it, and the same for
names that exist and names that do not. Counts live in memory, per process.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Hashable

from goldsmith.errors import RateLimitedError

MAX_KEYS = 100_000
"""Counters kept at most. Beyond it, counters whose window has passed are forgotten, then the
oldest, down to half (each scan is paid for by as many failures); likewise the (name,
address) pairs that logged in, least recent first."""
NAME_CHARS = 200
"""Characters of a user name that key its counter (longer names share one)."""


class LoginLimiter:
    """Counts failed logins per (user name, client address) pair and per address.

    Parameters
    ----------
    failures
        Failed logins of one name from one address that lock that pair.
    window
        Seconds a failure counts for.
    address_failures
        Failed logins from one address, of names without a successful login from it, that
        lock the address for such names.
    """

    def __init__(self, failures: int, window: float, *, address_failures: int) -> None:
        self.failures = failures
        self.window = window
        self.address_failures = address_failures
        self._seen: dict[Hashable, deque[float]] = {}
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()

    @staticmethod
    def _pair(name: str, address: str) -> tuple[str, str]:
        return name[:NAME_CHARS], address

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        """The failures of ``key`` within the window (a new, unstored deque if none)."""
        seen = self._seen.get(key, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def _count(self, key: Hashable, now: float) -> None:
        seen = self._recent(key, now)
        seen.append(now)
        self._seen[key] = seen

    def _forget(self, now: float) -> None:
        for key in [k for k in self._seen if not self._recent(k, now)]:
            del self._seen[key]
        excess = len(self._seen) - MAX_KEYS // 2
        for key in list(self._seen)[: max(0, excess)]:
            del self._seen[key]

    def _refuse_at(self, key: Hashable, limit: int, now: float) -> None:
        seen = self._recent(key, now)
        if len(seen) >= limit:
            # the attempt is allowed again once all but limit - 1 failures have expired
            retry = max(1.0, seen[len(seen) - limit] + self.window - now)
            raise RateLimitedError(
                f"too many failed logins; try again in {int(retry) + 1} s", retry_after=retry
            )

    def check(self, name: str, address: str) -> None:
        """Raise :class:`~goldsmith.errors.RateLimitedError` if ``name`` may not try to log
        in from ``address`` now."""
        now = time.monotonic()
        pair = self._pair(name, address)
        self._refuse_at(pair, self.failures, now)
        if pair not in self._known:
            self._refuse_at(("addr", address), self.address_failures, now)

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        if len(self._seen) > MAX_KEYS:
            self._forget(now)
        pair = self._pair(name, address)
        self._count(pair, now)
        if pair not in self._known:
            self._count(("addr", address), now)

    def succeeded(self, name: str, address: str) -> None:
        """``name`` logged in from ``address``: its pair's failures are forgiven, and the
        pair is no longer subject to the address's spraying limit."""
        pair = self._pair(name, address)
        self._seen.pop(pair, None)
        self._known[pair] = None
        self._known.move_to_end(pair)
        while len(self._known) > MAX_KEYS:
            self._known.popitem(last=False)
