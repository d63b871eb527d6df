"""The event store's schema: apply its migrations (idempotent, safe to run from every replica)."""

from __future__ import annotations

import asyncpg

from petitions.migrations import apply_package

OWNER = "eventstore"
PACKAGE = "petitions.eventstore.migrations"


async def apply_migrations(dsn: str) -> list[str]:
    """Bring the event store schema at ``dsn`` up to date; return the migrations applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        return await apply_package(conn, OWNER, PACKAGE)
    finally:
        await conn.close()
