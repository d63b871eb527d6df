"""The ordered read of the whole log (``iter_all``) and ``verify_all`` on logs whose streams
interleave: the read ahead keeps the log's order across batch boundaries and decodes exactly as
the one-event path does; verification in stream order still catches each kind of tampering."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from petitions.db import create_pool
from petitions.eventstore import EventStore, Metadata, NewEvent, RecordedEvent
from petitions.eventstore import store as store_module
from petitions.eventstore.verification import verify_every_stream
from petitions.personal.keys import PersonalDataError
from petitions.settings import CommonSettings

from tests.support.events import (
    CounterMoved,
    NoteAdded,
    Petitioner,
    PetitionFiled,
    PetitionTagged,
    resident_id,
)

pytestmark = pytest.mark.integration

META = Metadata(actor="officer", service="tests")
STREAMS = [f"case-o{k}" for k in range(5)]


async def _interleaved(store: EventStore, rounds: int = 4) -> None:
    """Each stream gets an append per round, so positions alternate between streams."""
    for r in range(rounds):
        for k, stream in enumerate(STREAMS):
            events: list[NewEvent[Any]] = [
                NewEvent(NoteAdded(body=f"{stream} round {r}", words=3), bureau="3301"),
                NewEvent(CounterMoved(by=r * 10 + k), bureau="3301"),
            ]
            await store.append(stream, events, 2 * r, metadata=META)


async def _all(
    store: EventStore, batch_size: int, *, reveal: bool
) -> list[list[RecordedEvent[Any]]]:
    return [batch async for batch in store.iter_all(batch_size=batch_size, reveal=reveal)]


async def _one_by_one(store: EventStore, *, reveal: bool) -> list[RecordedEvent[Any]]:
    """The same log through the other path: raw rows, then ``decode_many``."""
    return await store.decode_many(await store.read_all_raw(limit=10_000), reveal=reveal)


async def test_read_ahead_keeps_order_across_batches(store: EventStore, database_url: str) -> None:
    await _interleaved(store)
    # An event of an older schema, stored as an older writer did: read back upcast.
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute(
            "INSERT INTO eventstore.events (stream_id, version, event_id, event_type, "
            "schema_version, bureau, data, actor, service, correlation_id, occurred_at, "
            "recorded_at, hash_alg, hash) VALUES ('case-old', 1, $1, 'test.NoteAdded', 1, "
            "'3301', '{\"text\":\"three old words\"}', 'a', 's', $2, $3, $3, 'sm3', $4)",
            uuid.uuid4(),
            uuid.uuid4(),
            datetime(2026, 3, 1, tzinfo=UTC),
            bytes(32),
        )
    finally:
        await owner.close()

    batches = await _all(store, 3, reveal=True)

    assert [len(b) for b in batches] == [3] * 13 + [2]
    flat = [event for batch in batches for event in batch]
    assert flat == await _one_by_one(store, reveal=True)
    order = [(e.tx_id, e.position) for e in flat]
    assert order == sorted(order)
    for stream in STREAMS:
        assert [e.version for e in flat if e.stream_id == stream] == list(range(1, 9))
    [old] = [e for e in flat if e.stream_id == "case-old"]
    assert old.data == NoteAdded(body="three old words", words=3)
    assert old.stored_schema_version == 1


async def test_each_event_keeps_its_append_metadata_and_times(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read sends occurred_at only where it differs from recorded_at; batches and decoding
    # slices (shrunk here) start inside appends.
    monkeypatch.setattr(store_module, "_DECODE_SLICE", 2)
    for k in range(8):
        metadata = Metadata(
            actor=f"officer-{k % 2}",
            service="tests",
            causation_id=uuid.uuid4() if k % 3 else None,
        )
        occurred = datetime(2026, 3, k + 1, tzinfo=UTC) if k % 4 == 1 else None
        events: list[NewEvent[Any]] = [
            NewEvent(CounterMoved(by=10 * k + j), bureau="3301", occurred_at=occurred)
            for j in range(k % 4 + 1)
        ]
        await store.append(f"case-m{k}", events, 0, metadata=metadata)
    expected = await _one_by_one(store, reveal=True)
    assert len({e.correlation_id for e in expected}) == 8
    assert any(e.occurred_at != e.recorded_at for e in expected)

    for batch_size in (1, 3, 5, 100):
        assert [e for b in await _all(store, batch_size, reveal=True) for e in b] == expected


async def test_masked_read_of_sealed_events_matches_decode_many(
    personal_store: EventStore,
) -> None:
    for k, stream in enumerate(STREAMS):
        subject = uuid.uuid4()
        petitioner = Petitioner(
            subject_id=subject,
            name="张三",
            resident_id=resident_id("11010519491231002"),
            phone="13812345678",
        )
        filed = PetitionFiled(
            subject_id=subject, petitioners=[petitioner], summary=f"反映 {k}", category="求决"
        )
        events: list[NewEvent[Any]] = [
            NewEvent(filed, bureau="3301"),
            NewEvent(CounterMoved(by=k), bureau="3301"),
        ]
        await personal_store.append(stream, events, 0, metadata=META)
    keyless = EventStore(personal_store.pool)

    flat = [e for batch in await _all(keyless, 4, reveal=False) for e in batch]

    assert flat == await _one_by_one(keyless, reveal=False)
    assert len(flat) == 10
    filings = [e.data for e in flat if isinstance(e.data, PetitionFiled)]
    assert [f.petitioners[0].name for f in filings] == ["张*"] * 5
    assert all(f.petitioners[0].phone != "13812345678" for f in filings)


async def test_masked_read_cuts_the_last_vault_when_a_key_is_spelled_like_it(
    personal_store: EventStore,
) -> None:
    # PostgreSQL cuts the vault off where it occurs once; a key inside the event spelled like its
    # opening makes two, and the reader then cuts at the last, where the vault is.
    subject = uuid.uuid4()
    tags = {"a": "1", "$vault": "2"}
    events: list[NewEvent[Any]] = [
        NewEvent(PetitionTagged(subject_id=subject, note="电话回访", tags=tags), bureau="3301"),
        NewEvent(PetitionTagged(subject_id=subject, note="", tags={}), bureau="3301"),
    ]
    await personal_store.append("case-tagged", events, 0, metadata=META)
    keyless = EventStore(personal_store.pool)

    flat = [e for batch in await _all(keyless, 10, reveal=False) for e in batch]

    assert flat == await _one_by_one(keyless, reveal=False)
    assert [e.data.tags for e in flat] == [tags, {}]
    assert flat[0].data.note != "电话回访"
    with pytest.raises(PersonalDataError):
        await _all(keyless, 10, reveal=True)


@pytest.mark.parametrize(
    ("statement", "bad_version", "reason"),
    [
        ("UPDATE eventstore.events SET data = '{\"by\":99}'", 4, "hash"),
        ("UPDATE eventstore.events SET actor = 'forger'", 4, "hash"),
        ("DELETE FROM eventstore.events", 4, "missing"),
    ],
)
@pytest.mark.parametrize("lanes", [1, 2, 4])
async def test_verify_all_finds_tampering_among_interleaved_streams(
    store: EventStore, database_url: str, statement: str, bad_version: int, reason: str, lanes: int
) -> None:
    await _interleaved(store)
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await owner.execute(f"{statement} WHERE stream_id = 'case-o2' AND version = 4")
        await owner.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await owner.close()

    in_order = await verify_every_stream(store.pool, lanes)
    results = {r.stream_id: r for r in in_order}

    assert [r.stream_id for r in in_order] == STREAMS  # one each, in stream-id order

    bad = results.pop("case-o2")
    assert (bad.ok, bad.first_bad_version, bad.events_checked) == (False, bad_version, 3)
    assert reason in (bad.reason or "")
    assert all(r.ok and r.events_checked == 8 for r in results.values())


async def test_verify_all_on_a_pool_of_one_uses_one_lane(
    store: EventStore, settings: CommonSettings
) -> None:
    """With no connection to spare, the whole log is one lane (not a wait for ever)."""
    pool = await create_pool(settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1}))
    try:
        await _interleaved(EventStore(pool))
        results = await verify_every_stream(pool, lanes=4)
    finally:
        await pool.close()
    assert [(r.stream_id, r.ok, r.events_checked) for r in results] == [
        (stream, True, 8) for stream in STREAMS
    ]
