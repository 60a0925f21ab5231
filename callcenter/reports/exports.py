"""A `ReportTable` as CSV or XLSX (openpyxl): the title, period and definitions first, then
the table with the same rounded numbers in both formats."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from callcenter.reports.service import ReportTable

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(table: ReportTable) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads the Cyrillic right). Layout: title,
    period and definition lines, an empty line, the header row, the data rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Отчёт", table.title])
    writer.writerow(["Период", table.period_text()])
    for line in table.definitions:
        writer.writerow(["Определение", line])
    writer.writerow([])
    writer.writerow([c.title for c in table.columns])
    writer.writerow([c.key for c in table.columns])
    for values in table.values():
        writer.writerow(["" if v is None else v for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: ReportTable) -> bytes:
    """Sheet «Отчёт»: title, period, an empty row, headers (titles, then keys), data; sheet
    «Определения»: what each column means."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Отчёт"
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["Период", table.period_text()])
    sheet.append([])
    sheet.append([c.title for c in table.columns])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    sheet.append([c.key for c in table.columns])
    for values in table.values():
        sheet.append(values)
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.title) + 2))
    sheet.freeze_panes = "A6"
    notes = book.create_sheet("Определения")
    notes.append(["Отчёт", table.title])
    notes.append(["Период", table.period_text()])
    for line in table.definitions:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_name(table: ReportTable, extension: str) -> str:
    day = table.start.date().isoformat()
    return f"report-{table.kind.value}-{day}.{extension}"
