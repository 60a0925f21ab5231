"""Request and response bodies of the reports API (`callcenter/api/routes/reports.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callcenter.ports.reports import SavedReportRecord
from callcenter.reports.service import ReportTable

_DEFINITION_EXAMPLE: dict[str, Any] = {
    "kind": "summary",
    "metrics": ["offered", "answered", "abandoned", "service_level", "asa_seconds"],
    "group_by": ["interval", "line"],
    "interval": "1h",
    "sla_seconds": 40,
    "filters": {"direction": "inbound"},
    "period": "yesterday",
}


class ColumnOut(BaseModel):
    key: str
    title: str


class ReportOut(BaseModel):
    """One report: its columns (key and Russian title) and one row per group."""

    title: str
    kind: str
    start: datetime
    end: datetime
    timezone: str
    sla_seconds: int | None
    columns: list[ColumnOut]
    rows: list[dict[str, int | float | str | None]]
    definitions: list[str]

    @classmethod
    def of(cls, table: ReportTable, timezone: str) -> ReportOut:
        return cls(
            title=table.title,
            kind=table.kind.value,
            start=table.start,
            end=table.end,
            timezone=timezone,
            sla_seconds=table.sla_seconds,
            columns=[ColumnOut(key=c.key, title=c.title) for c in table.columns],
            rows=table.rows,
            definitions=table.definitions,
        )

    @classmethod
    def trusted(cls, table: ReportTable, timezone: str) -> ReportOut:
        """`of` without validation, for the service's own tables (the same JSON)."""
        return cls.model_construct(
            title=table.title,
            kind=table.kind.value,
            start=table.start,
            end=table.end,
            timezone=timezone,
            sla_seconds=table.sla_seconds,
            columns=[ColumnOut(key=c.key, title=c.title) for c in table.columns],
            rows=table.rows,
            definitions=table.definitions,
        )


class SavedReportIn(BaseModel):
    """A report definition under a name: kind (summary or a standard report), metrics,
    groupings, interval, service-level threshold, filters and period (a preset, or
    `custom` with `start` and `end`). Saving under an existing name replaces it."""

    name: str = Field(min_length=1, max_length=128)
    definition: dict[str, Any]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Линии по часам за вчера", "definition": _DEFINITION_EXAMPLE}]
        }
    )


class ReportRunIn(BaseModel):
    """A report definition (as saved ones) to run once without saving it."""

    definition: dict[str, Any]

    model_config = ConfigDict(json_schema_extra={"examples": [{"definition": _DEFINITION_EXAMPLE}]})


class SavedReportOut(BaseModel):
    id: int
    name: str
    definition: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: SavedReportRecord) -> SavedReportOut:
        return cls(
            id=record.id,
            name=record.name,
            definition=record.definition,
            created_by=record.created_by,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class NamedItem(BaseModel):
    name: str
    title: str
    definition: str = ""


class CatalogueOut(BaseModel):
    """What a report may be built of: the whitelisted metrics, groupings, filters, periods,
    intervals, service-level thresholds and standard reports."""

    metrics: list[NamedItem]
    dimensions: list[NamedItem]
    filters: list[str]
    periods: list[str]
    intervals: list[str]
    sla_thresholds: list[int]
    kinds: list[NamedItem]
