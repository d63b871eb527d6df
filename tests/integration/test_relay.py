"""The relay carries every stored event to JetStream in store order, exactly once in effect,
across crashes, NATS outages and a second relay."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
import pytest
from devstack.servers import start_nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from petitions.eventstore import EventStore, Metadata, NewEvent, RawEvent
from petitions.messaging import STREAM, Relay, decode, partition_of, provision, subject_for
from petitions.messaging.security import ADMIN, access

from tests.conftest import ROOT
from tests.support.events import CounterMoved

pytestmark = pytest.mark.integration

META = Metadata(actor="registrar", service="intake")


async def _js(url: str) -> tuple[NatsClient, JetStreamContext]:
    client = await nats.connect(**access(url).options())
    return client, client.jetstream()


def _msg_id(message: Msg) -> str:
    """The message's deduplication id (the event id): the relay sends every message with one."""
    assert message.headers is not None
    return message.headers["Nats-Msg-Id"]


@pytest.fixture
def clean_stream(nats_url: str) -> str:
    """The shared NATS server, without the relay's stream before and after the test."""
    return nats_url


async def stored_messages(url: str) -> list[Msg]:
    client, js = await _js(url)
    try:
        info = await js.stream_info(STREAM)
        sub = await js.pull_subscribe("petitions.events.>", stream=STREAM)
        out: list[Msg] = []
        while len(out) < info.state.messages:
            out += await sub.fetch(min(500, info.state.messages - len(out)), timeout=5)
        return out
    finally:
        await client.close()


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


async def message_count(url: str) -> int:
    try:
        client, js = await _js(url)
    except Exception:  # a stopped server simply has no count yet
        return -1
    try:
        return int((await js.stream_info(STREAM)).state.messages)
    except nats.js.errors.NotFoundError:
        return 0
    finally:
        await client.close()


