"""The consumer toolkit: effects exactly once, per-case order, dead letters and their replay."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import asyncpg
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from petitions.eventstore import EventStore, Metadata, NewEvent, RawEvent
from petitions.messaging import (
    STREAM,
    Consumer,
    Delivered,
    Relay,
    apply_consumer_migrations,
    decode,
    encode,
    list_dead_letters,
    subject_for,
)
from petitions.messaging.relay import Outlet
from petitions.messaging.security import access
from petitions.supervision import Supervisor

from tests.conftest import ROOT
from tests.integration.test_relay import wait_for
from tests.support.events import CounterMoved
from tests.support.logs import json_logging
from tests.support.messaging import provision_durable

pytestmark = pytest.mark.integration

META = Metadata(actor="registrar", service="intake")


@pytest.fixture
async def effects(database_url: str, pool: asyncpg.Pool) -> asyncpg.Pool:
    """The consumer's bookkeeping and a table standing for its effects (a read model)."""
    await apply_consumer_migrations(database_url)
    owner = await asyncpg.connect(database_url)
    await owner.execute(
        "CREATE TABLE test_effects (stream_id text, version bigint, by int, "
        "UNIQUE (stream_id, version)); GRANT SELECT, INSERT ON test_effects TO petitions_app"
    )
    await owner.close()
    return pool


async def record(conn: asyncpg.Connection, event: Delivered) -> None:
    moved = event.typed()
    assert isinstance(moved, CounterMoved)
    # A plain INSERT: applied twice, the UNIQUE constraint would fail the test.
    await conn.execute(
        "INSERT INTO test_effects VALUES ($1, $2, $3)", event.stream_id, event.version, moved.by
    )


async def relay_all(store: EventStore, database_url: str, url: str) -> None:
    relay = Relay(store, dsn=database_url, nats_url=url)
    assert await relay.lease.acquire(store.pool)  # a relay publishes only under the lease
    outlet = await Outlet.open(url)
    try:
        while await relay.pump(outlet):
            pass
    finally:
        await outlet.close()
        # Handed back at once, as a stopping relay does: a later relay_all in the same test
        # would otherwise wait out the lease.
        await relay.lease.release(store.pool)


async def publish(relay_url: str, raws: Sequence[RawEvent]) -> None:
    """Publish stored events as the relay would, in the order given."""
    client = await nats.connect(**access(relay_url).options())
    try:
        js = client.jetstream()
        for raw in raws:
            body, headers = encode(raw)
            await js.publish(
                subject_for(raw.bureau, raw.stream_id, raw.event_type), body, headers=headers
            )
    finally:
        await client.close()


async def effect_rows(pool: asyncpg.Pool) -> list[tuple[str, int, int]]:
    rows = await pool.fetch("SELECT stream_id, version, by FROM test_effects ORDER BY 1, 2")
    return [(r["stream_id"], r["version"], r["by"]) for r in rows]


async def consumer(store: EventStore, pool: asyncpg.Pool, url: str, **options: Any) -> Consumer:
    # The durable is the deployment's; the test plays the deployment (as the operator).
    await provision_durable(
        url,
        "test-projection",
        options.get("filter_subject", "petitions.events.>"),
        options.get("ack_wait", 30.0),
    )
    return Consumer(
        name="test-projection",
        handler=record,
        pool=pool,
        store=store,
        nats_url=url,
        **options,
    )


async def test_redelivered_events_apply_once(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    for i in range(5):
        await store.append(
            f"case-e{i}", [NewEvent(CounterMoved(by=i), bureau="330102")], 0, metadata=META
        )
    await relay_all(store, database_url, relay_url)
    subject = await consumer(store, effects, nats_url, ack_wait=1.0)

    # A replica applies three events and dies before acking any of them.
    client = await nats.connect(**access(nats_url).options())
    sub = await client.jetstream().pull_subscribe(
        "petitions.events.>",
        durable="test-projection",
        stream=STREAM,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=1.0, max_deliver=-1),
    )
    first = await sub.fetch(5, timeout=5)
    dying = await consumer(store, effects, nats_url, ack_wait=1.0)
    for msg in first[:3]:
        await dying._apply(decode(msg.data))
    await client.close()

    task = asyncio.create_task(subject.run())
    await wait_for(lambda: _count(effects, 5), 20, "five effects")
    # Once the durable holds nothing pending or unacknowledged, nothing can be redelivered.
    admin = await nats.connect(**access(nats_url).options())
    try:
        js = admin.jetstream()

        async def settled() -> bool:
            info = await js.consumer_info(STREAM, "test-projection")
            return bool(info.num_pending == 0 and info.num_ack_pending == 0)

        await wait_for(settled, 20, "every message acknowledged")
    finally:
        await admin.close()
    subject.stop()
    await task

    assert await effect_rows(effects) == [(f"case-e{i}", 1, i) for i in range(5)]
    assert subject.applied == 2  # the three applied before were recognised and only acked


async def _count(pool: asyncpg.Pool, n: int) -> bool:
    count: int = await pool.fetchval("SELECT count(*) FROM test_effects")
    return count == n


