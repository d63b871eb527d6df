"""What the relay cannot simply publish: an event NATS refuses for good is dead-lettered and
relaying goes on; an id someone else published first is alerted and the genuine event still
reaches the consumers."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from devstack.servers import start_nats
from petitions.eventstore import EventStore, NewEvent
from petitions.messaging import Consumer, Delivered, Relay, list_dead_letters, provision
from petitions.messaging.relay import list_relay_incidents
from petitions.messaging.security import ADMIN

from tests.conftest import ROOT
from tests.integration.test_consumer import META, effect_rows
from tests.integration.test_consumer import effects as effects
from tests.integration.test_consumer_forgery import forged, publish
from tests.integration.test_relay import message_count, wait_for
from tests.support.events import CounterMoved, NoteAdded
from tests.support.messaging import provision_durable

pytestmark = pytest.mark.integration

MAX_PAYLOAD = 8192


async def record_any(conn: asyncpg.Connection, event: Delivered) -> None:
    """Any event's effect: a row per version (``by`` -1 for a note)."""
    typed = event.typed()
    by = typed.by if isinstance(typed, CounterMoved) else -1
    await conn.execute(
        "INSERT INTO test_effects VALUES ($1, $2, $3)", event.stream_id, event.version, by
    )


@contextlib.asynccontextmanager
async def running(*tasks: Relay | Consumer) -> AsyncIterator[None]:
    started = [asyncio.create_task(t.run()) for t in tasks]
    try:
        yield
    finally:
        for t in tasks:
            t.stop()
        for task in started:
            await task


async def command(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "petitions.messaging", "--database", database_url, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


async def test_an_event_too_large_for_nats_is_dead_lettered_and_relaying_goes_on(
    store: EventStore, database_url: str, effects: asyncpg.Pool
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="test-nats-", dir=ROOT / ".devstack"))
    try:
        with start_nats(folder / "nats", max_payload=MAX_PAYLOAD) as server:
            big = "长" * MAX_PAYLOAD  # three bytes a character in UTF-8: well over the limit
            await store.append(
                "case-big", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META
            )
            await store.append(
                "case-big",
                [NewEvent(NoteAdded(body=big, words=1), bureau="330102")],
                1,
                metadata=META,
            )
            await store.append(
                "case-big", [NewEvent(CounterMoved(by=3), bureau="330102")], 2, metadata=META
            )
            await store.append(
                "case-other", [NewEvent(CounterMoved(by=9), bureau="330102")], 0, metadata=META
            )
            # Batches of two: the big event's batch is not the last, as it was not in production.
            await provision(server.access(ADMIN))
            await provision_durable(server.url, "test-projection")
            relay = Relay(
                store, dsn=database_url, nats_url=server.url, poll_interval=0.2, batch_size=2
            )
            projection = Consumer(
                name="test-projection",
                handler=record_any,
                pool=effects,
                store=store,
                nats_url=server.url,
            )
            async with running(relay, projection):
                await wait_for(
                    lambda: _rows(effects, 4),
                    30,
                    "every version applied, the big one from the store",
                )
            assert await message_count(server.url) == 3
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    # The case got its big version in order, filled in from the store.
    assert await effect_rows(effects) == [
        ("case-big", 1, 1),
        ("case-big", 2, -1),
        ("case-big", 3, 3),
        ("case-other", 1, 9),
    ]
    assert (relay.published, relay.dead_lettered) == (3, 1)
    [incident] = await list_relay_incidents(effects)
    assert (incident.kind, incident.stream_id, incident.version) == ("unpublishable", "case-big", 2)
    assert "MaxPayloadError" in incident.error
    assert incident.size > MAX_PAYLOAD
    assert await list_dead_letters(effects) == []  # the consumer had nothing to dead-letter

    listed = await command(database_url, "dead-letters")
    assert listed.returncode == 1
    assert "unpublishable" in listed.stdout
    assert "case-big" in listed.stdout
    status = await command(database_url, "relay-status")
    assert "unpublishable, skipped: 1" in status.stdout
    resolved = await command(database_url, "resolve-relay", incident.event_id)
    assert resolved.returncode == 0, resolved.stdout
    assert (await command(database_url, "dead-letters")).returncode == 0


async def _rows(pool: asyncpg.Pool, n: int) -> bool:
    count: int = await pool.fetchval("SELECT count(*) FROM test_effects")
    return count == n


async def test_an_id_published_first_by_someone_else_is_alerted_and_the_genuine_event_arrives(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    genuine_id = uuid.uuid4()  # as predictable to the forger as a fixed-namespace uuid5 was
    await provision_durable(nats_url, "test-projection")
    projection = Consumer(
        name="test-projection", handler=record_any, pool=effects, store=store, nats_url=nats_url
    )
    relay = Relay(store, dsn=database_url, nats_url=relay_url, poll_interval=0.2)
    async with running(projection):
        # The forgery comes first: the store has no such event yet, so it is refused...
        await publish(relay_url, forged("case-p", 1, 666, event_id=genuine_id))
        await wait_for(lambda: _letters(effects, 1), 20, "the forgery dead-lettered")
        # ... and JetStream drops the relay's genuine publish as a duplicate of it.
        await store.append(
            "case-p",
            [NewEvent(CounterMoved(by=5), bureau="330102", event_id=genuine_id)],
            0,
            metadata=META,
        )
        async with running(relay):
            await wait_for(lambda: _rows(effects, 1), 20, "the genuine event applied")

    assert await effect_rows(effects) == [("case-p", 1, 5)]
    assert (relay.published, relay.preempted) == (0, 1)
    [incident] = await list_relay_incidents(effects)
    assert (incident.kind, incident.event_id) == ("preempted", str(genuine_id))
    assert "other content" in incident.error
    assert (
        "ids published first by someone else: 1"
        in (await command(database_url, "relay-status")).stdout
    )


async def _letters(pool: asyncpg.Pool, n: int) -> bool:
    return len(await list_dead_letters(pool)) == n
