"""The passing of time: the deadline sweep (reminders, supervision) and re-dating running
deadlines when the work calendar or the deadline rules change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from petitions.bureaus import ConfigError, YearNotConfiguredError
from petitions.eventstore import Metadata, WrongExpectedVersionError
from petitions.ids import keyed_event_id
from petitions.log import get_logger

from assignment.application.core import ATTEMPTS, SERVICE, WorkflowCore
from assignment.domain.case import CLOSED as CLOSED_STATES
from assignment.domain.case import DEADLINE_RULES_VERSION, due_notices, notice_id, recompute
from assignment.domain.deadlines import Deadlines

log = get_logger(__name__)


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


class Timekeeping(WorkflowCore):
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
        due = await self._cases.due_for_sweep(today, limit)
        cases = events = 0
        for case_id in due:
            try:
                written = await self._sweep_case(case_id, today)
            except YearNotConfiguredError as exc:
                # One case whose deadline lies in a year not configured must not stop the
                # sweep for every case after it; it stays due and is swept once the file is in.
                log.error("sweep.year_not_configured", case=str(case_id), year=exc.year)
                continue
            cases += 1
            events += written
        if cases:
            log.info("sweep.done", today=today.isoformat(), cases=cases, events=events)
        self.sweeps += 1
        self.notices_raised += events
        return SweepResult(cases, events)

    async def _sweep_case(self, case_id: UUID, today: date) -> int:
        for _ in range(ATTEMPTS):
            case = await self.load(case_id)
            if case is None:
                return 0
            notices = due_notices(case, today, self._calendar)
            if not notices:
                await self._cases.save(self.row(case))
                return 0
            ids = [notice_id(self._event_id_key, n) for n in notices]
            metadata = Metadata(actor="deadline-sweep", service=SERVICE)
            try:
                written = await self.write(case, notices, metadata, None, event_ids=ids)
            except WrongExpectedVersionError:
                continue
            # Another process may have raised the very same notices first: not counted here.
            return 0 if written is None else len(notices)
        return 0

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
        done = self._storage.recomputations
        if once and await done.done(checksum, DEADLINE_RULES_VERSION):
            return RecomputeResult(checksum, 0, skipped=True)
        today = Deadlines.local_date(self._clock())
        changed = 0
        for case_id in await self._cases.open_cases(sorted(CLOSED_STATES)):
            changed += await self._recompute_case(case_id, today)
        await done.record(
            checksum,
            "\n".join(f"{f.name} sha256:{f.sha256}" for f in calendar.files),
            changed,
            DEADLINE_RULES_VERSION,
        )
        log.info("calendar.recomputed", checksum=checksum, cases=changed)
        return RecomputeResult(checksum, changed)

    async def _recompute_case(self, case_id: UUID, today: date) -> int:
        for _ in range(ATTEMPTS):
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
                written = await self.write(case, events, metadata, None, event_ids=ids)
            except WrongExpectedVersionError:
                continue
            if written is not None:
                log.info("calendar.case_redated", case=str(case_id))
            return 0 if written is None else 1
        return 0

    async def provisional_running(self) -> int:
        """How many open cases have a deadline marked provisional."""
        return await self._cases.count_provisional(sorted(CLOSED_STATES))

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
