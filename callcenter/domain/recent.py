"""A cache of recently seen keys, bounded by a time window and by a hard entry cap.

The de-duplication caches (event keys, frame digests, ended calls) exist for duplicates that
arrive within seconds or minutes of the original (an AMI reconnect, a second connection
delivering the same call, a late hang-up). Bounding them by count alone made them grow for as
long as it took traffic to fill the cap (about 17 minutes at 2 calls/s), so a process's memory
only levelled off long after start; bounded by time, a cache holds about `rate x window`
entries and stops growing once `window` has passed.

Time is a parameter (`now`): the caller passes the time of the event or frame. Times that go
backwards (clock steps, replays of older events) never expire anything early: the cache keeps
the latest time it was given.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# How long the de-duplication caches remember a key after last seeing it. AMI reconnect
# replays and second connections deliver their copies within seconds; minutes leave a wide
# margin and still let memory level off minutes after start.
DEDUP_WINDOW = timedelta(minutes=5)


class RecentCache(Generic[K, V]):
    """Entries touched within `window` of the latest time seen, at most `max_entries`.

    `put` and `touch` mark an entry as seen now (it moves to the young end); entries not
    touched for longer than `window` are dropped on the next `put`/`touch`/`expire`, and the
    oldest ones beyond `max_entries` as soon as the cap is passed (a safety net for traffic
    bursts far above the planned rate).
    """

    def __init__(self, window: timedelta, max_entries: int) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.window = window
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[V, datetime]] = OrderedDict()
        self._now: datetime | None = None
        self.evicted = 0  # entries dropped so far (window or cap)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None else None

    def values(self) -> Iterator[V]:
        return (value for value, _ in self._entries.values())

    def put(self, key: K, value: V, now: datetime | None = None) -> list[tuple[K, V]]:
        """Remember `key` -> `value` as seen at `now` (default: the latest time seen); the
        entries this dropped (too old, or over the cap), oldest first."""
        at = self._advance(now)
        self._entries[key] = (value, at)
        self._entries.move_to_end(key)
        return self._trim()

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        return entry[0] if entry is not None else None

    def expire(self, now: datetime) -> list[tuple[K, V]]:
        """Drop what is older than the window at `now`; the dropped entries, oldest first."""
        self._advance(now)
        return self._trim()

    def _advance(self, now: datetime | None) -> datetime:
        if now is not None and (self._now is None or now > self._now):
            self._now = now
        if self._now is None:
            raise ValueError("the first put needs a time")
        return self._now

    def _trim(self) -> list[tuple[K, V]]:
        dropped: list[tuple[K, V]] = []
        if self._now is None:
            return dropped
        horizon = self._now - self.window
        while self._entries:
            key, (value, at) = next(iter(self._entries.items()))
            if at >= horizon and len(self._entries) <= self.max_entries:
                break
            del self._entries[key]
            dropped.append((key, value))
        self.evicted += len(dropped)
        return dropped
