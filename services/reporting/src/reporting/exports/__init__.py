"""Exports of the reports: XLSX and CSV (UTF-8 with BOM, bilingual headers) and SVG charts."""

from reporting.exports.analysis import analysis_report
from reporting.exports.disposition import attachment, inline
from reporting.exports.formats import to_csv, to_xlsx
from reporting.exports.layouts import bulletin_report, ledger_report
from reporting.exports.svg import bar_chart, line_chart
from reporting.exports.tables import Cell, Chart, Column, Percent, Points, Report, Sheet

__all__ = [
    "Cell",
    "Chart",
    "Column",
    "Percent",
    "Points",
    "Report",
    "Sheet",
    "analysis_report",
    "attachment",
    "bar_chart",
    "bulletin_report",
    "inline",
    "ledger_report",
    "line_chart",
    "to_csv",
    "to_xlsx",
]
