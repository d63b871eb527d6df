"""Leader reception days: the schedule from the duty roster, held or missed, instructions.

Each working day of the bureau's calendar, make-up working days included, has its duty leader,
and Wednesday is the chief's day (``intake.domain.duty``). Attending departments (petition
office, legal, discipline, inspection) are recorded on the chief's days, as the rules require.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError
from petitions.bureaus.config import DepartmentRole
from petitions.clock import Clock, utc_now
from petitions.eventstore import Metadata, NewEvent, WrongExpectedVersionError
from petitions.identity import Principal
from petitions.messages.intake import CaseRegistered
from petitions.messages.reception import (
    LeaderInstructionRecorded,
    MissedReason,
    ReceptionSessionHeld,
    ReceptionSessionMissed,
    ReceptionSessionScheduled,
    reception_text_subject,
)
from petitions.scope import CaseFacts, ensure_acts_for, reach

from intake.application.ports import ReceptionStorage, SessionChange, SessionRow, SessionWriter
from intake.application.register import ensure_configured
from intake.domain.duty import on_duty
from intake.domain.instructions import (
    Instruction,
    check_answering_unit,
    default_unit,
    due_date,
    instructions_of,
)
from intake.domain.instructions import answer as answer_instruction
from intake.domain.registration import CaseView, Refused, evolve

_SESSIONS = uuid.UUID("0b6f7c33-2f1e-4c51-9b0a-2d8f4a6c9e10")
MAX_DAYS = 370
SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
_ATTEMPTS: Final = 5


def session_id(bureau: str, day: date, leader_id: str) -> UUID:
    """Deterministic, so scheduling the same period twice adds nothing."""
    return uuid.uuid5(_SESSIONS, f"{bureau}/{day.isoformat()}/{leader_id}")


class Reception:
    def __init__(
        self,
        storage: ReceptionStorage,
        config: BureauConfig,
        calendar: WorkCalendar,
        clock: Clock = utc_now,
    ) -> None:
        self._storage = storage
        self._config = config
        self._calendar = calendar
        self._clock = clock

    async def schedule(
        self, principal: Principal, bureau: str, first: date, last: date, place: str
    ) -> list[dict[str, Any]]:
        ensure_configured(self._config, principal)
        if not self._config.is_bureau(bureau):
            raise Refused("unknown_bureau", "未知单位代码 / unknown bureau code", 422)
        ensure_acts_for(principal, self._config, bureau)
        if last < first or (last - first).days > MAX_DAYS:
            raise Refused(
                "bad_period", "期间须为一年以内且起止有序 / give a period of at most a year", 422
            )
        attending = tuple(
            self._config.department_for(role).code
            for role in (
                DepartmentRole.PETITION_OFFICE,
                DepartmentRole.LEGAL,
                DepartmentRole.DISCIPLINE,
                DepartmentRole.INSPECTION,
            )
        )
        # The whole period is worked out before anything is written, and written in one
        # transaction: a period reaching into a year with no holiday file is refused whole.
        planned: list[ReceptionSessionScheduled] = []
        day = first
        try:
            while day <= last:
                for duty in on_duty(self._config, self._calendar, bureau, day):
                    planned.append(
                        ReceptionSessionScheduled(
                            session_id=session_id(bureau, day, duty.leader_id),
                            bureau=bureau,
                            day=day,
                            leader_id=duty.leader_id,
                            leader_name=duty.name,
                            leader_title=duty.title,
                            chief_day=duty.chief_day,
                            place=place,
                            attending_departments=attending if duty.chief_day else (),
                        )
                    )
                day += timedelta(days=1)
        except YearNotConfiguredError as exc:
            raise Refused("year_not_configured", str(exc), 422) from None
        created: list[dict[str, Any]] = []
        async with self._storage.transaction() as tx:
            for event in planned:
                if await self._scheduled(tx, principal, event):
                    created.append(_view_of(event))
        return created

    async def _scheduled(
        self, tx: SessionWriter, principal: Principal, event: ReceptionSessionScheduled
    ) -> bool:
        if not await tx.add(_row_of(event)):
            return False  # already scheduled
        await tx.append(
            f"reception-{event.session_id}",
            [NewEvent(event, bureau=event.bureau, event_id=event.session_id)],
            0,
            metadata=Metadata(actor=principal.user, service="intake"),
        )
        return True

    async def held(
        self,
        principal: Principal,
        sid: UUID,
        held_by: str,
        note: str,
        accompanied_by: tuple[str, ...] = (),
    ) -> None:
        """Record the session as held; ``accompanied_by``: the sub-bureaus whose heads sat beside
        the city's chief (陪同接访), checked against the configuration."""
        heads = tuple(dict.fromkeys(code.strip() for code in accompanied_by))
        if heads:
            unknown = [c for c in heads if c not in {s.code for s in self._config.sub_bureaus}]
            if unknown:
                raise Refused(
                    "unknown_sub_bureau",
                    f"陪同接访须为分县局代码，未知：{'、'.join(unknown)} / accompanied_by lists "
                    f"sub-bureau codes; unknown: {', '.join(unknown)}",
                    422,
                )
            found = await self._storage.session(sid)
            if found is None:
                raise _no_session()
            if found.bureau != self._config.city.code:
                raise Refused(
                    "accompany_city_only",
                    "陪同接访只在市局领导接访场次记录 / heads accompany only at the city bureau's "
                    "sessions",
                    422,
                )
        await self._record(
            principal,
            sid,
            lambda row: ReceptionSessionHeld(
                subject_id=_text_subject(row),
                session_id=sid,
                held_by=held_by,
                note=note,
                accompanied_by=heads,
            ),
            requires="scheduled",
            refuse=_already_recorded,
            change=SessionChange(state="held", held_by=held_by),
        )

    async def missed(
        self, principal: Principal, sid: UUID, reason_code: MissedReason, reason: str = ""
    ) -> None:
        """Record the session as missed: why, as a code the figures count, and any explanation
        (sealed). Intake's list keeps the code only, never the explanation."""
        await self._record(
            principal,
            sid,
            lambda row: ReceptionSessionMissed(
                subject_id=_text_subject(row),
                session_id=sid,
                reason_code=reason_code,
                reason=reason.strip(),
            ),
            requires="scheduled",
            refuse=_already_recorded,
            change=SessionChange(state="missed", missed_reason_code=reason_code.value),
        )

    async def instruct(
        self,
        principal: Principal,
        sid: UUID,
        case_id: UUID,
        instruction: str,
        needs_party_committee: bool,
        *,
        answering_unit: str | None = None,
        due_on: date | None = None,
    ) -> dict[str, Any]:
        """Record the leader's instruction on a case, on the case's stream, with who answers
        and by when; the session's count of instructions moves in the same transaction."""
        ensure_configured(self._config, principal)
        if not instruction.strip():
            raise Refused(
                "instruction_required", "批示内容不能为空 / the instruction is empty", 422
            )
        for _ in range(_ATTEMPTS):
            async with self._storage.transaction() as tx:
                row = await tx.lock(sid)
                if row is None:
                    raise _no_session()
                ensure_acts_for(principal, self._config, row.bureau)
                if row.state != "held":
                    raise Refused(
                        "session_not_held",
                        "场次未记为已接访，不能记录批示 / record the session as held first",
                    )
                case, version = await self._visible_case(principal, case_id)
                unit = check_answering_unit(
                    self._config, case.facts, answering_unit or default_unit(case.facts)
                )
                due, set_by = due_date(self._config, self._calendar, row.day, due_on)
                event = LeaderInstructionRecorded(
                    subject_id=case.text_subject,
                    session_id=sid,
                    case_id=case_id,
                    instruction=instruction,
                    needs_party_committee=needs_party_committee,
                    instruction_id=uuid.uuid4(),
                    instructed_on=row.day,
                    answering_unit=unit,
                    due_on=due,
                    due_set_by=set_by,
                )
                try:
                    await tx.append(
                        f"case-{case_id}",
                        [NewEvent(event, bureau=case.bureau)],
                        version,
                        metadata=Metadata(actor=principal.user, service="intake"),
                    )
                except WrongExpectedVersionError:
                    continue  # the case moved on meanwhile: judge it again
                await tx.count_instruction(sid)
                return {
                    "instruction_id": event.instruction_id,
                    "case_id": case_id,
                    "answering_unit": unit,
                    "due_on": due,
                    "due_set_by": set_by,
                }
        raise Refused("busy", "案件正被其他人修改，请重试 / the case is busy: try again", 409)

    async def answer(
        self,
        principal: Principal,
        case_id: UUID,
        instruction_id: UUID,
        text: str,
    ) -> dict[str, Any]:
        """The answering unit's (or the petition office's) answer to an instruction, once."""
        ensure_configured(self._config, principal)
        today = self._clock().astimezone(SHANGHAI).date()
        for _ in range(_ATTEMPTS):
            case, version = await self._visible_case(principal, case_id)
            oversees = any(
                reach(principal, self._config).covers(b) for b in (case.bureau, case.sub_bureau)
            )
            event = answer_instruction(
                principal,
                case.instructions,
                instruction_id,
                text,
                today,
                case_id=case_id,
                oversees=oversees,
            ).model_copy(update={"subject_id": case.text_subject})
            try:
                await self._storage.events.append(
                    f"case-{case_id}",
                    [NewEvent(event, bureau=case.bureau)],
                    version,
                    metadata=Metadata(actor=principal.user, service="intake"),
                )
            except WrongExpectedVersionError:
                continue
            return {
                "instruction_id": instruction_id,
                "unit": event.unit,
                "answered_on": event.answered_on,
                "on_time": event.on_time,
            }
        raise Refused("busy", "案件正被其他人修改，请重试 / the case is busy: try again", 409)

    async def _visible_case(self, principal: Principal, case_id: UUID) -> tuple[_Case, int]:
        """The case as the instructions need it, if ``principal`` may see it; one that may not
        is answered like one that does not exist, so the answer never tells which case ids
        exist elsewhere (nor that an accusation against them does, Art. 30)."""
        events = await self._storage.events.read_stream(f"case-{case_id}", reveal=False)
        view: CaseView | None = None
        for event in events:
            view = evolve(view, event)
        if view is None or not reach(principal, self._config).sees(view.facts):
            raise Refused(
                "case_not_found", "案件不存在或不在您的范围内 / no such case within your scope", 404
            )
        registered = events[0].data
        assert isinstance(registered, CaseRegistered)
        return _Case(view, registered.subject_id, instructions_of(events)), events[-1].version

    async def _record(
        self,
        principal: Principal,
        sid: UUID,
        make: Callable[[SessionRow], ReceptionSessionHeld | ReceptionSessionMissed],
        *,
        requires: str,
        refuse: Callable[[str], Refused],
        change: SessionChange,
    ) -> None:
        """Append the event ``make`` builds from the session's row to the session's stream if
        the session is in state ``requires``, and update intake's list of sessions in the same
        transaction."""
        async with self._storage.transaction() as tx:
            ensure_configured(self._config, principal)
            row = await tx.lock(sid)
            if row is None:
                raise _no_session()
            ensure_acts_for(principal, self._config, row.bureau)
            if row.state != requires:
                raise refuse(row.state)
            await tx.append(
                f"reception-{sid}",
                [NewEvent(make(row), bureau=row.bureau)],
                row.version,
                metadata=Metadata(actor=principal.user, service="intake"),
            )
            await tx.change(sid, change)

    async def list(
        self, principal: Principal, bureau: str, first: date, last: date
    ) -> list[dict[str, Any]]:
        ensure_configured(self._config, principal)
        if not self._config.is_bureau(bureau):
            raise Refused("unknown_bureau", "未知单位代码 / unknown bureau code", 422)
        ensure_acts_for(principal, self._config, bureau)
        return [_listed(r) for r in await self._storage.sessions(bureau, first, last)]


