"""Assignment's own event ids (take-up, notices) are keyed with the deployment's secret: the
same in every replica, unknowable to anyone who can only publish on NATS."""

from __future__ import annotations

import base64
import uuid
from uuid import UUID

import asyncpg
import httpx
import pytest
from assignment.config import Settings
from assignment.main import event_id_key
from petitions.eventstore import EventStore
from petitions.ids import keyed_event_id

from tests.conftest import TEST_EVENT_ID_KEY, Token
from tests.integration.test_assignment_api import register, stream

pytestmark = pytest.mark.integration

_OLD_TAKE_UP_NAMESPACE = uuid.UUID("6a0f1f0e-54d4-4a8e-8f0b-3d1f0c9b7e21")


async def test_take_up_ids_are_keyed_with_the_key_the_database_keeps(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    case = await register(client, assignment, auth, 1)
    case_id = UUID(case["case_id"])
    taken_up = [e for e in await stream(store, case["case_id"]) if e.service == "assignment"]
    assert taken_up
    # The fixture's service is configured with the tests' key (PETITIONS_EVENT_ID_KEY).
    assert [e.event_id for e in taken_up] == [
        keyed_event_id(TEST_EVENT_ID_KEY, f"take-up|{case_id}|{i}") for i in range(len(taken_up))
    ]
    assert taken_up[0].event_id != uuid.uuid5(_OLD_TAKE_UP_NAMESPACE, f"{case_id}|0")

    # Unconfigured, the first process makes a key and keeps it in the database; every process
    # of the deployment then gets the same one; a configured key comes first.
    assert await pool.fetchval("SELECT count(*) FROM assignment.event_id_key") == 0
    settings = Settings(database_url="postgresql://unused", nats_url="nats://unused")
    key = await event_id_key(settings, pool)
    assert len(key) == 32
    assert await event_id_key(settings, pool) == key
    assert bytes(await pool.fetchval("SELECT key FROM assignment.event_id_key")) == key
    configured = Settings(
        database_url="postgresql://unused",
        nats_url="nats://unused",
        event_id_key=base64.b64encode(b"k" * 16).decode(),
    )
    assert await event_id_key(configured, pool) == b"k" * 16
    too_short = Settings(
        database_url="postgresql://unused",
        nats_url="nats://unused",
        event_id_key=base64.b64encode(b"k" * 8).decode(),
    )
    with pytest.raises(ValueError, match="16 bytes"):
        await event_id_key(too_short, pool)
