"""An event store in memory: the port (:mod:`.port`) without a database, for fast unit tests
of application services. It passes the same contract suite as the PostgreSQL store
(tests/contract) and chains, seals and decodes with the same code (:mod:`.chain`,
:mod:`.sealing`, :mod:`.decoding`). Without ``personal`` it holds no personal data: events with
personal fields are refused as by a store without keys; given
``PersonalData(MemoryDataKeys())`` it seals them as the PostgreSQL store does (keys in a dict).

Every append is its own transaction and commits at once, so the ordered log never waits for a
late commit. Not for production: nothing survives the process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from petitions.eventstore import hashing
from petitions.eventstore.chain import ChainChecker, chain_append
from petitions.eventstore.decoding import Decoder
from petitions.eventstore.model import (
    AppendResult,
    Cursor,
    Metadata,
    NewEvent,
    PartialDuplicateError,
    RawEvent,
    RecordedEvent,
    VerificationResult,
    WrongExpectedVersionError,
    _Any,
)
from petitions.eventstore.reads import StreamReads
from petitions.eventstore.sealing import PersonalData, prepare_sealer
from petitions.eventstore.store import DEFAULT_MAX_EVENT_BYTES, START
from petitions.messages import EventRegistry, registry
from petitions.personal.keys import PersonalDataError
from petitions.turns import next_turn

S = TypeVar("S")


@dataclass
class _Stream:
    version: int = 0
    head: bytes = hashing.GENESIS
    events: list[RawEvent] = field(default_factory=list)


class InMemoryEventStore(StreamReads):
    """The event store port over Python lists (see the module's description)."""

    def __init__(
        self,
        *,
        hash_algorithm: str = "sm3",
        events: EventRegistry = registry,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        personal: PersonalData | None = None,
    ) -> None:
        hashing.check_algorithm(hash_algorithm)
        self._alg = hash_algorithm
        self._clock = clock
        self._max_event_bytes = max_event_bytes
        self._personal = personal
        self._decoder = Decoder(events, personal)
        self._streams: dict[str, _Stream] = {}
        self._log: list[RawEvent] = []
        self._by_id: dict[UUID, RawEvent] = {}
        # (kind, token) -> {(stream id, subject)}: the blind index, as personal.blind_index
        self._index: dict[tuple[str, bytes], set[tuple[str, UUID]]] = {}
        self._tx = 0
        self.appended = 0

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int | _Any,
        *,
        metadata: Metadata,
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        # Without keys this refuses personal data, as a store without keys does.
        sealer = await prepare_sealer(self._personal, events)
        stream = self._streams.get(stream_id) or _Stream()
        if isinstance(expected_version, _Any):
            expected = stream.version
        elif expected_version < 0:
            raise ValueError("expected_version must be 0 (new stream), a version, or ANY")
        else:
            expected = expected_version
        ids = [new.event_id for new in events]
        if expected != stream.version or any(i in self._by_id for i in ids):
            return self._resolve_conflict(stream_id, ids, expected, stream.version)
        recorded_at = self._clock()
        chained = chain_append(
            algorithm=self._alg,
            stream_id=stream_id,
            events=events,
            expected=expected,
            previous=stream.head,
            metadata=metadata,
            recorded_at=recorded_at,
            encode=(
                (lambda new, _version: new.data.model_dump_json())
                if sealer is None
                else (lambda new, version: sealer.seal(new, stream_id, version))
            ),
            max_event_bytes=self._max_event_bytes,
        )
        self._tx += 1
        first = len(self._log) + 1
        for k in range(len(events)):
            raw = RawEvent(
                position=first + k,
                stream_id=stream_id,
                version=chained.versions[k],
                event_id=chained.ids[k],
                event_type=chained.types[k],
                schema_version=chained.schema_versions[k],
                bureau=chained.bureaus[k],
                data=chained.datas[k],
                actor=metadata.actor,
                service=metadata.service,
                correlation_id=metadata.correlation_id,
                causation_id=metadata.causation_id,
                occurred_at=chained.occurred[k],
                recorded_at=recorded_at,
                tx_id=self._tx,
                hash_alg=self._alg,
                hash=chained.digests[k],
            )
            self._log.append(raw)
            self._by_id[raw.event_id] = raw
            stream.events.append(raw)
        for kind, token, subject in sealer.tokens if sealer is not None else ():
            self._index.setdefault((kind, token), set()).add((stream_id, subject))
        stream.version = expected + len(events)
        stream.head = chained.head
        self._streams[stream_id] = stream
        self.appended += len(events)
        await next_turn()  # an append is a suspension point, as on a database
        return AppendResult(stream_id, stream.version, tuple(range(first, first + len(events))))

    def _resolve_conflict(
        self, stream_id: str, ids: list[UUID], expected: int, actual: int
    ) -> AppendResult:
        stored = sorted((self._by_id[i] for i in ids if i in self._by_id), key=lambda r: r.position)
        if len(stored) == len(ids) and all(r.stream_id == stream_id for r in stored):
            return AppendResult(
                stream_id, actual, tuple(r.position for r in stored), duplicate=True
            )
        if stored:
            raise PartialDuplicateError(
                f"append to {stream_id!r}: {len(stored)} of {len(ids)} event ids are already "
                "stored (some on another stream?); a retry must resend exactly the same events"
            )
        raise WrongExpectedVersionError(stream_id, expected, actual)

    async def stream_version(self, stream_id: str) -> int:
        stream = self._streams.get(stream_id)
        return 0 if stream is None else stream.version

    async def read_stream_raw(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> list[RawEvent]:
        stream = self._streams.get(stream_id)
        if stream is None:
            return []
        last = to_version or 2**62
        out = [r for r in stream.events if from_version <= r.version <= last]
        if as_of is not None:
            out = [
                r for r in out if (r.recorded_at if by == "recorded" else r.occurred_at) <= as_of
            ]
        return out

    async def read_all_raw(self, after: Cursor = START, limit: int = 1000) -> list[RawEvent]:
        # Positions here are 1, 2, 3... in commit order, so (transaction, position) order is
        # position order and the event at position n sits at index n - 1.
        return self._log[after.position : after.position + limit]

    async def iter_all(
        self, after: Cursor = START, batch_size: int = 5000, *, reveal: bool = True
    ) -> AsyncIterator[list[RecordedEvent[Any]]]:
        while raws := await self.read_all_raw(after, batch_size):
            after = raws[-1].cursor
            yield await self.decode_many(raws, reveal=reveal)

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        return await self._decoder.decode_many(raws, reveal=reveal)

    async def find_by_index(self, kind: str, value: str) -> list[tuple[str, UUID]]:
        """Streams (and subjects) whose events carry ``value`` in a field indexed as ``kind``,
        as :meth:`EventStore.find_by_index` (needs ``PersonalData(..., index=BlindIndex(...))``).
        """
        if self._personal is None or self._personal.index is None:
            raise PersonalDataError("blind-index look-ups need PersonalData(index=BlindIndex(...))")
        token = self._personal.index.token(kind, value)
        return sorted(self._index.get((kind, token), ()), key=lambda found: found[0])

    async def read_events_raw(self, event_ids: Sequence[UUID]) -> dict[UUID, RawEvent]:
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

    async def verify(self, stream_id: str) -> VerificationResult:
        stream = self._streams.get(stream_id)
        checker = ChainChecker(stream_id)
        if stream is None:
            return checker.finish(None)
        for raw in stream.events:
            if not checker.feed(raw):
                break
        return checker.finish((stream.version, stream.head))

    async def verify_all(self) -> list[VerificationResult]:
        return [await self.verify(stream_id) for stream_id in sorted(self._streams)]
