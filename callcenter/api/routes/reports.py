"""Reports for supervisors: the period summary, the standard reports, the report builder,
CSV/XLSX exports and PNG charts. Every endpoint needs the supervisor role."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from callcenter.api.deps import PlatformDep, SupervisorDep
from callcenter.api.report_schemas import (
    CatalogueOut,
    NamedItem,
    ReportOut,
    ReportRunIn,
    SavedReportIn,
    SavedReportOut,
)
from callcenter.domain.report_metrics import (
    METRIC_DEFINITIONS,
    METRIC_TITLES,
    SERVICE_LEVEL_SECONDS,
    SLA_THRESHOLDS,
    Dimension,
    Interval,
    Metric,
    check_threshold,
)
from callcenter.ports.reports import Filters
from callcenter.reports.definitions import (
    FILTER_NAMES,
    PeriodPreset,
    ReportDefinition,
    ReportError,
    ReportKind,
)
from callcenter.reports.service import DIMENSION_TITLES, KIND_TITLES, ReportService, ReportTable

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


FromQ = Annotated[
    datetime,
    Query(alias="from", description="start, ISO 8601 with a zone (rounded down to 15 min)"),
]
ToQ = Annotated[datetime, Query(description="end, exclusive (rounded up to 15 min)")]
FormatQ = Annotated[Format, Query(description="json, csv or xlsx (a file to download)")]
GroupQ = Annotated[
    str,
    Query(
        description="comma-separated: interval, line, queue, operator, direction, campaign, topic",
        max_length=200,
    ),
]


def _service(platform: PlatformDep) -> ReportService:
    return platform.reports.service


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, detail=message)


def _groups(text: str) -> tuple[Dimension, ...]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    try:
        dims = tuple(Dimension(name) for name in names)
    except ValueError:
        allowed = ", ".join(d.value for d in Dimension)
        raise _unprocessable(f"group_by: допустимы {allowed}") from None
    if len(set(dims)) != len(dims):
        raise _unprocessable("group_by: группировки не должны повторяться")
    return dims


def _deliver(table: ReportTable, fmt: Format, service: ReportService) -> Response | ReportOut:
    from callcenter.reports.exports import CSV_TYPE, XLSX_TYPE, file_name, to_csv, to_xlsx

    if fmt is Format.JSON:
        # the table is built by the service, not sent by a client: validating its thousands
        # of cells (here, then again by the response model) took longer than the query
        body = ReportOut.trusted(table, service.zone.key).model_dump_json()
        return Response(body, media_type="application/json")
    if fmt is Format.CSV:
        content, media, ext = to_csv(table), CSV_TYPE, "csv"
    else:
        content, media, ext = to_xlsx(table), XLSX_TYPE, "xlsx"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{file_name(table, ext)}"'},
    )


async def _summary(
    service: ReportService,
    start: datetime,
    end: datetime,
    group_by: tuple[Dimension, ...],
    interval: Interval,
    sla_seconds: int,
    filters: Filters,
) -> ReportTable:
    try:
        check_threshold(sla_seconds)
        return await service.summary(
            start,
            end,
            group_by=group_by,
            interval=interval,
            sla_seconds=sla_seconds,
            filters=filters,
        )
    except ReportError as exc:
        raise _unprocessable(str(exc)) from None
    except ValueError as exc:
        raise _unprocessable(str(exc)) from None


@router.get(
    "/summary",
    response_model=ReportOut,
    summary="Offered, answered, abandoned, service level, ASA, AHT, occupancy... per group",
)
async def summary(
    _user: SupervisorDep,
    platform: PlatformDep,
    start: FromQ,
    to: ToQ,
    group_by: GroupQ = "",
    interval: Interval = Interval.HOUR,
    sla_seconds: Annotated[int, Query(description="service-level threshold, s")] = (
        SERVICE_LEVEL_SECONDS
    ),
    queue: Annotated[str | None, Query(max_length=64)] = None,
    line: Annotated[int | None, Query(ge=1, le=3)] = None,
    operator_id: int | None = None,
    direction: Annotated[str | None, Query(max_length=16)] = None,
    campaign_id: int | None = None,
    format: FormatQ = Format.JSON,
) -> Response | ReportOut:
    service = _service(platform)
    filters = Filters(queue, line, operator_id, direction, campaign_id)
    table = await _summary(service, start, to, _groups(group_by), interval, sla_seconds, filters)
    return _deliver(table, format, service)


@router.get(
    "/charts/intervals.png",
    summary="PNG chart: offered/answered/abandoned per interval and the service level",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def interval_chart(
    _user: SupervisorDep,
    platform: PlatformDep,
    start: FromQ,
    to: ToQ,
    interval: Interval = Interval.HOUR,
    sla_seconds: int = SERVICE_LEVEL_SECONDS,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    line: Annotated[int | None, Query(ge=1, le=3)] = None,
    direction: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    from callcenter.reports.charts import interval_chart_png

    service = _service(platform)
    filters = Filters(queue=queue, line=line, direction=direction)
    table = await _summary(
        service, start, to, (Dimension.INTERVAL,), interval, sla_seconds, filters
    )
    png = await asyncio.to_thread(interval_chart_png, table)
    return Response(png, media_type="image/png")


@router.get(
    "/standard/{kind}",
    response_model=ReportOut,
    summary="A standard report: appeal transitions, transfers, IVR nodes or campaign results",
)
async def standard(
    kind: ReportKind,
    _user: SupervisorDep,
    platform: PlatformDep,
    start: FromQ,
    to: ToQ,
    format: FormatQ = Format.JSON,
) -> Response | ReportOut:
    service = _service(platform)
    try:
        table = await service.standard(kind, start, to)
    except ReportError as exc:
        raise _unprocessable(str(exc)) from None
    return _deliver(table, format, service)


@router.get("/catalogue", response_model=CatalogueOut, summary="What reports may be built of")
async def catalogue(_user: SupervisorDep) -> CatalogueOut:
    return CatalogueOut(
        metrics=[
            NamedItem(name=m.value, title=METRIC_TITLES[m], definition=METRIC_DEFINITIONS[m])
            for m in Metric
        ],
        dimensions=[NamedItem(name=d.value, title=DIMENSION_TITLES[d]) for d in Dimension],
        filters=list(FILTER_NAMES),
        periods=[p.value for p in PeriodPreset],
        intervals=[i.value for i in Interval],
        sla_thresholds=list(SLA_THRESHOLDS),
        kinds=[NamedItem(name=k.value, title=KIND_TITLES[k]) for k in ReportKind],
    )


@router.post(
    "/run",
    response_model=ReportOut,
    summary="Run a report definition once, without saving it, as JSON, CSV or XLSX",
)
async def run_report(
    body: ReportRunIn, _user: SupervisorDep, platform: PlatformDep, format: FormatQ = Format.JSON
) -> Response | ReportOut:
    service = _service(platform)
    try:
        table = await service.run(ReportDefinition.from_dict(body.definition))
    except ReportError as exc:
        raise _unprocessable(str(exc)) from None
    return _deliver(table, format, service)


@router.get("/saved", response_model=list[SavedReportOut], summary="Saved reports")
async def list_saved(_user: SupervisorDep, platform: PlatformDep) -> list[SavedReportOut]:
    return [SavedReportOut.of(r) for r in await _service(platform).saved()]


@router.post(
    "/saved",
    response_model=SavedReportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Save a report definition under a name (replaces one of the same name)",
)
async def save_report(
    body: SavedReportIn, user: SupervisorDep, platform: PlatformDep
) -> SavedReportOut:
    try:
        record = await _service(platform).save(body.name, body.definition, user.id)
    except ReportError as exc:
        raise _unprocessable(str(exc)) from None
    return SavedReportOut.of(record)


@router.get("/saved/{report_id}", response_model=SavedReportOut, summary="One saved report")
async def get_saved(report_id: int, _user: SupervisorDep, platform: PlatformDep) -> SavedReportOut:
    record = await _service(platform).get_saved(report_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "отчёт не найден")
    return SavedReportOut.of(record)


@router.delete(
    "/saved/{report_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a saved report"
)
async def delete_saved(report_id: int, _user: SupervisorDep, platform: PlatformDep) -> Response:
    if not await _service(platform).delete_saved(report_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "отчёт не найден")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/saved/{report_id}/run",
    response_model=ReportOut,
    summary="Run a saved report (its own period, or from/to given here) as JSON, CSV or XLSX",
)
async def run_saved(
    report_id: int,
    _user: SupervisorDep,
    platform: PlatformDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    format: FormatQ = Format.JSON,
) -> Response | ReportOut:
    service = _service(platform)
    record = await service.get_saved(report_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "отчёт не найден")
    if (start is None) != (to is None):
        raise _unprocessable("укажите оба параметра from и to или ни одного")
    try:
        period = (start, to) if start is not None and to is not None else None
        table = await service.run_saved(record, period=period)
    except ReportError as exc:
        raise _unprocessable(str(exc)) from None
    return _deliver(table, format, service)
