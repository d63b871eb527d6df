"""The workflow's use cases: load a case from its stream, decide, append with the version it was
loaded at, and keep the case's row in step in the same transaction.

Four callers: the HTTP API (people's commands), the consumer (intake's events: take a registered
case up), the deadline sweep (the passing of time) and the recomputation of deadlines when the
work calendar changes (the sweep, or ``python -m assignment recompute-deadlines``). All decide on
the whole case stream, so an event written by one is seen by the others' next decision.

By role: :mod:`.core` (loading and writing a case), this module (commands and taking cases up),
:mod:`.timekeeping` (the sweep, recomputing deadlines), :mod:`.lists` (lists, my work, import
batches); storage behind :mod:`.ports`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from uuid import UUID

from petitions.bureaus import BureauConfig, WorkCalendar, YearNotConfiguredError
from petitions.clock import Clock, utc_now
from petitions.eventstore import EventStore, Metadata, WrongExpectedVersionError
from petitions.identity import Principal, Role
from petitions.ids import keyed_event_id
from petitions.log import get_logger
from petitions.messages.intake import CaseRegistered, SubmissionReceived
from petitions.messaging import Delivered

from assignment.application.core import (
    ATTEMPTS,
    SERVICE,
    SKEW,
    CalendarLoader,
    CalendarMissing,
    CaseNotFound,
    Done,
    fold,
)
from assignment.application.lists import Lists
from assignment.application.ports import CaseWriter, ImportBatch, Storage, stream_of
from assignment.application.timekeeping import RecomputeResult, SweepResult, Timekeeping
from assignment.domain import commands as c
from assignment.domain.case import (
    Context,
    Forbidden,
    Invalid,
    StaleVersion,
    WorkflowError,
    decide,
    open_workflow,
)
from assignment.domain.deadlines import Deadlines

__all__ = [
    "CalendarMissing",
    "CaseNotFound",
    "Done",
    "ImportBatch",
    "RecomputeResult",
    "SweepResult",
    "Workflow",
    "fold",
    "stream_of",
]

log = get_logger(__name__)

_TAKE_UP_TYPES = frozenset({CaseRegistered.event_type, SubmissionReceived.event_type})


class Workflow(Timekeeping, Lists):
    def __init__(
        self,
        storage: Storage | EventStore,
        config: BureauConfig,
        calendar: WorkCalendar,
        *,
        event_id_key: bytes,
        clock: Clock = utc_now,
        calendar_loader: CalendarLoader | None = None,
    ) -> None:
        """``storage``: the ports (the composition root builds them); a PostgreSQL
        :class:`EventStore` alone is taken with the PostgreSQL side tables beside it, so that a
        second process in a test or tool is one line."""
        if isinstance(storage, EventStore):
            # The one place the application names an adapter, for that convenience only.
            from assignment.adapters.postgres import PostgresStorage

            storage = PostgresStorage(storage)
        super().__init__(
            storage,
            config,
            calendar,
            event_id_key=event_id_key,
            clock=clock,
            calendar_loader=calendar_loader,
        )

    # -- people's commands -----------------------------------------------------------------

    async def execute(
        self,
        case_id: UUID,
        command: c.Command,
        principal: Principal,
        *,
        correlation_id: UUID | None = None,
    ) -> Done:
        try:
            return await self._execute(case_id, command, principal, correlation_id)
        except YearNotConfiguredError as exc:
            raise CalendarMissing("year_not_configured", str(exc), year=exc.year) from None

    async def _execute(
        self,
        case_id: UUID,
        command: c.Command,
        principal: Principal,
        correlation_id: UUID | None,
    ) -> Done:
        now = self._clock()
        occurred = self._occurred(command, principal, now)
        self._check_dates(command)
        today = Deadlines.local_date(occurred)
        metadata = Metadata(
            actor=principal.user, service=SERVICE, correlation_id=correlation_id or uuid.uuid4()
        )
        for _ in range(ATTEMPTS):
            case = await self.visible(case_id, principal)
            ctx = Context(principal, today, self._config, self._deadlines)
            events = decide(case, command, ctx)
            try:
                # An act dated in the past is imported history (only the import role may date
                # one): the sweep leaves the case alone while an import batch is open.
                after = await self.write(
                    case, events, metadata, occurred, imported=occurred < now - SKEW
                )
            except WrongExpectedVersionError as exc:
                if command.expected_version is not None:
                    raise StaleVersion(
                        "stale_version",
                        f"案件刚被他人更新（当前版本 {exc.actual}），请刷新后重试 / the case "
                        f"changed meanwhile (now version {exc.actual}): reload and try again",
                        current_version=exc.actual,
                    ) from None
                continue  # decide again on what the case is now
            if after is None:  # fresh event ids are never stored already
                raise RuntimeError("a command's fresh events were found stored already")
            log.info("workflow.command", case=str(case_id), command=command.name)
            return Done(after, tuple(e.event_type for e in events))
        raise WorkflowError("busy", "案件正被频繁修改，请稍后重试 / the case is busy: try again")

    def _occurred(self, command: c.Command, principal: Principal, now: datetime) -> datetime:
        if command.occurred_at is None:
            return now
        if principal.role is not Role.IMPORTER and abs(command.occurred_at - now) > SKEW:
            raise Forbidden(
                "occurred_at_forbidden",
                "只有数据导入角色可以登记过去发生的办理行为 / only the import role may date an "
                "act in the past (occurred_at)",
            )
        if command.occurred_at > now + SKEW:
            raise Invalid("occurred_in_future", "发生时间在将来 / occurred_at is in the future")
        return command.occurred_at

    def _check_dates(self, command: c.Command) -> None:
        """Every date a client gives must lie in a year the holiday calendar covers: deadlines
        and reminders are worked out from it, and a year without a holiday file is then the
        client's mistake (422), not the operators' (503, left for the years that time itself
        reaches). Done before deciding, so nothing is written."""
        for name in type(command).model_fields:
            value = getattr(command, name)
            if isinstance(value, datetime):
                try:
                    day: date | None = Deadlines.local_date(value)
                except OverflowError:  # year 1 or 9999 does not survive the time-zone shift
                    day = None
            elif isinstance(value, date):
                day = value
            else:
                continue
            if day is None or not self._calendar.covers(day):
                shown = value.isoformat()
                raise Invalid(
                    "date_not_in_calendar",
                    f"{name} 的日期 {shown:.40} 不在已配置节假日安排的年份内，无法计算期限，请核对"
                    f"日期 / {name} {shown:.40} is outside the years whose holiday arrangement is "
                    "configured, so no deadline can be worked out from it: check the date",
                    field=name,
                )

    # -- intake's events (through NATS) ----------------------------------------------------

    async def take_up(self, delivered: Delivered, *, writer: CaseWriter | None = None) -> None:
        """The consumer's handler: open the workflow of a newly registered case (through
        ``writer``: the consumer's transaction, which also records the event as handled)."""
        # Only a case's own registration events open anything: intake also publishes reception
        # days (reception-<id> streams), which are not cases.
        if delivered.event_type not in _TAKE_UP_TYPES or not delivered.stream_id.startswith(
            "case-"
        ):
            return
        case_id = UUID(delivered.stream_id.removeprefix("case-"))
        for _ in range(ATTEMPTS):
            case = await self.load(case_id)
            events = open_workflow(case, self._config, self._deadlines)
            if case is None or not events:
                return
            ids = [
                keyed_event_id(self._event_id_key, f"take-up|{case_id}|{i}")
                for i in range(len(events))
            ]
            metadata = Metadata(
                actor="assignment",
                service=SERVICE,
                correlation_id=delivered.correlation_id,
                causation_id=delivered.event_id,
            )
            try:
                # Dated like the registration, so imported history keeps its own timeline; a
                # registration dated before it was recorded is history being imported (see
                # sweep), however late the take-up itself comes.
                await self.write(
                    case,
                    events,
                    metadata,
                    delivered.occurred_at,
                    event_ids=ids,
                    writer=writer,
                    imported=delivered.occurred_at < delivered.recorded_at - SKEW,
                )
            except WrongExpectedVersionError:
                continue
            log.info("workflow.opened", case=str(case_id))
            return
        # Still losing to other writers: fail, so that NATS redelivers the event later rather
        # than the case being acked and never opened.
        raise RuntimeError(f"case {case_id} kept changing while being taken up; will retry")
