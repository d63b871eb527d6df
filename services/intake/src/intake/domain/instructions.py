"""Leaders' instructions (批示) followed up: who must answer, by when, and the answer. Pure.

An instruction names a unit that must answer it (a bureau or a city department from the
configuration, within the case's scope and never one the case accuses: Art. 30) and a due day:
the leader's own, or the configured number of working days after the session's day, counted on
the bureau's calendar (a make-up Saturday counts, a holiday does not). The unit, or a petition
office that oversees the case, records the answer once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError
from petitions.eventstore import RecordedEvent
from petitions.identity import Principal, Role
from petitions.messages.reception import InstructionAnswered, LeaderInstructionRecorded
from petitions.scope import CaseFacts, normalise_parties

from intake.domain.registration import Refused

ANSWERING_ROLES = frozenset({Role.HANDLER, Role.SUB_BUREAU_HEAD, Role.LEADER, Role.PETITION_OFFICE})


@dataclass(frozen=True)
class Instruction:
    """One followed-up instruction on a case, as its stream says now."""

    instruction_id: UUID
    session_id: UUID
    instructed_on: date
    unit: str
    due_on: date
    answered_on: date | None = None
    on_time: bool | None = None

    @property
    def answered(self) -> bool:
        return self.answered_on is not None


def instructions_of(events: Iterable[RecordedEvent[Any]]) -> dict[UUID, Instruction]:
    """The followed-up instructions on a case stream, by id (older ones have no id: skipped)."""
    found: dict[UUID, Instruction] = {}
    for event in events:
        data = event.data
        if isinstance(data, LeaderInstructionRecorded) and data.instruction_id is not None:
            assert data.instructed_on is not None
            assert data.answering_unit is not None
            assert data.due_on is not None
            found[data.instruction_id] = Instruction(
                instruction_id=data.instruction_id,
                session_id=data.session_id,
                instructed_on=data.instructed_on,
                unit=data.answering_unit,
                due_on=data.due_on,
            )
        elif isinstance(data, InstructionAnswered) and data.instruction_id in found:
            old = found[data.instruction_id]
            found[data.instruction_id] = Instruction(
                **{**old.__dict__, "answered_on": data.answered_on, "on_time": data.on_time}
            )
    return found


def default_unit(facts: CaseFacts) -> str:
    """Who answers when the leader names nobody: the unit handling the case, else the
    sub-bureau the case concerns."""
    return facts.unit or facts.sub_bureau


def check_answering_unit(config: BureauConfig, facts: CaseFacts, unit: str) -> str:
    """The unit, if it may be asked to answer on this case: a configured unit that sees the case
    (its receiving bureau, its sub-bureau, its handling unit, or a city department on a case of
    the city bureau) and is not accused by it."""
    unit = unit.strip()
    if not config.is_unit(unit):
        raise Refused(
            "unknown_unit",
            f"answering_unit：未知单位代码 {unit:.32} / answering_unit: unknown unit code",
            422,
        )
    city_department = config.is_department(unit) and config.city.code in (
        facts.bureau,
        facts.unit,
    )
    within = unit in (facts.bureau, facts.sub_bureau, facts.unit) or city_department
    accused = normalise_parties([unit])[0] in normalise_parties(facts.accused_units)
    if not within or accused:
        raise Refused(
            "unit_out_of_scope",
            f"answering_unit：单位 {unit} 不在本案范围内（须为受理单位、所涉分县局、承办单位，"
            "且不得为被检举控告的单位）/ answering_unit: the unit is outside the case's scope "
            "(the receiving bureau, the sub-bureau concerned or the handling unit, and never a "
            "unit the case accuses)",
            422,
        )
    return unit


def due_date(
    config: BureauConfig, calendar: WorkCalendar, instructed_on: date, leader_due: date | None
) -> tuple[date, Literal["leader", "default"]]:
    """The day the answer is due: the leader's own (after the session's day), else the
    configured number of working days after it."""
    if leader_due is not None:
        if leader_due <= instructed_on:
            raise Refused(
                "bad_due_on",
                f"due_on：答复期限 {leader_due} 须晚于接访日 {instructed_on} / due_on must be "
                f"after the session's day {instructed_on}",
                422,
            )
        return leader_due, "leader"
    try:
        calendar.is_working_day(instructed_on)  # refuses a year with no holiday file
        due = calendar.working_days_deadline(instructed_on, config.instruction_due_working_days)
    except YearNotConfiguredError as exc:
        raise Refused("year_not_configured", str(exc), 422) from None
    if due.provisional:
        # An answer date resting on a guessed holiday arrangement would move later: refuse it
        # rather than record a date that may be wrong; the leader can name one.
        raise Refused(
            "year_not_configured",
            f"{calendar.note(due.provisional_years)}；请在 due_on 中写明答复期限 / give due_on",
            422,
        )
    return due.due, "default"


def may_answer(principal: Principal, instruction: Instruction, oversees: bool) -> None:
    """Only the unit the instruction names, or a petition office overseeing the case
    (``oversees``: its bureau covers the case), answers; refused with 403 otherwise."""
    own_unit = principal.bureau == instruction.unit or principal.department == instruction.unit
    office = principal.role is Role.PETITION_OFFICE and oversees
    if principal.role not in ANSWERING_ROLES or not (own_unit or office):
        raise Refused(
            "not_answering_unit",
            f"只有被批示的单位 {instruction.unit} 或信访科可以答复此批示 / only the unit the "
            f"instruction names ({instruction.unit}) or the petition office may answer it",
            403,
        )


def answer(
    principal: Principal,
    instructions: dict[UUID, Instruction],
    instruction_id: UUID,
    text: str,
    today: date,
    *,
    case_id: UUID,
    oversees: bool,
) -> InstructionAnswered:
    """The answer to one instruction, or a refusal: unknown (404), not the unit's (403),
    already answered (409), empty (422)."""
    instruction = instructions.get(instruction_id)
    if instruction is None:
        raise Refused(
            "instruction_not_found",
            "本案没有该批示 / the case has no such instruction (instruction_id)",
            404,
        )
    may_answer(principal, instruction, oversees)
    if instruction.answered:
        raise Refused(
            "instruction_answered",
            f"该批示已于 {instruction.answered_on} 答复，不能重复答复 / the instruction was "
            f"answered on {instruction.answered_on}: it is answered once",
            409,
        )
    if not text.strip():
        raise Refused("answer_required", "answer：答复内容不能为空 / answer is empty", 422)
    if today < instruction.instructed_on:
        raise Refused(
            "before_instruction",
            f"答复日期 {today} 早于批示日期 {instruction.instructed_on} / the answer is dated "
            "before the instruction",
            422,
        )
    return InstructionAnswered(
        case_id=case_id,
        instruction_id=instruction_id,
        unit=instruction.unit,
        answer=text,
        answered_on=today,
        on_time=today <= instruction.due_on,
    )
