"""XLSX and CSV renderings of a :class:`Report`.

CSV is UTF-8 with a byte-order mark: without it Excel on a Chinese Windows reads the file as GBK
and every name turns to mojibake. Text cells that a spreadsheet would run as a formula (leading
``=``, ``+``, ``-``, ``@``) are prefixed with an apostrophe: ledger text comes from petitioners
and officers, and a case note must never execute in the reader's Excel (CSV injection).

Each table of a CSV has exactly one title line (its title and scope: bureau, period, report date)
and then its header; tables of a multi-table report follow one another after an empty line. The
scope travels with the file (a CSV passed around an office has lost its file name), and a reader
importing it skips one line.

XLSX needs no such guard: every text is written as a string cell, which Excel never evaluates,
so text is stored as it is. Numbers are numbers with a number format (counts ``0``, rates
``0.0%`` with their numerator and denominator in columns of their own); every table has an
autofilter, frozen headers and a print setup an office can print as it is: A4 landscape, fit to
one page wide, the header row repeated on every page. A sheet's charts (the analysis's trend,
rankings and breakdowns) are XLSX's own, drawn from the sheet's cells, beside the table.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from reporting.exports.svg import count_ticks
from reporting.exports.tables import Cell, Chart, Percent, Points, Report, Sheet
from reporting.queries.periods import LOCAL

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_YES, _NO = "是", "否"


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_LEADS) else value


def _xlsx_text(value: str) -> str:
    # XML 1.0 has no control characters (openpyxl refused them: a BEL in one stored note made
    # the whole bureau's workbook a 500). The API refuses them now, but events stored before
    # still hold some; the reader sees U+FFFD where one was. A printable text has none (every
    # control character is unprintable): the C check spares the regex on nearly every cell.
    return value if value.isprintable() else ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


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
    if isinstance(value, Percent):
        # Excel reads "72.5%" in a CSV back as the number 0.725.
        return "" if value.ratio is None else f"{value.ratio * 100:.1f}%"
    if isinstance(value, Points):
        return "" if value.value is None else f"{value.value:+.1f}"
    return str(value)


def to_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for index, sheet in enumerate(report.sheets):
        if index:
            writer.writerow([])
        writer.writerow([_safe_text(csv_title(sheet))])
        writer.writerow([column.header for column in sheet.columns])
        for row in sheet.rows:
            writer.writerow([text_cell(value) for value in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def csv_title(sheet: Sheet) -> str:
    """A table's one title line in CSV: its title, then its scope notes, in one cell."""
    return " | ".join([sheet.title, *sheet.notes])


# Excel's paper code for A4 (what Chinese offices print on).
_A4 = 9
_FORMATS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "header": {"bold": True, "text_wrap": True, "valign": "vcenter"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
    "date": {"num_format": "yyyy-mm-dd"},
    "int": {"num_format": "0"},
    "float": {"num_format": "0.00"},
    "percent": {"num_format": "0.0%"},
    "points": {"num_format": '+0.0" pp";-0.0" pp";0.0" pp"'},
}


def to_xlsx(report: Report) -> bytes:
    # XlsxWriter in constant-memory mode: rows are written out as they come, each sheet's
    # cells never held at once. openpyxl (even write-only) spent 90% of a ledger export in its
    # pure-Python XML writer: 25 s for 10,000 rows of 50 columns on a busy machine, against
    # ~1.4 s for the same rows as CSV (issue 17; the bench's ledger_xlsx_10k_rows).
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            # Every text is text: never a formula, a URL or a number, whatever it starts with.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    formats = {name: workbook.add_format(spec) for name, spec in _FORMATS.items()}
    taken: list[str] = []
    for sheet in report.sheets:
        name = _sheet_name(ILLEGAL_CHARACTERS_RE.sub("", sheet.name), taken)
        taken.append(name)
        ws = workbook.add_worksheet(name)
        for index, column in enumerate(sheet.columns):
            ws.set_column(index, index, column.width)
        header_row = 1 + len(sheet.notes)  # zero-based: the title, the notes, then the headers
        ws.freeze_panes(header_row + 1, 0)
        _print_setup(ws, header_row)
        if sheet.columns:
            # Over the header and every row (an empty table filters its header alone).
            ws.autofilter(header_row, 0, header_row + len(sheet.rows), len(sheet.columns) - 1)
        ws.write_string(0, 0, _xlsx_text(sheet.title), formats["title"])
        for offset, note in enumerate(sheet.notes, start=1):
            ws.write_string(offset, 0, _xlsx_text(note))
        for index, column in enumerate(sheet.columns):
            ws.write_string(header_row, index, _xlsx_text(column.header), formats["header"])
        for number, row in enumerate(sheet.rows, start=header_row + 1):
            for index, value in enumerate(row):
                _write_cell(ws, number, index, value, formats)
        if sheet.rows:  # a chart of no rows is an empty frame (and an invalid range)
            for place, chart in enumerate(sheet.charts):
                _insert_chart(workbook, ws, name, sheet, header_row, chart, place)
    if not taken:
        workbook.add_worksheet("报表")
    workbook.close()
    return buffer.getvalue()


