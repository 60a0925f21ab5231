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
        self._in_flight: dict[tuple[int, str], int] = {}  # (table, key) -> checks under way

    def retry_after(self, username: str, address: str, now: float) -> float | None:
        """Seconds until a sign-in may be tried again, or None when it may be tried now."""
        waits = [
            window.locked_until - now
            for window in (self._users.get(username.lower()), self._addresses.get(address))
            if window is not None and window.locked_until > now
        ]
        return max(waits) if waits else None

    def begin(self, username: str, address: str, now: float) -> float | None:
        """Ask before checking a password; None means go ahead, and `end` must follow.

        Attempts still being checked count against the limits: otherwise a burst of
        parallel sign-ins all pass this gate before the first failure is counted (the
        password check takes a while on purpose), and nothing is throttled.
        """
        wait = self.retry_after(username, address, now)
        if wait is not None:
            return wait
        keys = ((self._users, username.lower(), self._per_user),
                (self._addresses, address, self._per_address))  # fmt: skip
        for table, key, limit in keys:
            window = table.get(key)
            recent = 0
            if window is not None:
                recent = sum(1 for at in window.failures if at > now - self._lockout)
            if recent + self._in_flight.get((id(table), key), 0) >= limit:
                return 1.0  # busy rather than locked: worth trying again in a moment
        for table, key, _limit in keys:
            slot = (id(table), key)
            self._in_flight[slot] = self._in_flight.get(slot, 0) + 1
        return None

    def end(self, username: str, address: str) -> None:
        """The password check that `begin` let through is over (whatever its outcome)."""
        for table, key in ((self._users, username.lower()), (self._addresses, address)):
            slot = (id(table), key)
            left = self._in_flight.get(slot, 0) - 1
            if left > 0:
                self._in_flight[slot] = left
            else:
                self._in_flight.pop(slot, None)

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
