"""Registration's storage ports on PostgreSQL: the event store (with its blind index) and, in
the same transactions, ``intake.case_numbers``, ``intake.query_codes`` and
``intake.idempotency_keys``; ``intake.reception_sessions`` read; the dossier's
``intake.personal_data_reads`` and ``intake.notice_numbers``; ``intake.attachment_blobs``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from petitions.cases import resolve_case_ref
from petitions.eventstore import AppendResult, EventStore, Metadata, NewEvent
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


class PostgresCaseNumbers:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def next(self, bureau: str, year: int) -> int:
        # The row stays locked until the transaction ends: numbers are handed out in commit
        # order, and a rollback gives the number back (no gaps).
        return int(
            await self._conn.fetchval(
                "INSERT INTO intake.case_numbers (bureau, year, last) VALUES ($1, $2, 1) "
                "ON CONFLICT (bureau, year) DO UPDATE SET last = intake.case_numbers.last + 1 "
                "RETURNING last",
                bureau,
                year,
            )
        )


class PostgresQueryCodes:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, token: bytes, case_id: UUID) -> None:
        await self._conn.execute(
            "INSERT INTO intake.query_codes (token, case_id) VALUES ($1, $2)", token, case_id
        )


class PostgresIdempotencyKeys:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def find(self, principal: str, key: str) -> Remembered | None:
        row = await self._db.fetchrow(
            "SELECT request_hash, response FROM intake.idempotency_keys "
            "WHERE principal = $1 AND key = $2",
            principal,
            key,
        )
        if row is None:
            return None
        return Remembered(bytes(row["request_hash"]), json.loads(row["response"]))

    async def remember(
        self, principal: str, key: str, request_hash: bytes, response: dict[str, Any]
    ) -> None:
        try:
            await self._db.execute(
                "INSERT INTO intake.idempotency_keys (principal, key, request_hash, response) "
                "VALUES ($1, $2, $3, $4::jsonb)",
                principal,
                key,
                request_hash,
                json.dumps(response, ensure_ascii=False),
            )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "idempotency_keys_pkey":
                raise
            raise IdempotencyKeyTaken(key) from None


class _InTransaction:
    """A writer's appends go to the store on the transaction's connection, so they commit (or
    roll back) with the writer's own rows."""

    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self._store = store
        self._conn = conn

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        return await self._store.append(
            stream_id, events, expected_version, metadata=metadata, connection=self._conn
        )


class PostgresRegistrationWriter(_InTransaction):
    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        super().__init__(store, conn)
        self.case_numbers = PostgresCaseNumbers(conn)
        self.query_codes = PostgresQueryCodes(conn)
        self.idempotency_keys = PostgresIdempotencyKeys(conn)


class PostgresRegistrationStorage:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.idempotency_keys = PostgresIdempotencyKeys(store.pool)

    @property
    def events(self) -> EventStore:
        return self._store

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresRegistrationWriter]:
        async with self._store.pool.acquire() as conn, conn.transaction():
            yield PostgresRegistrationWriter(self._store, conn)

    async def streams_with(self, kind: str, value: str) -> list[str]:
        return [stream for stream, _ in await self._store.find_by_index(kind, value)]

    async def session_bureau(self, session_id: UUID) -> str | None:
        bureau = await self._store.pool.fetchval(
            "SELECT bureau FROM intake.reception_sessions WHERE session_id = $1", session_id
        )
        return None if bureau is None else str(bureau)


# -- leader reception days ---------------------------------------------------------------------


def _session(row: asyncpg.Record) -> SessionRow:
    return SessionRow(**{f: row[f] for f in SessionRow.__dataclass_fields__})


class PostgresSessionWriter(_InTransaction):
    async def add(self, session: SessionRow) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO intake.reception_sessions (session_id, bureau, day, leader_id, "
            "leader_name, chief_day, place, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (session_id) DO NOTHING RETURNING true",
            session.session_id,
            session.bureau,
            session.day,
            session.leader_id,
            session.leader_name,
            session.chief_day,
            session.place,
            session.version,
        )
        return bool(inserted)

    async def lock(self, session_id: UUID) -> SessionRow | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM intake.reception_sessions WHERE session_id = $1 FOR UPDATE", session_id
        )
        return None if row is None else _session(row)

    async def change(self, session_id: UUID, change: SessionChange) -> None:
        await self._conn.execute(
            "UPDATE intake.reception_sessions SET state = coalesce($2, state), "
            "held_by = coalesce($3, held_by), "
            "missed_reason_code = coalesce($4, missed_reason_code), version = version + 1 "
            "WHERE session_id = $1",
            session_id,
            change.state,
            change.held_by,
            change.missed_reason_code,
        )

    async def count_instruction(self, session_id: UUID) -> None:
        await self._conn.execute(
            "UPDATE intake.reception_sessions SET instructions = instructions + 1 "
            "WHERE session_id = $1",
            session_id,
        )


