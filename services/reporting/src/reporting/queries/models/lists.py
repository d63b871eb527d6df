"""The ledger's rows and pages, case lists and the weekly bulletin as returned by the reporting
queries."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from reporting.queries.models.base import BureauRef, _Out
from reporting.queries.models.figures import AssessedRates
from reporting.queries.models.reception import InstructionList
from reporting.queries.ownership import Ownership


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
    total: int = Field(description="Matching cases, counted up to 100,000 (see total_capped)")
    total_capped: bool = Field(
        default=False,
        description="More than `total` cases match: narrow the filters to count them",
    )
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
