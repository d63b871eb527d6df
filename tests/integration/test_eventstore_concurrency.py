"""Concurrency and ordering of the PostgreSQL event store."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from petitions.db import create_pool
from petitions.eventstore import (
    Cursor,
    EventStore,
    Metadata,
    NewEvent,
    RawEvent,
    WrongExpectedVersionError,
)
from petitions.eventstore.subscription import CatchUpSubscription, load_cursor
from petitions.settings import CommonSettings
from structlog.testing import capture_logs

from tests.integration.test_relay import wait_for
from tests.support.events import CounterMoved

pytestmark = pytest.mark.integration

META = Metadata(actor="officer", service="tests")


def moved(by: int) -> NewEvent[CounterMoved]:
    return NewEvent(CounterMoved(by=by), bureau="3301")


@pytest.mark.parametrize("expected", [0, 1])
async def test_n_writers_same_expected_version_exactly_one_wins(
    settings: CommonSettings, expected: int
) -> None:
    setup = EventStore(await create_pool(settings))
    if expected:
        await setup.append("case-race", [moved(0)], 0, metadata=META)
    # Separate stores (and pools): no shared head cache, as with separate processes.
    writers = [EventStore(await create_pool(settings)) for _ in range(8)]

    results = await asyncio.gather(
        *(
            w.append("case-race", [moved(i)], expected, metadata=META)
            for i, w in enumerate(writers)
        ),
        return_exceptions=True,
    )

    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, WrongExpectedVersionError)]
    assert len(wins) == 1
    assert len(losses) == 7
    assert all(loss.actual == expected + 1 for loss in losses)
    assert await setup.stream_version("case-race") == expected + 1
    assert (await setup.verify("case-race")).ok
    for w in [setup, *writers]:
        await w.pool.close()


async def _late_commit(database_url: str, slow_first: bool) -> None:
    """One transaction appends and waits before committing while another appends and commits.

    Whichever starts first, a reader that runs while the slow one is open and again after it
    commits must see every event, the late one included.
    """
    store = EventStore(await create_pool(CommonSettings(database_url=database_url)))
    raw = await asyncpg.connect(database_url)
    try:
        reader_seen: list[str] = []
        cursor = Cursor()

        async def read() -> None:
            nonlocal cursor
            batch = await store.read_all_raw(cursor, 1000)
            reader_seen.extend(e.stream_id for e in batch)
            if batch:
                cursor = batch[-1].cursor

        slow = raw.transaction()
        # The slow writer uses the store's own append statement inside an open transaction.
        slow_store = EventStore(_SingleConnectionPool(raw))
        if slow_first:
            await slow.start()
            await slow_store.append("case-slow", [moved(1)], 0, metadata=META)
            await store.append("case-fast", [moved(2)], 0, metadata=META)
        else:
            await store.append("case-fast", [moved(2)], 0, metadata=META)
            await slow.start()
            await slow_store.append("case-slow", [moved(1)], 0, metadata=META)
        await read()
        await slow.commit()
        await read()
        await read()
        assert sorted(reader_seen) == ["case-fast", "case-slow"]
    finally:
        await raw.close()
        await store.pool.close()


class _SingleConnectionPool:
    """Lets the store run its statements on one connection held in an open transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def acquire(self) -> _Acquired:
        return _Acquired(self._conn)


class _Acquired:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def __aenter__(self) -> asyncpg.Connection:
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("slow_first", [True, False], ids=["slow-first", "fast-first"])
async def test_ordered_reader_never_skips_a_late_commit(
    database_url: str, slow_first: bool
) -> None:
    await _late_commit(database_url, slow_first)


async def test_reader_waits_behind_an_open_transaction(
    store: EventStore, database_url: str
) -> None:
    raw = await asyncpg.connect(database_url)
    try:
        tx = raw.transaction()
        await tx.start()
        await EventStore(_SingleConnectionPool(raw)).append(
            "case-open", [moved(1)], 0, metadata=META
        )
        await store.append("case-after", [moved(2)], 0, metadata=META)

        # The committed event comes after the open transaction, so it is held back for now.
        assert await store.read_all_raw() == []

        await tx.rollback()
        assert [e.stream_id for e in await store.read_all_raw()] == ["case-after"]
    finally:
        await raw.close()


async def test_subscription_wakes_on_notify_and_keeps_its_cursor(
    store: EventStore, database_url: str
) -> None:
    seen: list[int] = []
    got = asyncio.Event()

    async def handle(batch: list[RawEvent]) -> None:
        seen.extend(e.version for e in batch)
        if len(seen) >= 3:
            got.set()

    # Poll interval far longer than the test: only the notification can wake it in time.
    sub = CatchUpSubscription(store, "test-sub", handle, dsn=database_url, poll_interval=60)
    task = asyncio.create_task(sub.run())

    async def waiting() -> bool:
        return sub.waiting

    await wait_for(waiting, 10, "the subscription to catch up and wait")
    await store.append("case-s", [moved(1), moved(2)], 0, metadata=META)
    await store.append("case-s", [moved(3)], 2, metadata=META)
    await asyncio.wait_for(got.wait(), timeout=10)
    sub.stop()
    await asyncio.wait_for(task, timeout=70)

    assert seen == [1, 2, 3]
    saved = await load_cursor(store.pool, "test-sub")
    assert saved == sub.cursor
    assert saved.position > 0


async def test_flush_sends_the_waiting_announcement_before_a_pool_closes(
    pool: asyncpg.Pool, database_url: str
) -> None:
    """A short-lived tool appends and closes its pool at once: flush() must announce first."""
    listener = await asyncpg.connect(database_url)
    heard = asyncio.Event()
    await listener.add_listener("eventstore_appended", lambda *_: heard.set())
    try:
        # A delay longer than the test: without flush() nothing would be sent in time.
        store = EventStore(pool, notify_delay=60.0)
        await store.append("counter-flush", [moved(1)], 0, metadata=META)
        await store.flush()
        await asyncio.wait_for(heard.wait(), 5)
    finally:
        await listener.close()


async def test_an_announcement_due_as_the_pool_closes_is_not_reported_as_a_failure(
    settings: CommonSettings,
) -> None:
    """A tool that closes its pool right after appending (without flush()) leaves nobody to
    wake: no warning for the engineer reading its output, no failure counted."""
    pool = await create_pool(settings)
    store = EventStore(pool, notify_delay=60.0)
    with capture_logs() as logs:
        await store.append("counter-closing", [moved(1)], 0, metadata=META)
        await pool.close()
        await store.flush()  # the announcement comes due now, on the closed pool
    assert store.notify_failures == 0
    assert not [e for e in logs if e["event"] == "eventstore.notify_failed"]
