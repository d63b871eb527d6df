"""The event store's contract: what every implementation must do (each test that takes ``store``
runs on PostgreSQL and on the in-memory store: see conftest.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from petitions.eventstore import (
    ANY,
    Cursor,
    EventStore,
    Metadata,
    NewEvent,
    PartialDuplicateError,
    RecordedEvent,
    WrongExpectedVersionError,
)
from petitions.eventstore.port import EventStorePort

from tests.contract.conftest import StoreFactory
from tests.support.events import CounterMoved, NoteAdded

pytestmark = pytest.mark.integration

META = Metadata(actor="officer-001", service="tests")


def note(body: str, bureau: str = "3301") -> NewEvent[NoteAdded]:
    return NewEvent(NoteAdded(body=body, words=len(body.split())), bureau=bureau)


async def test_append_to_new_stream_then_read_back(store: EventStorePort) -> None:
    result = await store.append("case-a", [note("first"), note("second one")], 0, metadata=META)

    assert result.version == 2
    assert len(result.positions) == 2
    events = await store.read_stream("case-a")
    assert [e.version for e in events] == [1, 2]
    assert [e.data for e in events] == [
        NoteAdded(body="first", words=1),
        NoteAdded(body="second one", words=2),
    ]


async def test_envelope_carries_every_field(store: EventStorePort) -> None:
    cause = uuid.uuid4()
    corr = uuid.uuid4()
    occurred = datetime(2026, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)
    new = NewEvent(CounterMoved(by=3), bureau="3302", occurred_at=occurred)
    meta = Metadata(actor="clerk-7", service="intake", correlation_id=corr, causation_id=cause)

    await store.append("case-env", [new], 0, metadata=meta)

    [event] = await store.read_stream("case-env")
    assert event.event_id == new.event_id
    assert event.event_type == "test.CounterMoved"
    assert event.stored_schema_version == 1
    assert (event.stream_id, event.version, event.bureau) == ("case-env", 1, "3302")
    assert (event.actor, event.service) == ("clerk-7", "intake")
    assert (event.correlation_id, event.causation_id) == (corr, cause)
    assert event.occurred_at == occurred
    assert event.recorded_at > occurred
    assert event.position > 0
    assert event.tx_id > 0
    assert len(event.hash) == 32


async def test_stale_expected_version_names_the_actual_version(store: EventStorePort) -> None:
    await store.append("case-b", [note("one")], 0, metadata=META)
    await store.append("case-b", [note("two")], 1, metadata=META)

    with pytest.raises(WrongExpectedVersionError) as caught:
        await store.append("case-b", [note("late")], 1, metadata=META)

    assert caught.value.actual == 2
    assert caught.value.expected == 1
    assert "version 2" in str(caught.value)
    assert await store.stream_version("case-b") == 2


async def test_new_stream_expected_but_stream_exists(store: EventStorePort) -> None:
    await store.append("case-c", [note("one")], 0, metadata=META)

    with pytest.raises(WrongExpectedVersionError) as caught:
        await store.append("case-c", [note("again")], 0, metadata=META)

    assert caught.value.actual == 1


async def test_expected_version_on_missing_stream(store: EventStorePort) -> None:
    with pytest.raises(WrongExpectedVersionError) as caught:
        await store.append("case-missing", [note("x")], 3, metadata=META)
    assert caught.value.actual == 0


async def test_retried_append_with_same_event_ids_is_a_no_op(store: EventStorePort) -> None:
    events = [note("register"), note("assign")]
    first = await store.append("case-d", events, 0, metadata=META)

    again = await store.append("case-d", events, 0, metadata=META)

    assert again.duplicate
    assert again.positions == first.positions
    assert len(await store.read_stream("case-d")) == 2


async def test_retry_after_the_stream_moved_on_is_still_a_no_op(store: EventStorePort) -> None:
    retried = note("register")
    await store.append("case-e", [retried], 0, metadata=META)
    await store.append("case-e", [note("later")], 1, metadata=META)

    again = await store.append("case-e", [retried], 0, metadata=META)

    assert again.duplicate
    assert [e.data.body for e in await store.read_stream("case-e")] == ["register", "later"]


async def test_event_id_reused_with_a_new_one_is_refused(store: EventStorePort) -> None:
    reused = note("one")
    await store.append("case-f", [reused], 0, metadata=META)

    with pytest.raises(PartialDuplicateError):
        await store.append("case-f", [reused, note("two")], 1, metadata=META)

    assert await store.stream_version("case-f") == 1


async def test_append_any_version(store: EventStorePort) -> None:
    await store.append("case-g", [note("one")], ANY, metadata=META)
    result = await store.append("case-g", [note("two")], ANY, metadata=META)
    assert result.version == 2
    assert (await store.verify("case-g")).ok


async def test_read_stream_range(store: EventStorePort) -> None:
    await store.append("case-h", [note(str(i)) for i in range(1, 6)], 0, metadata=META)

    middle = await store.read_stream("case-h", from_version=2, to_version=4)

    assert [e.data.body for e in middle] == ["2", "3", "4"]
    assert await store.read_stream("case-none") == []


async def test_state_as_of_a_timestamp(new_store: StoreFactory) -> None:
    times = iter([datetime(2026, 1, d, 9, 0, tzinfo=UTC) for d in (5, 10, 20)])
    timed = new_store(clock=lambda: next(times))
    for v, by in enumerate((1, 10, 100)):
        await timed.append(
            "case-i", [NewEvent(CounterMoved(by=by), bureau="3301")], v, metadata=META
        )

    def total(state: int, event: RecordedEvent[CounterMoved]) -> int:
        return state + event.data.by

    as_of = datetime(2026, 1, 12, tzinfo=UTC)
    assert await timed.load("case-i", 0, total, as_of=as_of) == (11, 2)
    assert await timed.load("case-i", 0, total) == (111, 3)
    assert await timed.load("case-i", 0, total, as_of=as_of - timedelta(days=30)) == (0, 0)


async def test_occurred_time_in_the_past_is_kept_apart_from_recorded_time(
    store: EventStorePort,
) -> None:
    past = datetime(2024, 6, 1, tzinfo=UTC)
    await store.append(
        "case-j", [NewEvent(CounterMoved(by=1), bureau="3301", occurred_at=past)], 0, metadata=META
    )
    assert await store.read_stream("case-j", as_of=past + timedelta(days=1), by="occurred")
    assert not await store.read_stream("case-j", as_of=past + timedelta(days=1), by="recorded")


async def test_upcasts_an_event_stored_under_an_old_schema(pool: asyncpg.Pool) -> None:
    # Write a version-1 row the way an older release did, then read it with today's model.
    # PostgreSQL only: the row is written behind the store's back (decoding is shared code).
    store = EventStore(pool)
    async with pool.acquire() as conn:
        await conn.execute("RESET ROLE")
        old = datetime(2025, 1, 1, tzinfo=UTC)
        from petitions.eventstore import hashing

        data = '{"text":"old style note"}'
        event_id = uuid.uuid4()
        corr = uuid.uuid4()
        digest = hashing.link(
            "sm3",
            hashing.GENESIS,
            hashing.canonical_bytes(
                stream_id="case-old",
                version=1,
                event_id=event_id,
                event_type="test.NoteAdded",
                schema_version=1,
                bureau="3301",
                data=data,
                actor="legacy",
                service="v0",
                correlation_id=corr,
                causation_id=None,
                occurred_at=old,
                recorded_at=old,
            ),
        )
        await conn.execute(
            "INSERT INTO eventstore.streams (stream_id, category, bureau, version, head_hash) "
            "VALUES ('case-old', 'case', '3301', 1, $1)",
            digest,
        )
        await conn.execute(
            "INSERT INTO eventstore.events (stream_id, version, event_id, event_type, "
            "schema_version, bureau, data, actor, service, correlation_id, occurred_at, "
            "recorded_at, hash_alg, hash) VALUES ('case-old', 1, $1, 'test.NoteAdded', 1, '3301', "
            "$2, 'legacy', 'v0', $3, $4, $4, 'sm3', $5)",
            event_id,
            data,
            corr,
            old,
            digest,
        )

    [event] = await store.read_stream("case-old")

    assert event.data == NoteAdded(body="old style note", words=3)
    assert event.stored_schema_version == 1
    assert (await store.verify("case-old")).ok


async def test_read_all_in_order_from_a_cursor(store: EventStorePort) -> None:
    for i in range(5):
        await store.append(f"case-k{i}", [note(f"n{i}"), note(f"m{i}")], 0, metadata=META)

    first = await store.read_all_raw(Cursor(), limit=4)
    rest = await store.read_all_raw(first[-1].cursor, limit=100)

    everything = first + rest
    assert len(everything) == 10
    assert [e.cursor for e in everything] == sorted(
        (e.cursor for e in everything), key=lambda c: (c.tx_id, c.position)
    )
    assert len({e.event_id for e in everything}) == 10


async def test_iter_all_decodes_everything(store: EventStorePort) -> None:
    await store.append(
        "case-l", [note("a"), NewEvent(CounterMoved(by=2), bureau="3301")], 0, metadata=META
    )
    batches = [batch async for batch in store.iter_all(batch_size=1)]
    assert [b[0].event_type for b in batches] == ["test.NoteAdded", "test.CounterMoved"]


async def test_verify_passes_on_untouched_streams(store: EventStorePort) -> None:
    await store.append("case-m", [note("a"), note("b")], 0, metadata=META)
    await store.append("case-m", [note("c")], 2, metadata=META)
    await store.append("case-n", [note("x")], 0, metadata=META)

    assert (await store.verify("case-m")).events_checked == 3
    results = await store.verify_all()
    assert {r.stream_id: r.ok for r in results} == {"case-m": True, "case-n": True}


async def test_concurrent_appends_to_different_streams_all_land(store: EventStorePort) -> None:
    await asyncio.gather(
        *(store.append(f"case-p{i}", [note(str(i))], 0, metadata=META) for i in range(30))
    )
    assert len(await store.read_all_raw(limit=100)) == 30
