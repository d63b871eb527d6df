"""The workflow's storage ports on PostgreSQL: the case streams in the event store and, in the
same transactions, ``assignment.cases``, ``assignment.import_batches`` and
``assignment.calendar_recomputations`` (migrations in :mod:`assignment.migrations`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from petitions.cases import case_id_for_number
from petitions.eventstore import AppendResult, EventStore, Metadata, NewEvent
from petitions.scope import SPACE

from assignment.application.ports import (
    LIST_COLUMNS,
    MY_WORK_COLUMNS,
    CaseQuery,
    CaseRow,
    ImportBatch,
    MyWorkQuery,
)

_SAVE = (
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
    "WHERE assignment.cases.version <= EXCLUDED.version"
)


async def _save(db: asyncpg.Pool | asyncpg.Connection, row: CaseRow) -> None:
    await db.execute(
        _SAVE,
        row.case_id,
        row.case_number,
        row.bureau,
        row.sub_bureau,
        row.category,
        row.category_kind,
        row.state,
        row.unit,
        row.officer,
        row.leader_id,
        row.congress,
        row.deadline,
        row.due,
        row.next_check,
        list(row.accused_units),
        list(row.accused_officers),
        row.version,
        row.imported,
        list(row.provisional_deadlines),
        row.sent_back,
        row.reminded,
        row.supervised,
    )


class PostgresCaseWriter:
    """Appends and saves on one connection, inside the transaction its owner opened."""

    def __init__(self, store: EventStore, connection: asyncpg.Connection) -> None:
        self._store = store
        self._conn = connection

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

    async def save(self, row: CaseRow) -> None:
        await _save(self._conn, row)


class _Params:
    """Numbered query parameters ($1, $2 ...) collected as a condition is built."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


class PostgresCases:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._pool = store.pool

    @property
    def events(self) -> EventStore:
        return self._store

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresCaseWriter]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresCaseWriter(self._store, conn)

    def within(self, connection: asyncpg.Connection) -> PostgresCaseWriter:
        """A writer in a transaction someone else opened (the consumer's, which records the
        delivered event as handled in it too)."""
        return PostgresCaseWriter(self._store, connection)

    async def save(self, row: CaseRow) -> None:
        await _save(self._pool, row)

    async def resolve(self, case_number: str) -> UUID | None:
        return await case_id_for_number(self._pool, case_number)

    async def due_for_sweep(self, today: date, limit: int | None) -> list[UUID]:
        rows = await self._pool.fetch(
            "SELECT case_id FROM assignment.cases WHERE next_check <= $1 "
            "AND NOT (imported AND EXISTS (SELECT 1 FROM assignment.import_batches "
            "WHERE closed_at IS NULL)) "
            "ORDER BY next_check, case_id LIMIT $2",
            today,
            limit,
        )
        return [r["case_id"] for r in rows]

    async def open_cases(self, closed_states: Sequence[str]) -> list[UUID]:
        rows = await self._pool.fetch(
            "SELECT case_id FROM assignment.cases WHERE state <> ALL($1::text[]) ORDER BY case_id",
            list(closed_states),
        )
        return [r["case_id"] for r in rows]

    async def count_provisional(self, closed_states: Sequence[str]) -> int:
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM assignment.cases WHERE provisional_deadlines <> '{}' "
                "AND state <> ALL($1::text[])",
                list(closed_states),
            )
        )

    async def find(self, query: CaseQuery) -> list[dict[str, Any]]:
        param = _Params()
        where = [query.reach.sql(param, alias="c")]
        if query.state is not None:
            where.append(f"state = {param(query.state)}")
        if query.unit is not None:
            where.append(f"unit = {param(query.unit)}")
        if query.leader_owned is not None:
            where.append(f"(leader_id IS NOT NULL) = {param(query.leader_owned)}")
        if query.overdue_on is not None:
            where.append(f"due < {param(query.overdue_on)}")
        conditions = " AND ".join(f"({w})" for w in where)
        rows = await self._pool.fetch(
            f"SELECT {', '.join(LIST_COLUMNS)} FROM assignment.cases c "
            f"WHERE {conditions} "
            f"ORDER BY due NULLS LAST, case_number "
            f"LIMIT {param(query.limit)} OFFSET {param(query.offset)}",
            *param.args,
        )
        return [dict(r) for r in rows]

    async def my_work(self, query: MyWorkQuery) -> list[dict[str, Any]]:
        param = _Params()
        where = [
            query.reach.sql(param, alias="c"),
            f"c.state <> ALL({param(list(query.closed_states))}::text[])",
        ]
        if query.unit is not None:
            where.append(f"c.unit = {param(query.unit)}")
        if query.leader is not None:
            where.append(f"c.leader_id = {param(query.leader)}")
        if query.officer is not None:
            space = param(SPACE)
            where.append(f"upper(btrim(c.officer, {space}::text)) = {param(query.officer)}")
        conditions = " AND ".join(f"({w})" for w in where)
        rows = await self._pool.fetch(
            f"SELECT {', '.join(f'c.{col}' for col in MY_WORK_COLUMNS)} FROM assignment.cases c "
            f"WHERE {conditions} "
            f"ORDER BY c.due < {param(query.today)} DESC NULLS LAST, c.due NULLS LAST, "
            f"c.case_number LIMIT {param(query.limit)} OFFSET {param(query.offset)}",
            *param.args,
        )
        return [dict(r) for r in rows]