async def register(store: EventStore, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await store.append(
            f"case-r{i}", [NewEvent(CounterMoved(by=i), bureau="330102")], 0, metadata=META
        )


def run_relay(relay: Relay) -> asyncio.Task[None]:
    return asyncio.create_task(relay.run())


async def test_every_event_reaches_nats_once_in_store_order(
    store: EventStore, database_url: str, clean_stream: str, relay_url: str
) -> None:
    await register(store, 30)
    await store.append(
        "case-r0", [NewEvent(CounterMoved(by=99), bureau="330102")], 1, metadata=META
    )
    relay = Relay(store, dsn=database_url, nats_url=relay_url)
    task = run_relay(relay)
    await wait_for(lambda: _eq(message_count(clean_stream), 31), 15, "31 messages")
    relay.stop()
    await task

    messages = await stored_messages(clean_stream)
    expected = await store.read_all_raw(limit=100)
    assert [_msg_id(m) for m in messages] == [str(e.event_id) for e in expected]
    first = decode(messages[0].data)
    assert (first.stream_id, first.version, first.data) == ("case-r0", 1, {"by": 0})
    assert (
        messages[0].subject
        == f"petitions.events.330102.p{partition_of('case-r0'):02d}.test.CounterMoved"
    )
    assert messages[0].subject == subject_for("330102", "case-r0", "test.CounterMoved")


async def _eq(count: Awaitable[int | None], expected: int) -> bool:
    return await count == expected


async def test_killed_between_publish_and_checkpoint_publishes_nothing_twice(
    store: EventStore, database_url: str, clean_stream: str, relay_url: str
) -> None:
    await register(store, 40)

    async def die(batch: list[RawEvent]) -> None:
        raise RuntimeError("relay killed after publishing, before its checkpoint")

    crashing = Relay(store, dsn=database_url, nats_url=relay_url, after_publish=die)
    with pytest.raises(RuntimeError, match="killed"):
        await asyncio.wait_for(crashing.run(), 15)
    assert await message_count(clean_stream) == 40  # published, but the cursor did not move

    await register(store, 10, start=40)
    survivor = Relay(store, dsn=database_url, nats_url=relay_url)
    task = run_relay(survivor)
    await wait_for(lambda: _eq(message_count(clean_stream), 50), 15, "50 messages")
    # The checkpoint follows the acks: wait for it to reach the last event (a read right after
    # the 50th message arrived could come before the relay wrote it).
    last = max(e.position for e in await store.read_all_raw(limit=100))

    async def cursor() -> int | None:
        position: int | None = await store.pool.fetchval(
            "SELECT position FROM eventstore.subscriptions WHERE name = 'relay'"
        )
        return position

    await wait_for(lambda: _eq(cursor(), last), 15, "the relay's checkpoint at the last event")
    survivor.stop()
    await task

    ids = [_msg_id(m) for m in await stored_messages(clean_stream)]
    assert len(ids) == len(set(ids)) == 50
    assert survivor.published == 10  # the 40 re-published were dropped as duplicates
    # ... and recognised as its own: the stream holds exactly those events under those ids.
    assert (survivor.duplicates, survivor.preempted, survivor.dead_lettered) == (40, 0, 0)


async def test_two_relays_only_one_publishes_and_the_standby_takes_over(
    store: EventStore, database_url: str, clean_stream: str, relay_url: str
) -> None:
    first = Relay(store, dsn=database_url, nats_url=relay_url, standby_poll=0.5)
    second = Relay(store, dsn=database_url, nats_url=relay_url, standby_poll=0.5)
    tasks = {first: run_relay(first), second: run_relay(second)}
    await wait_for(lambda: _true(first.is_leader or second.is_leader), 10, "a leader")
    await asyncio.sleep(1.5)  # long enough for the standby to try for the lock twice
    assert [first.is_leader, second.is_leader].count(True) == 1
    leader, standby = (first, second) if first.is_leader else (second, first)

    await register(store, 20)
    await wait_for(lambda: _true(leader.published == 20), 15, "20 published")
    assert standby.published == 0
    assert await message_count(clean_stream) == 20

    tasks[leader].cancel()  # the active relay dies: its lock connection closes with it
    with contextlib.suppress(asyncio.CancelledError):
        await tasks[leader]
    took = await wait_for(lambda: _true(standby.is_leader), 5, "the standby to take over")
    await register(store, 20, start=20)
    await wait_for(lambda: _true(standby.published == 20), 15, "20 more published")
    assert await message_count(clean_stream) == 40
    assert took < 5
    standby.stop()
    await tasks[standby]


async def _true(value: bool) -> bool:
    return value


async def test_nats_down_for_30_seconds_during_a_burst_loses_nothing(
    store: EventStore, database_url: str
) -> None:
    """Its own NATS server, so that it can be stopped and started again."""
    folder = Path(tempfile.mkdtemp(prefix="test-nats-", dir=ROOT / ".devstack"))
    try:
        with start_nats(folder / "nats") as server:
            # A server of its own, without identities: it tests outages, not permissions.
            await provision(server.access(ADMIN))
            relay = Relay(store, dsn=database_url, nats_url=server.url, poll_interval=0.2)
            task = run_relay(relay)
            burst = asyncio.create_task(register(store, 1000))
            await wait_for(lambda: _above(message_count(server.url), 50), 30, "the first messages")
            server.stop()
            await asyncio.sleep(30)
            assert burst.done()  # registrations never waited on NATS
            server.restart()
            await wait_for(lambda: _eq(message_count(server.url), 1000), 60, "all 1000 messages")
            relay.stop()
            await task
            ids = [_msg_id(m) for m in await stored_messages(server.url)]
            assert len(ids) == len(set(ids)) == 1000
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _above(count: Awaitable[int], floor: int) -> bool:
    return await count > floor


async def test_relay_status_names_the_lease_holder_and_a_stopped_relay_hands_it_over(
    store: EventStore, database_url: str, clean_stream: str, relay_url: str
) -> None:
    from tests.integration.test_relay_refusals import command

    relay = Relay(store, dsn=database_url, nats_url=relay_url, lease_ttl=30)
    task = run_relay(relay)
    await wait_for(lambda: _true(relay.is_leader), 10, "the relay to take the lease")
    status = await command(database_url, "relay-status")
    assert status.returncode == 0
    assert f"a relay is active: {relay.lease.holder}, 租约纪元 epoch 1" in status.stdout
    assert "expires" in status.stdout

    relay.stop()  # gives the lease up rather than letting it run its 30 s
    await task
    successor = Relay(store, dsn=database_url, nats_url=relay_url, lease_ttl=30)
    task = run_relay(successor)
    took = await wait_for(lambda: _true(successor.is_leader), 5, "the successor to take over")
    assert took < 2
    assert successor.lease.epoch == 2
    successor.stop()
    await task
    status = await command(database_url, "relay-status")
    assert status.returncode == 1
    assert "NO relay is active" in status.stdout
    assert "epoch 2" in status.stdout
