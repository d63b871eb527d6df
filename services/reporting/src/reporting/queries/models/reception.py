"""Rosters, the leaders' reception days, instructions, duty checks and reception statistics as
returned by the reporting queries."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from reporting.queries.models.base import BureauRef, _Out


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