def _batch(row: asyncpg.Record) -> ImportBatch:
    return ImportBatch(**{f: row[f] for f in ImportBatch.__dataclass_fields__})


class PostgresImportBatches:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def open(self, batch_id: UUID, label: str, by: str, at: datetime) -> ImportBatch:
        row = await self._pool.fetchrow(
            "INSERT INTO assignment.import_batches (batch_id, label, opened_by, opened_at) "
            "VALUES ($1, $2, $3, $4) RETURNING *",
            batch_id,
            label,
            by,
            at,
        )
        return _batch(row)

    async def close(self, batch_id: UUID, by: str, at: datetime) -> ImportBatch | None:
        row = await self._pool.fetchrow(
            "UPDATE assignment.import_batches SET closed_at = $2, closed_by = $3 "
            "WHERE batch_id = $1 AND closed_at IS NULL RETURNING *",
            batch_id,
            at,
            by,
        )
        if row is None:  # closed already, or none such
            row = await self._pool.fetchrow(
                "SELECT * FROM assignment.import_batches WHERE batch_id = $1", batch_id
            )
        return None if row is None else _batch(row)

    async def find(self, *, open_only: bool = False) -> list[ImportBatch]:
        rows = await self._pool.fetch(
            "SELECT * FROM assignment.import_batches "
            "WHERE NOT $1 OR closed_at IS NULL ORDER BY opened_at DESC LIMIT 100",
            open_only,
        )
        return [_batch(r) for r in rows]


class PostgresRecomputations:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def done(self, checksum: str, rules_version: int) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM assignment.calendar_recomputations "
                "WHERE checksum = $1 AND rules_version = $2",
                checksum,
                rules_version,
            )
        )

    async def record(self, checksum: str, files: str, cases: int, rules_version: int) -> None:
        await self._pool.execute(
            "INSERT INTO assignment.calendar_recomputations "
            "(checksum, files, cases, rules_version) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (checksum, rules_version) DO NOTHING",
            checksum,
            files,
            cases,
            rules_version,
        )


class PostgresStorage:
    """The ports on one PostgreSQL event store and its pool."""

    def __init__(self, store: EventStore) -> None:
        self._cases = PostgresCases(store)
        self._batches = PostgresImportBatches(store.pool)
        self._recomputations = PostgresRecomputations(store.pool)

    @property
    def cases(self) -> PostgresCases:
        return self._cases

    @property
    def batches(self) -> PostgresImportBatches:
        return self._batches

    @property
    def recomputations(self) -> PostgresRecomputations:
        return self._recomputations


async def event_id_key(pool: asyncpg.Pool) -> bytes:
    """The key for assignment's own event ids kept in the database: the first process to start
    makes it; the others read the same."""
    await pool.execute(
        "INSERT INTO assignment.event_id_key (key) VALUES ($1) ON CONFLICT DO NOTHING",
        os.urandom(32),
    )
    return bytes(await pool.fetchval("SELECT key FROM assignment.event_id_key"))
