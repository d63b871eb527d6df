"""Append-only is enforced by the database, and tampering is found by verification."""

from __future__ import annotations

import asyncpg
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent

from tests.support.events import NoteAdded

pytestmark = pytest.mark.integration

META = Metadata(actor="officer", service="tests")


async def _three_events(store: EventStore, stream: str = "case-t") -> None:
    await store.append(
        stream,
        [NewEvent(NoteAdded(body=b, words=1), bureau="3301") for b in ("one", "two", "three")],
        0,
        metadata=META,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE eventstore.events SET actor = 'forger'",
        "DELETE FROM eventstore.events",
        "TRUNCATE eventstore.events",
    ],
)
async def test_owner_cannot_change_history(
    store: EventStore, database_url: str, statement: str
) -> None:
    await _three_events(store)
    owner = await asyncpg.connect(database_url)  # not the service role: the trigger must refuse
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute(statement)
    finally:
        await owner.close()
    assert len(await store.read_stream("case-t")) == 3


@pytest.mark.parametrize(
    "statement",
    ["UPDATE eventstore.events SET actor = 'x'", "DELETE FROM eventstore.events"],
)
async def test_service_role_may_only_insert_and_select(store: EventStore, statement: str) -> None:
    await _three_events(store)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await store.pool.execute(statement)


async def _as_superuser_without_trigger(database_url: str, statement: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only")
        await conn.execute(statement)
        await conn.execute("ALTER TABLE eventstore.events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


async def test_edited_data_is_found(store: EventStore, database_url: str) -> None:
    await _three_events(store)
    await _three_events(store, "case-clean")
    await _as_superuser_without_trigger(
        database_url,
        'UPDATE eventstore.events SET data = \'{"body":"TWO","words":1}\' '
        "WHERE stream_id = 'case-t' AND version = 2",
    )

    result = await store.verify("case-t")

    assert not result.ok
    assert result.first_bad_version == 2
    assert result.events_checked == 1
    assert "hash" in (result.reason or "")
    by_stream = {r.stream_id: r for r in await store.verify_all()}
    assert not by_stream["case-t"].ok
    assert by_stream["case-t"].first_bad_version == 2
    assert by_stream["case-clean"].ok


async def test_edited_envelope_field_is_found(store: EventStore, database_url: str) -> None:
    await _three_events(store)
    await _as_superuser_without_trigger(
        database_url,
        "UPDATE eventstore.events SET actor = 'someone-else' "
        "WHERE stream_id = 'case-t' AND version = 3",
    )
    result = await store.verify("case-t")
    assert (result.ok, result.first_bad_version) == (False, 3)


async def test_deleted_middle_event_is_found(store: EventStore, database_url: str) -> None:
    await _three_events(store)
    await _as_superuser_without_trigger(
        database_url, "DELETE FROM eventstore.events WHERE stream_id = 'case-t' AND version = 2"
    )
    result = await store.verify("case-t")
    assert (result.ok, result.first_bad_version) == (False, 2)
    assert "missing" in (result.reason or "")


async def test_deleted_last_event_is_found(store: EventStore, database_url: str) -> None:
    await _three_events(store)
    await _as_superuser_without_trigger(
        database_url, "DELETE FROM eventstore.events WHERE stream_id = 'case-t' AND version = 3"
    )
    result = await store.verify("case-t")
    assert (result.ok, result.first_bad_version) == (False, 3)
    by_stream = {r.stream_id: r for r in await store.verify_all()}
    assert not by_stream["case-t"].ok


AWKWARD = [
    '引号"反斜杠\\ and a tab\there',
    "control \x01\x1f, DEL \x7f, line\nbreaks\r, form\x0cfeed\x08, separators \u2028\u2029",
    "emoji 🐉 and </script> and 'single' quotes",
    "",
]


async def test_the_servers_canonical_bytes_are_pythons(store: EventStore) -> None:
    """verify/verify_all hash canonical bytes PostgreSQL makes (sql.CANONICAL); they must be
    the very bytes the append hashed (hashing.canonical_bytes), whatever the texts hold."""
    from datetime import UTC, datetime
    from uuid import uuid4

    from petitions.eventstore import sql
    from petitions.eventstore.chain import canonical

    caused = Metadata(actor='警官 "7"\\', service="tests\n", causation_id=uuid4())
    old = datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC)
    for i, body in enumerate(AWKWARD):
        new = NewEvent(NoteAdded(body=body, words=i), bureau="33\t01", occurred_at=old)
        await store.append(f"case-awk{i}", [new], 0, metadata=caused if i % 2 else META)

    raws = [r for i in range(len(AWKWARD)) for r in await store.read_stream_raw(f"case-awk{i}")]
    made = {
        r["position"]: r["canonical"]
        for r in await store.pool.fetch(
            f"SELECT position, {sql.CANONICAL} AS canonical FROM eventstore.events"
        )
    }
    assert [made[r.position] for r in raws] == [canonical(r) for r in raws]
    assert all(r.ok for r in await store.verify_all())
