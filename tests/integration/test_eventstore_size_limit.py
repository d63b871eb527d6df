"""An event too large for one NATS message is refused at append and never stored (issue 11,
item 2: one 1.5 MB event stopped the relay, and with it every bureau's events)."""

from __future__ import annotations

import asyncpg
import pytest
from petitions.eventstore import EventStore, EventTooLargeError, Metadata, NewEvent
from petitions.eventstore.store import DEFAULT_MAX_EVENT_BYTES
from petitions.settings import CommonSettings

from tests.support.events import NoteAdded

pytestmark = pytest.mark.integration

META = Metadata(actor="officer-001", service="tests")


def note(body: str) -> NewEvent[NoteAdded]:
    return NewEvent(NoteAdded(body=body, words=1), bureau="3301")


async def test_the_default_limit_leaves_room_below_nats_max_payload() -> None:
    assert DEFAULT_MAX_EVENT_BYTES <= 768 * 1024  # 1 MiB max_payload less envelope and headers
    assert CommonSettings().max_event_bytes == DEFAULT_MAX_EVENT_BYTES


async def test_an_oversized_event_is_refused_and_nothing_of_its_append_is_written(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, max_event_bytes=4096)
    await store.append("case-big", [note("before")], 0, metadata=META)
    # 1,500 Chinese characters: 4,500 bytes of UTF-8, though only 1,500 characters.
    big = "长" * 1500

    with pytest.raises(EventTooLargeError) as refused:
        await store.append("case-big", [note("fits"), note(big)], 1, metadata=META)

    assert refused.value.event_type == "test.NoteAdded"
    assert refused.value.limit == 4096
    assert refused.value.size > 4500
    assert "test.NoteAdded" in str(refused.value)
    assert "事件过大" in str(refused.value)
    # Not even the small event before it: the append is all or nothing.
    assert [e.data.body for e in await store.read_stream("case-big")] == ["before"]
    assert await store.stream_version("case-big") == 1
    assert len(await store.read_all_raw()) == 1
    # The stream goes on as if the refused append had never been tried.
    result = await store.append("case-big", [note("after")], 1, metadata=META)
    assert result.version == 2


async def test_inside_a_callers_transaction_the_refusal_rolls_everything_back(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool, max_event_bytes=4096)

    async def write_both(conn: asyncpg.Connection) -> None:
        async with conn.transaction():
            await conn.execute("INSERT INTO side VALUES (1)")
            await store.append("case-new", [note("x" * 5000)], 0, metadata=META, connection=conn)

    async with pool.acquire() as conn:
        await conn.execute("CREATE TEMPORARY TABLE side (n int)")
        with pytest.raises(EventTooLargeError):
            await write_both(conn)
        assert await conn.fetchval("SELECT count(*) FROM side") == 0
    assert await store.stream_version("case-new") == 0
    assert await store.read_all_raw() == []


async def test_an_event_at_the_limit_is_stored(pool: asyncpg.Pool) -> None:
    store = EventStore(pool, max_event_bytes=4096)
    size = len(NoteAdded(body="", words=1).model_dump_json().encode())
    await store.append("case-edge", [note("x" * (4096 - size))], 0, metadata=META)
    [raw] = await store.read_stream_raw("case-edge")
    assert len(raw.data.encode()) == 4096
