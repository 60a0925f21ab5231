"""SQL of the reports context: roll-ups, period queries and saved reports (SQLite and
PostgreSQL alike)."""

from callcenter.db.reports.store import SqlReportStore

__all__ = ["SqlReportStore"]
