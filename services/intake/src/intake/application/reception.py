"""Leader reception days: the schedule from the duty roster, held or missed, instructions.

At the city bureau each working day has its duty leader, and Wednesday is the chief's day; at a
sub-bureau the head receives on Wednesdays. Attending departments (petition office, legal,
discipline, inspection) are recorded on the chief's days, as the rules require.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError
from petitions.bureaus.config import DepartmentRole, Weekday
from petitions.eventstore import Metadata, NewEvent
from petitions.identity import Principal
from petitions.messages.reception import (
    LeaderInstructionRecorded,
    ReceptionSessionHeld,
    ReceptionSessionMissed,
    ReceptionSessionScheduled,
)
from petitions.scope import ensure_acts_for, reach

from intake.application.ports import ReceptionStorage, SessionChange, SessionRow, SessionWriter
from intake.application.register import ensure_configured
from intake.domain.registration import Refused, evolve

_SESSIONS = uuid.UUID("0b6f7c33-2f1e-4c51-9b0a-2d8f4a6c9e10")
MAX_DAYS = 370


def session_id(bureau: str, day: date, leader_id: str) -> UUID:
    """Deterministic, so scheduling the same period twice adds nothing."""
    return uuid.uuid5(_SESSIONS, f"{bureau}/{day.isoformat()}/{leader_id}")


class Reception:
    def __init__(
        self, storage: ReceptionStorage, config: BureauConfig, calendar: WorkCalendar
    ) -> None:
        self._storage = storage
        self._config = config
        self._calendar = calendar

    def _roster(self, bureau: str, day: date) -> list[tuple[str, str, str, bool]]:
        """(leader id, name, title, chief day) of who receives at ``bureau`` on ``day``."""
        wednesday = Weekday.of(day) == Weekday.WED
        if bureau == self._config.city.code:
            return [
                (leader.id, leader.name, leader.title, leader.is_chief and wednesday)
                for leader in self._config.leaders_on_duty(day)
            ]
        if wednesday:
            head = self._config.sub_bureau(bureau)
            return [(f"{bureau}-head", head.head, "局长 head", True)]
        return []

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
                if self._calendar.is_working_day(day):
                    for leader_id, name, title, chief_day in self._roster(bureau, day):
                        planned.append(
                            ReceptionSessionScheduled(
                                session_id=session_id(bureau, day, leader_id),
                                bureau=bureau,
                                day=day,
                                leader_id=leader_id,
                                leader_name=name,
                                leader_title=title,
                                chief_day=chief_day,
                                place=place,
                                attending_departments=attending if chief_day else (),
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
            row = await self._storage.session(sid)
            if row is None:
                raise _no_session()
            if row.bureau != self._config.city.code:
                raise Refused(
                    "accompany_city_only",
                    "陪同接访只在市局领导接访场次记录 / heads accompany only at the city bureau's "
                    "sessions",
                    422,
                )
        await self._record(
            principal,
            sid,
            ReceptionSessionHeld(session_id=sid, held_by=held_by, note=note, accompanied_by=heads),
            requires="scheduled",
            refuse=_already_recorded,
            change=SessionChange(state="held", held_by=held_by),
        )

    async def missed(self, principal: Principal, sid: UUID, reason: str) -> None:
        if not reason.strip():
            raise Refused(
                "reason_required", "缺席须说明原因 / a missed session needs a reason", 422
            )
        await self._record(
            principal,
            sid,
            ReceptionSessionMissed(session_id=sid, reason=reason),
            requires="scheduled",
            refuse=_already_recorded,
            change=SessionChange(state="missed", missed_reason=reason),
        )

    async def instruct(
        self,
        principal: Principal,
        sid: UUID,
        case_id: UUID,
        instruction: str,
        needs_party_committee: bool,
    ) -> None:
        ensure_configured(self._config, principal)
        if not instruction.strip():
            raise Refused(
                "instruction_required", "批示内容不能为空 / the instruction is empty", 422
            )
        # The one scope rule: a case the leader may not see is answered like one that does not
        # exist, so the answer never tells which case ids exist elsewhere (nor that an
        # accusation against them does, Art. 30).
        mine = reach(principal, self._config)
        case, _ = await self._storage.events.load(f"case-{case_id}", None, evolve)
        if case is None or not mine.sees(case.facts):
            raise Refused(
                "case_not_found", "案件不存在或不在您的范围内 / no such case within your scope", 404
            )
        await self._record(
            principal,
            sid,
            LeaderInstructionRecorded(
                session_id=sid,
                case_id=case_id,
                instruction=instruction,
                needs_party_committee=needs_party_committee,
            ),
            requires="held",
            refuse=lambda _: Refused(
                "session_not_held",
                "场次未记为已接访，不能记录批示 / record the session as held first",
            ),
            change=SessionChange(instruction=True),
        )

    async def _record(
        self,
        principal: Principal,
        sid: UUID,
        event: ReceptionSessionHeld | ReceptionSessionMissed | LeaderInstructionRecorded,
        *,
        requires: str,
        refuse: Callable[[str], Refused],
        change: SessionChange,
    ) -> None:
        """Append ``event`` to the session's stream if the session is in state ``requires``,
        and update intake's list of sessions in the same transaction."""
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
                [NewEvent(event, bureau=row.bureau)],
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
        return await self._storage.sessions(bureau, first, last)


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
        "instructions": 0,
    }
