"""The rules of SMS / e-mail jobs that need no I/O: what each contact gets, the retry
schedule, the gateways' report words, and the rate limit's spacing."""

from __future__ import annotations

import random

import pytest

from callcenter.domain.notify import (
    Channel,
    DeliveryStatus,
    ReportStatus,
    parse_report_status,
    retry_delay,
)
from callcenter.outbound.notify_jobs import ContactRow, ExpansionJob, RateLimiter, plan_deliveries


def _job(channel: Channel) -> ExpansionJob:
    return ExpansionJob(1, 7, channel, "{name}: долг {debt:money}", "Долг")


CONTACTS = [
    ContactRow(1, "+79161230001", "Иванов", {"debt": "10,50", "email": "i@example.ru"}),
    ContactRow(2, "+79161230002", "Петров", {"debt": "20"}),
    ContactRow(3, "+79161230003", "Сидоров", {"debt": "30", "email": "not an address"}),
    ContactRow(4, "+79161230004", "Без долга", {"email": "b@example.ru"}),
    ContactRow(5, "12345", "Короткий", {"debt": "1"}),
]


def test_each_contact_is_queued_or_skipped_with_the_reason() -> None:
    sms = {d.contact_id: d for d in plan_deliveries(_job(Channel.SMS), CONTACTS, {"+79161230002"})}
    assert sms[1].status is DeliveryStatus.QUEUED
    assert sms[1].text.startswith("Иванов: долг 10")
    assert (sms[2].status, sms[2].reason) == (
        DeliveryStatus.SKIPPED,
        "абонент в списке «не беспокоить»",
    )
    assert sms[3].status is DeliveryStatus.QUEUED
    assert sms[4].status is DeliveryStatus.SKIPPED
    assert sms[4].reason.startswith("нет данных для сообщения")
    assert sms[5].status is DeliveryStatus.SKIPPED
    assert "не номер" in sms[5].reason

    mail = {d.contact_id: d for d in plan_deliveries(_job(Channel.EMAIL), CONTACTS, set())}
    assert (mail[1].status, mail[1].address, mail[1].subject) == (
        DeliveryStatus.QUEUED,
        "i@example.ru",
        "Долг",
    )
    assert (mail[2].status, mail[2].reason) == (
        DeliveryStatus.SKIPPED,
        "нет адреса электронной почты",
    )
    assert "не адрес" in mail[3].reason
    # every delivery has its own key
    keys = [d.idempotency_key for d in [*sms.values(), *mail.values()]]
    assert len(set(keys)) == len(keys)


def test_retries_back_off_doubling_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(3)
    delays = [retry_delay(n, base=30, cap=3600, rng=rng) for n in range(1, 10)]
    for n, delay in enumerate(delays[:6], start=1):
        assert 0.8 * 30 * 2 ** (n - 1) <= delay <= 1.2 * 30 * 2 ** (n - 1)
    assert all(d <= 3600 for d in delays)
    assert delays[-1] >= 0.8 * 3600
    with pytest.raises(ValueError, match="counts from 1"):
        retry_delay(0, base=30)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("delivered", ReportStatus.DELIVERED),
        ("DELIVRD", ReportStatus.DELIVERED),
        ("undelivered", ReportStatus.FAILED),
        ("expired", ReportStatus.FAILED),
        ("REJECTD", ReportStatus.FAILED),
        ("enroute", None),
        ("accepted", None),
    ],
)
def test_gateway_report_words(word: str, expected: ReportStatus | None) -> None:
    assert parse_report_status(word) is expected


async def test_the_rate_limit_spaces_messages_evenly() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    limiter = RateLimiter(10, monotonic=lambda: 100.0, sleep=sleep)
    for _ in range(4):
        await limiter.acquire()
    assert slept == [0.1, 0.2, 0.3]
