"""What the application layer may ask of an event store: the port.

:class:`petitions.eventstore.EventStore` (PostgreSQL) and
:class:`petitions.eventstore.memory.InMemoryEventStore` implement it and pass the same contract
suite (tests/contract). The PostgreSQL store offers more than this (appending inside a caller's
transaction, personal-data erasure, the blind index, its pool): code that needs those is an
adapter, not application logic.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar
from uuid import UUID

from petitions.eventstore.model import (
    AppendResult,
    Cursor,
    Metadata,
    NewEvent,
    RawEvent,
    RecordedEvent,
    VerificationResult,
    _Any,
)

if TYPE_CHECKING:
    from petitions.eventstore.memory import InMemoryEventStore
    from petitions.eventstore.store import EventStore

S = TypeVar("S")


class EventStorePort(Protocol):
    """Append-only streams with optimistic concurrency, one ordered log over them, hash chains."""

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int | _Any,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        """Append if the stream is at ``expected_version`` (0: new; ANY: whatever it is).
        Event ids already stored on this stream make the append a no-op (``duplicate``); some
        stored and some new is :class:`PartialDuplicateError`; otherwise a stale version is
        :class:`WrongExpectedVersionError` naming the actual one."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 if it does not exist)."""
        ...

    async def read_stream_raw(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> list[RawEvent]:
        """One stream's events as stored, in version order (``as_of``: known or happened by
        then)."""
        ...

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
        reveal: bool = True,
    ) -> list[RecordedEvent[Any]]:
        """One stream's events, typed and upcast."""
        ...

    async def load(
        self,
        stream_id: str,
        initial: S,
        evolve: Callable[[S, RecordedEvent[Any]], S],
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> tuple[S, int]:
        """Fold a stream with a pure ``evolve``: the state and its version."""
        ...

    async def read_all_raw(self, after: Cursor = ..., limit: int = 1000) -> list[RawEvent]:
        """The next committed events of the whole log after ``after``, in cursor order."""
        ...

    def iter_all(
        self, after: Cursor = ..., batch_size: int = 5000, *, reveal: bool = True
    ) -> AsyncIterator[list[RecordedEvent[Any]]]:
        """Every committed event after ``after``, decoded, in batches, until caught up."""
        ...

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        """Typed events from stored ones."""
        ...

    async def read_events_raw(self, event_ids: Sequence[UUID]) -> dict[UUID, RawEvent]:
        """The stored events with these ids (absent ids are left out)."""
        ...

    async def verify(self, stream_id: str) -> VerificationResult:
        """Recompute one stream's hash chain."""
        ...

    async def verify_all(self) -> list[VerificationResult]:
        """Recompute every stream's hash chain."""
        ...


if TYPE_CHECKING:  # mypy checks that both stores implement the port

    def _implementations(pg: EventStore, memory: InMemoryEventStore) -> list[EventStorePort]:
        return [pg, memory]
