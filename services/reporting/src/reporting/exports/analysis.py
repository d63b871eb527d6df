"""The monthly analysis laid out as sheets for export: figures with their changes, details,
rankings, the roster, the breakdowns and hot issues, case lists and the trend, with native
charts (trend, per sub-bureau, breakdowns) beside their tables in the workbook."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from reporting.exports.layouts import (
    _FIGURE_VALUE_COLUMNS,
    _assessed_rows,
    _brief_sheet,
    _rate_row,
    _scope_notes,
)
from reporting.exports.tables import Cell, Chart, Column, Percent, Points, Report, Sheet
from reporting.queries.models import (
    AccompanyRoster,
    BreakdownRow,
    Change,
    Figures,
    HotIssue,
    MonthlyAnalysis,
    RankRow,
    Rate,
)


def _value_cell(value: float | None, kind: str) -> Cell:
    """A figure's value as the kind of number it is: a rate (0.0%), days (0.00) or a count,
    which the analysis carries as a float but Excel should show as a whole number."""
    if kind == "rate":
        return Percent(value)
    if kind == "count" and value is not None and value.is_integer():
        return int(value)
    return value


def _change_cells(change: Change, kind: str) -> list[Cell]:
    """The previous value, the change (a rate's in percentage points) and the relative change."""
    delta: Cell = _value_cell(change.delta, "days" if kind == "days" else "count")
    if kind == "rate":
        delta = Points(None if change.delta is None else round(change.delta * 100, 2))
    return [_value_cell(change.previous, kind), delta, Percent(change.relative)]


def _kind(figures: Figures, key: str) -> str:
    if isinstance(getattr(figures, key, None), Rate):
        return "rate"
    return "days" if key == "average_handling_cycle_days" else "count"


def _rank_rows(rows: Sequence[RankRow]) -> list[list[Cell]]:
    return [
        [
            r.rank,
            r.sub_bureau.name,
            r.value,
            r.matters,
            r.submissions,
            r.person_visits,
            r.justified_to_city,
        ]
        for r in rows
    ]


_RANK_COLUMNS = (
    Column("名次", "Rank", 8),
    Column("分县局", "Sub-bureau", 18),
    Column("排名依据", "Ranked value", 10),
    Column("件", "Matters", 10),
    Column("件次", "Submissions", 10),
    Column("人次", "Person-visits", 10),
    Column("到市局有理访", "Justified to city", 12),
)


def _roster_rows(roster: AccompanyRoster) -> list[list[Cell]]:
    """The published roster first (binding), then what it would be now."""
    published: list[list[Cell]] = []
    if roster.published is not None:
        p = roster.published
        which = f"已发布 published {p.published_on} ({p.published_by})"
        published = [
            [which, e.rank, e.sub_bureau.name, e.head, e.justified_to_city, e.submissions_to_city]
            for e in p.roster
        ]
    now = "现在计算 as it would be now"
    return published + [
        [now, e.rank, e.sub_bureau.name, e.head, e.justified_to_city, e.submissions_to_city]
        for e in roster.roster
    ]


_BREAKDOWN_COLUMNS = (
    Column("代码", "Code", 10),
    Column("分类", "Breakdown", 34),
    Column("所属类别", "Class", 22),
    Column("件次", "Submissions", 10),
    Column("人次", "Person-visits", 10),
    Column("占比", "Share", 10),
    Column("上月件次", "Previous month", 12),
    Column("环比增减", "Change on the month", 12),
)


def _breakdown_rows(rows: Sequence[BreakdownRow]) -> list[list[Cell]]:
    return [
        [
            r.code,
            r.label,
            r.parent,
            r.submissions,
            r.person_visits,
            Percent(r.share),
            r.previous_submissions,
            r.change,
        ]
        for r in rows
    ]


def _breakdown_sheet(
    name: str, title: str, rows: Sequence[BreakdownRow], notes: list[str], kind: str = "column"
) -> Sheet:
    """A breakdown's table with its chart: this month's submissions beside the month before's."""
    chart = Chart("bar" if kind == "bar" else "column", title, labels=1, values=(3, 6))
    return Sheet(name, title, _BREAKDOWN_COLUMNS, _breakdown_rows(rows), notes, (chart,))


def _hot_rows(rows: Sequence[HotIssue]) -> list[list[Cell]]:
    return [
        [
            r.code,
            r.label,
            r.parent,
            r.submissions,
            r.previous_submissions,
            r.increase,
            Percent(r.relative),
        ]
        for r in rows
    ]


def _breakdown_sheets(analysis: MonthlyAnalysis, notes: list[str]) -> list[Sheet]:
    d = analysis.breakdowns
    return [
        _breakdown_sheet(
            "分类 By category", "按问题分类 Submissions by category", d.by_category, notes
        ),
        _breakdown_sheet(
            "子类 By sub-category",
            "按问题子类 Submissions by sub-category",
            d.by_sub_category,
            notes,
            kind="bar",
        ),
        _breakdown_sheet(
            "渠道 By channel", "按信访渠道 Submissions by channel", d.by_channel, notes
        ),
        _breakdown_sheet(
            "越级访统计 Skip-level",
            "越级访（到省、进京）Skip-level submissions: to the province, to Beijing",
            d.by_skip_level,
            notes,
        ),
        Sheet(
            "热点 Hot issues",
            "热点问题（环比增长最多的子类）Hot issues: the sub-categories that grew most",
            (
                Column("代码", "Code", 10),
                Column("子类", "Sub-category", 34),
                Column("所属类别", "Class", 22),
                Column("本月件次", "Submissions", 10),
                Column("上月件次", "Previous month", 12),
                Column("增加件次", "Increase", 10),
                Column("增幅", "Relative increase", 12),
            ),
            _hot_rows(d.hot_issues),
            notes,
            (Chart("bar", "热点问题增加件次 Hot issues: increase on the month", 1, (5,)),),
        ),
    ]


def analysis_report(analysis: MonthlyAnalysis, *, today: date) -> Report:
    b = analysis.bureau
    notes = _scope_notes(
        b,
        f"月份 Month: {analysis.month}",
        f"统计截止日 Report date: {analysis.report_date}",
        today=today,
    )
    title = f"一月一分析 Monthly analysis · {b.name} · {analysis.month}"
    f = analysis.figures
    figure_rows: list[list[Cell]] = []
    for change in analysis.changes:
        kind = _kind(f, change.key)
        current: Rate | None = getattr(f, change.key) if kind == "rate" else None
        figure_rows.append(
            [
                change.label,
                _value_cell(change.current, kind),
                current.numerator if current else None,
                current.denominator if current else None,
                *_change_cells(change.month_on_month, kind),
                *_change_cells(change.year_on_year, kind),
            ]
        )
    detail: list[list[Cell]] = [
        [*_rate_row("办结率 Closure rate", f.closure_rate), None],
        [*_rate_row("息诉率 Cessation rate", f.cessation_rate), None],
        [*_rate_row("按期答复率 On-time rate", f.on_time_rate), None],
        *([*row, None] for row in _assessed_rows(f)),
        [
            "零信访分县局 Zero-petition sub-bureaus",
            len(f.zero_petition_sub_bureaus),
            None,
            f.sub_bureaus_in_scope,
            "、".join(z.name for z in f.zero_petition_sub_bureaus),
        ],
        ["重复访件次 Repeat submissions", analysis.repeat_submissions, None, None, None],
        ["越级访件次 Skip-level submissions", analysis.skip_level_submissions, None, None, None],
        [
            "其中到省 of which to the province",
            analysis.skip_level_by_kind.get("province", 0),
            None,
            None,
            None,
        ],
        [
            "其中进京 of which to Beijing",
            analysis.skip_level_by_kind.get("beijing", 0),
            None,
            None,
            None,
        ],
    ]
    trend: list[list[Cell]] = [
        [p.month, p.matters, p.submissions, p.person_visits, p.justified_to_city]
        for p in analysis.trend
    ]
    roster = analysis.roster
    return Report(
        title=title,
        filename=f"一月一分析_{b.name}_{analysis.month}",
        ascii_filename=f"monthly_analysis_{b.code}_{analysis.month}",
        sheets=[
            Sheet(
                "主要指标 Figures",
                title,
                (
                    Column("指标", "Figure", 34),
                    Column("本月", "This month", 12),
                    Column("分子", "Numerator", 10),
                    Column("分母", "Denominator", 10),
                    Column("上月", "Previous month", 12),
                    Column("环比增减（率：百分点）", "Change on the month (rates: pp)", 14),
                    Column("环比增幅", "Relative change on the month", 12),
                    Column("去年同月", "Same month last year", 12),
                    Column("同比增减（率：百分点）", "Change on the year (rates: pp)", 14),
                    Column("同比增幅", "Relative change on the year", 12),
                ),
                figure_rows,
                notes,
            ),
            Sheet(
                "明细 Details",
                "指标明细 Details",
                (*_FIGURE_VALUE_COLUMNS, Column("说明", "Note", 40)),
                detail,
                notes,
            ),
            Sheet(
                "件次排名 By submissions",
                "分县局件次排名 Sub-bureaus by submissions",
                _RANK_COLUMNS,
                _rank_rows(analysis.rank_by_submissions),
                notes,
                (Chart("bar", "分县局信访件次 Submissions by sub-bureau", 1, (2,)),),
            ),
            Sheet(
                "有理访排名 By justified",
                "分县局到市局有理访排名 Sub-bureaus by justified petitions to the city bureau",
                _RANK_COLUMNS,
                _rank_rows(analysis.rank_by_justified_to_city),
                notes,
                (Chart("bar", "分县局到市局有理访 Justified petitions to the city", 1, (2,)),),
            ),
            Sheet(
                "陪同接访 Roster",
                f"{roster.applies_to} 陪同局长接访分县局 Sub-bureaus accompanying the chief "
                f"(counted in {roster.counted_month})",
                (
                    Column("名单", "Roster", 30),
                    Column("顺序", "Rank", 8),
                    Column("分县局", "Sub-bureau", 18),
                    Column("局长", "Head", 12),
                    Column("到市局有理访", "Justified to city", 12),
                    Column("到市局件次", "Submissions to city", 12),
                ),
                _roster_rows(roster),
                notes,
            ),
            _brief_sheet(
                "人大 Congress",
                "人大交办督办案件 People's Congress cases",
                analysis.congress_cases.rows,
                notes,
            ),
            _brief_sheet(
                "重复访 Repeats",
                "本月重复访案件 Cases with repeat submissions",
                analysis.repeat_cases.rows,
                notes,
            ),
            _brief_sheet(
                "越级访 Skip-level",
                "本月越级访案件 Cases with skip-level petitions",
                analysis.skip_level_cases.rows,
                notes,
            ),
            Sheet(
                "趋势 Trend",
                "近十二个月趋势 Twelve-month trend",
                (
                    Column("月份", "Month", 10),
                    Column("件", "Matters", 10),
                    Column("件次", "Submissions", 10),
                    Column("人次", "Person-visits", 10),
                    Column("到市局有理访", "Justified to city", 12),
                ),
                trend,
                notes,
                (Chart("line", "近十二个月信访趋势 Twelve-month trend", 0, (1, 2, 3)),),
            ),
            *_breakdown_sheets(analysis, notes),
        ],
    )
