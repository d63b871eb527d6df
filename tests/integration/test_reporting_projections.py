"""The reporting read models kept live through the relay, NATS and the durable consumer: what
they hold equals a rebuild of the same log, row for row; erasure reaches the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.messages import intake as i
from petitions.messaging import Consumer, NatsAccess, Relay
from reporting.projections import ERASED, create_read_pool, migrate, projection_consumer, rebuild
from reporting.projections.projector import ROW_TYPES
from reporting.projections.rebuild import Fold

from bench.reporting import histories, write
from tests.integration.test_relay import wait_for

pytestmark = pytest.mark.integration

META = Metadata(actor="registrar", service="intake")
ROLE = "petitions_app"
KEYS: dict[str, tuple[str, ...]] = {
    **{cls.TABLE: cls.KEY for cls in ROW_TYPES},
    "applied": ("stream_id",),
    "erased_subjects": ("subject_id",),
}


@pytest.fixture
async def read_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """The read models in the event store's own database (the default setting)."""
    await migrate(database_url, role=ROLE)
    pool = await create_read_pool(database_url, role=ROLE, max_size=8)
    yield pool
    await pool.close()


@contextlib.asynccontextmanager
async def running(*workers: Relay | Consumer) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.gather(*tasks, return_exceptions=True)


async def snapshot(pool: asyncpg.Pool | asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table (but when it was applied and the columns PostgreSQL
    generates from the others), in key order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, key in KEYS.items():
        stored = await pool.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1 "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position",
            table,
        )
        columns = ", ".join(r["column_name"] for r in stored)
        rows = [dict(r) for r in await pool.fetch(f"SELECT {columns} FROM {table}")]
        for row in rows:
            row.pop("applied_at", None)
        tables[table] = sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))
    return tables


async def fold_of_store(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    """The same tables as a fold of the whole store, in memory (what a rebuild would copy)."""
    fold = Fold(EventStore(store.pool))
    await fold.catch_up()
    tables: dict[str, list[dict[str, Any]]] = {}
    everything = fold.projector.rows()
    for cls, rows in everything.by_table():
        tables[cls.TABLE] = sorted(
            (dict(zip(cls.COLUMNS, row.record(), strict=True)) for row in rows),
            key=lambda row: tuple(str(row[k]) for k in cls.KEY),
        )
    tables["applied"] = sorted(
        ({"stream_id": s, "version": v} for s, v in fold.applied.items()),
        key=lambda row: str(row["stream_id"]),
    )
    tables["erased_subjects"] = sorted(
        ({"subject_id": s} for s in everything.erased), key=lambda row: str(row["subject_id"])
    )
    return tables


def caught_up(store: EventStore, read: asyncpg.Pool) -> Callable[[], Awaitable[bool]]:
    """Whether the read models hold every stored version of every stream."""

    async def check() -> bool:
        stored = dict(await store.pool.fetch("SELECT stream_id, version FROM eventstore.streams"))
        applied = dict(await read.fetch("SELECT stream_id, version FROM applied"))
        return bool(stored) and stored == applied

    return check


async def test_live_projection_equals_a_rebuild_row_for_row(
    personal_store: EventStore,
    database_url: str,
    relay_url: str,
    reporting_nats: NatsAccess,
    read_pool: asyncpg.Pool,
) -> None:
    keyless = EventStore(personal_store.pool)
    stories, erase = histories(2500, seed=3)
    relay = Relay(keyless, dsn=database_url, nats_url=relay_url)
    consumer = projection_consumer(read_pool, keyless, reporting_nats)
    async with running(relay, consumer):
        await write(personal_store, stories, writers=4)
        for subject in erase:
            await personal_store.erase_subject(subject, reason="本人申请", metadata=META)
        await wait_for(caught_up(keyless, read_pool), 120, "the live projection to catch up")
    live = await snapshot(read_pool)
    assert len(live["cases"]) > 100
    assert len(live["deadline_notices"]) > 0
    assert len(live["reception_sessions"]) > 0
    assert any(row["answered_on"] for row in live["instructions"])  # followed up, answered
    assert any(ERASED in row["petitioners"] for row in live["cases"])
    assert live == await fold_of_store(keyless)

    result = await rebuild(keyless, read_pool, progress=False)
    assert result.events == await keyless.pool.fetchval("SELECT count(*) FROM eventstore.events")
    assert await snapshot(read_pool) == live


async def test_erasure_reaches_every_ledger_row_naming_the_subject(
    personal_store: EventStore,
    database_url: str,
    relay_url: str,
    reporting_nats: NatsAccess,
    read_pool: asyncpg.Pool,
) -> None:
    keyless = EventStore(personal_store.pool)
    kept, erased = uuid.uuid4(), uuid.uuid4()
    cases = [uuid.uuid4(), uuid.uuid4()]
    for n, (case_id, people) in enumerate(zip(cases, ((kept, erased), (erased,)), strict=True)):
        registered = i.CaseRegistered(
            subject_id=people[0],
            case_id=case_id,
            case_number=f"330102-2026-{n:06d}",
            bureau="330102",
            responsible_officer="李警官",
            sub_bureau="330102",
            category="SQ01",
            category_kind="complaint_demand",
            petitioners=tuple(
                i.PetitionerRecord(subject_id=p, name=name, resident_id=rid)
                for p, name, rid in zip(
                    people,
                    ("张三", "欧阳娜娜"),
                    ("11010519491231002X", "110105194912310037"),
                    strict=False,
                )
            ),
            first_submission_id=uuid.uuid4(),
        )
        await personal_store.append(
            f"case-{case_id}", [NewEvent(registered, bureau="330102")], 0, metadata=META
        )
    relay = Relay(keyless, dsn=database_url, nats_url=relay_url)
    consumer = projection_consumer(read_pool, keyless, reporting_nats)
    async with running(relay, consumer):
        await wait_for(caught_up(keyless, read_pool), 60, "the registrations")
        first = await read_pool.fetchrow(
            "SELECT petitioners, petitioner_ids FROM cases WHERE case_id = $1", cases[0]
        )
        # Masked, never in the clear.
        assert tuple(first) == ("张*、欧***", "110105********002X、110105********0037")
        await personal_store.erase_subject(erased, reason="本人申请删除", metadata=META)
        await wait_for(caught_up(keyless, read_pool), 60, "the erasure")
    rows = {
        r["case_id"]: (r["petitioners"], r["petitioner_ids"])
        for r in await read_pool.fetch("SELECT case_id, petitioners, petitioner_ids FROM cases")
    }
    assert rows == {
        cases[0]: (f"张*、{ERASED}", f"110105********002X、{ERASED}"),
        cases[1]: (ERASED, ERASED),
    }
    assert [r["subject_id"] for r in await read_pool.fetch("SELECT * FROM erased_subjects")] == [
        erased
    ]
    assert await snapshot(read_pool) == await fold_of_store(keyless)
