"""Intake's storage ports (registration, reception days) in memory, on
:class:`InMemoryEventStore` (which needs ``PersonalData(MemoryDataKeys(), BlindIndex(...))``,
for registrations carry personal data): fast tests of the registrar, of repeat matching and of
reception days, without a database.

A transaction's side-table rows are kept only when its block ends without an exception (so a
refused or failed registration gives its case number back, as on PostgreSQL); appends commit at
once (the in-memory store has no transactions). Not for production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from petitions.eventstore import AppendResult, Metadata, NewEvent
from petitions.eventstore.memory import InMemoryEventStore

from intake.application.ports import (
    SESSION_COLUMNS,
    IdempotencyKeyTaken,
    Remembered,
    SessionChange,
    SessionRow,
)


class MemoryTables:
    """The side tables' rows."""

    def __init__(self) -> None:
        self.case_numbers: dict[tuple[str, int], int] = {}
        self.query_codes: dict[bytes, UUID] = {}
        self.idempotency_keys: dict[tuple[str, str], Remembered] = {}
        self.reception_sessions: dict[UUID, str] = {}
        """session id -> bureau: fill it in to register visits at a session."""


class MemoryIdempotencyKeys:
    def __init__(self, tables: MemoryTables) -> None:
        self._tables = tables

    async def find(self, principal: str, key: str) -> Remembered | None:
        return self._tables.idempotency_keys.get((principal, key))

    async def remember(
        self, principal: str, key: str, request_hash: bytes, response: dict[str, Any]
    ) -> None:
        if (principal, key) in self._tables.idempotency_keys:
            raise IdempotencyKeyTaken(key)
        self._tables.idempotency_keys[principal, key] = Remembered(request_hash, response)


class MemoryCaseNumbers:
    def __init__(self, tables: MemoryTables) -> None:
        self._tables = tables

    async def next(self, bureau: str, year: int) -> int:
        last = self._tables.case_numbers.get((bureau, year), 0) + 1
        self._tables.case_numbers[bureau, year] = last
        return last


class MemoryQueryCodes:
    def __init__(self, tables: MemoryTables) -> None:
        self._tables = tables

    async def add(self, token: bytes, case_id: UUID) -> None:
        if token in self._tables.query_codes:
            raise ValueError("query code token stored already")
        self._tables.query_codes[token] = case_id


class MemoryRegistrationWriter:
    def __init__(self, events: InMemoryEventStore, tables: MemoryTables) -> None:
        self._events = events
        self.case_numbers = MemoryCaseNumbers(tables)
        self.query_codes = MemoryQueryCodes(tables)
        self.idempotency_keys = MemoryIdempotencyKeys(tables)

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        return await self._events.append(stream_id, events, expected_version, metadata=metadata)


class MemoryRegistrationStorage:
    def __init__(self, events: InMemoryEventStore) -> None:
        self._events = events
        self.tables = MemoryTables()
        self.idempotency_keys = MemoryIdempotencyKeys(self.tables)
        # One transaction at a time, as the case-number row lock orders them on PostgreSQL.
        self._lock = asyncio.Lock()

    @property
    def events(self) -> InMemoryEventStore:
        return self._events

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryRegistrationWriter]:
        async with self._lock:
            # The writer works on a copy of the tables; they replace the real ones on commit.
            draft = MemoryTables()
            draft.case_numbers = dict(self.tables.case_numbers)
            draft.query_codes = dict(self.tables.query_codes)
            draft.idempotency_keys = dict(self.tables.idempotency_keys)
            yield MemoryRegistrationWriter(self._events, draft)
            self.tables.case_numbers = draft.case_numbers
            self.tables.query_codes = draft.query_codes
            self.tables.idempotency_keys = draft.idempotency_keys

    async def streams_with(self, kind: str, value: str) -> list[str]:
        return [stream for stream, _ in await self._events.find_by_index(kind, value)]

    async def session_bureau(self, session_id: UUID) -> str | None:
        return self.tables.reception_sessions.get(session_id)


# -- leader reception days ---------------------------------------------------------------------


class MemorySessionWriter:
    def __init__(self, events: InMemoryEventStore, rows: dict[UUID, SessionRow]) -> None:
        self._events = events
        self._rows = rows

    async def add(self, session: SessionRow) -> bool:
        if session.session_id in self._rows:
            return False
        self._rows[session.session_id] = session
        return True

    async def lock(self, session_id: UUID) -> SessionRow | None:
        return self._rows.get(session_id)

    async def change(self, session_id: UUID, change: SessionChange) -> None:
        row = self._rows[session_id]
        self._rows[session_id] = replace(
            row,
            state=change.state or row.state,
            held_by=change.held_by or row.held_by,
            missed_reason_code=change.missed_reason_code or row.missed_reason_code,
            version=row.version + 1,
        )

    async def count_instruction(self, session_id: UUID) -> None:
        row = self._rows[session_id]
        self._rows[session_id] = replace(row, instructions=row.instructions + 1)

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        return await self._events.append(stream_id, events, expected_version, metadata=metadata)


class MemoryReceptionStorage:
    """Sessions in a dict; a transaction's rows are kept only when its block ends without an
    exception (appends commit at once, as in :class:`MemoryRegistrationStorage`)."""

    def __init__(self, events: InMemoryEventStore) -> None:
        self._events = events
        self.rows: dict[UUID, SessionRow] = {}
        self._lock = asyncio.Lock()

    @property
    def events(self) -> InMemoryEventStore:
        return self._events

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemorySessionWriter]:
        async with self._lock:
            draft = dict(self.rows)
            yield MemorySessionWriter(self._events, draft)
            self.rows = draft

    async def session(self, session_id: UUID) -> SessionRow | None:
        return self.rows.get(session_id)

    async def sessions(self, bureau: str, first: date, last: date) -> list[dict[str, Any]]:
        found = sorted(
            (r for r in self.rows.values() if r.bureau == bureau and first <= r.day <= last),
            key=lambda r: (r.day, r.leader_id),
        )
        return [{c: getattr(r, c) for c in SESSION_COLUMNS} for r in found]
