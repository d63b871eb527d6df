"""Intake's storage ports (registration, reception days, the dossier) in memory, on
:class:`InMemoryEventStore` (which needs ``PersonalData(MemoryDataKeys(), BlindIndex(...))``,
for registrations carry personal data): fast tests of the registrar, of repeat matching and of
reception days, without a database.

A transaction's side-table rows are kept only when its block ends without an exception (so a
refused or failed registration gives its case number back, as on PostgreSQL); appends commit at
once (the in-memory store has no transactions). Not for production.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from petitions.cases import parse_case_ref
from petitions.eventstore import AppendResult, Metadata, NewEvent
from petitions.eventstore.memory import InMemoryEventStore
from petitions.messages.intake import PersonalDataRead
from petitions.personal import SubjectKeys

from intake.application.ports import (
    SESSION_COLUMNS,
    IdempotencyKeyTaken,
    ReadRow,
    RecordedRead,
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


class _Appending:
    """A writer's appends and stream versions, straight from the in-memory store (appends
    commit at once there)."""

    _events: InMemoryEventStore

    async def stream_version(self, stream_id: str) -> int:
        return await self._events.stream_version(stream_id)

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        return await self._events.append(stream_id, events, expected_version, metadata=metadata)


class MemoryRegistrationWriter(_Appending):
    def __init__(self, events: InMemoryEventStore, tables: MemoryTables) -> None:
        self._events = events
        self.case_numbers = MemoryCaseNumbers(tables)
        self.query_codes = MemoryQueryCodes(tables)
        self.idempotency_keys = MemoryIdempotencyKeys(tables)


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


class MemorySessionWriter(_Appending):
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


# -- the dossier ---------------------------------------------------------------------------------


class MemoryDossierWriter(_Appending):
    def __init__(
        self, events: InMemoryEventStore, reads: list[ReadRow], notices: dict[tuple[str, int], int]
    ) -> None:
        self._events = events
        self._reads = reads
        self._notices = notices

    async def add_read(self, row: ReadRow) -> None:
        self._reads.append(row)

    async def next_notice_number(self, bureau: str, year: int) -> int:
        last = self._notices.get((bureau, year), 0) + 1
        self._notices[bureau, year] = last
        return last


class MemoryDossierStorage:
    """Reads (in the order recorded) and notice counters in lists and dicts; a transaction's
    rows are kept only when its block ends without an exception. ``tables`` are registration's
    (:class:`MemoryRegistrationStorage`), for the query codes."""

    def __init__(self, events: InMemoryEventStore, tables: MemoryTables | None = None) -> None:
        self._events = events
        self.tables = tables or MemoryTables()
        self.reads: list[ReadRow] = []
        self.notice_numbers: dict[tuple[str, int], int] = {}
        self._lock = asyncio.Lock()

    @property
    def events(self) -> InMemoryEventStore:
        return self._events

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryDossierWriter]:
        async with self._lock:
            reads, notices = list(self.reads), dict(self.notice_numbers)
            yield MemoryDossierWriter(self._events, reads, notices)
            self.reads, self.notice_numbers = reads, notices

    async def case_id(self, ref: str) -> UUID | None:
        parsed = parse_case_ref(ref)
        if parsed is None or isinstance(parsed, UUID):
            return parsed
        # As on PostgreSQL: the first case registered under the number.
        for raw in await self._events.read_all_raw(limit=1_000_000):
            if (
                raw.event_type == "intake.CaseRegistered"
                and json.loads(raw.data).get("case_number") == parsed
            ):
                return UUID(raw.stream_id.removeprefix("case-"))
        return None

    async def case_of_query_code(self, token: bytes) -> UUID | None:
        return self.tables.query_codes.get(token)

    async def reads_by(
        self,
        reader: str,
        bureaus: Sequence[str],
        *,
        not_accused_unit: str,
        not_accused_officer: str,
        limit: int,
        offset: int,
    ) -> list[RecordedRead]:
        rows = [
            r
            for r in reversed(self.reads)  # newest first, as by position on PostgreSQL
            if r.reader == reader
            and set(r.case_bureaus) & set(bureaus)
            and not_accused_unit not in r.accused_units
            and not_accused_officer not in r.accused_officers
        ][offset : offset + limit]
        found: list[RecordedRead] = []
        for row in rows:
            event = (
                await self._events.read_stream(
                    row.stream_id, row.version, row.version, reveal=False
                )
            )[0]
            assert isinstance(event.data, PersonalDataRead)
            found.append(
                RecordedRead(event.data, event.version, event.recorded_at, event.correlation_id)
            )
        return found


# -- attachments ---------------------------------------------------------------------------------


class MemoryAttachmentWriter(_Appending):
    def __init__(
        self, events: InMemoryEventStore, keys: SubjectKeys, blobs: dict[tuple[bytes, UUID], bytes]
    ) -> None:
        self._events = events
        self._keys = keys
        self._blobs = blobs

    async def key_for_writing(self, subject: UUID) -> bytes:
        return (await self._keys.for_writing({subject}))[subject]

    async def put_blob(self, sm3: bytes, subject: UUID, sealed: bytes, size: int) -> None:
        del size
        self._blobs.setdefault((sm3, subject), sealed)


class MemoryAttachmentStorage:
    """Sealed bytes in a dict; a transaction's blobs are kept only when its block ends without
    an exception."""

    def __init__(self, events: InMemoryEventStore, keys: SubjectKeys) -> None:
        self._events = events
        self._keys = keys
        self.blobs: dict[tuple[bytes, UUID], bytes] = {}
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryAttachmentWriter]:
        async with self._lock:
            draft = dict(self.blobs)
            yield MemoryAttachmentWriter(self._events, self._keys, draft)
            self.blobs = draft

    async def blob(self, sm3: bytes, subject: UUID) -> bytes | None:
        return self.blobs.get((sm3, subject))
