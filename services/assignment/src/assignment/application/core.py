"""What every use case of the workflow shares: the storage ports, the configuration and clock,
loading a case from its stream and writing what was decided on it (events and row together).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from petitions.bureaus import BureauConfig, WorkCalendar
from petitions.cases import parse_case_ref
from petitions.clock import Clock, utc_now
from petitions.eventstore import Metadata, NewEvent, RecordedEvent
from petitions.identity import Principal
from petitions.messages import Event
from petitions.scope import reach

from assignment.application.ports import CaseRow, CaseWriter, Storage, stream_of
from assignment.domain.case import Case, WorkflowError, evolve, next_check
from assignment.domain.deadlines import Deadlines

SERVICE = "assignment"
ATTEMPTS = 8
"""How often a use case decides again when another writer moved the case on meanwhile."""
SKEW = timedelta(minutes=5)
"""An imported act may be dated in the past; a live one only within clock skew of now."""

CalendarLoader = Callable[[], WorkCalendar]


class CaseNotFound(WorkflowError):
    status = 404


class CalendarMissing(WorkflowError):
    """A day of a year whose holiday file is missing was asked about where no guess may do
    (503). Deadlines never get here: they fall back to weekends and are marked provisional."""

    status = 503


def not_found() -> CaseNotFound:
    return CaseNotFound(
        "case_not_found", "案件不存在或不在您的范围内 / no such case within your scope"
    )


@dataclass(frozen=True)
class Done:
    case: Case
    events: tuple[str, ...]


def fold(events: Sequence[RecordedEvent[Any]]) -> Case | None:
    state: Case | None = None
    for event in events:
        state = evolve(state, event.data, event.version)
    return state


class WorkflowCore:
    """The parts the use cases (:mod:`.workflow`, :mod:`.timekeeping`, :mod:`.lists`) share."""

    def __init__(
        self,
        storage: Storage,
        config: BureauConfig,
        calendar: WorkCalendar,
        *,
        event_id_key: bytes,
        clock: Clock = utc_now,
        calendar_loader: CalendarLoader | None = None,
    ) -> None:
        """``event_id_key``: the deployment's secret for the ids of the events the workflow
        raises by itself (take-up, notices), the same in every replica and restart."""
        self._storage = storage
        self._cases = storage.cases
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

    @property
    def storage(self) -> Storage:
        return self._storage

    def today(self) -> date:
        """Today in Asia/Shanghai, on this workflow's clock."""
        return Deadlines.local_date(self._clock())

    # -- reading ---------------------------------------------------------------------------

    async def load(self, case_id: UUID) -> Case | None:
        # Reads see committed data; the append's version check guards the rest.
        events = self._cases.events
        raws = await events.read_stream_raw(stream_of(case_id))
        return fold(await events.decode_many(raws, reveal=False))

    async def resolve(self, ref: str) -> UUID:
        """The id of the case ``ref`` names (its number or its id), or 404."""
        parsed = parse_case_ref(ref)
        case_id = parsed if not isinstance(parsed, str) else await self._cases.resolve(parsed)
        if case_id is None:
            raise not_found()
        return case_id

    async def visible(self, case_id: UUID, principal: Principal) -> Case:
        """The case as ``principal`` may see it, or 404 (absent, out of scope, or accusing them:
        the accused are not even told that it exists); 403 for a token the bureau
        configuration does not know (the one scope rule, ``petitions.scope``)."""
        mine = reach(principal, self._config)
        case = await self.load(case_id)
        if case is None or not mine.sees(case.facts):
            raise not_found()
        return case

    # -- writing ---------------------------------------------------------------------------

    def row(self, case: Case, *, imported: bool = False) -> CaseRow:
        return CaseRow.of(case, next_check(case, self._calendar), imported=imported)

    async def write(
        self,
        case: Case,
        events: Sequence[Event],
        metadata: Metadata,
        occurred: datetime | None,
        *,
        event_ids: Sequence[UUID] | None = None,
        writer: CaseWriter | None = None,
        imported: bool = False,
    ) -> Case | None:
        """Append the events decided on ``case`` and keep its row in step, in one transaction
        (``writer``'s when given); the case after them, or None when events with these fixed ids
        were already stored (another process wrote the same notices first: nothing was written
        here)."""
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
        if after is None:
            raise ValueError("a decision on a case left no case")
        if writer is not None:
            written = await self._write(writer, case, new, metadata, after, imported)
        else:
            async with self._cases.transaction() as fresh:
                written = await self._write(fresh, case, new, metadata, after, imported)
        return after if written else None

    async def _write(
        self,
        writer: CaseWriter,
        case: Case,
        new: list[NewEvent[Any]],
        metadata: Metadata,
        after: Case,
        imported: bool,
    ) -> bool:
        result = await writer.append(stream_of(case.case_id), new, case.version, metadata=metadata)
        if result.duplicate:
            return False  # its writer keeps the row
        await writer.save(self.row(after, imported=imported))
        return True
