"""Registration's storage ports on PostgreSQL: the event store (with its blind index) and, in
the same transactions, ``intake.case_numbers``, ``intake.query_codes`` and
``intake.idempotency_keys``; ``intake.reception_sessions`` read."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from petitions.eventstore import AppendResult, EventStore, Metadata, NewEvent

from intake.application.ports import (
    SESSION_COLUMNS,
    IdempotencyKeyTaken,
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


class PostgresRegistrationWriter:
    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self._store = store
        self._conn = conn
        self.case_numbers = PostgresCaseNumbers(conn)
        self.query_codes = PostgresQueryCodes(conn)
        self.idempotency_keys = PostgresIdempotencyKeys(conn)

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


class PostgresSessionWriter:
    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self._store = store
        self._conn = conn

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
