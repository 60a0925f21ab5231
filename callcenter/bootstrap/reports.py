"""The reports context built from Settings: its own database engine (a small pool, and on
PostgreSQL a statement timeout), the report service and the scheduled daily e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from callcenter.config import Settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.reports import SqlReportStore
from callcenter.reports.mailer import DailyReportConfig, DailyReportMailer
from callcenter.reports.service import ReportService


@dataclass
class Reports:
    service: ReportService
    engine: AsyncEngine | None = None  # owned: disposed on stop
    mailer: DailyReportMailer | None = None

    async def start(self) -> None:
        if self.mailer is not None:
            await self.mailer.start()

    async def stop(self) -> None:
        if self.mailer is not None:
            await self.mailer.stop()
        if self.engine is not None:
            await self.engine.dispose()


def reports_engine(settings: Settings) -> AsyncEngine:
    """Reports read with their own connections: a burst of reports waits for one of
    `reports_max_connections` rather than taking the connections call handling needs, and on
    PostgreSQL a statement longer than `reports_statement_timeout` is cancelled."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(settings.database_url)
    kwargs: dict[str, Any] = {
        "pool_size": settings.reports_max_connections,
        "max_overflow": 0,
        "pool_timeout": settings.reports_statement_timeout,
        "connect_args": {
            "server_settings": {
                "statement_timeout": str(int(settings.reports_statement_timeout * 1000)),
                "application_name": "callcenter-reports",
            }
        },
    }
    return create_engine(settings.database_url, **kwargs)


def build_reports(
    settings: Settings,
    session_factory: async_sessionmaker[Any] | None = None,
    *,
    email: Any = None,
) -> Reports:
    """With `session_factory` the reports share it (tests); otherwise they get their own
    engine. The daily e-mail runs when recipients are set and SMTP is configured."""
    engine = None
    if session_factory is None:
        engine = reports_engine(settings)
        session_factory = create_session_factory(engine)
    zone = ZoneInfo(settings.local_timezone)
    # the zone's standard offset (January's, in the northern hemisphere) marks its days
    offset = datetime(datetime.now(UTC).year, 1, 1, tzinfo=zone).utcoffset()
    service = ReportService(
        SqlReportStore(
            session_factory, utc_offset_seconds=int(offset.total_seconds()) if offset else 0
        ),
        timezone=settings.local_timezone,
        max_concurrent=settings.reports_max_concurrent,
        refresh_every=settings.reports_refresh_seconds,
    )
    mailer = None
    if email is not None and settings.report_recipients:
        mailer = DailyReportMailer(
            service,
            email,
            DailyReportConfig(
                recipients=settings.report_recipients,
                at=settings.reports_email_at,
                report_name=settings.reports_email_report,
            ),
        )
    return Reports(service, engine, mailer)
