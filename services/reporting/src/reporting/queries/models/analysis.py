"""The monthly analysis as returned: changes against earlier periods, rankings, month series,
breakdowns and hot issues."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from reporting.queries.models.base import BureauRef, _Out
from reporting.queries.models.figures import Figures
from reporting.queries.models.lists import CaseList
from reporting.queries.models.reception import AccompanyRoster


class Change(_Out):
    previous: float | None
    delta: float | None = Field(description="current - previous (rates: as a ratio)")
    relative: float | None = Field(description="delta / previous; null when previous is 0")


class FigureChange(_Out):
    key: str
    label: str
    current: float | None
    month_on_month: Change
    year_on_year: Change


class RankRow(_Out):
    rank: int
    sub_bureau: BureauRef
    value: int
    submissions: int
    matters: int
    person_visits: int
    justified_to_city: int


class MonthPoint(_Out):
    month: str
    matters: int
    submissions: int
    person_visits: int
    justified_to_city: int


class BreakdownRow(_Out):
    """One line of a breakdown: this month's submissions under a key, beside the month before."""

    code: str
    label: str
    parent: str = Field(default="", description="上级分类 the statutory class (sub-categories)")
    submissions: int = Field(description="件次 submissions this month")
    person_visits: int = Field(description="人次 person-visits this month")
    share: float | None = Field(description="占本月件次 share of the month's submissions")
    previous_submissions: int = Field(description="上月件次 submissions the month before")
    change: int = Field(description="环比增减 this month minus the month before")


class HotIssue(_Out):
    """A sub-category whose submissions grew on the month before (热点问题)."""

    code: str
    label: str
    parent: str
    submissions: int
    previous_submissions: int
    increase: int = Field(description="增加件次 submissions more than the month before")
    relative: float | None = Field(description="增幅 increase / the month before (null from 0)")


class Breakdowns(_Out):
    """The month's submissions broken down (definitions: reporting.queries.breakdowns)."""

    submissions: int
    previous_submissions: int
    by_category: list[BreakdownRow] = Field(description="按问题分类 by statutory class")
    by_sub_category: list[BreakdownRow] = Field(description="按问题子类 by sub-category")
    by_channel: list[BreakdownRow] = Field(description="按信访渠道 by channel")
    by_skip_level: list[BreakdownRow] = Field(description="越级访 to the province / Beijing")
    hot_issues: list[HotIssue] = Field(description="热点问题 the sub-categories that grew most")


class MonthlyAnalysis(_Out):
    bureau: BureauRef
    month: str
    report_date: date
    figures: Figures
    previous_month: Figures
    same_month_last_year: Figures
    changes: list[FigureChange]
    rank_by_submissions: list[RankRow]
    rank_by_justified_to_city: list[RankRow]
    roster: AccompanyRoster
    congress_cases: CaseList = Field(description="People's Congress cases: the first page")
    repeat_cases: CaseList = Field(
        description="cases with repeat submissions this month: the first page"
    )
    repeat_submissions: int
    skip_level_cases: CaseList = Field(
        description="cases with skip-level submissions this month: the first page"
    )
    skip_level_submissions: int
    skip_level_by_kind: dict[str, int]
    trend: list[MonthPoint] = Field(description="the twelve months up to this one")
    breakdowns: Breakdowns = Field(
        description="分类分析 by category, sub-category, channel, skip-level; hot issues"
    )
