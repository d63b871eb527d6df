"""Reporting queries over the read models (schema.sql): the binding figures, the accompany
roster, zero-petition sub-bureaus, reception statistics, the ledger, the weekly bulletin and the
monthly analysis. Each takes a connection whose search_path starts with the reporting schema."""

from reporting.queries.analysis import (
    ANALYSIS_LISTS,
    analysis_list,
    monthly_analysis,
    sub_bureau_rankings,
)
from reporting.queries.breakdowns import HOT_ISSUES, breakdowns
from reporting.queries.bulletin import (
    BULLETIN_LISTS,
    DUE_SOON_WORKING_DAYS,
    bulletin_list,
    weekly_bulletin,
)
from reporting.queries.common import Db, Viewer
from reporting.queries.figures import (
    accompany_roster,
    assessed_rates,
    figures,
    monthly_series,
    published_roster,
    to_city_by_sub_bureau,
    zero_petition_sub_bureaus,
)
from reporting.queries.ledger import MAX_EXPORT, MAX_PAGE, LedgerFilter, ledger
from reporting.queries.lists import DEFAULT_PAGE_SIZE, FIRST_PAGE, MAX_PAGE_SIZE, Page
from reporting.queries.models import (
    AccompanyRoster,
    Breakdowns,
    BureauRef,
    CaseBrief,
    CaseList,
    Change,
    FigureChange,
    Figures,
    LedgerPage,
    LedgerRow,
    MonthlyAnalysis,
    MonthPoint,
    PracticesEffect,
    PublishedRoster,
    RankRow,
    Rate,
    ReceptionStats,
    RosterEntry,
    SubBureauWeek,
    WeeklyBulletin,
    ZeroPetition,
)
from reporting.queries.periods import LOCAL, Period, PeriodError
from reporting.queries.practices import WINDOW_MONTHS, practices_effect
from reporting.queries.reception import reception_statistics

__all__ = [
    "ANALYSIS_LISTS",
    "BULLETIN_LISTS",
    "DEFAULT_PAGE_SIZE",
    "DUE_SOON_WORKING_DAYS",
    "FIRST_PAGE",
    "HOT_ISSUES",
    "LOCAL",
    "MAX_EXPORT",
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "WINDOW_MONTHS",
    "AccompanyRoster",
    "Breakdowns",
    "BureauRef",
    "CaseBrief",
    "CaseList",
    "Change",
    "Db",
    "FigureChange",
    "Figures",
    "LedgerFilter",
    "LedgerPage",
    "LedgerRow",
    "MonthPoint",
    "MonthlyAnalysis",
    "Page",
    "Period",
    "PeriodError",
    "PracticesEffect",
    "PublishedRoster",
    "RankRow",
    "Rate",
    "ReceptionStats",
    "RosterEntry",
    "SubBureauWeek",
    "Viewer",
    "WeeklyBulletin",
    "ZeroPetition",
    "accompany_roster",
    "analysis_list",
    "assessed_rates",
    "breakdowns",
    "bulletin_list",
    "figures",
    "ledger",
    "monthly_analysis",
    "monthly_series",
    "practices_effect",
    "published_roster",
    "reception_statistics",
    "sub_bureau_rankings",
    "to_city_by_sub_bureau",
    "weekly_bulletin",
    "zero_petition_sub_bureaus",
]
