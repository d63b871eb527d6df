"""Rebuilding the read models from the event store and swapping them in while the live consumer
runs and events keep coming: nothing lost, nothing twice, and pooled connections find the new
tables."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from petitions.eventstore import Cursor, EventStore
from petitions.messaging import NatsAccess, Relay
from reporting.config import Settings
from reporting.projections import create_read_pool, migrate, projection_consumer, rebuild
from reporting.projections.projector import Needs, needs
from reporting.projections.rebuild import Fold, masked

from bench.reporting import META, histories, write
from tests.conftest import Servers, _with_database
from tests.integration import test_reporting_projections as projections
from tests.integration.test_relay import wait_for
from tests.integration.test_reporting_projections import (
    ROLE,
    caught_up,
    fold_of_store,
    running,
    snapshot,
)

pytestmark = pytest.mark.integration

# The same fixtures as the live projection's tests.
read_pool = projections.read_pool


async def _plant_marker(pool: asyncpg.Pool) -> uuid.UUID:
    """A ledger row no event describes: present in the old tables only."""
    marker = uuid.uuid4()
    now = datetime(2026, 3, 2, 2, tzinfo=UTC)
    await pool.execute(
        "INSERT INTO cases (case_id, case_number, bureau, sub_bureau, category, category_kind, "
        "petitioners, petitioner_ids, subjects, head_count, channel, first_received_at, "
        "registered_at, first_receiver, state, preliminary_assessment, version) VALUES "
        "($1, 'X', 'X', 'X', 'X', 'X', '', '', '{}', 1, 'visit', $2, $2, 'X', 'handling', "
        "'undetermined', 1)",
        marker,
        now,
    )
    return marker


async def test_rebuild_swaps_in_while_the_live_consumer_runs_and_events_keep_coming(
    personal_store: EventStore,
    database_url: str,
    relay_url: str,
    reporting_nats: NatsAccess,
    read_pool: asyncpg.Pool,
) -> None:
    keyless = EventStore(personal_store.pool)
    stories, _ = histories(3000, seed=5)
    before, during = stories[: len(stories) // 2], stories[len(stories) // 2 :]
    relay = Relay(keyless, dsn=database_url, nats_url=relay_url)
    consumer = projection_consumer(read_pool, keyless, reporting_nats)
    async with running(relay, consumer):
        await write(personal_store, before, writers=4)
        await wait_for(caught_up(keyless, read_pool), 120, "the first half")
        marker = await _plant_marker(read_pool)
        schema_before = await read_pool.fetchval("SELECT 'reporting'::regnamespace::oid")

        # A pooled connection that has run (and cached) a statement before the swap.
        held = await read_pool.acquire()
        count = "SELECT count(*) FROM cases WHERE case_id = $1"
        assert await held.fetchval(count, marker) == 1

        writing = asyncio.create_task(write(personal_store, during, writers=4))
        result = await rebuild(keyless, read_pool, progress=False)
        await writing
        await wait_for(caught_up(keyless, read_pool), 120, "the second half, after the swap")

        assert await held.fetchval(count, marker) == 0
        await read_pool.release(held)
        assert await read_pool.fetchval("SELECT 'reporting'::regnamespace::oid") != schema_before
        assert await read_pool.fetchval("SELECT to_regnamespace('reporting_old')") is None
        assert await read_pool.fetchval("SELECT to_regnamespace('reporting_next')") is None
    assert result.events > 0
    assert await snapshot(read_pool) == await fold_of_store(keyless)


async def test_a_rebuild_left_half_done_is_cleared_by_the_next(
    personal_store: EventStore, read_pool: asyncpg.Pool
) -> None:
    stories, _ = histories(300, seed=9)
    await write(personal_store, stories, writers=2)
    await read_pool.execute(
        "CREATE SCHEMA reporting_next; CREATE TABLE reporting_next.junk (x int)"
    )
    result = await rebuild(personal_store, read_pool, progress=False)
    assert result.events == await personal_store.pool.fetchval(
        "SELECT count(*) FROM eventstore.events"
    )
    assert await snapshot(read_pool) == await fold_of_store(personal_store)


@pytest.fixture
async def reporting_database(servers: Servers) -> AsyncIterator[str]:
    """A database of its own for the read models (PETITIONS_REPORTING_DATABASE_URL)."""
    name = f"reporting_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(servers.postgres_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(servers.postgres_url, name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def test_the_read_models_may_live_in_a_database_of_their_own(
    personal_store: EventStore, database_url: str, reporting_database: str
) -> None:
    settings = Settings(database_url=database_url, reporting_database_url=reporting_database)
    assert settings.read_database_url == reporting_database
    assert Settings(database_url=database_url).read_database_url == database_url

    stories, _ = histories(400, seed=13)
    await write(personal_store, stories, writers=2)
    await migrate(reporting_database, role=ROLE)
    await migrate(reporting_database, role=ROLE)  # a second replica starting: nothing to do
    pool = await create_read_pool(reporting_database, role=ROLE)
    try:
        await rebuild(personal_store.pool, pool, progress=False)
        assert await snapshot(pool) == await fold_of_store(personal_store)
        assert await personal_store.pool.fetchval("SELECT to_regnamespace('reporting')") is None
    finally:
        await pool.close()


async def test_a_rebuild_in_small_batches_reloads_what_it_forgot_and_equals_the_whole_fold(
    personal_store: EventStore, read_pool: asyncpg.Pool
) -> None:
    """Flushing every few events (cases' events then span many flushes, and erasures reach
    cases written out long before) gives the very rows of a fold held wholly in memory."""
    stories, erase = histories(1500, seed=11)
    await write(personal_store, stories, writers=4)
    for subject in erase:
        await personal_store.erase_subject(subject, reason="本人申请删除", metadata=META)
    keyless = EventStore(personal_store.pool)
    result = await rebuild(keyless, read_pool, progress=False, batch_size=37, flush_every=101)
    assert result.events == await personal_store.pool.fetchval(
        "SELECT count(*) FROM eventstore.events"
    )
    assert erase
    assert await read_pool.fetchval("SELECT count(*) FROM erased_subjects") == len(erase)
    assert await snapshot(read_pool) == await fold_of_store(keyless)


async def test_a_rebuild_reads_the_log_as_the_store_does_and_knows_each_events_needs(
    personal_store: EventStore,
) -> None:
    """The rebuild's own read (fewer columns) gives the store's events in the store's order;
    the types whose rows it looks up without asking needs() are those whose needs() is their
    case alone (or erased subjects only, which it holds)."""
    stories, erase = histories(600, seed=17)
    await write(personal_store, stories, writers=2)
    for subject in erase:
        await personal_store.erase_subject(subject, reason="本人申请删除", metadata=META)
    keyless = EventStore(personal_store.pool)
    expected = await keyless.read_all_raw(limit=100_000)

    fold = Fold(keyless, batch_size=53)
    batches: asyncio.Queue[list[Any] | Exception] = asyncio.Queue()
    await fold._read_ahead(Cursor(), batches)
    read: list[Any] = []
    while (batch := batches.get_nowait()) != []:
        assert not isinstance(batch, Exception)
        read += batch
    assert [(r.position, r.cursor) for r in read] == [(r.position, r.cursor) for r in expected]
    for mine, stored in zip(read, expected, strict=True):
        for name in mine._fields:
            if name != "tx_id":
                assert getattr(mine, name) == getattr(stored, name), name

    kinds = 0
    for raw in expected:
        kind = fold._kind(raw.event_type)
        if kind is None:
            continue
        event = masked(raw)
        if kind.case_of is not None:
            kinds += 1
            assert needs(event) == Needs(case_id=kind.case_of(event))
        elif kind.loads_nothing:
            need = needs(event)
            assert (need.case_id, need.session_id, need.instruction_id, need.erase) == (None,) * 4
    assert kinds > len(expected) // 2


async def test_a_failed_read_fails_the_fold_instead_of_leaving_it_waiting(
    personal_store: EventStore, database_url: str
) -> None:
    stories, _ = histories(50, seed=19)
    await write(personal_store, stories, writers=1)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    fold = Fold(EventStore(pool))
    await pool.execute("ALTER TABLE eventstore.events RENAME TO events_gone")
    try:
        # A guard, not a wait: the reading task's error reaches the fold at once (it must not
        # leave the fold waiting for a batch that never comes).
        with pytest.raises(asyncpg.UndefinedTableError):
            await asyncio.wait_for(fold.catch_up(), 60)
    finally:
        await pool.execute("ALTER TABLE eventstore.events_gone RENAME TO events")
        await pool.close()


async def test_a_rebuild_on_a_pool_of_one_connection_writes_and_reads_back_in_turn(
    personal_store: EventStore, database_url: str
) -> None:
    """With a second connection, a flush is written while the fold goes on; with one, the
    rebuild must neither wait for a connection it holds nor differ."""
    stories, _ = histories(400, seed=23)
    await write(personal_store, stories, writers=2)
    await migrate(database_url, role=ROLE)
    pool = await create_read_pool(database_url, role=ROLE, max_size=1)
    try:
        await asyncio.wait_for(
            rebuild(personal_store, pool, progress=False, batch_size=41, flush_every=97), 120
        )
        assert await snapshot(pool) == await fold_of_store(personal_store)
    finally:
        await pool.close()
