"""When a contact may be called: the campaign's period and daily window, in the callee's time.

The window (default 8:00-22:00) and the weekdays are in the called party's local time: a
customer in Yekaterinburg is not called at 7:00 there because it is 5:00 in Moscow. A contact's
zone is an IANA name ("Asia/Yekaterinburg") or a fixed offset ("+05:00", "UTC+5", "GMT-3");
unknown or missing zones fall back to the campaign's default zone.

Pure: `now` is a parameter (an aware datetime); zoneinfo only reads the system's tz database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_WINDOW_START = time(8, 0)
DEFAULT_WINDOW_END = time(22, 0)
ALL_WEEKDAYS = frozenset(range(1, 8))  # ISO: 1 = Monday ... 7 = Sunday
DEFAULT_ZONE = "Europe/Moscow"
# how far ahead the next opening is searched: a week covers every weekday set
_SEARCH_DAYS = 8

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


class WindowError(ValueError):
    """The window cannot be used as given (the message is Russian)."""


def parse_zone(name: str | None, default: str = DEFAULT_ZONE) -> tzinfo:
    """An IANA zone or a fixed UTC offset; `default` when `name` is empty or unknown."""
    text = (name or "").strip()
    if text:
        zone = _zone_or_none(text)
        if zone is not None:
            return zone
    zone = _zone_or_none(default)
    if zone is None:
        raise WindowError(f"неизвестный часовой пояс «{default}»")
    return zone


def is_known_zone(name: str) -> bool:
    return _zone_or_none(name.strip()) is not None


def _zone_or_none(text: str) -> tzinfo | None:
    if text.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Daily window [start, end) on the given ISO weekdays, in the callee's local time.

    `end` before `start` means the window runs past midnight (22:00-02:00); the weekday is
    that of the window's start.
    """

    start: time = DEFAULT_WINDOW_START
    end: time = DEFAULT_WINDOW_END
    weekdays: frozenset[int] = ALL_WEEKDAYS

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise WindowError("окно звонков пустое: начало совпадает с концом")
        if not self.weekdays or not self.weekdays <= ALL_WEEKDAYS:
            raise WindowError("дни недели — числа от 1 (понедельник) до 7 (воскресенье)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise WindowError("время окна задаётся без часового пояса: оно местное для абонента")

    @classmethod
    def of(
        cls, start: time | None, end: time | None, weekdays: Iterable[int] | None
    ) -> CallingWindow:
        """From a campaign's columns, with the defaults for what is not set."""
        days = frozenset(weekdays) if weekdays else ALL_WEEKDAYS
        return cls(start or DEFAULT_WINDOW_START, end or DEFAULT_WINDOW_END, days)

    def _openings(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        opens = datetime.combine(day, self.start, tzinfo=zone)
        closes_day = day if self.end > self.start else day + timedelta(days=1)
        closes = datetime.combine(closes_day, self.end, tzinfo=zone)
        return opens, closes

    def allows(self, now: datetime, zone: tzinfo) -> bool:
        """May the callee be called at `now` (aware)?"""
        local = _aware(now).astimezone(zone)
        for day in (local.date() - timedelta(days=1), local.date()):
            if day.isoweekday() not in self.weekdays:
                continue
            opens, closes = self._openings(day, zone)
            if opens <= local < closes:
                return True
        return False

    def next_opening(self, now: datetime, zone: tzinfo) -> datetime:
        """The first moment at or after `now` when calling is allowed (UTC)."""
        now = _aware(now)
        if self.allows(now, zone):
            return now.astimezone(UTC)
        local = now.astimezone(zone)
        for offset in range(_SEARCH_DAYS + 1):
            day = local.date() + timedelta(days=offset)
            if day.isoweekday() not in self.weekdays:
                continue
            opens, _ = self._openings(day, zone)
            if opens >= local:
                return opens.astimezone(UTC)
        raise WindowError("в окне звонков нет ни одного разрешённого дня")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class CampaignPeriod:
    starts_at: datetime
    ends_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.starts_at)
        if self.ends_at is not None and _aware(self.ends_at) <= self.starts_at:
            raise WindowError("кампания должна заканчиваться позже, чем начинается")

    def started(self, now: datetime) -> bool:
        return _aware(now) >= self.starts_at

    def over(self, now: datetime) -> bool:
        return self.ends_at is not None and _aware(now) >= self.ends_at

    def open(self, now: datetime) -> bool:
        return self.started(now) and not self.over(now)


def earliest_call(
    not_before: datetime,
    window: CallingWindow,
    zone: tzinfo,
    period: CampaignPeriod,
) -> datetime | None:
    """When a contact due at `not_before` can be called, or None when the campaign ends first."""
    moment = max(_aware(not_before), period.starts_at)
    opening = window.next_opening(moment, zone)
    if period.ends_at is not None and opening >= period.ends_at:
        return None
    return opening


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (UTC)")
    return moment
