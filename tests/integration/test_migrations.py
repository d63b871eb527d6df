"""Migrations: applied once, serialised between replicas, and never silently edited."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from petitions.eventstore import apply_migrations
from petitions.migrations import MigrationChecksumError, apply_package

pytestmark = pytest.mark.integration


async def test_migrations_are_idempotent_and_serialised(database_url: str) -> None:
    # The template already applied them; replicas starting together apply nothing twice.
    results = await asyncio.gather(*(apply_migrations(database_url) for _ in range(3)))
    assert results == [[], [], []]
    conn = await asyncpg.connect(database_url)
    try:
        applied = await conn.fetch("SELECT owner, name FROM public.petitions_migrations")
    finally:
        await conn.close()
    assert sorted(tuple(r) for r in applied) == [
        ("eventstore", "0001_event_store.sql"),
        ("eventstore", "0002_service_role.sql"),
        ("eventstore", "0003_personal_data.sql"),
        ("eventstore", "0004_relay_incidents.sql"),
        ("eventstore", "0005_service_login.sql"),
    ]


async def test_an_edited_applied_migration_is_refused(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "UPDATE public.petitions_migrations SET checksum = 'edited' "
            "WHERE name = '0001_event_store.sql'"
        )
        with pytest.raises(MigrationChecksumError, match=r"0001_event_store\.sql"):
            await apply_package(conn, "eventstore", "petitions.eventstore.migrations")
    finally:
        await conn.close()
