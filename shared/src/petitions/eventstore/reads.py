"""The reads every event store builds the same way from its two primitives: raw rows of one
stream, and decoding them (so the PostgreSQL and the in-memory store cannot drift apart)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from petitions.eventstore.model import RawEvent, RecordedEvent

S = TypeVar("S")


class StreamReads:
    """Typed reads and folds of one stream, on top of ``read_stream_raw`` and ``decode_many``."""

    async def read_stream_raw(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> list[RawEvent]:
        raise NotImplementedError

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        raise NotImplementedError

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
        """Typed events of one stream (upcast to their current schema; personal fields in the
        clear with ``reveal``, else masked)."""
        raws = await self.read_stream_raw(stream_id, from_version, to_version, as_of=as_of, by=by)
        return await self.decode_many(raws, reveal=reveal)

    async def load(
        self,
        stream_id: str,
        initial: S,
        evolve: Callable[[S, RecordedEvent[Any]], S],
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> tuple[S, int]:
        """Fold a stream into a state with a pure ``evolve``; return it and its version."""
        state = initial
        version = 0
        for event in await self.read_stream(stream_id, as_of=as_of, by=by):
            state = evolve(state, event)
            version = event.version
        return state, version
