from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from callcenter.domain.calling_windows import (
    CallingWindow,
    CampaignPeriod,
    WindowError,
    earliest_call,
    is_known_zone,
    parse_zone,
)

YEKATERINBURG = parse_zone("Asia/Yekaterinburg")  # UTC+5
MOSCOW = parse_zone("Europe/Moscow")  # UTC+3


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_window_is_in_the_callee_local_time() -> None:
    window = CallingWindow()  # 8:00-22:00 every day
    # 02:30 UTC is 07:30 in Yekaterinburg but 05:30 in Moscow
    assert not window.allows(utc(2026, 3, 2, 2, 30), YEKATERINBURG)
    assert window.allows(utc(2026, 3, 2, 3, 0), YEKATERINBURG)  # 08:00 there
    assert not window.allows(utc(2026, 3, 2, 3, 0), MOSCOW)  # 06:00 in Moscow
    # the end is exclusive: 22:00 local is too late
    assert window.allows(utc(2026, 3, 2, 16, 59), YEKATERINBURG)
    assert not window.allows(utc(2026, 3, 2, 17, 0), YEKATERINBURG)


def test_weekdays_are_iso_and_local() -> None:
    weekdays_only = CallingWindow(weekdays=frozenset({1, 2, 3, 4, 5}))
    # Friday 23:30 UTC is Saturday 04:30 in Yekaterinburg... and Saturday 09:00 there is not allowed
    assert not weekdays_only.allows(utc(2026, 3, 7, 4, 0), YEKATERINBURG)
    assert weekdays_only.allows(utc(2026, 3, 6, 4, 0), YEKATERINBURG)  # Friday 09:00


def test_next_opening_skips_to_the_next_allowed_local_morning() -> None:
    window = CallingWindow(weekdays=frozenset({1, 2, 3, 4, 5}))
    # Friday 21:00 in Moscow (18:00 UTC) is after hours... the next opening is Monday 08:00 MSK
    assert window.next_opening(utc(2026, 3, 6, 19, 30), MOSCOW) == utc(2026, 3, 9, 5, 0)
    inside = utc(2026, 3, 4, 10, 0)
    assert window.next_opening(inside, MOSCOW) == inside


def test_a_window_may_run_past_midnight() -> None:
    night = CallingWindow(start=time(22), end=time(2), weekdays=frozenset({1}))
    assert night.allows(utc(2026, 3, 2, 19, 30), MOSCOW)  # Monday 22:30
    assert night.allows(utc(2026, 3, 2, 22, 30), MOSCOW)  # Tuesday 01:30, Monday's window
    assert not night.allows(utc(2026, 3, 3, 19, 30), MOSCOW)  # Tuesday 22:30


def test_zone_names_and_fixed_offsets() -> None:
    moment = utc(2026, 1, 1, 12)
    assert moment.astimezone(parse_zone("+05:00")).hour == 17
    assert moment.astimezone(parse_zone("UTC+7")).hour == 19
    assert moment.astimezone(parse_zone("GMT-3")).hour == 9
    assert parse_zone("+0530").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert parse_zone(None) == MOSCOW
    assert parse_zone("Mars/Olympus") == MOSCOW  # unknown: the default
    assert parse_zone("", default="Asia/Yekaterinburg") == YEKATERINBURG
    assert not is_known_zone("+25:00")
    assert is_known_zone("Asia/Vladivostok")
    assert isinstance(parse_zone("UTC"), timezone)


def test_bad_windows_are_refused_in_russian() -> None:
    with pytest.raises(WindowError, match="пустое"):
        CallingWindow(start=time(9), end=time(9))
    with pytest.raises(WindowError, match="дни недели"):
        CallingWindow(weekdays=frozenset({0, 8}))
    with pytest.raises(WindowError, match="позже"):
        CampaignPeriod(utc(2026, 3, 2), utc(2026, 3, 1))


def test_earliest_call_respects_the_campaign_period() -> None:
    window = CallingWindow()
    period = CampaignPeriod(utc(2026, 3, 2, 6), utc(2026, 3, 2, 18))
    # due before the start: the start (09:00 MSK is inside the window)
    assert earliest_call(utc(2026, 3, 1), window, MOSCOW, period) == utc(2026, 3, 2, 6)
    # due after the window closes (19:30 UTC = 22:30 MSK): next morning is after the end
    assert earliest_call(utc(2026, 3, 2, 19, 30), window, MOSCOW, period) is None
    assert period.open(utc(2026, 3, 2, 12))
    assert period.over(utc(2026, 3, 2, 18))
    assert not CampaignPeriod(utc(2026, 3, 2)).over(utc(2099, 1, 1))
