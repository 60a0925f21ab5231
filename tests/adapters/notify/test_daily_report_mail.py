"""The scheduled daily report arrives by e-mail (aiosmtpd on 127.0.0.1) with yesterday's
report as CSV and XLSX attachments holding the same numbers."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message

from openpyxl import load_workbook

from callcenter.db.reports import SqlReportStore
from callcenter.notify.email import SmtpConfig, SmtpEmailSender
from callcenter.reports.mailer import DailyReportConfig, DailyReportMailer
from callcenter.reports.service import ReportService
from tests.adapters.notify.conftest import SmtpPeer
from tests.support.report_data import Sessions, seed

# 24.11.2026 06:59:59.8 in Moscow: the daily run at 07:00 is due in 0.2 s
JUST_BEFORE = datetime(2026, 11, 24, 3, 59, 59, 800_000, tzinfo=UTC)


def attachments(message: Message) -> dict[str, bytes]:
    out = {}
    for part in message.walk():
        name = part.get_filename()
        if name:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[name] = payload
    return out


async def test_yesterdays_report_is_mailed_at_the_set_time(
    session_factory: Sessions, smtp_peer: SmtpPeer
) -> None:
    await seed(session_factory)
    smtp_peer.mailbox.refuse = {"gone@energo.example": "550 5.1.1 No such user"}
    started = time.monotonic()
    reports = ReportService(
        SqlReportStore(session_factory),
        timezone="Europe/Moscow",
        clock=lambda: JUST_BEFORE + timedelta(seconds=time.monotonic() - started),
    )
    sender = SmtpEmailSender(
        SmtpConfig(host="127.0.0.1", port=smtp_peer.port, sender="reports@energo.example")
    )
    config = DailyReportConfig(recipients=("chief@energo.example", "gone@energo.example"))
    mailer = DailyReportMailer(reports, sender, config)
    await mailer.start()
    try:
        async with asyncio.timeout(30):
            await smtp_peer.mailbox.received.wait()
    finally:
        await mailer.stop()

    [envelope] = smtp_peer.mailbox.messages
    assert envelope.rcpt_tos == ["chief@energo.example"]
    assert isinstance(envelope.original_content, bytes)
    message = message_from_bytes(envelope.original_content)
    files = attachments(message)
    assert sorted(files) == ["report-summary-2026-11-23.csv", "report-summary-2026-11-23.xlsx"]
    sheet = load_workbook(io.BytesIO(files["report-summary-2026-11-23.xlsx"])).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    keys = list(rows[4])
    line1 = next(dict(zip(keys, r, strict=True)) for r in rows[5:] if r[0] == 1)
    assert (line1["offered"], line1["answered"], line1["abandoned"]) == (3, 2, 1)
    text = files["report-summary-2026-11-23.csv"].decode("utf-8-sig")
    assert "2026-11-23T00:00:00+03:00" in text


async def test_a_refused_address_does_not_stop_the_others(
    session_factory: Sessions, smtp_peer: SmtpPeer
) -> None:
    smtp_peer.mailbox.refuse = {"gone@energo.example": "550 5.1.1 No such user"}
    reports = ReportService(SqlReportStore(session_factory), clock=lambda: JUST_BEFORE)
    sender = SmtpEmailSender(SmtpConfig(host="127.0.0.1", port=smtp_peer.port))
    mailer = DailyReportMailer(
        reports,
        sender,
        DailyReportConfig(recipients=("gone@energo.example", "chief@energo.example")),
    )
    delivery = await mailer.send_for(date(2026, 11, 23))
    assert delivery.sent_to == ("chief@energo.example",)
    assert delivery.failed == ("gone@energo.example",)
    assert mailer.next_run(JUST_BEFORE) == datetime(2026, 11, 24, 4, 0, tzinfo=UTC)
