"""Consumers believe the store, not the wire: whatever anyone publishes on NATS, only events the
event store holds are applied, as the store holds them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import nats
import pytest
from petitions.eventstore import EventStore, NewEvent, RawEvent
from petitions.messaging import (
    Consumer,
    encode,
    list_dead_letters,
    subject_for,
)
from petitions.messaging.consumer import subject_matches
from petitions.messaging.security import access

from tests.integration.test_consumer import (
    META,
    consumer,
    effect_rows,
    relay_all,
)
from tests.integration.test_consumer import effects as effects
from tests.integration.test_relay import wait_for
from tests.support.events import CounterMoved

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


def forged(stream_id: str, version: int, by: int, *, event_id: uuid.UUID | None = None) -> RawEvent:
    """A message body as the relay would have made it, for an event the store never held."""
    return RawEvent(
        position=10_000 + version,
        stream_id=stream_id,
        version=version,
        event_id=event_id or uuid.uuid4(),
        event_type="test.CounterMoved",
        schema_version=1,
        bureau="330102",
        data=f'{{"by":{by}}}',
        actor="registrar",
        service="intake",
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=WHEN,
        recorded_at=WHEN,
        tx_id=1,
        hash_alg="sm3",
        hash=b"\x00" * 32,
    )


async def publish(url: str, raw: RawEvent) -> None:
    """Publish as anyone on the network can: the relay's own encoding, headers and subject."""
    client = await nats.connect(**access(url).options())
    try:
        js = client.jetstream()
        body, headers = encode(raw)
        await js.publish(
            subject_for(raw.bureau, raw.stream_id, raw.event_type), body, headers=headers
        )
    finally:
        await client.close()


async def run_until(subject: Consumer, pool: asyncpg.Pool, rows: int, letters: int) -> None:
    async def done() -> bool:
        applied = await pool.fetchval("SELECT count(*) FROM test_effects")
        return applied >= rows and len(await list_dead_letters(pool)) >= letters

    task = asyncio.create_task(subject.run())
    try:
        await wait_for(done, 20, f"{rows} effects and {letters} dead letters")
    finally:
        subject.stop()
        await task


async def test_an_event_the_store_does_not_hold_is_dead_lettered_never_applied(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append(
        "case-real", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META
    )
    ghost = forged("case-ghost", 1, 500)
    await publish(relay_url, ghost)
    await relay_all(store, database_url, relay_url)

    subject = await consumer(store, effects, nats_url)
    await run_until(subject, effects, rows=1, letters=1)

    assert await effect_rows(effects) == [("case-real", 1, 1)]
    assert subject.rejected == 1
    [letter] = await list_dead_letters(effects, "test-projection")
    assert (letter.event_id, letter.stream_id, letter.version) == (
        str(ghost.event_id),
        "case-ghost",
        1,
    )
    assert "not in the event store" in letter.error
    # The ghost case got no bookkeeping row either: nothing about it counts as applied.
    assert (
        await effects.fetchval(
            "SELECT count(*) FROM messaging.applied WHERE stream_id = 'case-ghost'"
        )
        == 0
    )

    # Replaying the forgery is refused; it stays a dead letter.
    command = await asyncio.to_thread(
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
    )
    assert command.returncode == 2, command.stdout
    assert await effect_rows(effects) == [("case-real", 1, 1)]
    assert len(await list_dead_letters(effects, "test-projection")) == 1


async def test_a_forged_next_version_is_not_applied_and_the_genuine_one_is(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append("case-a", [NewEvent(CounterMoved(by=1), bureau="330102")], 0, metadata=META)
    await relay_all(store, database_url, relay_url)
    await publish(relay_url, forged("case-a", 2, 666))

    first = await consumer(store, effects, nats_url)
    await run_until(first, effects, rows=1, letters=1)
    assert await effect_rows(effects) == [("case-a", 1, 1)]
    assert (
        await effects.fetchval("SELECT version FROM messaging.applied WHERE stream_id = 'case-a'")
        == 1
    )

    # The genuine version 2 comes later: it must not be taken for already applied.
    await store.append("case-a", [NewEvent(CounterMoved(by=2), bureau="330102")], 1, metadata=META)
    await relay_all(store, database_url, relay_url)
    second = await consumer(store, effects, nats_url)
    await run_until(second, effects, rows=2, letters=1)
    assert await effect_rows(effects) == [("case-a", 1, 1), ("case-a", 2, 2)]


async def test_a_message_under_a_genuine_id_with_other_content_applies_the_store_copy(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    await store.append("case-b", [NewEvent(CounterMoved(by=7), bureau="330102")], 0, metadata=META)
    [genuine] = await store.read_stream_raw("case-b")
    # Published under the genuine id before the relay gets to it: JetStream then drops the
    # relay's own publish as a duplicate.
    await publish(relay_url, replace(genuine, data='{"by":666}'))
    await relay_all(store, database_url, relay_url)

    subject = await consumer(store, effects, nats_url)
    await run_until(subject, effects, rows=1, letters=1)
    assert await effect_rows(effects) == [("case-b", 1, 7)]
    [letter] = await list_dead_letters(effects, "test-projection")
    assert letter.event_id == str(genuine.event_id)
    assert "content differs" in letter.error


async def test_a_genuine_event_on_a_forged_subject_outside_the_filter_is_not_applied(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    """A consumer that takes one bureau's events is not made to apply another bureau's by a
    copy of it published on its subject."""
    await store.append("case-c", [NewEvent(CounterMoved(by=3), bureau="330103")], 0, metadata=META)
    [genuine] = await store.read_stream_raw("case-c")
    client = await nats.connect(**access(relay_url).options())
    js = client.jetstream()
    body, headers = encode(genuine)
    await js.publish(subject_for("330102", "case-c", genuine.event_type), body, headers=headers)
    await client.close()

    subject = await consumer(store, effects, nats_url, filter_subject="petitions.events.330102.>")
    await run_until(subject, effects, rows=0, letters=1)
    assert await effect_rows(effects) == []
    [letter] = await list_dead_letters(effects, "test-projection")
    assert "subject differs" in letter.error


async def test_garbage_on_the_wire_is_dead_lettered(
    store: EventStore, database_url: str, effects: asyncpg.Pool, nats_url: str, relay_url: str
) -> None:
    client = await nats.connect(**access(relay_url).options())
    js = client.jetstream()
    await js.publish("petitions.events.330102.p01.test.CounterMoved", b"not json")
    await client.close()
    await store.append("case-d", [NewEvent(CounterMoved(by=4), bureau="330102")], 0, metadata=META)
    await relay_all(store, database_url, relay_url)

    subject = await consumer(store, effects, nats_url)
    await run_until(subject, effects, rows=1, letters=1)
    assert await effect_rows(effects) == [("case-d", 1, 4)]
    [letter] = await list_dead_letters(effects, "test-projection")
    assert "unreadable" in letter.error


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("petitions.events.>", "petitions.events.330102.p01.intake.CaseRegistered", True),
        ("petitions.events.*.*.intake.>", "petitions.events.330102.p01.intake.X", True),
        ("petitions.events.*.*.intake.>", "petitions.events.330102.p01.assignment.X", False),
        ("petitions.events.330102.>", "petitions.events.330103.p01.test.X", False),
        ("petitions.events.*", "petitions.events.330102.p01", False),
        ("petitions.events.>", "petitions.events", False),
    ],
)
def test_subject_matching(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected
