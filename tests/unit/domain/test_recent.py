"""RecentCache: the de-duplication caches forget old keys and never pass their cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain.recent import RecentCache

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_key_is_forgotten_once_the_window_has_passed_since_it_was_last_seen() -> None:
    cache: RecentCache[str, int] = RecentCache(timedelta(minutes=5), 1_000)
    cache.put("a", 1, t(0))
    cache.put("b", 2, t(100))
    cache.put("a", 3, t(200))  # seen again: the window starts over

    assert cache.expire(t(401)) == [("b", 2)]
    assert cache.get("a") == 3
    assert cache.expire(t(501)) == [("a", 3)]
    assert len(cache) == 0


def test_steady_traffic_levels_off_at_rate_times_window() -> None:
    cache: RecentCache[int, None] = RecentCache(timedelta(minutes=5), 1_000_000)
    sizes = []
    for second in range(3_600):  # an hour at 10 new keys a second
        for n in range(10):
            cache.put(second * 10 + n, None, t(second))
        sizes.append(len(cache))

    assert max(sizes) <= 10 * 301
    assert sizes[600] == sizes[-1]  # flat from minute 10 on


def test_the_cap_holds_under_a_burst() -> None:
    cache: RecentCache[int, None] = RecentCache(timedelta(hours=1), 100)
    for n in range(1_000):
        cache.put(n, None, t(0))

    assert len(cache) == 100
    assert 899 not in cache
    assert 999 in cache
    assert cache.evicted == 900


def test_a_clock_going_back_expires_nothing_early() -> None:
    cache: RecentCache[str, None] = RecentCache(timedelta(minutes=5), 10)
    cache.put("new", None, t(1_000))
    cache.put("replayed", None, t(0))  # an old event replayed: stamped with the latest time

    assert cache.expire(t(1_200)) == []
    assert "replayed" in cache


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        RecentCache(timedelta(0), 10)
    with pytest.raises(ValueError, match="max_entries"):
        RecentCache(timedelta(minutes=1), 0)