@dataclass(frozen=True)
class _Case:
    view: CaseView
    text_subject: UUID  # the first petitioner: their key seals the case's free text
    instructions: dict[UUID, Instruction]

    @property
    def facts(self) -> CaseFacts:
        return self.view.facts

    @property
    def bureau(self) -> str:
        return self.view.bureau

    @property
    def sub_bureau(self) -> str:
        return self.view.sub_bureau


def _text_subject(row: SessionRow) -> UUID:
    return reception_text_subject(row.bureau, row.day.year)


def _no_session() -> Refused:
    return Refused("session_not_found", "接访场次不存在 / no such reception session", 404)


def _row_of(event: ReceptionSessionScheduled) -> SessionRow:
    return SessionRow(
        session_id=event.session_id,
        bureau=event.bureau,
        day=event.day,
        leader_id=event.leader_id,
        leader_name=event.leader_name,
        chief_day=event.chief_day,
        place=event.place,
        state="scheduled",
        held_by=None,
        missed_reason=None,
        instructions=0,
        version=1,
    )


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    """A session as intake lists it: the missed reason as its code's label (sessions recorded
    before codes keep the reason they were given, which was stored in the clear)."""
    code = row.pop("missed_reason_code")
    row["missed_reason_code"] = code
    if code is not None:
        row["missed_reason"] = MissedReason(code).label
    return row


def _already_recorded(state: str) -> Refused:
    return Refused(
        "session_closed",
        f"该场次已记为{'已接访' if state == 'held' else '缺席'} / the session is already "
        f"recorded as {state}",
    )


def _view_of(event: ReceptionSessionScheduled) -> dict[str, Any]:
    return {
        "session_id": event.session_id,
        "bureau": event.bureau,
        "day": event.day,
        "leader_id": event.leader_id,
        "leader_name": event.leader_name,
        "chief_day": event.chief_day,
        "place": event.place,
        "state": "scheduled",
        "held_by": None,
        "missed_reason": None,
        "missed_reason_code": None,
        "instructions": 0,
    }
