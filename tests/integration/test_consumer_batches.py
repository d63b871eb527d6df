"""A consumer with a batch handler: a fetched batch applied in one transaction, each event once,
per-case order kept, gaps filled from the store, and a failing event retried and dead-lettered
alone while the rest of its batch commits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import nats
import pytest
from petitions.eventstore import EventStore, NewEvent
from petitions.messaging import STREAM, Consumer, Delivered, list_dead_letters
from petitions.messaging.security import access

from tests.integration.test_consumer import (
    META,
    effect_rows,
    publish,
    record,
    relay_all,
)
from tests.integration.test_consumer import (
    effects as effects,  # the fixture, used by name
)
from tests.integration.test_relay import wait_for
from tests.support.events import CounterMoved
from tests.support.messaging import provision_durable

pytestmark = pytest.mark.integration


class Recorder:
    """A batch handler that records each event (a plain INSERT: applied twice, the table's
    UNIQUE constraint fails the transaction) and the size of every batch it was given."""

    def __init__(self, poisoned: str | None = None) -> None:
        self.sizes: list[int] = []
        self.poisoned = poisoned

    async def __call__(self, conn: asyncpg.Connection, events: Sequence[Delivered]) -> None:
        self.sizes.append(len(events))
        for event in events:
            if event.stream_id == self.poisoned:
                raise ValueError(f"读模型拒收 read model cannot take {event.stream_id}")
            await record(conn, event)


async def batch_consumer(
    store: EventStore, pool: asyncpg.Pool, url: str, handler: Recorder, **options: Any
) -> Consumer:
    await provision_durable(url, "test-batches", ack_wait=options.get("ack_wait", 30.0))
    return Consumer(
        name="test-batches",
        batch_handler=handler,
        pool=pool,
        store=store,
        nats_url=url,
        **options,
    )


async def settled(url: str) -> bool:
    """The durable holds nothing pending or unacknowledged (nothing can be redelivered)."""
    client = await nats.connect(**access(url).options())
    try:
        info = await client.jetstream().consumer_info(STREAM, "test-batches")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)
    finally:
        await client.close()


async def run_until(subject: Consumer, url: str, done: Any, what: str) -> None:
    task = asyncio.create_task(subject.run())
    try:
        await wait_for(done, 30, what)
        await wait_for(lambda: settled(url), 30, "every message acknowledged")
    finally:
        subject.stop()
        await task


async def applied_versions(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT stream_id, version FROM messaging.applied WHERE consumer = 'test-batches'"
    )
    return {r["stream_id"]: r["version"] for r in rows}


async def test_a_fetched_batch_applies_in_one_transaction_once_each_in_case_order(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    for i in range(20):
        await store.append(
            f"case-b{i:02}",
            [NewEvent(CounterMoved(by=10 * i + v), bureau="330102") for v in (1, 2, 3)],
            0,
            metadata=META,
        )
    await relay_all(store, database_url, relay_url)
    handler = Recorder()
    subject = await batch_consumer(store, effects, nats_url, handler)
    # Versions 1-2 of one case were applied before (a replica that died before its acks).
    early = await store.read_stream_raw("case-b05", 1, 2)
    async with effects.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO messaging.applied (consumer, stream_id, version) "
            "VALUES ('test-batches', 'case-b05', 2)"
        )
        for raw in early:
            await conn.execute(
                "INSERT INTO test_effects VALUES ($1, $2, $3)", raw.stream_id, raw.version, 0
            )

    async def all_there() -> bool:
        return len(await effect_rows(effects)) == 60

    await run_until(subject, nats_url, all_there, "sixty effects")

    rows = await effect_rows(effects)
    expected = [
        (f"case-b{i:02}", v, 0 if (i, v) in {(5, 1), (5, 2)} else 10 * i + v)
        for i in range(20)
        for v in (1, 2, 3)
    ]
    assert rows == expected
    assert subject.applied == 58  # the two applied before were recognised and only acked
    assert sum(handler.sizes) == 58
    assert max(handler.sizes) > 1, handler.sizes  # batches, not an event a transaction
    assert await applied_versions(effects) == {f"case-b{i:02}": 3 for i in range(20)}
    # Per case, the versions went in (INSERT order) as 1, 2, 3.
    order = await effects.fetch("SELECT stream_id, version FROM test_effects ORDER BY ctid")
    for i in range(20):
        versions = [r["version"] for r in order if r["stream_id"] == f"case-b{i:02}"]
        assert versions == [1, 2, 3]


async def test_a_version_missing_from_the_batch_is_read_from_the_store_first(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append(
        "case-gap",
        [NewEvent(CounterMoved(by=b), bureau="330102") for b in (7, 8, 9)],
        0,
        metadata=META,
    )
    raws = await store.read_stream_raw("case-gap")
    await publish(relay_url, [raws[0], raws[2]])  # version 2 never reaches NATS
    handler = Recorder()
    subject = await batch_consumer(store, effects, nats_url, handler)

    async def three() -> bool:
        return len(await effect_rows(effects)) == 3

    await run_until(subject, nats_url, three, "three effects")
    assert await effect_rows(effects) == [
        ("case-gap", 1, 7),
        ("case-gap", 2, 8),
        ("case-gap", 3, 9),
    ]
    order = await effects.fetch("SELECT version FROM test_effects ORDER BY ctid")
    assert [r["version"] for r in order] == [1, 2, 3]
    assert await applied_versions(effects) == {"case-gap": 3}


async def test_a_failing_event_is_retried_alone_and_the_rest_of_its_batch_commits(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append(
        "case-poison", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META
    )
    for i in range(6):
        await store.append(
            f"case-fine{i}", [NewEvent(CounterMoved(by=i), bureau="330102")], 0, metadata=META
        )
    await relay_all(store, database_url, relay_url)
    handler = Recorder(poisoned="case-poison")
    subject = await batch_consumer(store, effects, nats_url, handler, max_deliver=3, backoff=(0.1,))

    async def done() -> bool:
        return len(await effect_rows(effects)) == 6 and bool(
            await list_dead_letters(effects, "test-batches")
        )

    await run_until(subject, nats_url, done, "the healthy cases and a dead letter")

    assert await effect_rows(effects) == [(f"case-fine{i}", 1, i) for i in range(6)]
    [letter] = await list_dead_letters(effects, "test-batches")
    assert (letter.stream_id, letter.version, letter.deliveries) == ("case-poison", 1, 3)
    assert "ValueError" in letter.error
    assert "case-poison" not in await applied_versions(effects)
    assert subject.dead_lettered == 1
