"""What the reporting queries return: plain, frozen models the HTTP API serves as JSON and the
exports lay out as sheets. Instants are Asia/Shanghai wall-clock times with their offset."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from reporting.queries.ownership import Ownership


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class BureauRef(_Out):
    code: str = Field(description="单位代码 unit code")
    name: str = Field(description="单位名称 unit name")


class Rate(_Out):
    numerator: int
    denominator: int
    ratio: float | None = Field(description="numerator / denominator; null when nothing to divide")


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


class RosterEntry(_Out):
    rank: int
    sub_bureau: BureauRef
    head: str = Field(description="分县局局长 the sub-bureau head who accompanies the chief")
    justified_to_city: int
    submissions_to_city: int


class PublishedRoster(_Out):
    published_on: date = Field(description="发布日期 the day it was published")
    published_by: str = Field(description="发布人 who published it (or the scheduled task)")
    roster: list[RosterEntry] = Field(description="up to three sub-bureaus, as published")
    candidates: list[RosterEntry] = Field(description="the ranking it was based on")


class AccompanySession(_Out):
    """One of the city chief's Wednesday sessions in the roster's month, and which sub-bureau
    heads sat beside the chief (陪同接访, recorded when the session was recorded as held)."""

    day: date
    leader_name: str
    state: str = Field(description="scheduled | held | missed")
    accompanied_by: list[BureauRef] = Field(description="到场陪同的分县局 the heads who came")


class AccompanyRoster(_Out):
    counted_month: str = Field(description="计数月份 the month whose petitions are counted")
    applies_to: str = Field(description="陪同月份 the month the roster is for (the next one)")
    roster: list[RosterEntry] = Field(
        description="up to three sub-bureaus, in order, as computed now (现在计算的结果)"
    )
    candidates: list[RosterEntry] = Field(
        description="every sub-bureau above zero, ranked, so ties can be checked (now)"
    )
    published: PublishedRoster | None = Field(
        default=None,
        description="已发布名单 the roster as published at the start of the month, with the "
        "counts it was based on; null until published. Binding: the lists above only say what "
        "it would be now, as outcomes arrive",
    )
    sessions: list[AccompanySession] = Field(
        default_factory=list,
        description="陪同月份的市局局长接访日及到场陪同的分县局局长 the city chief's sessions in "
        "the roster's month and who accompanied at each",
    )


class ReasonCount(_Out):
    reason: str
    sessions: int


class MissedSession(_Out):
    """A reception session a leader was due to hold and did not (接访缺席), and why."""

    day: date
    chief_day: bool = Field(description="局长接访日 the chief's Wednesday")
    reason: str = Field(description="缺席原因 the reason recorded (or that none was given)")


class LeaderReception(_Out):
    bureau: BureauRef
    leader_id: str
    leader_name: str
    sessions: int
    held: int
    held_by_stand_in: int = Field(
        description="其中由其他领导代为接访 of the held sessions, those another leader held"
    )
    missed: int
    missed_reasons: list[ReasonCount] = Field(
        default_factory=list,
        description="本人缺席原因 this leader's missed sessions by reason, most frequent first",
    )
    missed_sessions: list[MissedSession] = Field(
        default_factory=list, description="本人缺席的接访日 this leader's missed sessions, by day"
    )
    chief_days: int
    visits: int
    person_visits: int
    instructions: int


class StandIn(_Out):
    """A session the scheduled leader did not hold himself: who did."""

    day: date
    bureau: BureauRef
    scheduled_leader: str
    held_by: str


class InstructionBrief(_Out):
    """A leader's instruction (批示) in a list: who must answer, by when (the text masked)."""

    instruction_id: UUID
    case_id: UUID
    case_number: str
    sub_bureau: BureauRef
    unit: BureauRef = Field(description="须答复的单位 the unit that must answer")
    instructed_on: date = Field(description="批示日（接访日）the session's day")
    due_on: date = Field(description="答复期限（含当日）answer by this day")
    due_set_by: str = Field(description="leader: the leader's own date; default: configured")
    working_days: int | None = Field(
        default=None, description="overdue: working days past the due day, as of the report"
    )
    needs_party_committee: bool
    instruction: str = Field(description="批示内容（脱敏）the instruction, masked")
    answered_on: date | None = None


class InstructionList(_Out):
    """Overdue instructions: followed up, due before the report's day and not answered by then.
    ``total`` counts the whole list; ``rows`` holds its first page."""

    total: int = Field(description="instructions in the whole list")
    page_size: int
    rows: list[InstructionBrief]


class DutyCheck(_Out):
    """接访值班核查: one bureau's working days in the period (up to the report's day) against the
    sessions scheduled for them: one leader on duty each working day, make-up days included."""

    bureau: BureauRef
    working_days: int = Field(description="working days on the bureau's calendar, 调休 included")
    makeup_days: int = Field(description="of which make-up working days (调休上班, a weekend day)")
    covered_days: int = Field(description="working days with a session scheduled")
    uncovered_days: list[date] = Field(description="working days with no session scheduled")
    crowded_days: list[date] = Field(
        description="working days with more than one leader scheduled (the rule: one a day)"
    )
    missed_days: int = Field(description="working days whose session was missed")


