"""Interval charts as PNG (matplotlib, Agg backend, no display): offered, answered and
abandoned calls per interval, and the service level against its target.

Rendering takes tens of milliseconds of CPU: callers run it in a worker thread."""

from __future__ import annotations

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from callcenter.domain.report_metrics import Dimension, Metric
from callcenter.reports.service import ReportTable

SERVICE_LEVEL_TARGET = 0.8


def interval_chart_png(table: ReportTable, *, target: float = SERVICE_LEVEL_TARGET) -> bytes:
    """`table` must be a summary grouped by interval only."""
    key = Dimension.INTERVAL.value
    times = [datetime.fromisoformat(str(row[key])) for row in table.rows]
    offered = [_num(row.get(Metric.OFFERED.value)) for row in table.rows]
    answered = [_num(row.get(Metric.ANSWERED.value)) for row in table.rows]
    abandoned = [_num(row.get(Metric.ABANDONED.value)) for row in table.rows]
    level = [row.get(Metric.SERVICE_LEVEL.value) for row in table.rows]
    figure = Figure(figsize=(11, 6.5), dpi=100)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    top.plot(times, offered, label="Поступило", color="#1f77b4", drawstyle="steps-post")
    top.plot(times, answered, label="Отвечено", color="#2ca02c", drawstyle="steps-post")
    top.plot(times, abandoned, label="Потеряно", color="#d62728", drawstyle="steps-post")
    top.set_ylabel("Звонков за интервал")
    top.set_title(f"{table.title}: {table.period_text()}")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    percent = [None if v is None else float(v) * 100 for v in level]
    bottom.plot(
        times,
        [float("nan") if v is None else v for v in percent],
        marker=".",
        color="#9467bd",
        label=f"Уровень обслуживания (ответ за {table.sla_seconds} с)",
    )
    bottom.axhline(target * 100, color="#7f7f7f", linestyle="--", label=f"Цель {target:.0%}")
    bottom.set_ylim(0, 105)
    bottom.set_ylabel("%")
    bottom.legend(loc="lower left")
    bottom.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
