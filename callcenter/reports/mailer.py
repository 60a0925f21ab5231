"""The scheduled daily report: once a day at a set local time, yesterday's report as CSV and
XLSX attachments to the configured addresses (through the notify/ SMTP sender).

The report is a saved one by name, or, when none is named, the summary by line with the
day's totals. A failure to send to one address is logged and does not stop the others; the
next day's run happens whatever the last one did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from callcenter.domain.report_metrics import Dimension
from callcenter.ports.reports import ReportMailer
from callcenter.reports.exports import CSV_TYPE, XLSX_TYPE, file_name, to_csv, to_xlsx
from callcenter.reports.service import ReportService, ReportTable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DailyReportConfig:
    recipients: tuple[str, ...]
    at: time = time(7, 0)  # local time of the centre
    report_name: str = ""  # a saved report; empty: the summary by line


@dataclass(frozen=True, slots=True)
class Delivery:
    day: date
    sent_to: tuple[str, ...]
    failed: tuple[str, ...]


class DailyReportMailer:
    def __init__(
        self, reports: ReportService, mailer: ReportMailer, config: DailyReportConfig
    ) -> None:
        self._reports = reports
        self._mailer = mailer
        self._config = config
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self._task is None and self._config.recipients:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="daily-report-mailer")

    async def stop(self) -> None:
        """Stop the schedule; a letter being sent is finished or abandoned, not resent."""
        if self._task is None:
            return
        # the flag first: an SMTP client may turn a cancellation into a send error, and the
        # loop must not then go on to wait for the next day
        self._stopping.set()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def next_run(self, now: datetime) -> datetime:
        local = now.astimezone(self._reports.zone)
        run = datetime.combine(local.date(), self._config.at, tzinfo=self._reports.zone)
        return run if run > local else run + timedelta(days=1)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            now = self._reports.now()
            when = self.next_run(now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=max(0.0, (when - now).total_seconds())
                )
            if self._stopping.is_set():
                return
            try:
                await self.send_for(when.date() - timedelta(days=1))
            except Exception:
                log.exception("the daily report could not be built")

    async def build(self, day: date) -> ReportTable:
        zone = self._reports.zone
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        if self._config.report_name:
            record = await self._reports.get_saved_by_name(self._config.report_name)
            if record is None:
                raise LookupError(f"saved report {self._config.report_name!r} does not exist")
            return await self._reports.run_saved(record, period=(start, end))
        return await self._reports.summary(start, end, group_by=(Dimension.LINE,))

    async def send_for(self, day: date) -> Delivery:
        table = await self.build(day)
        attachments = (
            (file_name(table, "csv"), CSV_TYPE, to_csv(table)),
            (file_name(table, "xlsx"), XLSX_TYPE, to_xlsx(table)),
        )
        subject = f"{table.title} за {day.strftime('%d.%m.%Y')}"
        body = "\n".join(
            [f"{table.title}", f"Период: {table.period_text()}", "", "Отчёт во вложении."]
        )
        sent: list[str] = []
        failed: list[str] = []
        for address in self._config.recipients:
            try:
                await self._mailer.send(address, subject, body, attachments)
            except Exception as exc:
                log.warning("daily report to %s not sent: %s", address, exc)
                failed.append(address)
            else:
                sent.append(address)
        log.info("daily report for %s sent to %d, failed %d", day, len(sent), len(failed))
        return Delivery(day, tuple(sent), tuple(failed))
