"""What the workflow needs of storage, as ports: the case streams (the event store port), the
case rows beside them (``assignment.cases``: lists, my work, the sweep's agenda), import batches
and the record of calendar recomputations.

The one rule the ports carry: a case's events and its row are written together or not at all
(:meth:`CaseRepository.transaction`). :mod:`assignment.adapters.postgres` implements them on
PostgreSQL (the service), :mod:`assignment.adapters.memory` on
:class:`~petitions.eventstore.memory.InMemoryEventStore` (fast tests of the workflow).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from petitions.eventstore import AppendResult, Metadata, NewEvent
from petitions.eventstore.port import EventStorePort
from petitions.scope import Reach

from assignment.domain.case import Case


def stream_of(case_id: UUID) -> str:
    return f"case-{case_id}"


@dataclass(frozen=True)
class CaseRow:
    """A case's workflow at a glance, as the lists and the sweep read it (the events remain the
    truth: every row can be folded again from its stream)."""

    case_id: UUID
    case_number: str
    bureau: str
    sub_bureau: str
    category: str
    category_kind: str
    state: str
    unit: str | None
    officer: str | None
    leader_id: str | None
    congress: bool
    deadline: str | None
    """The kind of the running deadline (``acceptance``, ``handling`` ...)."""
    due: date | None
    next_check: date | None
    """The day the sweep should look at the case again."""
    accused_units: tuple[str, ...]
    accused_officers: tuple[str, ...]
    version: int
    imported: bool
    provisional_deadlines: tuple[str, ...]
    sent_back: bool
    reminded: bool
    supervised: bool

    @classmethod
    def of(cls, case: Case, check: date | None, *, imported: bool = False) -> CaseRow:
        running = case.running_deadline()
        reminded, supervised = case.raised_on_running()
        return cls(
            case_id=case.case_id,
            case_number=case.case_number,
            bureau=case.bureau,
            sub_bureau=case.sub_bureau,
            category=case.category,
            category_kind=case.category_kind,
            state=case.state,
            unit=case.unit,
            officer=case.officer,
            leader_id=case.leader_id,
            congress=case.congress,
            deadline=None if running is None else str(running[0]),
            due=None if running is None else running[1],
            next_check=check,
            accused_units=tuple(sorted(case.accused_units)),
            accused_officers=tuple(sorted(case.accused_officers)),
            version=case.version,
            imported=imported,
            provisional_deadlines=tuple(sorted(str(kind) for kind in case.provisional_now())),
            sent_back=case.sent_back,
            reminded=reminded,
            supervised=supervised,
        )


LIST_COLUMNS = (
    "case_id", "case_number", "bureau", "sub_bureau", "category", "state", "unit", "officer",
    "leader_id", "congress", "deadline", "due", "provisional_deadlines", "version",
)  # fmt: skip
"""The columns of :meth:`CaseRepository.find` rows, in the API's order."""

MY_WORK_COLUMNS = (
    "case_id", "case_number", "bureau", "sub_bureau", "category", "category_kind", "state",
    "unit", "officer", "leader_id", "deadline", "due", "provisional_deadlines", "sent_back",
    "reminded", "supervised", "version",
)  # fmt: skip
"""The columns of :meth:`CaseRepository.my_work` rows (before the urgencies are added)."""


@dataclass(frozen=True)
class CaseQuery:
    """A list of cases within one viewer's reach, by due date then number."""

    reach: Reach
    state: str | None = None
    unit: str | None = None
    leader_owned: bool | None = None
    overdue_on: date | None = None
    """Only cases whose running deadline is before this day."""
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class MyWorkQuery:
    """The open cases one person must act on: overdue first (on ``today``), then by due date.
    At most one of ``unit``, ``leader`` and ``officer`` narrows it (none: all in reach)."""

    reach: Reach
    today: date
    closed_states: tuple[str, ...]
    unit: str | None = None
    leader: str | None = None
    officer: str | None = None
    """Normalised (``petitions.scope.normalise_party``), compared with the row's normalised."""
    limit: int = 200
    offset: int = 0


@dataclass(frozen=True)
class ImportBatch:
    batch_id: UUID
    label: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None


class CaseWriter(Protocol):
    """One transaction: the events appended and the row saved through it commit together."""

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        """As :meth:`EventStorePort.append`, inside this transaction."""
        ...

    async def save(self, row: CaseRow) -> None:
        """Insert or update the case's row; a row already at a newer version is left as it is,
        and ``imported`` once set stays set."""
        ...


class CaseRepository(Protocol):
    """The case streams and the case rows."""

    @property
    def events(self) -> EventStorePort:
        """The event store the case streams live in (reads; appends go through a writer)."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[CaseWriter]:
        """A writer whose appends and saves commit together when the block ends without an
        exception, and not at all otherwise."""
        ...

    async def save(self, row: CaseRow) -> None:
        """Save a row on its own (the sweep's next look at a case with nothing due)."""
        ...

    async def resolve(self, case_number: str) -> UUID | None:
        """The id of the case registered under ``case_number``, or None."""
        ...

    async def due_for_sweep(self, today: date, limit: int | None) -> list[UUID]:
        """Cases whose next look is due by ``today``, by that day then id; imported cases wait
        while any import batch is open."""
        ...

    async def open_cases(self, closed_states: Sequence[str]) -> list[UUID]:
        """Every case not in one of ``closed_states``, by id."""
        ...

    async def count_provisional(self, closed_states: Sequence[str]) -> int:
        """How many open cases have a deadline marked provisional."""
        ...

    async def find(self, query: CaseQuery) -> list[dict[str, Any]]:
        """Rows with :data:`LIST_COLUMNS`."""
        ...

    async def my_work(self, query: MyWorkQuery) -> list[dict[str, Any]]:
        """Rows with :data:`MY_WORK_COLUMNS`."""
        ...


class ImportBatches(Protocol):
    async def open(self, batch_id: UUID, label: str, by: str, at: datetime) -> ImportBatch: ...

    async def close(self, batch_id: UUID, by: str, at: datetime) -> ImportBatch | None:
        """Close an open batch; a closed one is returned as it is; None if there is none."""
        ...

    async def find(self, *, open_only: bool = False) -> list[ImportBatch]:
        """The newest 100 batches (only open ones with ``open_only``)."""
        ...


class Recomputations(Protocol):
    """Which work calendars (by checksum) were recomputed completely, under which rules."""

    async def done(self, checksum: str, rules_version: int) -> bool: ...

    async def record(self, checksum: str, files: str, cases: int, rules_version: int) -> None:
        """Record a finished recomputation (a second record of the same one changes nothing)."""
        ...


class Storage(Protocol):
    """Everything the workflow keeps, behind one object the composition root builds."""

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def batches(self) -> ImportBatches: ...

    @property
    def recomputations(self) -> Recomputations: ...
