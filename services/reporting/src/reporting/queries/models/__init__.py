"""What the reporting queries return: plain, frozen models the HTTP API serves as JSON and the
exports lay out as sheets. Instants are Asia/Shanghai wall-clock times with their offset.

The models live by report (base, figures, reception, lists, analysis, practices); this package
re-exports them all so callers import from `reporting.queries.models`."""

from __future__ import annotations

from reporting.queries.models.analysis import (
    BreakdownRow,
    Breakdowns,
    Change,
    FigureChange,
    HotIssue,
    MonthlyAnalysis,
    MonthPoint,
    RankRow,
)
from reporting.queries.models.base import BureauRef, Rate
from reporting.queries.models.figures import AssessedRates, Figures, ZeroPetition
from reporting.queries.models.lists import (
    CaseBrief,
    CaseList,
    LedgerPage,
    LedgerRow,
    SubBureauWeek,
    WeeklyBulletin,
)
from reporting.queries.models.practices import (
    AccompaniedSubBureau,
    AccompanyEffect,
    MonthVolume,
    PracticesEffect,
    ReceptionEffect,
    ResolutionEffect,
)
from reporting.queries.models.reception import (
    AccompanyRoster,
    AccompanySession,
    DutyCheck,
    InstructionBrief,
    InstructionList,
    LeaderReception,
    MissedSession,
    PublishedRoster,
    ReasonCount,
    ReceptionStats,
    RosterEntry,
    StandIn,
)

__all__ = [
    "AccompaniedSubBureau",
    "AccompanyEffect",
    "AccompanyRoster",
    "AccompanySession",
    "AssessedRates",
    "BreakdownRow",
    "Breakdowns",
    "BureauRef",
    "CaseBrief",
    "CaseList",
    "Change",
    "DutyCheck",
    "FigureChange",
    "Figures",
    "HotIssue",
    "InstructionBrief",
    "InstructionList",
    "LeaderReception",
    "LedgerPage",
    "LedgerRow",
    "MissedSession",
    "MonthPoint",
    "MonthVolume",
    "MonthlyAnalysis",
    "PracticesEffect",
    "PublishedRoster",
    "RankRow",
    "Rate",
    "ReasonCount",
    "ReceptionEffect",
    "ReceptionStats",
    "ResolutionEffect",
    "RosterEntry",
    "StandIn",
    "SubBureauWeek",
    "WeeklyBulletin",
    "ZeroPetition",
]
