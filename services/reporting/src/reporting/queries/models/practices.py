"""The effect of the working practices (accompanied reception, leaders' reception, resolution)
as returned by the practices query."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from reporting.queries.models.base import BureauRef, Rate, _Out


class AccompaniedSubBureau(_Out):
    sub_bureau: BureauRef
    first_accompanied: str = Field(description="首次陪同月份 the month it first accompanied")
    before_months: int
    before_submissions: int = Field(description="陪同前到市局件次 to the city, months before")
    before_average: float | None = Field(description="陪同前月均 monthly average before")
    after_months: int
    after_submissions: int = Field(description="陪同后到市局件次 to the city, months after")
    after_average: float | None = Field(description="陪同后月均 monthly average after (null: none)")
    change: float | None = Field(description="变化 (after - before) / before")


class AccompanyEffect(_Out):
    sub_bureaus: list[AccompaniedSubBureau]
    before_average: float | None = Field(
        description="陪同前月均合计 the sum of the monthly averages before (those with an after)"
    )
    after_average: float | None
    change: float | None


class MonthVolume(_Out):
    month: str
    visits: int = Field(description="局长接访登记件次 submissions at chiefs' sessions")
    person_visits: int


class ReceptionEffect(_Out):
    before: list[MonthVolume]
    after: list[MonthVolume]
    before_average: float | None
    after_average: float | None
    change: float | None


class ResolutionEffect(_Out):
    before_from: date
    before_to: date
    after_from: date | None
    after_to: date | None
    before: Rate | None = Field(description="初信初访化解率 first-petition resolution, before")
    after: Rate | None
    change: float | None = Field(description="化解率变化 the ratio's relative change")


class PracticesEffect(_Out):
    """The seed's practices measured (definitions: reporting.queries.practices)."""

    bureau: BureauRef
    since: date = Field(description="实践起始日 S, as the bureau configured it (or asked)")
    report_date: date
    window_months: int
    accompany: AccompanyEffect
    chief_reception: ReceptionEffect
    resolution: ResolutionEffect
