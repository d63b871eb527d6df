"""Exports without a database: CSV with BOM and bilingual headers, XLSX round trip, formula
injection guarded, RFC 5987 file names, well-formed SVG charts, and report periods."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from reporting.exports import (
    Column,
    Percent,
    Points,
    Report,
    Sheet,
    attachment,
    bar_chart,
    line_chart,
    to_csv,
    to_xlsx,
)
from reporting.exports.svg import count_ticks
from reporting.queries import periods

SVG_NS = "{http://www.w3.org/2000/svg}"


def sample() -> Report:
    return Report(
        title="信访台帐 Petition ledger",
        filename="信访台帐_临江市公安局_2026-03-31",
        ascii_filename="ledger_3301_2026-03-31",
        sheets=[
            Sheet(
                name="台帐 Ledger",
                title="信访台帐 Petition ledger · 临江市公安局",
                columns=(
                    Column("案件编号", "Case number"),
                    Column("所属分县局", "Sub-bureau"),
                    Column("首次信访时间", "First received"),
                    Column("答复日期", "Replied on"),
                    Column("有理访", "Justified"),
                    Column("最近进展", "Latest progress"),
                ),
                rows=[
                    [
                        "3301-2026-000001",
                        "江城分局",
                        datetime(2026, 3, 31, 16, 30, tzinfo=UTC),
                        date(2026, 4, 10),
                        True,
                        '=HYPERLINK("http://evil")',
                    ],
                    ["3301-2026-000002", "鼓楼分局", None, None, False, "-1+1"],
                ],
                notes=["单位 Bureau: 临江市公安局 (3301)"],
            )
        ],
    )


def test_csv_has_a_bom_bilingual_headers_and_local_times() -> None:
    data = to_csv(sample())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    # One title line (the title and its scope in one cell), then the header: no more.
    assert rows[0] == ["信访台帐 Petition ledger · 临江市公安局 | 单位 Bureau: 临江市公安局 (3301)"]
    header = rows[1]
    assert header[0] == "案件编号 Case number"
    assert header[1] == "所属分县局 Sub-bureau"
    first = rows[rows.index(header) + 1]
    assert first[1] == "江城分局"
    assert first[2] == "2026-04-01 00:30"  # 16:30 UTC is half past midnight in Shanghai
    assert first[4] == "是"
    assert first[5].startswith("'=")  # never a live formula in the reader's Excel
    second = rows[rows.index(header) + 2]
    assert second[2] == ""
    assert second[5] == "'-1+1"


def test_xlsx_round_trip_keeps_chinese_and_shows_local_times() -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx(sample())))
    assert workbook.sheetnames == ["台帐 Ledger"]
    sheet = workbook["台帐 Ledger"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "信访台帐 Petition ledger · 临江市公安局"
    header_index = next(i for i, row in enumerate(rows) if row[0] == "案件编号 Case number")
    first = rows[header_index + 1]
    assert first[1] == "江城分局"
    assert first[2] == datetime(2026, 4, 1, 0, 30)
    assert first[3] == datetime(2026, 4, 10)  # openpyxl reads dates back as datetimes
    # A string cell, which Excel never evaluates: stored as written, no apostrophe (the
    # formula guard is CSV's).
    assert first[5] == '=HYPERLINK("http://evil")'
    assert sheet.cell(header_index + 2, 6).data_type == "s"
    assert sheet.freeze_panes == f"A{header_index + 2}"


def test_sheet_names_are_made_valid_and_unique() -> None:
    long = "分县局件次排名 Sub-bureaus by submissions [March]"
    report = Report(
        title="t",
        filename="t",
        ascii_filename="t",
        sheets=[
            Sheet(long, "a", (Column("甲", "A"),), []),
            Sheet(long, "b", (Column("甲", "A"),), []),
        ],
    )
    names = load_workbook(io.BytesIO(to_xlsx(report))).sheetnames
    assert len(names) == 2
    assert len(set(names)) == 2
    assert all(len(n) <= 31 and "[" not in n for n in names)


def test_content_disposition_carries_the_chinese_name_per_rfc_5987() -> None:
    header = attachment(
        "一月一分析_临江市公安局_2026-03.xlsx", "monthly analysis 3301/2026-03.xlsx"
    )
    assert header.startswith('attachment; filename="monthly_analysis_3301_2026-03.xlsx"')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert " " not in encoded
    assert '"' not in encoded
    assert unquote(encoded) == "一月一分析_临江市公安局_2026-03.xlsx"


def test_bar_chart_is_well_formed_svg_with_text_escaped() -> None:
    svg = bar_chart("件次 <Submissions> & more", ["江城分局", "鼓楼分局"], [12, 0])
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "件次 <Submissions> & more" in texts
    assert {"江城分局", "鼓楼分局", "12", "0"} <= set(texts)
    bars = [r for r in root.iter(f"{SVG_NS}rect") if r.find(f"{SVG_NS}title") is not None]
    assert [float(b.get("width", "0")) > 0 for b in bars] == [True, False]
    assert ET.fromstring(bar_chart("空 empty", [], []))  # no data still draws


def test_line_chart_draws_one_line_per_series() -> None:
    months = ["2026-01", "2026-02", "2026-03"]
    svg = line_chart(
        "趋势 trend", months, [("件 matters", [1, 2, 3]), ("件次 submissions", [2, 4, 9])]
    )
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG_NS}polyline"))) == 2
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert {"2026-01", "2026-03", "件 matters", "件次 submissions"} <= set(texts)


def test_periods() -> None:
    week = periods.week("2026-W13")
    assert (week.start, week.end) == (date(2026, 3, 23), date(2026, 3, 29))
    assert periods.week("2026-W01").start == date(2025, 12, 29)  # ISO weeks cross years
    march = periods.month("2026-03")
    assert (march.start, march.end, march.label) == (date(2026, 3, 1), date(2026, 3, 31), "2026-03")
    lower, upper = march.utc_bounds()
    assert lower == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert upper == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert periods.shift_months(march, -3).label == "2025-12"
    assert periods.shift_months(march, 10).label == "2027-01"
    assert periods.month("2024-02").end == date(2024, 2, 29)
    assert periods.iso_week_label(date(2027, 1, 1)) == "2026-W53"
    for bad in ("2026-3", "2026-13", "March"):
        with pytest.raises(periods.PeriodError):
            periods.month(bad)
    with pytest.raises(periods.PeriodError, match="ISO week 54"):
        periods.week("2026-W54")
    with pytest.raises(periods.PeriodError, match="swap"):
        periods.date_range(date(2026, 3, 2), date(2026, 3, 1))


def test_xlsx_writes_texts_holding_control_characters_openpyxl_refuses() -> None:
    # Issue 11, item 8: a BEL in one stored progress note made the whole ledger.xlsx a 500.
    report = Report(
        title="台帐\u0007",
        filename="ledger",
        ascii_filename="ledger",
        sheets=[
            Sheet(
                name="台帐\u0001",
                title="信访台帐\u0008",
                columns=(Column("进展", "Progress"), Column("备注", "Note")),
                rows=[("上门走访\u0007已沟通", "=\u001bSUM(A1)"), ("第一行\n第二行\t完", None)],
                notes=["范围\u000b 3301"],
            )
        ],
    )

    workbook = load_workbook(io.BytesIO(to_xlsx(report)))

    sheet = workbook.worksheets[0]
    assert sheet.title == "台帐"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "信访台帐\ufffd"
    assert values[1][0] == "范围\ufffd 3301"
    assert values[3] == ["上门走访\ufffd已沟通", "=\ufffdSUM(A1)"]
    assert values[4][0] == "第一行\n第二行\t完"  # line breaks and tabs are text, kept


def test_a_multi_table_csv_gives_each_table_one_title_line() -> None:
    columns = (Column("指标", "Figure"), Column("数值", "Value"))
    report = Report(
        title="一周一通报",
        filename="b",
        ascii_filename="b",
        sheets=[
            Sheet("a", "概况 Summary", columns, [["件次", 3]], notes=["单位 Bureau: 3301"]),
            Sheet("b", "分县局 By sub-bureau", columns, [], notes=["单位 Bureau: 3301"]),
        ],
    )
    rows = list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))))
    assert rows == [
        ["概况 Summary | 单位 Bureau: 3301"],
        ["指标 Figure", "数值 Value"],
        ["件次", "3"],
        [],
        ["分县局 By sub-bureau | 单位 Bureau: 3301"],
        ["指标 Figure", "数值 Value"],
    ]


def test_xlsx_stores_numbers_and_rates_as_numbers_and_prints_as_it_is() -> None:
    report = Report(
        title="t",
        filename="t",
        ascii_filename="t",
        sheets=[
            Sheet(
                "概况 Summary",
                "概况 Summary",
                (
                    Column("指标", "Figure"),
                    Column("数值", "Value"),
                    Column("分子", "Numerator"),
                    Column("分母", "Denominator"),
                    Column("增减", "Change"),
                ),
                [
                    ["件次 Submissions", 12, None, None, None],
                    ["满意率 Satisfaction", Percent(0.725), 29, 40, Points(-2.5)],
                    ["按期答复率 On-time", Percent(None), 0, 0, Points(None)],
                    ["平均周期 Cycle", 17.25, None, None, None],
                ],
                notes=["单位 Bureau: 3301", "月份 Month: 2026-03"],
            )
        ],
    )
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["概况 Summary"]
    # Title, two notes, the header on row 4, data on rows 5-8.
    assert sheet["A4"].value == "指标 Figure"
    assert (sheet["B5"].value, sheet["B5"].data_type, sheet["B5"].number_format) == (12, "n", "0")
    rate = sheet["B6"]
    assert (rate.value, rate.data_type, rate.number_format) == (0.725, "n", "0.0%")
    assert (sheet["C6"].value, sheet["D6"].value) == (29, 40)
    assert sheet["C6"].data_type == "n"
    assert (sheet["E6"].value, sheet["E6"].data_type) == (-2.5, "n")
    assert "pp" in sheet["E6"].number_format
    # Nothing to divide: an empty cell, not text in a number column.
    assert (sheet["B7"].value, sheet["E7"].value) == (None, None)
    assert (sheet["B8"].value, sheet["B8"].number_format) == (17.25, "0.00")
    assert sheet.auto_filter.ref == "A4:E8"
    assert sheet.freeze_panes == "A5"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    page_setup = sheet.sheet_properties.pageSetUpPr
    assert page_setup is not None
    assert page_setup.fitToPage
    # One page wide (an absent fitToWidth is OOXML's default, 1), as many long as needed (0).
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$4:$4"


@pytest.mark.parametrize(
    ("most", "expected"),
    [
        (0, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (12, [0, 5, 10, 15]),
        (48, [0, 10, 20, 30, 40, 50]),
    ],
)
def test_count_axes_have_whole_number_ticks_just_above_the_data(
    most: int, expected: list[int]
) -> None:
    assert count_ticks(most, 5) == expected


def test_a_chart_of_three_submissions_is_labelled_in_whole_numbers() -> None:
    root = ET.fromstring(bar_chart("件次 submissions", ["江城分局"], [3]))
    texts = [t.text or "" for t in root.iter(f"{SVG_NS}text")]
    assert {"0", "1", "2", "3"} <= set(texts)
    assert not [t for t in texts if "." in t]
