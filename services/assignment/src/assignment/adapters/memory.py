"""The workflow's storage ports in memory, on :class:`InMemoryEventStore`: fast tests of the
workflow without a database. The case rows follow the PostgreSQL adapter's rules (a row never
goes back to an older version; ``imported`` once set stays set) and the lists its orders.

A transaction here holds its row saves until the block ends and drops them on an exception;
appends commit at once (the in-memory store has no transactions), so a test must not rely on
an append being undone. Not for production: nothing survives the process.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from petitions.eventstore import AppendResult, Metadata, NewEvent
from petitions.eventstore.memory import InMemoryEventStore
from petitions.scope import CaseFacts, normalise_party

from assignment.application.ports import (
    LIST_COLUMNS,
    MY_WORK_COLUMNS,
    CaseQuery,
    CaseRow,
    ImportBatch,
    MyWorkQuery,
)


class MemoryCaseWriter:
    def __init__(self, cases: MemoryCases) -> None:
        self._cases = cases
        self.rows: list[CaseRow] = []

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        return await self._cases.events.append(
            stream_id, events, expected_version, metadata=metadata
        )

    async def save(self, row: CaseRow) -> None:
        self.rows.append(row)


def _columns(row: CaseRow, columns: Sequence[str]) -> dict[str, Any]:
    fields = asdict(row)
    # As PostgreSQL hands back text[] columns: lists.
    return {c: list(v) if isinstance(v, tuple) else v for c, v in fields.items() if c in columns}


def _due_key(row: CaseRow) -> tuple[bool, date, str]:
    return (row.due is None, row.due or date.min, row.case_number)


class MemoryCases:
    def __init__(self, events: InMemoryEventStore, batches: MemoryImportBatches) -> None:
        self._events = events
        self._batches = batches
        self.rows: dict[UUID, CaseRow] = {}

    @property
    def events(self) -> InMemoryEventStore:
        return self._events

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryCaseWriter]:
        writer = MemoryCaseWriter(self)
        yield writer
        for row in writer.rows:
            self._keep(row)

    async def save(self, row: CaseRow) -> None:
        self._keep(row)

    def _keep(self, row: CaseRow) -> None:
        old = self.rows.get(row.case_id)
        if old is None:
            self.rows[row.case_id] = row
        elif old.version <= row.version:
            self.rows[row.case_id] = replace(row, imported=old.imported or row.imported)

    async def resolve(self, case_number: str) -> UUID | None:
        found = [r.case_id for r in self.rows.values() if r.case_number == case_number]
        if found:
            return found[0]
        # Before the case is taken up it has no row: its registration names it.
        for raw in await self._events.read_all_raw(limit=2**31):
            if (
                raw.event_type == "intake.CaseRegistered"
                and json.loads(raw.data).get("case_number") == case_number
            ):
                return UUID(raw.stream_id.removeprefix("case-"))
        return None

    async def due_for_sweep(self, today: date, limit: int | None) -> list[UUID]:
        waiting = any(b.closed_at is None for b in self._batches.batches.values())
        due = sorted(
            (r.next_check, r.case_id)
            for r in self.rows.values()
            if r.next_check is not None and r.next_check <= today and not (r.imported and waiting)
        )
        return [case_id for _, case_id in due[:limit]]

    async def open_cases(self, closed_states: Sequence[str]) -> list[UUID]:
        return sorted(r.case_id for r in self.rows.values() if r.state not in closed_states)

    async def count_provisional(self, closed_states: Sequence[str]) -> int:
        return sum(
            1
            for r in self.rows.values()
            if r.provisional_deadlines and r.state not in closed_states
        )

    async def find(self, query: CaseQuery) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.rows.values()
            if query.reach.sees(_facts(r))
            and (query.state is None or r.state == query.state)
            and (query.unit is None or r.unit == query.unit)
            and (query.leader_owned is None or (r.leader_id is not None) == query.leader_owned)
            and (query.overdue_on is None or (r.due is not None and r.due < query.overdue_on))
        ]
        rows.sort(key=_due_key)
        page = rows[query.offset : query.offset + query.limit]
        return [_columns(r, LIST_COLUMNS) for r in page]

    async def my_work(self, query: MyWorkQuery) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.rows.values()
            if query.reach.sees(_facts(r))
            and r.state not in query.closed_states
            and (query.unit is None or r.unit == query.unit)
            and (query.leader is None or r.leader_id == query.leader)
            and (
                query.officer is None
                or (r.officer is not None and normalise_party(r.officer) == query.officer)
            )
        ]

        def order(r: CaseRow) -> tuple[int, bool, date, str]:
            # Overdue first, then the others, then those without a deadline; each by due date.
            rank = 2 if r.due is None else (0 if r.due < query.today else 1)
            return (rank, r.due is None, r.due or date.min, r.case_number)

        rows.sort(key=order)
        page = rows[query.offset : query.offset + query.limit]
        return [_columns(r, MY_WORK_COLUMNS) for r in page]


def _facts(row: CaseRow) -> CaseFacts:
    return CaseFacts(
        bureau=row.bureau,
        sub_bureau=row.sub_bureau,
        unit=row.unit,
        accused_units=row.accused_units,
        accused_officers=row.accused_officers,
    )


class MemoryImportBatches:
    def __init__(self) -> None:
        self.batches: dict[UUID, ImportBatch] = {}

    async def open(self, batch_id: UUID, label: str, by: str, at: datetime) -> ImportBatch:
        batch = ImportBatch(batch_id, label, by, at, None, None)
        self.batches[batch_id] = batch
        return batch

    async def close(self, batch_id: UUID, by: str, at: datetime) -> ImportBatch | None:
        batch = self.batches.get(batch_id)
        if batch is not None and batch.closed_at is None:
            batch = self.batches[batch_id] = replace(batch, closed_at=at, closed_by=by)
        return batch

    async def find(self, *, open_only: bool = False) -> list[ImportBatch]:
        found = [b for b in self.batches.values() if not open_only or b.closed_at is None]
        return sorted(found, key=lambda b: b.opened_at, reverse=True)[:100]


class MemoryRecomputations:
    def __init__(self) -> None:
        self.done_: dict[tuple[str, int], tuple[str, int]] = {}

    async def done(self, checksum: str, rules_version: int) -> bool:
        return (checksum, rules_version) in self.done_

    async def record(self, checksum: str, files: str, cases: int, rules_version: int) -> None:
        self.done_.setdefault((checksum, rules_version), (files, cases))


class MemoryStorage:
    """The workflow's ports on one in-memory event store."""

    def __init__(self, events: InMemoryEventStore) -> None:
        self._batches = MemoryImportBatches()
        self._cases = MemoryCases(events, self._batches)
        self._recomputations = MemoryRecomputations()

    @property
    def cases(self) -> MemoryCases:
        return self._cases

    @property
    def batches(self) -> MemoryImportBatches:
        return self._batches

    @property
    def recomputations(self) -> MemoryRecomputations:
        return self._recomputations