async def test_a_case_applies_in_version_order_even_if_delivered_out_of_order(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append(
        "case-o",
        [NewEvent(CounterMoved(by=b), bureau="330102") for b in (10, 20, 30)],
        0,
        metadata=META,
    )
    raws = await store.read_stream_raw("case-o")
    await publish(relay_url, [raws[2], raws[0], raws[1]])  # NATS gets version 3 first

    subject = await consumer(store, effects, nats_url)
    task = asyncio.create_task(subject.run())
    await wait_for(lambda: _count(effects, 3), 20, "three effects")
    subject.stop()
    await task

    assert await effect_rows(effects) == [("case-o", 1, 10), ("case-o", 2, 20), ("case-o", 3, 30)]
    inserted_order = await effects.fetch("SELECT version FROM test_effects ORDER BY ctid")
    assert [r["version"] for r in inserted_order] == [1, 2, 3]


async def test_a_poison_event_becomes_a_dead_letter_and_the_rest_go_on(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    broken = {"case-poison"}

    async def fragile(conn: asyncpg.Connection, event: Delivered) -> None:
        if event.stream_id in broken:
            raise ValueError(f"读模型缺少字段 read model cannot take {event.stream_id}")
        await record(conn, event)

    await store.append(
        "case-poison", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META
    )
    for i in range(3):
        await store.append(
            f"case-fine{i}", [NewEvent(CounterMoved(by=i), bureau="330102")], 0, metadata=META
        )
    await relay_all(store, database_url, relay_url)

    await provision_durable(nats_url, "test-projection")
    subject = Consumer(
        name="test-projection",
        handler=fragile,
        pool=effects,
        store=store,
        nats_url=nats_url,
        max_deliver=3,
        backoff=(0.1,),
    )
    task = asyncio.create_task(subject.run())
    await wait_for(lambda: _count(effects, 3), 20, "the healthy cases")
    await wait_for(lambda: _has_dead_letters(effects), 20, "a dead letter")
    subject.stop()
    await task

    # What the operator sees (the command exits 1 while dead letters wait).
    command = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "petitions.messaging", "--database", database_url, "dead-letters"],
        capture_output=True,
        text=True,
    )
    assert command.returncode == 1
    assert "case-poison" in command.stdout
    assert "ValueError" in command.stdout

    [letter] = await list_dead_letters(effects, "test-projection")
    assert (letter.stream_id, letter.version, letter.deliveries) == ("case-poison", 1, 3)
    assert "ValueError" in letter.error
    assert "case-poison" in letter.error

    # The cause is fixed (here: the healthy handler); the operator replays with the command.
    replayed_by_command = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "petitions.messaging",
            "--database",
            database_url,
            "replay",
            str(letter.id),
            "--consumer",
            "test-projection",
            "--handler",
            "tests.integration.test_consumer:record",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert replayed_by_command.returncode == 0, replayed_by_command.stdout
    assert ("case-poison", 1, 1) in await effect_rows(effects)
    assert await list_dead_letters(effects, "test-projection") == []
    [replayed] = await list_dead_letters(effects, "test-projection", include_replayed=True)
    assert replayed.replayed_at is not None


async def _has_dead_letters(pool: asyncpg.Pool) -> bool:
    return bool(await list_dead_letters(pool))


async def test_a_refused_dead_letter_keeps_the_payload_out_of_the_log(
    store: EventStore,
    database_url: str,
    effects: asyncpg.Pool,
    nats_url: str,
    relay_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """PostgreSQL refuses the dead letter: its error's DETAIL quotes the whole row (payload and
    the handler's error text, over several lines). The consumer and its supervisor log the
    error's class and SQLSTATE, nothing of the row."""
    secret = "张三丰 举报邻居 secret-7731"

    async def refusing(conn: asyncpg.Connection, event: Delivered) -> None:
        raise ValueError(f"读模型拒收 read model refused it\n{secret}")

    owner = await asyncpg.connect(database_url)
    await owner.execute(
        "ALTER TABLE messaging.dead_letters ADD CONSTRAINT test_refuses_every_row "
        "CHECK (deliveries < 0) NOT VALID"
    )
    await owner.close()
    await store.append(
        "case-refused", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META
    )
    await relay_all(store, database_url, relay_url)
    await provision_durable(nats_url, "test-projection", ack_wait=1.0)
    subject = Consumer(
        name="test-projection",
        handler=refusing,
        pool=effects,
        store=store,
        nats_url=nats_url,
        ack_wait=1.0,
        max_deliver=1,
    )
    supervisor = Supervisor(max_failures=10, window=300)
    logged: list[str] = []

    async def given_up_on_once() -> bool:
        logged.append(capsys.readouterr().err)
        return "supervisor.task_failed" in "".join(logged)

    with json_logging():
        supervisor.start("test-projection", subject.run, stop=subject.stop)
        try:
            await wait_for(given_up_on_once, 30, "the consumer to fail three messages and restart")
        finally:
            await supervisor.stop()
        logged.append(capsys.readouterr().err)
    text = "".join(logged)
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    failures = [line for line in lines if line["event"] == "consumer.handle_failed"]
    assert "张三丰" not in text
    assert "secret-7731" not in text
    assert "Failing row" not in text
    assert failures
    assert {line["error"] for line in failures} == {"CheckViolationError (SQLSTATE 23514)"}
