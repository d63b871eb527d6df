"""Reporting queries over the read models (schema.sql): the binding figures, the accompany
roster, zero-petition sub-bureaus, reception statistics, the ledger, the weekly bulletin and the
monthly analysis. Each takes a connection whose search_path starts with the reporting schema."""

from reporting.queries.analysis import monthly_analysis, sub_bureau_rankings
from reporting.queries.bulletin import DUE_SOON_WORKING_DAYS, weekly_bulletin
from reporting.queries.common import Db, Viewer
from reporting.queries.figures import (
    accompany_roster,
    figures,
    monthly_series,
    published_roster,
    to_city_by_sub_bureau,
    zero_petition_sub_bureaus,
)
from reporting.queries.ledger import MAX_EXPORT, MAX_PAGE, LedgerFilter, ledger
from reporting.queries.models import (
    AccompanyRoster,
    BureauRef,
    CaseBrief,
    Change,
    FigureChange,
    Figures,
    LedgerPage,
    LedgerRow,
    MonthlyAnalysis,
    MonthPoint,
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
from reporting.queries.reception import reception_statistics

__all__ = [
    "DUE_SOON_WORKING_DAYS",
    "LOCAL",
    "MAX_EXPORT",
    "MAX_PAGE",
    "AccompanyRoster",
    "BureauRef",
    "CaseBrief",
    "Change",
    "Db",
    "FigureChange",
    "Figures",
    "LedgerFilter",
    "LedgerPage",
    "LedgerRow",
    "MonthPoint",
    "MonthlyAnalysis",
    "Period",
    "PeriodError",
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
    "figures",
    "ledger",
    "monthly_analysis",
    "monthly_series",
    "published_roster",
    "reception_statistics",
    "sub_bureau_rankings",
    "to_city_by_sub_bureau",
    "weekly_bulletin",
    "zero_petition_sub_bureaus",
]
