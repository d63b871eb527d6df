"""The binding figures of domain.md as returned: assessed rates, the figures of a bureau and
period, zero-petition units."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from reporting.queries.models.base import BureauRef, Rate, _Out


class AssessedRates(_Out):
    """The four rates offices are assessed on (domain.md, "Metric definitions")."""

    timely_acceptance_rate: Rate = Field(
        description="及时受理率: matters of the period decided (accepted, declined, forwarded or "
        "diverted) by D, the share decided within their acceptance deadline"
    )
    satisfaction_rate: Rate = Field(
        description="满意率: cases replied to in the period and rated by D, the share whose "
        "latest rating by D is satisfied or basically satisfied"
    )
    first_petition_resolution_rate: Rate = Field(
        description="初信初访化解率: matters of the period replied to by D, the share with no "
        "repeat submission and no review request after the reply date (up to D)"
    )
    repeat_petition_rate: Rate = Field(
        description="重复信访率: submissions of the period, the share that are repeats"
    )


class Figures(_Out):
    """The binding figures of domain.md for one bureau, period and report date."""

    bureau: BureauRef
    period_start: date
    period_end: date
    period_label: str
    report_date: date
    matters: int = Field(description="件: cases first received in the period")
    submissions: int = Field(description="件次: submissions received in the period")
    person_visits: int = Field(description="人次: the submissions' head counts summed")
    closure_rate: Rate = Field(description="办结率: accepted matters replied or terminated by D")
    cessation_rate: Rate = Field(description="息诉率: replied matters with no later submission")
    justified_to_city: int = Field(description="到市局有理访: justified submissions to the city")
    on_time_rate: Rate = Field(description="按期答复率: cases replied in the period on time")
    average_handling_cycle_days: float | None = Field(
        description="平均办理周期（天）: mean days from acceptance to reply"
    )
    handling_cycle_cases: int
    zero_petition_sub_bureaus: list[BureauRef] = Field(
        description="零信访分县局: no submission to the city bureau in the period"
    )
    sub_bureaus_in_scope: int
    timely_acceptance_rate: Rate = Field(description="及时受理率 (see AssessedRates)")
    satisfaction_rate: Rate = Field(description="满意率 (see AssessedRates)")
    first_petition_resolution_rate: Rate = Field(description="初信初访化解率 (see AssessedRates)")
    repeat_petition_rate: Rate = Field(description="重复信访率 (see AssessedRates)")


class ZeroPetition(_Out):
    bureau: BureauRef
    period_start: date
    period_end: date
    period_label: str
    sub_bureaus: list[BureauRef]
    of: int = Field(description="how many sub-bureaus were considered")