class ReceptionStats(_Out):
    bureau: BureauRef
    period_start: date
    period_end: date
    period_label: str
    sessions: int
    held: int
    missed: int
    scheduled: int = Field(description="not yet recorded as held or missed")
    chief_days_held: int
    chief_days_missed: int
    missed_reasons: list[ReasonCount]
    visits: int = Field(description="submissions registered at the sessions")
    person_visits: int
    instructions: int = Field(description="领导批示 instructions recorded")
    by_leader: list[LeaderReception]
    stand_ins: list[StandIn] = Field(description="代为接访 sessions held by another leader")
    overdue_instructions: InstructionList | None = Field(
        default=None,
        description="逾期未答复的批示 instructions overdue on the period's last day (or today, if "
        "earlier), within the reader's scope",
    )
    duty: list[DutyCheck] = Field(
        default_factory=list,
        description="接访值班核查 per bureau covered: working days (make-up days included) up to "
        "the period's last day or today against the sessions scheduled",
    )


class LedgerRow(Ownership, _Out):
    case_id: UUID
    case_number: str
    bureau: str
    bureau_name: str
    sub_bureau: str
    sub_bureau_name: str
    category: str
    category_name: str
    category_kind: str
    category_kind_name: str
    petitioners: str = Field(description="masked, as stored")
    petitioner_ids: str = Field(description="masked, as stored")
    head_count: int
    channel: str
    channel_name: str
    first_received_at: datetime
    registered_at: datetime
    first_receiver: str
    state: str
    state_name: str
    responsible_unit: str | None
    responsible_unit_name: str
    responsible_officer: str | None
    owning_leader: str | None
    leader_plan: str | None
    acceptance_due: date | None
    accepted_on: date | None
    handling_due: date | None
    extended_days: int
    review_due: date | None
    re_review_due: date | None
    not_accepted: str | None
    not_accepted_name: str
    not_accepted_on: date | None
    preliminary_assessment: str
    outcome: str | None
    outcome_name: str
    justified: bool
    replied_on: date | None
    on_time: bool | None
    satisfaction: str | None
    terminated_on: date | None
    submissions: int
    repeat_count: int
    last_received_at: datetime | None
    collective: bool
    escalation: str | None
    congress: bool
    congress_report_on: date | None
    supervised: bool
    running_deadline: str | None = Field(description="the clock running now, if any")
    running_due: date | None
    overdue: bool = Field(description="running deadline already passed on the report date")
    latest_progress_week: str | None
    latest_progress_note: str | None
    provisional_deadlines: list[str] = Field(
        default_factory=list,
        description="按暂定或未配置的节假日安排计算的期限 deadlines computed on a provisional or "
        "missing holiday year (acceptance, handling, review, ...): they may move",
    )
    provisional_reason_zh: str = ""
    provisional_reason_en: str = ""


class LedgerPage(_Out):
    bureau: BureauRef
    as_of: date
    total: int
    limit: int
    offset: int
    rows: list[LedgerRow]


class CaseBrief(_Out):
    """One case in a bulletin or analysis list."""

    case_id: UUID
    case_number: str
    sub_bureau: BureauRef
    category_name: str
    state: str
    state_name: str
    first_received_at: datetime
    responsible_unit: str | None
    responsible_unit_name: str
    responsible_officer: str | None
    deadline: str | None = Field(description="acceptance | handling | review | re_review")
    deadline_name: str
    due: date | None
    working_days: int | None = Field(
        default=None, description="overdue: working days past due; due soon: working days left"
    )
    latest_progress_week: str | None = None
    submissions: int
    repeat_count: int
    escalation: str | None
    congress: bool
    congress_report_on: date | None
    replied_on: date | None
    outcome_name: str


class CaseList(_Out):
    """One page of a case list inside a report, newest rules first as the report orders it.

    ``total`` counts the whole list; ``next`` links to the following page (null on the last).
    The whole list, every row, is in the report's XLSX and CSV exports: a bureau's year can hold
    tens of thousands of cases, more than anyone reads as JSON."""

    total: int = Field(description="cases in the whole list")
    page: int = Field(description="this page's number, from 1")
    page_size: int = Field(description="rows per page (an export holds every row on one page)")
    rows: list[CaseBrief]
    next: str | None = Field(
        default=None, description="the next page's URL (path and query); null on the last page"
    )


class SubBureauWeek(_Out):
    sub_bureau: BureauRef
    new_cases: int
    submissions: int
    replied: int
    open_cases: int
    overdue: int
    due_soon: int
    missing_progress: int


class WeeklyBulletin(_Out):
    bureau: BureauRef
    week: str
    period_start: date
    period_end: date
    as_of: date = Field(description="the day overdue and due-soon are judged on")
    new_cases: int
    submissions: int
    person_visits: int
    replied: int
    overdue: CaseList = Field(description="running deadline passed: the first page")
    due_soon: CaseList = Field(description="running deadline within 5 working days: first page")
    missing_progress: CaseList = Field(
        description="open handling cases with no entry for the week: the first page"
    )
    by_sub_bureau: list[SubBureauWeek]
    rates: AssessedRates = Field(description="the week's assessed rates, judged on as_of (D)")
    overdue_instructions: InstructionList | None = Field(
        default=None,
        description="逾期未答复的领导批示 leaders' instructions not answered by their due day, "
        "judged on as_of: the count and the first page",
    )


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
