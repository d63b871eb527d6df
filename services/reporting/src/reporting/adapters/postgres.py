"""The audit replay's case look-up on PostgreSQL: the reporting read models first (``cases`` on
the read pool's search_path), the event store's registrations when they lag or are missing."""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg
from petitions.eventstore import EventStore

from reporting.audit.ports import FoundCase

_FIND_IN_STORE: Final = """
    SELECT e.stream_id, s.bureau FROM eventstore.events e
    JOIN eventstore.streams s USING (stream_id)
    WHERE e.event_type = 'intake.CaseRegistered' AND e.data->>'case_number' = $1
    ORDER BY e.position LIMIT 1
"""


class PostgresCaseFinder:
    """``read_pool`` reaches the reporting read models, or None to find cases through the event
    store alone."""

    def __init__(self, store: EventStore, read_pool: asyncpg.Pool | None = None) -> None:
        self._store = store
        self._read_pool = read_pool

    async def find(self, case_number: str) -> FoundCase | None:
        case_id: UUID | None = None
        if self._read_pool is not None:
            try:
                case_id = await self._read_pool.fetchval(
                    "SELECT case_id FROM cases WHERE case_number = $1", case_number
                )
            except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
                case_id = None  # projections not built yet: the store still knows
        if case_id is not None:
            bureau = await self._store.pool.fetchval(
                "SELECT bureau FROM eventstore.streams WHERE stream_id = $1", f"case-{case_id}"
            )
            if bureau is not None:
                return FoundCase(case_id, bureau)
        # The read models may lag (or be rebuilding): the registration itself is authoritative.
        row = await self._store.pool.fetchrow(_FIND_IN_STORE, case_number)
        if row is None:
            return None
        return FoundCase(UUID(row["stream_id"].removeprefix("case-")), row["bureau"])
