"""The PostgreSQL event store (asyncpg).

Append is one round trip: a single statement bumps the stream row only if it is at the expected
version and inserts the events only if that bump happened. Conflicts are sorted out afterwards,
on the slow path: a repeated append of stored event ids is a no-op, anything else is a
:class:`WrongExpectedVersionError` naming the actual version.

Its parts by role: :mod:`.sql` (the statements), :mod:`.chain` (linking and checking the hash
chain), :mod:`.sealing` (personal fields in), :mod:`.decoding` (typed events out),
:mod:`.notify` (announcing appends). :mod:`.port` states what any store offers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID, uuid5

import asyncpg

from petitions.eventstore import hashing, sql, verification
from petitions.eventstore.chain import chain_append
from petitions.eventstore.decoding import Decoder
from petitions.eventstore.model import (
    ANY,
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
from petitions.eventstore.notify import CHANNEL, Announcer
from petitions.eventstore.reads import StreamReads
from petitions.eventstore.sealing import PersonalData, Sealer, prepare_sealer
from petitions.messages import EventRegistry, registry
from petitions.messages.personal import PersonalDataErased
from petitions.personal.keys import DataKeys, PersonalDataError
from petitions.turns import next_turn

__all__ = ["CHANNEL", "DEFAULT_MAX_EVENT_BYTES", "START", "EventStore", "PersonalData"]

S = TypeVar("S")
START = Cursor()
"""The cursor before the first event."""

_HEAD_CACHE_SIZE = 100_000
_DECODE_SLICE = 500
_POSITION, _TX = 0, 14  # of a row selected with sql.COLUMNS or sql.DECODE_COLUMNS

DEFAULT_MAX_EVENT_BYTES = 512 * 1024
"""Half of NATS's default max_payload (1 MiB): the relay's message adds the envelope (under 1 kB)
and headers to the data, and a server configured somewhat lower still takes every event."""

category_of = sql.category_of


class EventStore(StreamReads):
    """Append to and read from the event store. One instance per process, over a pool."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        hash_algorithm: str = "sm3",
        events: EventRegistry = registry,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        notify_delay: float = 0.002,
        personal: PersonalData | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        hashing.check_algorithm(hash_algorithm)
        self._max_event_bytes = max_event_bytes
        self._pool = pool
        self._personal = personal
        self._alg = hash_algorithm
        self._decoder = Decoder(events, personal)
        self._clock = clock
        # (stream, version) -> hash of that event. History never changes, so an entry never goes
        # stale; it saves the writer a round trip to learn the link it chains onto.
        self._heads: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._announcer = Announcer(pool, notify_delay)
        self.appended = 0
        """Events this store wrote (/metrics). Those appended in a caller's transaction count
        when written, whether or not that transaction commits later."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    @property
    def notify_failures(self) -> int:
        """Append announcements that failed (readers then find the events on their next poll)."""
        return self._announcer.failures

    # ------------------------------------------------------------------ append

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected_version: int | _Any,
        *,
        metadata: Metadata,
        connection: asyncpg.Connection | None = None,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` if it is at ``expected_version`` (0: a new stream).

        Pass ``connection`` to append inside the caller's transaction (for example together with
        a gapless case number); it then commits or rolls back with that transaction.
        """
        if not events:
            raise ValueError("append needs at least one event")
        if isinstance(expected_version, _Any):
            return await self._append_any(stream_id, events, metadata)
        if expected_version < 0:
            raise ValueError("expected_version must be 0 (new stream), a version, or ANY")
        if connection is not None:
            sealer = await prepare_sealer(self._personal, events, connection)
            previous = await self._head_hash(connection, stream_id, expected_version)
            return await self._append(
                connection, stream_id, events, expected_version, previous, metadata, sealer
            )
        # Keys first, before holding a connection: the key look-up takes one of its own, and 8
        # writers each holding one while waiting for another would drain the pool for good.
        sealer = await prepare_sealer(self._personal, events)
        async with self._pool.acquire() as conn:
            previous = await self._head_hash(conn, stream_id, expected_version)
            return await self._append(
                conn, stream_id, events, expected_version, previous, metadata, sealer
            )

    async def _append_any(
        self, stream_id: str, events: Sequence[NewEvent[Any]], metadata: Metadata
    ) -> AppendResult:
        sealer = await prepare_sealer(self._personal, events)
        async with self._pool.acquire() as conn:
            for _ in range(20):
                row = await conn.fetchrow(sql.STREAM_HEAD, stream_id)
                version, previous = (0, hashing.GENESIS) if row is None else (row[0], bytes(row[1]))
                try:
                    return await self._append(
                        conn, stream_id, events, version, previous, metadata, sealer
                    )
                except WrongExpectedVersionError:
                    continue
        raise WrongExpectedVersionError(stream_id, -1, version)

    async def _head_hash(self, conn: asyncpg.Connection, stream_id: str, version: int) -> bytes:
        if version == 0:
            return hashing.GENESIS
        cached = self._heads.get((stream_id, version))
        if cached is not None:
            return cached
        row = await conn.fetchrow(sql.STREAM_HEAD, stream_id)
        actual = 0 if row is None else row[0]
        if actual != version:
            raise WrongExpectedVersionError(stream_id, version, actual)
        head = bytes(row[1])
        self._remember(stream_id, version, head)
        return head

    def _remember(self, stream_id: str, version: int, digest: bytes) -> None:
        self._heads[(stream_id, version)] = digest
        if len(self._heads) > _HEAD_CACHE_SIZE:
            self._heads.popitem(last=False)

    async def _append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[NewEvent[Any]],
        expected: int,
        previous: bytes,
        metadata: Metadata,
        sealer: Sealer | None,
    ) -> AppendResult:
        recorded_at = self._clock()
        if sealer is not None:
            sealer.tokens.clear()  # a retried attempt seals again, at its new version
        chained = chain_append(
            algorithm=self._alg,
            stream_id=stream_id,
            events=events,
            expected=expected,
            previous=previous,
            metadata=metadata,
            recorded_at=recorded_at,
            encode=(
                (lambda new, _version: new.data.model_dump_json())
                if sealer is None
                else (lambda new, version: sealer.seal(new, stream_id, version))
            ),
            max_event_bytes=self._max_event_bytes,
        )
        new_version = expected + len(events)
        args: list[Any] = [
            stream_id,
            expected,
            new_version,
            chained.head,
            metadata.actor,
            metadata.service,
            metadata.correlation_id,
            metadata.causation_id,
            recorded_at,
            self._alg,
        ]
        single = len(events) == 1
        c = chained
        if single:
            args += [c.ids[0], c.types[0], c.schema_versions[0], c.bureaus[0], c.datas[0]]
            args.append(c.occurred[0])
        else:
            args += [c.versions, c.ids, c.types, c.schema_versions, c.bureaus, c.datas]
            args += [c.occurred, c.digests]
        if expected == 0:
            args += [sql.category_of(stream_id), events[0].bureau]
        tokens = sealer.tokens if sealer is not None else []
        if tokens:
            args += [[t[0] for t in tokens], [t[1] for t in tokens], [t[2] for t in tokens]]
        statement = sql.APPEND[(expected == 0, single, bool(tokens))]
        try:
            positions = await conn.fetchval(statement, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "events_event_id_key":
                raise
            positions = None
        if positions:
            self._remember(stream_id, new_version, chained.head)
            self._announcer.announce()
            self.appended += len(positions)
            return AppendResult(stream_id, new_version, tuple(positions))
        return await self._resolve_conflict(conn, stream_id, chained.ids, expected)

    async def flush(self) -> None:
        """Send the append announcement still waiting, now. Call it before closing the pool of
        a short-lived process (a command line tool), or its last appends wake no reader."""
        await self._announcer.flush()

    async def _resolve_conflict(
        self, conn: asyncpg.Connection, stream_id: str, ids: list[UUID], expected: int
    ) -> AppendResult:
        stored = await conn.fetch(sql.STORED_IDS, ids)
        actual = await conn.fetchval(sql.STREAM_VERSION, stream_id)
        if len(stored) == len(ids) and all(r["stream_id"] == stream_id for r in stored):
            return AppendResult(
                stream_id, actual or 0, tuple(r["position"] for r in stored), duplicate=True
            )
        if stored:
            raise PartialDuplicateError(
                f"append to {stream_id!r}: {len(stored)} of {len(ids)} event ids are already "
                "stored (some on another stream?); a retry must resend exactly the same events"
            )
        raise WrongExpectedVersionError(stream_id, expected, actual or 0)

    # ------------------------------------------------------------------ read one stream

    async def read_stream_raw(
        self,
        stream_id: str,
        from_version: int = 1,
        to_version: int | None = None,
        *,
        as_of: datetime | None = None,
        by: Literal["recorded", "occurred"] = "recorded",
    ) -> list[RawEvent]:
        """Events of one stream in version order, optionally only those known (recorded) or
        that happened (occurred) at or before ``as_of``."""
        args: list[Any] = [stream_id, from_version, to_version or 2**62]
        column = None
        if as_of is not None:
            column = "recorded_at" if by == "recorded" else "occurred_at"
            args.append(as_of)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql.read_stream(as_of_column=column), *args)
        raws = [sql.raw(r) for r in rows]
        if raws and as_of is None:
            last = raws[-1]
            self._remember(stream_id, last.version, last.hash)
        return raws

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 if it does not exist)."""
        version = await self._pool.fetchval(sql.STREAM_VERSION, stream_id)
        return int(version or 0)

    # ------------------------------------------------------------------ read everything

    async def read_all_raw(self, after: Cursor = START, limit: int = 1000) -> list[RawEvent]:
        """The next events of the whole log after ``after``, in (transaction, position) order.

        Only events of transactions older than every transaction still running are returned, so an
        append that commits late is never passed over: the reader waits for it instead.
        """
        rows = await self._pool.fetch(sql.READ_ALL, str(after.tx_id), after.position, limit)
        return [sql.raw(r) for r in rows]

    async def iter_all(
        self, after: Cursor = START, batch_size: int = 5000, *, reveal: bool = True
    ) -> AsyncIterator[list[RecordedEvent[Any]]]:
        """Every committed event after ``after``, decoded, in batches, until caught up.

        The rows are fetched by a task of their own while the batch before is decoded, and the
        decoding lets that task run every few hundred rows: PostgreSQL then reads and sends on
        another core instead of waiting for the decoding to finish (a fetch merely started
        before a decoding that never awaits is sent only when the decoding is done).
        """
        if self._personal is not None:
            async for raws in self._iter_all_raw(after, batch_size):
                yield await self.decode_many(raws, reveal=reveal)
            return
        decode = self._decoder.decode_rows
        async for rows in self._read_ahead(sql.READ_ALL_DECODE, after, batch_size):
            out: list[RecordedEvent[Any]] = []
            for start in range(0, len(rows), _DECODE_SLICE):
                out += decode(rows[start : start + _DECODE_SLICE], reveal=reveal)
                await next_turn()  # the fetch task takes in what has arrived
            yield out

    async def _iter_all_raw(self, after: Cursor, batch_size: int) -> AsyncIterator[list[RawEvent]]:
        async for rows in self._read_ahead(sql.READ_ALL, after, batch_size):
            yield [sql.raw(r) for r in rows]

    async def _read_ahead(
        self, statement: str, after: Cursor, batch_size: int
    ) -> AsyncIterator[list[Any]]:
        """Batches of event rows (``statement``: :data:`sql.READ_ALL` or its form with other
        columns) after ``after`` until caught up, the next one fetched while the caller works
        on this one."""
        batches: asyncio.Queue[list[Any]] = asyncio.Queue(maxsize=1)

        async def fetch() -> None:
            # A pooled connection per batch, not one held throughout: a caller may use the
            # pool between batches, and a pool of one would then wait for ever.
            cursor = after
            while True:
                rows = await self._pool.fetch(
                    statement, str(cursor.tx_id), cursor.position, batch_size
                )
                await batches.put(rows)
                if not rows:
                    return
                last = rows[-1]
                cursor = Cursor(last[_TX], last[_POSITION])

        task = asyncio.ensure_future(fetch())
        getting: asyncio.Future[list[Any]] | None = None
        try:
            while True:
                getting = asyncio.ensure_future(batches.get())
                await asyncio.wait({getting, task}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    await task  # the fetch ended without a last, empty batch: it failed
                rows = getting.result()
                if not rows:
                    return
                yield rows
        finally:
            for future in (getting, task):
                if future is not None:
                    future.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------ decode

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        """Typed events; personal fields opened (``reveal``) or masked, in one key look-up.

        A store without keys reads the masked forms without parsing the vault at all; a store
        with keys consults them even for masks, so that an erased subject shows as erased.
        """
        return await self._decoder.decode_many(raws, reveal=reveal)

    # ------------------------------------------------------------------ personal data

    async def find_by_index(self, kind: str, value: str) -> list[tuple[str, UUID]]:
        """Streams (and subjects) whose events carry ``value`` in a field indexed as ``kind``
        (``resident_id``, ``phone``), found through the blind index."""
        if self._personal is None or self._personal.index is None:
            raise PersonalDataError("blind-index look-ups need PersonalData(index=BlindIndex(...))")
        rows = await self._pool.fetch(
            sql.FIND_BY_INDEX, kind, self._personal.index.token(kind, value)
        )
        return [(r["stream_id"], r["subject_id"]) for r in rows]

    async def erase_subject(self, subject: UUID, *, reason: str, metadata: Metadata) -> bool:
        """Erase a data subject: record who and why, then destroy their key and index entries.

        Their events stay and still verify; their fields read as erased from then on. Safe to
        repeat: the record is appended once, and a destroyed key stays destroyed. Returns False
        if the subject had no key (nothing of theirs was stored).
        """
        if self._personal is None:
            raise PersonalDataError("erasure needs the key service: build with personal=...")
        if not reason.strip():
            raise ValueError("擦除须说明理由 erasure needs a reason")
        erased = PersonalDataErased(subject_id=subject, reason=reason)
        await self.append(
            f"subject-{subject}",
            [NewEvent(erased, bureau="-", event_id=uuid5(subject, "personal-data-erased"))],
            ANY,
            metadata=metadata,
        )
        keys = self._personal.keys
        if not isinstance(keys, DataKeys):
            raise PersonalDataError("erasure needs the data keys kept in PostgreSQL (DataKeys)")
        async with self._pool.acquire() as conn, conn.transaction():
            return await keys.destroy(conn, subject, metadata.actor, reason)

    # ------------------------------------------------------------------ verify

    async def verify(self, stream_id: str) -> VerificationResult:
        """Recompute the stream's hash chain; report the first event that does not match."""
        return await verification.verify_stream(self._pool, stream_id)

    async def verify_all(self) -> list[VerificationResult]:
        """Verify every stream; return one result per stream (failures and successes)."""
        return await verification.verify_every_stream(self._pool)

    # ------------------------------------------------------------------ read by id

    async def read_events_raw(self, event_ids: Sequence[UUID]) -> dict[UUID, RawEvent]:
        """The stored events with these ids (an id the store does not hold is simply absent):
        what a consumer checks a relayed message against."""
        if not event_ids:
            return {}
        rows = await self._pool.fetch(sql.READ_BY_IDS, list(event_ids))
        raws = [sql.raw(r) for r in rows]
        return {raw.event_id: raw for raw in raws}
