"""What the audit replay needs of storage besides the event store (its port): finding a case by
its number. :mod:`reporting.adapters.postgres` implements it on the read models and the event
store, :mod:`reporting.adapters.memory` on
:class:`~petitions.eventstore.memory.InMemoryEventStore` (fast tests of the replay)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class FoundCase:
    case_id: UUID
    bureau: str
    """The bureau of the case's stream (what its audit reads are filed under)."""


class CaseFinder(Protocol):
    async def find(self, case_number: str) -> FoundCase | None:
        """The case registered under ``case_number``, or None."""
        ...
