"""Sign-in throttling: too many failures for one user name or one address lock it out for a while.

Pure bookkeeping in memory (time passed in); the HTTP layer asks before checking a password
and records the outcome after. A success clears the user name's failures, not the address's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Window:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class SignInThrottle:
    def __init__(
        self, *, max_failures_per_user: int, max_failures_per_address: int, lockout_seconds: float
    ) -> None:
        self._per_user = max_failures_per_user
        self._per_address = max_failures_per_address
        self._lockout = lockout_seconds
        self._users: dict[str, _Window] = {}
        self._addresses: dict[str, _Window] = {}

    def retry_after(self, username: str, address: str, now: float) -> float | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        waits = [
            window.locked_until - now
            for window in (self._users.get(username.lower()), self._addresses.get(address))
            if window is not None and window.locked_until > now
        ]
        return max(waits) if waits else None

    def failed(self, username: str, address: str, now: float) -> None:
        self._bump(self._users, username.lower(), self._per_user, now)
        self._bump(self._addresses, address, self._per_address, now)

    def succeeded(self, username: str) -> None:
        self._users.pop(username.lower(), None)

    def _bump(self, table: dict[str, _Window], key: str, limit: int, now: float) -> None:
        window = table.setdefault(key, _Window())
        window.failures.append(now)
        while window.failures and window.failures[0] <= now - self._lockout:
            window.failures.popleft()
        if len(window.failures) >= limit:
            window.locked_until = now + self._lockout
            window.failures.clear()
        if len(table) > 100_000:  # a flood of distinct names must not grow memory forever
            for stale in [k for k, w in table.items() if w.locked_until <= now][:50_000]:
                del table[stale]