_CHART_WIDTH, _CHART_HEIGHT = 720, 340


def _insert_chart(
    workbook: Any, ws: Any, name: str, sheet: Sheet, header_row: int, chart: Chart, place: int
) -> None:
    first, last = header_row + 1, header_row + len(sheet.rows)
    drawn = workbook.add_chart({"type": chart.kind})
    for column in chart.values:
        drawn.add_series(
            {
                "name": [name, header_row, column],
                "categories": [name, first, chart.labels, last, chart.labels],
                "values": [name, first, column, last, column],
            }
        )
    drawn.set_title({"name": chart.title, "name_font": {"size": 11}})
    drawn.set_legend({"position": "bottom"} if len(chart.values) > 1 else {"none": True})
    drawn.set_size({"width": _CHART_WIDTH, "height": _CHART_HEIGHT})
    if chart.counts:
        numbers = [
            float(value)
            for row in sheet.rows
            for column in chart.values
            if isinstance(value := row[column], int | float) and not isinstance(value, bool)
        ]
        ticks = count_ticks(max(numbers, default=0.0), 6)
        axis = {"min": 0, "max": ticks[-1], "major_unit": ticks[1] - ticks[0], "num_format": "0"}
        # A bar chart's values run along the horizontal axis.
        (drawn.set_x_axis if chart.kind == "bar" else drawn.set_y_axis)(axis)
    ws.insert_chart(
        header_row,
        len(sheet.columns) + 1,
        drawn,
        {"y_offset": place * (_CHART_HEIGHT + 20), "object_position": 3},
    )


def _print_setup(ws: Any, header_row: int) -> None:
    ws.set_landscape()
    ws.set_paper(_A4)
    ws.fit_to_pages(1, 0)  # one page wide, as many pages long as the rows need
    ws.repeat_rows(header_row)


def _write_cell(ws: Any, row: int, col: int, value: Cell, formats: dict[str, Any]) -> None:
    # Text first: most cells of a ledger are text (a 10,000-row export calls this 500,000 times).
    if isinstance(value, str):
        ws.write_string(row, col, _xlsx_text(value))
    elif value is None:
        return
    elif isinstance(value, bool):
        ws.write_string(row, col, _YES if value else _NO)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, _local_naive(value), formats["datetime"])
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime.combine(value, time()), formats["date"])
    elif isinstance(value, Percent):
        if value.ratio is not None:
            ws.write_number(row, col, value.ratio, formats["percent"])
    elif isinstance(value, Points):
        if value.value is not None:
            ws.write_number(row, col, value.value, formats["points"])
    elif isinstance(value, int):
        ws.write_number(row, col, value, formats["int"])
    else:
        ws.write_number(row, col, value, formats["float"])


def _sheet_name(name: str, taken: list[str]) -> str:
    # Excel forbids []:*?/\ in tab names and allows 31 characters.
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "报表"
    candidate, n = cleaned, 2
    while candidate in taken:
        suffix = f"({n})"
        candidate, n = cleaned[: 31 - len(suffix)] + suffix, n + 1
    return candidate
