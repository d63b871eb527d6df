"""The seed's practices measured (reporting.queries.practices) laid out for export: a summary,
the accompanied sub-bureaus, the chiefs' receptions by month and the resolution rate, with
charts in the workbook."""

from __future__ import annotations

from datetime import date

from reporting.exports.layouts import _scope_notes
from reporting.exports.tables import Cell, Chart, Column, Percent, Report, Sheet
from reporting.queries.models import PracticesEffect, Rate


def _rate_cells(rate: Rate | None) -> list[Cell]:
    if rate is None:
        return [None, None, Percent(None)]
    return [rate.numerator, rate.denominator, Percent(rate.ratio)]


def practices_report(effect: PracticesEffect, *, today: date) -> Report:
    b = effect.bureau
    notes = _scope_notes(
        b,
        f"实践起始日 Practices since: {effect.since}",
        f"统计截止日 Report date: {effect.report_date}",
        f"比较窗口 Windows: up to {effect.window_months} months before and after",
        today=today,
    )
    title = f"实践成效 The seed's practices measured · {b.name}"
    acc, chief, res = effect.accompany, effect.chief_reception, effect.resolution
    summary: list[list[Cell]] = [
        [
            "陪同接访分县局到市局月均件次 Accompanied sub-bureaus' monthly petitions to the city",
            acc.before_average,
            acc.after_average,
            Percent(acc.change),
        ],
        [
            "局长月均接访件次 Chiefs' monthly reception volume",
            chief.before_average,
            chief.after_average,
            Percent(chief.change),
        ],
        [
            "初信初访化解率 Resolution rate (first petitions)",
            Percent(res.before.ratio if res.before else None),
            Percent(res.after.ratio if res.after else None),
            Percent(res.change),
        ],
    ]
    accompanied: list[list[Cell]] = [
        [
            r.sub_bureau.name,
            r.first_accompanied,
            r.before_months,
            r.before_submissions,
            r.before_average,
            r.after_months,
            r.after_submissions,
            r.after_average,
            Percent(r.change),
        ]
        for r in acc.sub_bureaus
    ]
    months: list[list[Cell]] = []
    for window, points in (("实践前 before", chief.before), ("实践后 after", chief.after)):
        months.extend([p.month, window, p.visits, p.person_visits] for p in points)
    resolution: list[list[Cell]] = [
        ["实践前 before", res.before_from, res.before_to, *_rate_cells(res.before)],
        ["实践后 after", res.after_from, res.after_to, *_rate_cells(res.after)],
    ]
    return Report(
        title=title,
        filename=f"实践成效_{b.name}_{effect.report_date}",
        ascii_filename=f"practices_{b.code}_{effect.report_date}",
        sheets=[
            Sheet(
                "成效 Summary",
                title,
                (
                    Column("指标", "Figure", 50),
                    Column("实践前", "Before", 12),
                    Column("实践后", "After", 12),
                    Column("变化", "Change", 12),
                ),
                summary,
                notes,
            ),
            Sheet(
                "陪同分县局 Accompanied",
                "陪同接访分县局到市局件次（陪同前后月均）Accompanied sub-bureaus' petitions to "
                "the city, monthly averages before and after",
                (
                    Column("分县局", "Sub-bureau", 16),
                    Column("首次陪同", "First accompanied", 12),
                    Column("前月数", "Months before", 10),
                    Column("前件次", "Submissions before", 12),
                    Column("前月均", "Monthly average before", 12),
                    Column("后月数", "Months after", 10),
                    Column("后件次", "Submissions after", 12),
                    Column("后月均", "Monthly average after", 12),
                    Column("变化", "Change", 10),
                ),
                accompanied,
                notes,
                (
                    Chart(
                        "column",
                        "陪同前后到市局月均件次 Monthly petitions to the city, before and after",
                        0,
                        (4, 7),
                        counts=False,
                    ),
                ),
            ),
            Sheet(
                "局长接访 Chiefs",
                "局长接访登记件次（按月）Submissions at chiefs' reception sessions, by month",
                (
                    Column("月份", "Month", 10),
                    Column("阶段", "Window", 14),
                    Column("件次", "Submissions", 10),
                    Column("人次", "Person-visits", 10),
                ),
                months,
                notes,
                (Chart("column", "局长接访件次 Chiefs' reception volume by month", 0, (2,)),),
            ),
            Sheet(
                "化解率 Resolution",
                "初信初访化解率（实践前后）First-petition resolution rate before and after",
                (
                    Column("阶段", "Window", 14),
                    Column("起", "From", 12),
                    Column("止", "To", 12),
                    Column("化解", "Resolved", 10),
                    Column("答复", "Replied", 10),
                    Column("化解率", "Rate", 10),
                ),
                resolution,
                notes,
            ),
        ],
    )
