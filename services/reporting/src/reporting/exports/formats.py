"""XLSX and CSV renderings of a :class:`Report`.

CSV is UTF-8 with a byte-order mark: without it Excel on a Chinese Windows reads the file as GBK
and every name turns to mojibake. Text cells that a spreadsheet would run as a formula (leading
``=``, ``+``, ``-``, ``@``) are prefixed with an apostrophe: ledger text comes from petitioners
and officers, and a case note must never execute in the reader's Excel (CSV injection).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reporting.exports.tables import Cell, Report
from reporting.queries.periods import LOCAL

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_YES, _NO = "是", "否"


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def _xlsx_text(value: str) -> str:
    # openpyxl refuses control characters (IllegalCharacterError): a BEL in one stored note made
    # the whole bureau's workbook a 500. The API refuses them now, but events stored before
    # still hold some; the reader sees U+FFFD where one was.
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", _safe_text(value))


def _local_naive(value: datetime) -> datetime:
    # Excel has no time zones: show the bureau's wall-clock time, as everywhere in the reports.
    return value.astimezone(LOCAL).replace(tzinfo=None) if value.tzinfo else value


def text_cell(value: Cell) -> str:
    """How a cell reads in CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _YES if value else _NO
    if isinstance(value, datetime):
        return _local_naive(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return str(value)


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([report.title])
    for sheet in report.sheets:
        writer.writerow([])
        writer.writerow([_safe_text(sheet.title)])
        for note in sheet.notes:
            writer.writerow([_safe_text(note)])
        writer.writerow([column.header for column in sheet.columns])
        for row in sheet.rows:
            writer.writerow([text_cell(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def to_xlsx(report: Report) -> bytes:
    # Write-only: a full ledger is tens of thousands of rows, streamed rather than held as
    # cell objects.
    workbook = Workbook(write_only=True)
    taken: list[str] = []
    for sheet in report.sheets:
        name = _sheet_name(ILLEGAL_CHARACTERS_RE.sub("", sheet.name), taken)
        taken.append(name)
        ws = workbook.create_sheet(name)
        for index, column in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        header_row = 2 + len(sheet.notes)
        ws.freeze_panes = f"A{header_row + 1}"
        title = WriteOnlyCell(ws, value=_xlsx_text(sheet.title))
        title.font = Font(bold=True, size=14)
        ws.append([title])
        for note in sheet.notes:
            ws.append([_xlsx_text(note)])
        headers = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=_xlsx_text(column.header))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            headers.append(cell)
        ws.append(headers)
        for row in sheet.rows:
            ws.append([_xlsx_cell(ws, value) for value in row])
    if not taken:
        workbook.create_sheet("报表")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(ws: Any, value: Cell) -> Any:
    if isinstance(value, bool):
        return _YES if value else _NO
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=_local_naive(value))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=datetime.combine(value, time()))
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str):
        # openpyxl stores any string starting with "=" as a formula.
        return _xlsx_text(value)
    return value


def _sheet_name(name: str, taken: list[str]) -> str:
    # Excel forbids []:*?/\ in tab names and allows 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "报表"
    candidate, n = cleaned, 2
    while candidate in taken:
        suffix = f"({n})"
        candidate, n = cleaned[: 31 - len(suffix)] + suffix, n + 1
    return candidate