class PostgresReceptionStorage:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @property
    def events(self) -> EventStore:
        return self._store

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresSessionWriter]:
        async with self._store.pool.acquire() as conn, conn.transaction():
            yield PostgresSessionWriter(self._store, conn)

    async def session(self, session_id: UUID) -> SessionRow | None:
        row = await self._store.pool.fetchrow(
            "SELECT * FROM intake.reception_sessions WHERE session_id = $1", session_id
        )
        return None if row is None else _session(row)

    async def sessions(self, bureau: str, first: date, last: date) -> list[dict[str, Any]]:
        rows = await self._store.pool.fetch(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM intake.reception_sessions "
            "WHERE bureau = $1 AND day BETWEEN $2 AND $3 ORDER BY day, leader_id",
            bureau,
            first,
            last,
        )
        return [dict(r) for r in rows]


# -- the dossier ---------------------------------------------------------------------------------


class PostgresDossierWriter(_InTransaction):
    async def stream_version(self, stream_id: str) -> int:
        version = await self._conn.fetchval(
            "SELECT version FROM eventstore.streams WHERE stream_id = $1", stream_id
        )
        return int(version or 0)

    async def add_read(self, row: ReadRow) -> None:
        await self._conn.execute(
            "INSERT INTO intake.personal_data_reads (stream_id, version, case_id, reader, "
            "case_bureaus, accused_units, accused_officers, read_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
            row.stream_id,
            row.version,
            row.case_id,
            row.reader,
            list(row.case_bureaus),
            list(row.accused_units),
            list(row.accused_officers),
        )

    async def next_notice_number(self, bureau: str, year: int) -> int:
        # The counter row stays locked until commit: concurrent notices of one bureau queue
        # here, and a rollback gives the number back.
        return int(
            await self._conn.fetchval(
                "INSERT INTO intake.notice_numbers (bureau, year, last) VALUES ($1, $2, 1) "
                "ON CONFLICT (bureau, year) DO UPDATE SET last = intake.notice_numbers.last + 1 "
                "RETURNING last",
                bureau,
                year,
            )
        )


class PostgresDossierStorage:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @property
    def events(self) -> EventStore:
        return self._store

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresDossierWriter]:
        async with self._store.pool.acquire() as conn, conn.transaction():
            yield PostgresDossierWriter(self._store, conn)

    async def case_id(self, ref: str) -> UUID | None:
        return await resolve_case_ref(self._store.pool, ref)

    async def case_of_query_code(self, token: bytes) -> UUID | None:
        case_id: UUID | None = await self._store.pool.fetchval(
            "SELECT case_id FROM intake.query_codes WHERE token = $1", token
        )
        return case_id

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
        rows = await self._store.pool.fetch(
            "SELECT e.version, e.data::text AS data, e.recorded_at, e.correlation_id "
            "FROM intake.personal_data_reads r "
            "JOIN eventstore.events e ON e.stream_id = r.stream_id AND e.version = r.version "
            "WHERE r.reader = $1 AND r.case_bureaus && $2::text[] "
            "AND NOT ($3 = ANY(r.accused_units)) AND NOT ($4 = ANY(r.accused_officers)) "
            "ORDER BY e.position DESC LIMIT $5 OFFSET $6",
            reader,
            list(bureaus),
            not_accused_unit,
            not_accused_officer,
            limit,
            offset,
        )
        return [
            RecordedRead(
                PersonalDataRead.model_validate_json(r["data"]),
                r["version"],
                r["recorded_at"],
                r["correlation_id"],
            )
            for r in rows
        ]


# -- attachments ---------------------------------------------------------------------------------


class PostgresAttachmentWriter(PostgresDossierWriter):
    def __init__(self, store: EventStore, keys: SubjectKeys, conn: asyncpg.Connection) -> None:
        super().__init__(store, conn)
        self._keys = keys

    async def key_for_writing(self, subject: UUID) -> bytes:
        return (await self._keys.for_writing({subject}, self._conn))[subject]

    async def put_blob(self, sm3: bytes, subject: UUID, sealed: bytes, size: int) -> None:
        await self._conn.execute(
            "INSERT INTO intake.attachment_blobs (sm3, subject_id, sealed, size) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (sm3, subject_id) DO NOTHING",
            sm3,
            subject,
            sealed,
            size,
        )


class PostgresAttachmentStorage:
    """``intake.attachment_blobs`` (bytea), in the event store's database: the bytes, the key
    and the event in one transaction."""

    def __init__(self, store: EventStore, keys: SubjectKeys) -> None:
        self._store = store
        self._keys = keys

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresAttachmentWriter]:
        async with self._store.pool.acquire() as conn, conn.transaction():
            yield PostgresAttachmentWriter(self._store, self._keys, conn)

    async def blob(self, sm3: bytes, subject: UUID) -> bytes | None:
        value = await self._store.pool.fetchval(
            "SELECT sealed FROM intake.attachment_blobs WHERE sm3 = $1 AND subject_id = $2",
            sm3,
            subject,
        )
        return None if value is None else bytes(value)
