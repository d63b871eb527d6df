"""The audit replay's case look-up on :class:`InMemoryEventStore`: the first registration under
the number, as on PostgreSQL (there are no read models to ask first). Not for production."""

from __future__ import annotations

import json
from uuid import UUID

from petitions.eventstore.memory import InMemoryEventStore

from reporting.audit.ports import FoundCase


class MemoryCaseFinder:
    def __init__(self, events: InMemoryEventStore) -> None:
        self._events = events

    async def find(self, case_number: str) -> FoundCase | None:
        for raw in await self._events.read_all_raw(limit=1_000_000):
            if (
                raw.event_type == "intake.CaseRegistered"
                and json.loads(raw.data).get("case_number") == case_number
            ):
                return FoundCase(UUID(raw.stream_id.removeprefix("case-")), raw.bureau)
        return None
