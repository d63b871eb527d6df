"""The workflow's use cases: load a case from its stream, decide, append with the version it was
loaded at, and keep ``assignment.cases`` in step in the same transaction.

Four callers: the HTTP API (people's commands), the consumer (intake's events: take a registered
case up), the deadline sweep (the passing of time) and the recomputation of deadlines when the
work calendar changes (the sweep, or ``python -m assignment recompute-deadlines``). All decide on
the whole case stream, so an event written by one is seen by the others' next decision.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from petitions.bureaus import BureauConfig, ConfigError, WorkCalendar, YearNotConfiguredError
from petitions.cases import resolve_case_ref
from petitions.clock import Clock, utc_now
from petitions.eventstore import (
    EventStore,
    Metadata,
    NewEvent,
    RecordedEvent,
    WrongExpectedVersionError,
)
from petitions.identity import Principal, Role
from petitions.ids import keyed_event_id
from petitions.log import get_logger
from petitions.messages import Event
from petitions.messages.intake import CaseRegistered, SubmissionReceived
from petitions.messaging import Delivered
from petitions.scope import SPACE, normalise_party, reach

from assignment.domain import commands as c
from assignment.domain.case import (
    CLOSED as CLOSED_STATES,
)
from assignment.domain.case import (
    DEADLINE_RULES_VERSION,
    Case,
    Context,
    Forbidden,
    Invalid,
    StaleVersion,
    WorkflowError,
    decide,
    due_notices,
    evolve,
    next_check,
    notice_id,
    open_workflow,
    recompute,
)
from assignment.domain.deadlines import Deadlines
from assignment.domain.my_work import urgencies, working_days_left

log = get_logger(__name__)

SERVICE = "assignment"
_ATTEMPTS = 8
_TAKE_UP_TYPES = frozenset({CaseRegistered.event_type, SubmissionReceived.event_type})
# An imported act may be dated in the past; a live one only within clock skew of now.
_SKEW = timedelta(minutes=5)


class CaseNotFound(WorkflowError):
    status = 404


class CalendarMissing(WorkflowError):
    """A day of a year whose holiday file is missing was asked about where no guess may do
    (503). Deadlines never get here: they fall back to weekends and are marked provisional."""

    status = 503


def _not_found() -> CaseNotFound:
    return CaseNotFound(
        "case_not_found", "案件不存在或不在您的范围内 / no such case within your scope"
    )


@dataclass(frozen=True)
class Done:
    case: Case
    events: tuple[str, ...]


@dataclass(frozen=True)
class ImportBatch:
    batch_id: UUID
    label: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> ImportBatch:
        return cls(**{f: row[f] for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SweepResult:
    cases: int
    events: int


@dataclass(frozen=True)
class RecomputeResult:
    checksum: str
    cases: int  # re-dated, one DeadlinesRecomputed each
    skipped: bool = False  # this calendar had been recomputed already, under these rules
    rules_version: int = DEADLINE_RULES_VERSION


CalendarLoader = Callable[[], WorkCalendar]


def stream_of(case_id: UUID) -> str:
    return f"case-{case_id}"


class Workflow:
    def __init__(
        self,
        store: EventStore,
        config: BureauConfig,
        calendar: WorkCalendar,
        *,
        event_id_key: bytes,
        clock: Clock = utc_now,
        calendar_loader: CalendarLoader | None = None,
    ) -> None:
        """``event_id_key``: the deployment's secret for the ids of the events the workflow
        raises by itself (take-up, notices), the same in every replica and restart."""
        self._store = store
        self._event_id_key = event_id_key
        self.sweeps = 0
        """Sweeps run to the end, and the reminders and supervision notices they raised
        (/metrics)."""
        self.notices_raised = 0
        self._config = config
        self._calendar = calendar
        self._deadlines = Deadlines(calendar)
        self._clock = clock
        self._calendar_loader = calendar_loader

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    @property
    def config(self) -> BureauConfig:
        return self._config

    def today(self) -> date:
        """Today in Asia/Shanghai, on this workflow's clock."""
        return Deadlines.local_date(self._clock())

    # -- reading ---------------------------------------------------------------------------

    async def load(
        self, case_id: UUID, connection: asyncpg.Connection | None = None
    ) -> Case | None:
        raws = await self._store.read_stream_raw(stream_of(case_id))
        del connection  # reads see committed data; the append's version check guards the rest
        events = await self._store.decode_many(raws, reveal=False)
        return fold(events)

    async def resolve(self, ref: str) -> UUID:
        """The id of the case ``ref`` names (its number or its id), or 404."""
        case_id = await resolve_case_ref(self._store.pool, ref)
        if case_id is None:
            raise _not_found()
        return case_id

    async def visible(self, case_id: UUID, principal: Principal) -> Case:
        """The case as ``principal`` may see it, or 404 (absent, out of scope, or accusing them:
        the accused are not even told that it exists); 403 for a token the bureau
        configuration does not know (the one scope rule, ``petitions.scope``)."""
        mine = reach(principal, self._config)
        case = await self.load(case_id)
        if case is None or not mine.sees(case.facts):
            raise _not_found()
        return case

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
        for _ in range(_ATTEMPTS):
            case = await self.visible(case_id, principal)
            ctx = Context(principal, today, self._config, self._deadlines)
            events = decide(case, command, ctx)
            try:
                # An act dated in the past is imported history (only the import role may date
                # one): the sweep leaves the case alone while an import batch is open.
                after = await self._append(
                    case, events, metadata, occurred, imported=occurred < now - _SKEW
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
            assert after is not None  # fresh event ids are never stored already
            log.info("workflow.command", case=str(case_id), command=command.name)
            return Done(after, tuple(e.event_type for e in events))
        raise WorkflowError("busy", "案件正被频繁修改，请稍后重试 / the case is busy: try again")

    def _occurred(self, command: c.Command, principal: Principal, now: datetime) -> datetime:
        if command.occurred_at is None:
            return now
        if principal.role is not Role.IMPORTER and abs(command.occurred_at - now) > _SKEW:
            raise Forbidden(
                "occurred_at_forbidden",
                "只有数据导入角色可以登记过去发生的办理行为 / only the import role may date an "
                "act in the past (occurred_at)",
            )
        if command.occurred_at > now + _SKEW:
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

    async def _append(
        self,
        case: Case,
        events: Sequence[Event],
        metadata: Metadata,
        occurred: datetime | None,
        *,
        event_ids: Sequence[UUID] | None = None,
        connection: asyncpg.Connection | None = None,
        imported: bool = False,
    ) -> Case | None:
        """Append the events decided on ``case`` and keep its row in step; the case after them,
        or None when events with these fixed ids were already stored (another process wrote the
        same notices first: nothing was written here)."""
        new = [
            NewEvent(
                e,
                bureau=case.bureau,
                occurred_at=occurred,
                **({"event_id": event_ids[i]} if event_ids else {}),
            )
            for i, e in enumerate(events)
        ]
        after: Case | None = case
        for offset, e in enumerate(events, start=1):
            after = evolve(after, e, case.version + offset)
        assert after is not None
        if connection is not None:
            written = await self._write(connection, case, new, metadata, after, imported)
        else:
            async with self._store.pool.acquire() as conn, conn.transaction():
                written = await self._write(conn, case, new, metadata, after, imported)
        return after if written else None

    async def _write(
        self,
        conn: asyncpg.Connection,
        case: Case,
        new: list[NewEvent[Any]],
        metadata: Metadata,
        after: Case,
        imported: bool = False,
    ) -> bool:
        result = await self._store.append(
            stream_of(case.case_id), new, case.version, metadata=metadata, connection=conn
        )
        if result.duplicate:
            return False  # its writer keeps the row
        await _save_row(conn, after, next_check(after, self._calendar), imported=imported)
        return True

    # -- intake's events (through NATS) ----------------------------------------------------

    async def take_up(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        """The consumer's handler: open the workflow of a newly registered case."""
        # Only a case's own registration events open anything: intake also publishes reception
        # days (reception-<id> streams), which are not cases.
        if delivered.event_type not in _TAKE_UP_TYPES or not delivered.stream_id.startswith(
            "case-"
        ):
            return
        case_id = UUID(delivered.stream_id.removeprefix("case-"))
        for _ in range(_ATTEMPTS):
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
                await self._append(
                    case,
                    events,
                    metadata,
                    delivered.occurred_at,
                    event_ids=ids,
                    connection=conn,
                    imported=delivered.occurred_at < delivered.recorded_at - _SKEW,
                )
            except WrongExpectedVersionError:
                continue
            log.info("workflow.opened", case=str(case_id))
            return
        # Still losing to other writers: fail, so that NATS redelivers the event later rather
        # than the case being acked and never opened.
        raise RuntimeError(f"case {case_id} kept changing while being taken up; will retry")

    # -- the passing of time ---------------------------------------------------------------

    async def sweep(self, today: date | None = None, *, limit: int | None = None) -> SweepResult:
        """Raise every reminder and supervision due by ``today`` (local date). Each case is
        decided and written on its own; notices have fixed event ids, so a sweep interrupted
        half-way and run again raises nothing twice."""
        today = today or Deadlines.local_date(self._clock())
        # A year file installed or changed since the last round re-dates the deadlines first,
        # so that the reminders below follow the new dates.
        self.reload_calendar()
        await self.recompute_deadlines(once=True)
        # Cases whose history is being imported wait while an import batch is open: their
        # later acts may simply not be in yet, and a notice, once raised, is final.
        ids = await self._store.pool.fetch(
            "SELECT case_id FROM assignment.cases WHERE next_check <= $1 "
            "AND NOT (imported AND EXISTS (SELECT 1 FROM assignment.import_batches "
            "WHERE closed_at IS NULL)) "
            "ORDER BY next_check, case_id LIMIT $2",
            today,
            limit,
        )
        cases = events = 0
        for row in ids:
            try:
                written = await self._sweep_case(row["case_id"], today)
            except YearNotConfiguredError as exc:
                # One case whose deadline lies in a year not configured must not stop the
                # sweep for every case after it; it stays due and is swept once the file is in.
                log.error("sweep.year_not_configured", case=str(row["case_id"]), year=exc.year)
                continue
            cases += 1
            events += written
        if cases:
            log.info("sweep.done", today=today.isoformat(), cases=cases, events=events)
        self.sweeps += 1
        self.notices_raised += events
        return SweepResult(cases, events)

    async def _sweep_case(self, case_id: UUID, today: date) -> int:
        for _ in range(_ATTEMPTS):
            case = await self.load(case_id)
            if case is None:
                return 0
            notices = due_notices(case, today, self._calendar)
            if not notices:
                async with self._store.pool.acquire() as conn:
                    await _save_row(conn, case, next_check(case, self._calendar))
                return 0
            ids = [notice_id(self._event_id_key, n) for n in notices]
            metadata = Metadata(actor="deadline-sweep", service=SERVICE)
            try:
                written = await self._append(case, notices, metadata, None, event_ids=ids)
            except WrongExpectedVersionError:
                continue
            # Another process may have raised the very same notices first: not counted here.
            return 0 if written is None else len(notices)
        return 0

    # -- importing history -----------------------------------------------------------------

    async def open_import(self, principal: Principal, label: str) -> ImportBatch:
        """Open an import batch: until it is closed, the sweep leaves imported cases alone."""
        row = await self._store.pool.fetchrow(
            "INSERT INTO assignment.import_batches (batch_id, label, opened_by, opened_at) "
            "VALUES ($1, $2, $3, $4) RETURNING *",
            uuid.uuid4(),
            label,
            principal.user,
            self._clock(),
        )
        log.info("import.opened", batch=str(row["batch_id"]))
        return ImportBatch.of(row)

    async def close_import(self, batch_id: UUID, principal: Principal) -> ImportBatch:
        """Close a batch; once none is open, the next sweep judges the imported cases on their
        finished history."""
        row = await self._store.pool.fetchrow(
            "UPDATE assignment.import_batches SET closed_at = $2, closed_by = $3 "
            "WHERE batch_id = $1 AND closed_at IS NULL RETURNING *",
            batch_id,
            self._clock(),
            principal.user,
        )
        if row is None:
            row = await self._store.pool.fetchrow(
                "SELECT * FROM assignment.import_batches WHERE batch_id = $1", batch_id
            )
            if row is None:
                raise CaseNotFound(
                    "import_batch_not_found", "导入批次不存在 / no such import batch"
                )
            return ImportBatch.of(row)  # closed already: closing twice changes nothing
        log.info("import.closed", batch=str(batch_id))
        return ImportBatch.of(row)

    async def import_batches(self, *, open_only: bool = False) -> list[ImportBatch]:
        rows = await self._store.pool.fetch(
            "SELECT * FROM assignment.import_batches "
            "WHERE NOT $1 OR closed_at IS NULL ORDER BY opened_at DESC LIMIT 100",
            open_only,
        )
        return [ImportBatch.of(r) for r in rows]

    # -- a changed work calendar -------------------------------------------------------------

    def reload_calendar(self) -> bool:
        """Read the year files again (when the workflow was given a loader); True when they
        changed. A folder that no longer loads keeps the calendar in use, loudly: a typo in a new
        file must not stop the service or re-date anything."""
        if self._calendar_loader is None:
            return False
        try:
            fresh = self._calendar_loader()
        except ConfigError as exc:
            log.error("calendar.reload_failed", problems=exc.problems)
            return False
        if fresh.checksum == self._calendar.checksum:
            return False
        log.warning(
            "calendar.changed",
            old=self._calendar.checksum,
            new=fresh.checksum,
            files=[f"{f.name} {f.sha256}" for f in fresh.files],
        )
        self._calendar = fresh
        self._deadlines = Deadlines(fresh)
        return True

    async def recompute_deadlines(self, *, once: bool = False) -> RecomputeResult:
        """Recompute every running deadline on the calendar in use and append one
        ``DeadlinesRecomputed`` per case whose dates or provisional marks change. Running it
        again appends nothing (the cases then agree with the calendar). ``once``: skip a
        calendar (by checksum) that was recomputed completely before under the same deadline
        rules: a corrected rule (``DEADLINE_RULES_VERSION``) is recomputed once like a new
        calendar."""
        calendar = self._calendar
        checksum = calendar.checksum
        pool = self._store.pool
        if once and await pool.fetchval(
            "SELECT 1 FROM assignment.calendar_recomputations "
            "WHERE checksum = $1 AND rules_version = $2",
            checksum,
            DEADLINE_RULES_VERSION,
        ):
            return RecomputeResult(checksum, 0, skipped=True)
        today = Deadlines.local_date(self._clock())
        rows = await pool.fetch(
            "SELECT case_id FROM assignment.cases WHERE state <> ALL($1::text[]) ORDER BY case_id",
            sorted(CLOSED_STATES),
        )
        changed = 0
        for row in rows:
            changed += await self._recompute_case(row["case_id"], today)
        await pool.execute(
            "INSERT INTO assignment.calendar_recomputations "
            "(checksum, files, cases, rules_version) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (checksum, rules_version) DO NOTHING",
            checksum,
            "\n".join(f"{f.name} sha256:{f.sha256}" for f in calendar.files),
            changed,
            DEADLINE_RULES_VERSION,
        )
        log.info("calendar.recomputed", checksum=checksum, cases=changed)
        return RecomputeResult(checksum, changed)

    async def _recompute_case(self, case_id: UUID, today: date) -> int:
        for _ in range(_ATTEMPTS):
            case = await self.load(case_id)
            if case is None:
                return 0
            events = recompute(case, self._deadlines, today)
            if not events:
                return 0
            # Keyed by the case version and the calendar: two processes recomputing at once
            # write it once.
            ids = [
                keyed_event_id(
                    self._event_id_key,
                    f"recompute|{case_id}|{case.version}|{self._calendar.checksum}"
                    f"|rules{DEADLINE_RULES_VERSION}",
                )
            ]
            metadata = Metadata(actor="calendar-recompute", service=SERVICE)
            try:
                written = await self._append(case, events, metadata, None, event_ids=ids)
            except WrongExpectedVersionError:
                continue
            if written is not None:
                log.info("calendar.case_redated", case=str(case_id))
            return 0 if written is None else 1
        return 0

    async def provisional_running(self) -> int:
        """How many open cases have a deadline marked provisional."""
        return int(
            await self._store.pool.fetchval(
                "SELECT count(*) FROM assignment.cases WHERE provisional_deadlines <> '{}' "
                "AND state <> ALL($1::text[])",
                sorted(CLOSED_STATES),
            )
        )

    async def calendar_notes(self) -> dict[str, Any]:
        """For ``/health`` and the start-up log: the calendar in use and, from November on
        (on this workflow's clock) or once a provisional year has begun, a warning when running
        deadlines rest on a provisional or missing year."""
        today = self.today()
        cases = await self.provisional_running()
        provisional = [
            y for y in range(today.year, today.year + 2) if self._calendar.is_provisional(y)
        ]
        notes: dict[str, Any] = {
            "checksum": self._calendar.checksum,
            "files": [f"{f.name} sha256:{f.sha256}" for f in self._calendar.files],
            "provisional_years": provisional,
            "provisional_cases": cases,
        }
        season = today.month >= 11 or today.year in provisional
        if cases and season:
            named = "、".join(str(y) for y in provisional) or "—"
            notes["warning"] = (
                f"{cases} 件在办案件的期限按暂定或未配置的节假日安排计算（{named}），"
                "请尽快安装国务院正式通知并运行 recompute-deadlines / "
                f"{cases} open cases have deadlines computed on a provisional or missing holiday "
                "year: install the State Council's notice and run recompute-deadlines"
            )
        return {"calendar": notes}

    # -- lists -----------------------------------------------------------------------------

    async def list_cases(
        self,
        principal: Principal,
        *,
        state: str | None = None,
        unit: str | None = None,
        leader_owned: bool | None = None,
        overdue_on: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        args: list[Any] = []

        def param(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        where = [reach(principal, self._config).sql(param, alias="c")]
        if state is not None:
            where.append(f"state = {param(state)}")
        if unit is not None:
            where.append(f"unit = {param(unit)}")
        if leader_owned is not None:
            where.append(f"(leader_id IS NOT NULL) = {param(leader_owned)}")
        if overdue_on is not None:
            where.append(f"due < {param(overdue_on)}")
        conditions = " AND ".join(f"({w})" for w in where)
        rows = await self._store.pool.fetch(
            "SELECT case_id, case_number, bureau, sub_bureau, category, state, unit, officer, "
            "leader_id, congress, deadline, due, provisional_deadlines, version "
            "FROM assignment.cases c "
            f"WHERE {conditions} "
            f"ORDER BY due NULLS LAST, case_number LIMIT {param(limit)} OFFSET {param(offset)}",
            *args,
        )
        return [dict(r) for r in rows]

    async def my_cases(
        self, principal: Principal, *, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """What ``principal`` must act on, overdue first, then by due date: a handler their own
        cases (officer = token subject), a unit head their unit's, a leader the cases they own
        (包案), the petition office every case in reach; only open ones, and always within the
        one scope rule, so the accused never see an accusation here either (Art. 30)."""
        today = self.today()
        args: list[Any] = []

        def param(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        where = [
            reach(principal, self._config).sql(param, alias="c"),
            f"c.state <> ALL({param(sorted(CLOSED_STATES))}::text[])",
        ]
        if principal.role is Role.SUB_BUREAU_HEAD:
            where.append(f"c.unit = {param(principal.department or principal.bureau)}")
        elif principal.role is Role.LEADER:
            where.append(f"c.leader_id = {param(principal.user)}")
        elif principal.role is not Role.PETITION_OFFICE:
            # Officers' ids are typed by people: compared as the scope rule compares them.
            space = param(SPACE)
            where.append(
                f"upper(btrim(c.officer, {space}::text)) = {param(normalise_party(principal.user))}"
            )
        conditions = " AND ".join(f"({w})" for w in where)
        rows = await self._store.pool.fetch(
            "SELECT case_id, case_number, bureau, sub_bureau, category, category_kind, state, "
            "unit, officer, leader_id, deadline, due, provisional_deadlines, sent_back, "
            "reminded, supervised, version FROM assignment.cases c "
            f"WHERE {conditions} "
            f"ORDER BY c.due < {param(today)} DESC NULLS LAST, c.due NULLS LAST, c.case_number "
            f"LIMIT {param(limit)} OFFSET {param(offset)}",
            *args,
        )
        out = []
        for r in rows:
            row = dict(r)
            due = row["due"]
            left = None if due is None else working_days_left(self._calendar, today, due)
            row["working_days_left"] = left
            row["urgency"] = urgencies(
                today=today,
                due=due,
                left=left,
                sent_back=row["sent_back"],
                reminded=row["reminded"],
                supervised=row["supervised"],
            )
            out.append(row)
        return out


def fold(events: Sequence[RecordedEvent[Any]]) -> Case | None:
    state: Case | None = None
    for event in events:
        state = evolve(state, event.data, event.version)
    return state


async def _save_row(
    conn: asyncpg.Connection, case: Case, check: date | None, *, imported: bool = False
) -> None:
    running = case.running_deadline()
    reminded, supervised = case.raised_on_running()
    await conn.execute(
        "INSERT INTO assignment.cases (case_id, case_number, bureau, sub_bureau, category, "
        "category_kind, state, unit, officer, leader_id, congress, deadline, due, next_check, "
        "accused_units, accused_officers, version, imported, provisional_deadlines, "
        "sent_back, reminded, supervised) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,"
        "$20,$21,$22) "
        "ON CONFLICT (case_id) DO UPDATE SET state = EXCLUDED.state, unit = EXCLUDED.unit, "
        "officer = EXCLUDED.officer, leader_id = EXCLUDED.leader_id, "
        "congress = EXCLUDED.congress, deadline = EXCLUDED.deadline, due = EXCLUDED.due, "
        "next_check = EXCLUDED.next_check, version = EXCLUDED.version, updated_at = now(), "
        "provisional_deadlines = EXCLUDED.provisional_deadlines, "
        "sent_back = EXCLUDED.sent_back, reminded = EXCLUDED.reminded, "
        "supervised = EXCLUDED.supervised, "
        "imported = assignment.cases.imported OR EXCLUDED.imported "
        "WHERE assignment.cases.version <= EXCLUDED.version",
        case.case_id,
        case.case_number,
        case.bureau,
        case.sub_bureau,
        case.category,
        case.category_kind,
        case.state,
        case.unit,
        case.officer,
        case.leader_id,
        case.congress,
        None if running is None else str(running[0]),
        None if running is None else running[1],
        check,
        sorted(case.accused_units),
        sorted(case.accused_officers),
        case.version,
        imported,
        sorted(str(kind) for kind in case.provisional_now()),
        case.sent_back,
        reminded,
        supervised,
    )
