"""Rebuilding the read models from the event store and swapping them in while the live consumer
runs and events keep coming: nothing lost, nothing twice, and pooled connections find the new
tables."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from petitions.eventstore import Cursor, EventStore, NewEvent
from petitions.messages.reception import LeaderInstructionRecorded, ReceptionSessionHeld
from petitions.messaging import NatsAccess, Relay
from petitions.personal.codec import without_vault
from reporting.config import Settings
from reporting.projections import create_read_pool, migrate, projection_consumer, rebuild
from reporting.projections.parts import ERASED_TYPE, Parallel, Part
from reporting.projections.projector import Needs, needs
from reporting.projections.rebuild import Fold, masked
from reporting.projections.tables import create_tables

from bench.reporting import META, Story, case_id_of, histories, write
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
from tests.support.events import PetitionTagged

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


def _parts(workers: int, database_url: str) -> Parallel:
    """A rebuild split over ``workers`` processes, however small the log."""
    return Parallel(workers, database_url, database_url, ROLE, min_events=0)


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "two parts"])
async def test_rebuild_swaps_in_while_the_live_consumer_runs_and_events_keep_coming(
    personal_store: EventStore,
    database_url: str,
    relay_url: str,
    reporting_nats: NatsAccess,
    read_pool: asyncpg.Pool,
    workers: int,
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
        # Split, the parts fold up to where the log ended when they started; the rebuild
        # folds what was written meanwhile from what they wrote.
        result = await rebuild(
            keyless, read_pool, progress=False, parallel=_parts(workers, database_url)
        )
        await writing
        await wait_for(caught_up(keyless, read_pool), 120, "the second half, after the swap")

        assert await held.fetchval(count, marker) == 0
        await read_pool.release(held)
        assert await read_pool.fetchval("SELECT 'reporting'::regnamespace::oid") != schema_before
        assert await read_pool.fetchval("SELECT to_regnamespace('reporting_old')") is None
        assert await read_pool.fetchval("SELECT to_regnamespace('reporting_next')") is None
    assert result.events > 0
    assert result.parts == workers
    assert await snapshot(read_pool) == await fold_of_store(keyless)


async def test_a_rebuild_builds_every_index_of_schema_sql_after_its_rows(
    personal_store: EventStore, read_pool: asyncpg.Pool
) -> None:
    """The rebuilt tables get their secondary indexes once the rows are in: the same indexes
    as tables made from schema.sql at once."""
    stories, _ = histories(200, seed=43)
    await write(personal_store, stories, writers=2)
    await rebuild(personal_store, read_pool, progress=False)
    async with read_pool.acquire() as conn:
        await create_tables(conn, "reporting_whole")
        try:
            definitions = """
                SELECT array_agg(replace(indexdef, $1 || '.', '') ORDER BY indexname)
                FROM pg_indexes WHERE schemaname = $1"""
            rebuilt = await conn.fetchval(definitions, "reporting")
            whole = await conn.fetchval(definitions, "reporting_whole")
        finally:
            await conn.execute("DROP SCHEMA reporting_whole CASCADE")
    assert len(rebuilt) > 20
    assert rebuilt == whole


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


@pytest.mark.parametrize("workers", [2, 3])
async def test_a_rebuild_split_by_case_equals_the_whole_fold(
    personal_store: EventStore, database_url: str, read_pool: asyncpg.Pool, workers: int
) -> None:
    """Parts fold their own cases, the first part the reception days and erased subjects, every
    part the erasures; instructions count on sessions another part writes. Small batches and
    flushes make every part read back what it forgot, erasures included."""
    stories, erase = histories(1500, seed=29)
    await write(personal_store, stories, writers=4)
    await _instruct_on_held_sessions(personal_store, stories)
    for subject in erase:
        await personal_store.erase_subject(subject, reason="本人申请删除", metadata=META)
    keyless = EventStore(personal_store.pool)
    stored = await personal_store.pool.fetchval("SELECT count(*) FROM eventstore.events")
    result = await rebuild(
        keyless,
        read_pool,
        progress=False,
        batch_size=37,
        flush_every=101,
        parallel=_parts(workers, database_url),
    )
    assert (result.parts, result.events) == (workers, stored)
    assert result.parts_peak_rss_mb > 0
    assert list(result.phases) == ["parts", "fold", "indexes", "vacuum", "swap"]
    assert erase
    assert await snapshot(read_pool) == await fold_of_store(keyless)


async def test_a_part_whose_rebuild_is_gone_stops(
    personal_store: EventStore, database_url: str, read_pool: asyncpg.Pool
) -> None:
    """The rebuild keeps a part's stdin open; closed (the rebuild died, even by SIGKILL), the
    part stops before its next write instead of writing on into a schema the next rebuild
    makes (here it would flush after its first batch)."""
    stories, _ = histories(60, seed=41)
    await write(personal_store, stories, writers=1)
    async with read_pool.acquire() as conn:
        await conn.execute("DROP SCHEMA IF EXISTS reporting_next CASCADE")
        await create_tables(conn, "reporting_next")
        made = await conn.fetchval("SELECT 'reporting_next'::regnamespace::oid")
    spec = Parallel(1, database_url, database_url, ROLE).spec(
        0, "reporting_next", made, Cursor(2**62, 0), batch_size=10, flush_every=5
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "reporting.projections.part_worker",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(json.dumps(spec).encode() + b"\n")
    assert process.returncode == 3
    assert b"gone" in err
    assert b'"done"' not in out
    assert await read_pool.fetchval("SELECT count(*) FROM reporting_next.applied") == 0
    await read_pool.execute("DROP SCHEMA reporting_next CASCADE")


async def test_a_parts_streams_are_the_same_to_postgresql_and_to_the_fold(
    personal_store: EventStore,
) -> None:
    """Each part reads (SQL) exactly the events the fold takes as its own (Python), and every
    case falls to exactly one part."""
    rng = random.Random(37)
    cases = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(400)]
    rows = [(f"case-{c}", "assignment.CaseAccepted") for c in cases] + [
        ("subject-1", ERASED_TYPE),
        ("subject-2", "personal.SomethingElse"),
        ("reception-3", "intake.ReceptionSessionHeld"),
    ]
    for count in (2, 3, 4):
        owners = {c: 0 for c in cases}
        for index in range(count):
            part = Part(index, count, Cursor())
            read = await personal_store.pool.fetch(
                "SELECT stream_id, event_type FROM unnest($1::text[], $2::text[]) "
                f"AS e(stream_id, event_type) WHERE {part.where()}",
                [s for s, _ in rows],
                [t for _, t in rows],
            )
            expected = [(s, t) for s, t in rows if part.owns_stream(s) or t == ERASED_TYPE]
            assert [tuple(r) for r in read] == expected
            for case_id in cases:
                assert part.owns_case(case_id) == part.owns_stream(f"case-{case_id}")
                owners[case_id] += part.owns_case(case_id)
            assert ("subject-1", ERASED_TYPE) in expected
            assert (("reception-3", "intake.ReceptionSessionHeld") in expected) == (index == 0)
        assert set(owners.values()) == {1}


async def _instruct_on_held_sessions(store: EventStore, stories: list[Story]) -> None:
    """Instructions on cases' streams citing reception days the log holds, as intake records
    them (the bench's cite a session the log does not hold): a part counts them for sessions
    the first part writes."""
    held = [
        batch[0].data.session_id
        for story in stories
        for batch in story.appends
        if isinstance(batch[0].data, ReceptionSessionHeld)
    ]
    cases = [story for story in stories if story.stream_id.startswith("case-")][:60]
    assert len(held) >= 3
    for n, story in enumerate(cases):
        version = await store.pool.fetchval(
            "SELECT version FROM eventstore.streams WHERE stream_id = $1", story.stream_id
        )
        event = LeaderInstructionRecorded(
            subject_id=story.subject,
            session_id=held[n % 3],
            case_id=case_id_of(story),
            instruction="限期一个月化解",
        )
        bureau = story.appends[0][0].bureau
        await store.append(
            story.stream_id, [NewEvent(event, bureau=bureau)], version, metadata=META
        )


async def test_a_part_that_fails_fails_the_rebuild_and_nothing_is_swapped_in(
    personal_store: EventStore, database_url: str, read_pool: asyncpg.Pool
) -> None:
    stories, _ = histories(100, seed=31)
    await write(personal_store, stories, writers=2)
    await rebuild(personal_store, read_pool, progress=False)
    before = await snapshot(read_pool)
    schema = await read_pool.fetchval("SELECT 'reporting'::regnamespace::oid")
    gone = database_url.rpartition("/")[0] + "/no_such_database"
    broken = Parallel(2, gone, database_url, ROLE, min_events=0)
    with pytest.raises(RuntimeError, match=r"rebuild part \d of 2 failed"):
        await rebuild(personal_store, read_pool, progress=False, parallel=broken)
    assert await read_pool.fetchval("SELECT 'reporting'::regnamespace::oid") == schema
    assert await snapshot(read_pool) == before


async def test_a_rebuild_reads_the_log_as_the_store_does_and_knows_each_events_needs(
    personal_store: EventStore,
) -> None:
    """The rebuild's own read (fewer columns, the data masked by PostgreSQL) gives the store's
    events in the store's order; the types whose rows it looks up without asking needs() are
    those whose needs() is their case alone (or erased subjects only, which it holds)."""
    stories, erase = histories(600, seed=17)
    await write(personal_store, stories, writers=2)
    for subject in erase:
        await personal_store.erase_subject(subject, reason="本人申请删除", metadata=META)
    # A key spelled like the vault's opening: PostgreSQL sends that data whole, the fold cuts.
    tagged = PetitionTagged(subject_id=uuid.uuid4(), note="电话回访", tags={"$vault": "2"})
    await personal_store.append("case-tagged", [NewEvent(tagged, bureau="3301")], 0, metadata=META)
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
        assert mine.data == without_vault(stored.data).encode()
        for name in mine._fields:
            if name not in ("tx_id", "data", "vaults"):
                assert getattr(mine, name) == getattr(stored, name), name
    assert b"$vault" in read[-1].data  # the tag's key, the vault cut off after it
    assert json.loads(read[-1].data)["tags"] == {"$vault": "2"}

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
