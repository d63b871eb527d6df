"""The PostgreSQL event store (asyncpg).

Append is one round trip: a single statement bumps the stream row only if it is at the expected
version and inserts the events only if that bump happened. Conflicts are sorted out afterwards,
on the slow path: a repeated append of stored event ids is a no-op, anything else is a
:class:`WrongExpectedVersionError` naming the actual version.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID, uuid5

import asyncpg

from petitions.eventstore import hashing
from petitions.eventstore.model import (
    ANY,
    AppendResult,
    Cursor,
    EventTooLargeError,
    Metadata,
    NewEvent,
    PartialDuplicateError,
    RawEvent,
    RecordedEvent,
    VerificationResult,
    WrongExpectedVersionError,
    _Any,
)
from petitions.log import get_logger
from petitions.messages import Event, EventRegistry, registry
from petitions.messages.personal import PersonalDataErased
from petitions.personal.blind_index import BlindIndex
from petitions.personal.codec import (
    Spot,
    dumps,
    might_be_sealed,
    open_event,
    plan_for,
    seal_event,
    vault_subjects,
    walk,
    without_vault,
)
from petitions.personal.keys import DataKeys, PersonalDataError

log = get_logger(__name__)

S = TypeVar("S")
START = Cursor()
"""The cursor before the first event."""

_COLUMNS = (
    "position, stream_id, version, event_id, event_type, schema_version, bureau, data, actor, "
    "service, correlation_id, causation_id, occurred_at, recorded_at, "
    "tx_id::text::bigint AS tx, hash_alg, hash"
)

# Parameters of every form: $1 stream, $2 expected version, $3 new version, $4 new head hash,
# $5 actor, $6 service, $7 correlation id, $8 causation id, $9 recorded at, $10 hash algorithm.
# One event: $11 event id, $12 type, $13 schema version, $14 bureau, $15 data, $16 occurred at
# (its version and hash are $3 and $4). Several: $11-$18, one array per event column. A new stream
# adds two more: category and bureau. Single-event appends, the common case, get their own form
# because encoding arrays costs the client more than the whole rest of an append.
_BUMP_NEW = """
    INSERT INTO eventstore.streams (stream_id, category, bureau, version, head_hash)
    SELECT $1, ${category}, ${bureau}, $3, $4 WHERE $2::bigint = 0
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING version
"""
_BUMP_EXISTING = """
    UPDATE eventstore.streams SET version = $3, head_hash = $4, updated_at = now()
    WHERE stream_id = $1 AND version = $2
    RETURNING version
"""
_INSERT_COLUMNS = """
    INSERT INTO eventstore.events (stream_id, version, event_id, event_type, schema_version,
        bureau, data, actor, service, correlation_id, causation_id, occurred_at, recorded_at,
        hash_alg, hash)
"""
_INSERT_ONE = (
    _INSERT_COLUMNS
    + """
    SELECT $1, $3, $11, $12, $13, $14, $15::json, $5, $6, $7, $8, $16, $9, $10, $4
    WHERE EXISTS (SELECT 1 FROM bumped)
    RETURNING position
"""
)
_INSERT_MANY = (
    _INSERT_COLUMNS
    + """
    SELECT $1, e.version, e.event_id, e.event_type, e.schema_version, e.bureau, e.data, $5, $6,
        $7, $8, e.occurred_at, $9, $10, e.hash
    FROM unnest($11::bigint[], $12::uuid[], $13::text[], $14::int[], $15::text[], $16::json[],
        $17::timestamptz[], $18::bytea[])
        AS e(version, event_id, event_type, schema_version, bureau, data, occurred_at, hash)
    WHERE EXISTS (SELECT 1 FROM bumped)
    ORDER BY e.version
    RETURNING position
"""
)


_INSERT_INDEX = """
    INSERT INTO personal.blind_index (kind, token, subject_id, stream_id)
    SELECT i.kind, i.token, i.subject_id, $1
    FROM unnest(${kinds}::text[], ${tokens}::bytea[], ${subjects}::uuid[])
        AS i(kind, token, subject_id)
    WHERE EXISTS (SELECT 1 FROM bumped)
    ON CONFLICT DO NOTHING
"""


def _append_statement(*, new_stream: bool, single: bool, indexed: bool) -> str:
    """The append statement for one shape of append; extra parameters are numbered after the
    event columns, in this order: category and bureau (new stream), then the blind index."""
    next_param = 17 if single else 19
    bump = _BUMP_EXISTING
    if new_stream:
        bump = _BUMP_NEW.replace("${category}", f"${next_param}").replace(
            "${bureau}", f"${next_param + 1}"
        )
        next_param += 2
    ctes = [f"bumped AS ({bump})", f"ins AS ({_INSERT_ONE if single else _INSERT_MANY})"]
    if indexed:
        index = (
            _INSERT_INDEX.replace("${kinds}", f"${next_param}")
            .replace("${tokens}", f"${next_param + 1}")
            .replace("${subjects}", f"${next_param + 2}")
        )
        ctes.append(f"idx AS ({index})")
    return "WITH " + ", ".join(ctes) + "\nSELECT array_agg(position ORDER BY position) FROM ins"


_STATEMENTS = {
    (new_stream, single, indexed): _append_statement(
        new_stream=new_stream, single=single, indexed=indexed
    )
    for new_stream in (True, False)
    for single in (True, False)
    for indexed in (True, False)
}

_HEAD_CACHE_SIZE = 100_000

DEFAULT_MAX_EVENT_BYTES = 512 * 1024
"""Half of NATS's default max_payload (1 MiB): the relay's message adds the envelope (under 1 kB)
and headers to the data, and a server configured somewhat lower still takes every event."""

CHANNEL = "eventstore_appended"
"""NOTIFY channel on which appends are announced (payload empty: readers just read on)."""


def category_of(stream_id: str) -> str:
    """``case-3f2a...`` -> ``case``: the part before the first dash."""
    return stream_id.split("-", 1)[0]


class EventStore:
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
        self._registry = events
        self._clock = clock
        # (stream, version) -> hash of that event. History never changes, so an entry never goes
        # stale; it saves the writer a round trip to learn the link it chains onto.
        self._heads: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        # Appends are announced with one NOTIFY per ``notify_delay`` at most, outside the append
        # transactions (see migration 0001 for why).
        self._notify_delay = notify_delay
        self._notify_scheduled = False
        self._notify_timer: asyncio.TimerHandle | None = None
        self._notify_tasks: set[asyncio.Task[None]] = set()
        self.notify_failures = 0
        """Append announcements that failed (readers then find the events on their next poll)."""
        self.appended = 0
        """Events this store wrote (/metrics). Those appended in a caller's transaction count
        when written, whether or not that transaction commits later."""

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

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
            sealer = await self._sealer(events, connection)
            previous = await self._head_hash(connection, stream_id, expected_version)
            return await self._append(
                connection, stream_id, events, expected_version, previous, metadata, sealer
            )
        # Keys first, before holding a connection: the key look-up takes one of its own, and 8
        # writers each holding one while waiting for another would drain the pool for good.
        sealer = await self._sealer(events)
        async with self._pool.acquire() as conn:
            previous = await self._head_hash(conn, stream_id, expected_version)
            return await self._append(
                conn, stream_id, events, expected_version, previous, metadata, sealer
            )

    async def _append_any(
        self, stream_id: str, events: Sequence[NewEvent[Any]], metadata: Metadata
    ) -> AppendResult:
        sealer = await self._sealer(events)
        async with self._pool.acquire() as conn:
            for _ in range(20):
                row = await conn.fetchrow(
                    "SELECT version, head_hash FROM eventstore.streams WHERE stream_id = $1",
                    stream_id,
                )
                version, previous = (
                    (0, hashing.GENESIS)
                    if row is None
                    else (
                        row["version"],
                        bytes(row["head_hash"]),
                    )
                )
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
        row = await conn.fetchrow(
            "SELECT version, head_hash FROM eventstore.streams WHERE stream_id = $1", stream_id
        )
        actual = 0 if row is None else row["version"]
        if actual != version:
            raise WrongExpectedVersionError(stream_id, version, actual)
        head = bytes(row["head_hash"])
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
        sealer: _Sealer | None,
    ) -> AppendResult:
        recorded_at = self._clock()
        if sealer is not None:
            sealer.tokens.clear()  # a retried attempt seals again, at its new version
        versions: list[int] = []
        ids: list[UUID] = []
        types: list[str] = []
        schema_versions: list[int] = []
        bureaus: list[str] = []
        datas: list[str] = []
        occurred: list[datetime] = []
        digests: list[bytes] = []
        digest = previous
        for offset, new in enumerate(events, start=1):
            data: Event = new.data
            version = expected + offset
            text = (
                data.model_dump_json() if sealer is None else sealer.seal(new, stream_id, version)
            )
            # Measured as stored (sealed fields included): the relay publishes exactly this. A
            # character is at most 4 bytes, so the usual small event is never encoded to count.
            if len(text) * 4 > self._max_event_bytes:
                size = len(text.encode())
                if size > self._max_event_bytes:
                    raise EventTooLargeError(data.event_type, size, self._max_event_bytes)
            occurred_at = new.occurred_at or recorded_at
            digest = hashing.link(
                self._alg,
                digest,
                hashing.canonical_bytes(
                    stream_id=stream_id,
                    version=version,
                    event_id=new.event_id,
                    event_type=data.event_type,
                    schema_version=data.schema_version,
                    bureau=new.bureau,
                    data=text,
                    actor=metadata.actor,
                    service=metadata.service,
                    correlation_id=metadata.correlation_id,
                    causation_id=metadata.causation_id,
                    occurred_at=occurred_at,
                    recorded_at=recorded_at,
                ),
            )
            versions.append(version)
            ids.append(new.event_id)
            types.append(data.event_type)
            schema_versions.append(data.schema_version)
            bureaus.append(new.bureau)
            datas.append(text)
            occurred.append(occurred_at)
            digests.append(digest)
        new_version = expected + len(events)
        args: list[Any] = [
            stream_id,
            expected,
            new_version,
            digest,
            metadata.actor,
            metadata.service,
            metadata.correlation_id,
            metadata.causation_id,
            recorded_at,
            self._alg,
        ]
        single = len(events) == 1
        if single:
            args += [ids[0], types[0], schema_versions[0], bureaus[0], datas[0], occurred[0]]
        else:
            args += [versions, ids, types, schema_versions, bureaus, datas, occurred, digests]
        if expected == 0:
            args += [category_of(stream_id), events[0].bureau]
        indexed = sealer is not None and bool(sealer.tokens)
        if indexed:
            assert sealer is not None
            args += [
                [t[0] for t in sealer.tokens],
                [t[1] for t in sealer.tokens],
                [t[2] for t in sealer.tokens],
            ]
        sql = _STATEMENTS[(expected == 0, single, indexed)]
        try:
            positions = await conn.fetchval(sql, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "events_event_id_key":
                raise
            positions = None
        if positions:
            self._remember(stream_id, new_version, digest)
            self._announce()
            self.appended += len(positions)
            return AppendResult(stream_id, new_version, tuple(positions))
        return await self._resolve_conflict(conn, stream_id, ids, expected)

    async def _sealer(
        self, events: Sequence[NewEvent[Any]], connection: asyncpg.Connection | None = None
    ) -> _Sealer | None:
        """Keys for the personal fields of ``events``, or None when they have none."""
        personal_plans = [
            (new, plan) for new in events if not (plan := plan_for(type(new.data))).empty
        ]
        if not personal_plans:
            return None
        if self._personal is None:
            raise PersonalDataError(
                "这些事件含个人信息 these events carry personal data but the event store has no "
                "key service: build it with personal=PersonalData(...)"
            )
        subjects: set[UUID] = set()
        trees: dict[int, tuple[dict[str, Any], list[Spot]]] = {}
        for new, plan in personal_plans:
            tree = new.data.model_dump(mode="json")
            spots = walk(plan, tree)
            trees[id(new)] = (tree, spots)
            subjects.update(spot.subject for spot in spots)
        keys = await self._personal.keys.for_writing(subjects, connection)
        return _Sealer(keys, self._personal.index, trees)

    def _announce(self) -> None:
        if self._notify_scheduled:
            return
        self._notify_scheduled = True
        self._notify_timer = asyncio.get_running_loop().call_later(
            self._notify_delay, self._start_notify
        )

    async def flush(self) -> None:
        """Send the append announcement still waiting, now. Call it before closing the pool of
        a short-lived process (a command line tool), or its last appends wake no reader."""
        if self._notify_scheduled and self._notify_timer is not None:
            self._notify_timer.cancel()
            await self._notify()
        if self._notify_tasks:
            await asyncio.gather(*self._notify_tasks, return_exceptions=True)

    def _start_notify(self) -> None:
        task = asyncio.ensure_future(self._notify())
        self._notify_tasks.add(task)
        task.add_done_callback(self._notify_tasks.discard)

    async def _notify(self) -> None:
        # Cleared first: an append that lands while this NOTIFY is on the wire schedules another.
        self._notify_scheduled = False
        # Readers poll as well: a lost wake-up only delays them by one poll. So any failure is
        # only counted and logged: asyncpg raises more than its documented kinds while the
        # server restarts (InternalClientError among them), and an exception left in this
        # fire-and-forget task would surface as "Task exception was never retrieved".
        try:
            await self._pool.execute("SELECT pg_notify($1, '')", CHANNEL)
        except Exception as exc:
            self.notify_failures += 1
            log.warning("eventstore.notify_failed", error=f"{type(exc).__name__}: {exc}")

    async def _resolve_conflict(
        self, conn: asyncpg.Connection, stream_id: str, ids: list[UUID], expected: int
    ) -> AppendResult:
        stored = await conn.fetch(
            "SELECT position, stream_id FROM eventstore.events WHERE event_id = ANY($1::uuid[]) "
            "ORDER BY position",
            ids,
        )
        actual = await conn.fetchval(
            "SELECT version FROM eventstore.streams WHERE stream_id = $1", stream_id
        )
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
        conditions = ["stream_id = $1", "version >= $2", "version <= $3"]
        args: list[Any] = [stream_id, from_version, to_version or 2**62]
        if as_of is not None:
            column = "recorded_at" if by == "recorded" else "occurred_at"
            conditions.append(f"{column} <= $4")
            args.append(as_of)
        sql = (
            f"SELECT {_COLUMNS} FROM eventstore.events WHERE {' AND '.join(conditions)} "
            "ORDER BY version"
        )
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(sql, *args)
        raws = [_raw(r) for r in rows]
        if raws and as_of is None:
            last = raws[-1]
            self._remember(stream_id, last.version, last.hash)
        return raws

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

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 if it does not exist)."""
        async with self._pool.acquire() as conn:
            version = await conn.fetchval(
                "SELECT version FROM eventstore.streams WHERE stream_id = $1", stream_id
            )
        return int(version or 0)

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

    # ------------------------------------------------------------------ read everything

    async def read_all_raw(self, after: Cursor = START, limit: int = 1000) -> list[RawEvent]:
        """The next events of the whole log after ``after``, in (transaction, position) order.

        Only events of transactions older than every transaction still running are returned, so an
        append that commits late is never passed over: the reader waits for it instead.
        """
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM eventstore.events "
                "WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) "
                "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
                "ORDER BY tx_id, position LIMIT $3",
                str(after.tx_id),
                after.position,
                limit,
            )
        return [_raw(r) for r in rows]

    async def iter_all(
        self, after: Cursor = START, batch_size: int = 5000, *, reveal: bool = True
    ) -> AsyncIterator[list[RecordedEvent[Any]]]:
        """Every committed event after ``after``, decoded, in batches, until caught up.

        The next batch is fetched while this one is decoded: PostgreSQL and the decoding then run
        on different cores instead of taking turns.
        """
        pending = asyncio.ensure_future(self.read_all_raw(after, batch_size))
        try:
            while True:
                raws = await pending
                if not raws:
                    return
                pending = asyncio.ensure_future(self.read_all_raw(raws[-1].cursor, batch_size))
                yield await self.decode_many(raws, reveal=reveal)
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending

    # ------------------------------------------------------------------ decode

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        """Typed events; personal fields opened (``reveal``) or masked, in one key look-up.

        A store without keys reads the masked forms without parsing the vault at all; a store
        with keys consults them even for masks, so that an erased subject shows as erased.
        """
        if self._personal is None and reveal and any(might_be_sealed(r.data) for r in raws):
            raise PersonalDataError(
                "读取个人信息需要密钥服务 reading personal data needs a key service; "
                "read with reveal=False for the masked forms"
            )
        if self._personal is None:
            return [self._decode(raw, without_vault(raw.data), None) for raw in raws]
        trees: dict[int, dict[str, Any]] = {}
        subjects: set[UUID] = set()
        for i, raw in enumerate(raws):
            if might_be_sealed(raw.data):
                tree = json.loads(raw.data)
                trees[i] = tree
                subjects |= vault_subjects(tree)
        if not trees:  # the common case: nothing personal in the batch
            return [self._decode(raw, raw.data, None) for raw in raws]
        keys = await self._personal.keys.for_reading(subjects)
        out: list[RecordedEvent[Any]] = []
        for i, raw in enumerate(raws):
            tree = trees.get(i)
            if tree is not None:
                open_event(tree, keys, raw.stream_id, raw.version, reveal=reveal)
            out.append(self._decode(raw, raw.data, tree))
        return out

    def _decode(self, raw: RawEvent, text: str, tree: dict[str, Any] | None) -> RecordedEvent[Any]:
        cls = self._registry.class_for(raw.event_type)
        if raw.schema_version < cls.schema_version:
            source = tree if tree is not None else json.loads(text)
            data = cls.model_validate(
                self._registry.upcast(raw.event_type, raw.schema_version, source)
            )
        elif tree is not None:
            data = cls.model_validate(tree)
        else:
            data = cls.model_validate_json(text)
        return RecordedEvent(
            position=raw.position,
            stream_id=raw.stream_id,
            version=raw.version,
            event_id=raw.event_id,
            event_type=raw.event_type,
            stored_schema_version=raw.schema_version,
            bureau=raw.bureau,
            data=data,
            actor=raw.actor,
            service=raw.service,
            correlation_id=raw.correlation_id,
            causation_id=raw.causation_id,
            occurred_at=raw.occurred_at,
            recorded_at=raw.recorded_at,
            tx_id=raw.tx_id,
            hash=raw.hash,
        )

    # ------------------------------------------------------------------ personal data

    async def find_by_index(self, kind: str, value: str) -> list[tuple[str, UUID]]:
        """Streams (and subjects) whose events carry ``value`` in a field indexed as ``kind``
        (``resident_id``, ``phone``), found through the blind index."""
        if self._personal is None or self._personal.index is None:
            raise PersonalDataError("blind-index look-ups need PersonalData(index=BlindIndex(...))")
        rows = await self._pool.fetch(
            "SELECT stream_id, subject_id FROM personal.blind_index "
            "WHERE kind = $1 AND token = $2 ORDER BY stream_id",
            kind,
            self._personal.index.token(kind, value),
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
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._personal.keys.destroy(conn, subject, metadata.actor, reason)

    # ------------------------------------------------------------------ verify

    async def verify(self, stream_id: str) -> VerificationResult:
        """Recompute the stream's hash chain; report the first event that does not match."""
        async with self._pool.acquire() as conn:
            head = await conn.fetchrow(
                "SELECT version, head_hash FROM eventstore.streams WHERE stream_id = $1", stream_id
            )
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM eventstore.events WHERE stream_id = $1 ORDER BY version",
                stream_id,
            )
        checker = _ChainChecker(stream_id)
        for row in rows:
            if not checker.feed(_raw(row)):
                break
        return checker.finish(head)

    async def verify_all(self) -> list[VerificationResult]:
        """Verify every stream; return one result per stream (failures and successes)."""
        results: list[VerificationResult] = []
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            heads = {
                r["stream_id"]: r
                for r in await conn.fetch(
                    "SELECT stream_id, version, head_hash FROM eventstore.streams"
                )
            }
            checker: _ChainChecker | None = None
            failed = False
            async for row in conn.cursor(
                f"SELECT {_COLUMNS} FROM eventstore.events ORDER BY stream_id, version",
                prefetch=5000,
            ):
                raw = _raw(row)
                if checker is None or checker.stream_id != raw.stream_id:
                    if checker is not None:
                        results.append(checker.finish(heads.pop(checker.stream_id, None)))
                    checker, failed = _ChainChecker(raw.stream_id), False
                if not failed:
                    failed = not checker.feed(raw)
            if checker is not None:
                results.append(checker.finish(heads.pop(checker.stream_id, None)))
        # A stream row whose events are all gone.
        for stream_id, head in heads.items():
            results.append(_ChainChecker(stream_id).finish(head))
        return results

    # ------------------------------------------------------------------ read by id

    async def read_events_raw(self, event_ids: Sequence[UUID]) -> dict[UUID, RawEvent]:
        """The stored events with these ids (an id the store does not hold is simply absent):
        what a consumer checks a relayed message against."""
        if not event_ids:
            return {}
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM eventstore.events WHERE event_id = ANY($1::uuid[])",
                list(event_ids),
            )
        raws = [_raw(r) for r in rows]
        return {raw.event_id: raw for raw in raws}


@dataclass(frozen=True)
class PersonalData:
    """What the store needs for personal fields: data keys and (optionally) the blind index."""

    keys: DataKeys
    index: BlindIndex | None = None


class _Sealer:
    """Seals the personal fields of one append's events, collecting blind-index tokens."""

    def __init__(
        self,
        keys: dict[UUID, bytes],
        index: BlindIndex | None,
        trees: dict[int, tuple[dict[str, Any], list[Spot]]],
    ) -> None:
        self._keys = keys
        self._index = index
        self._trees = trees  # JSON dumped while finding the subjects, by id() of the NewEvent
        self.tokens: list[tuple[str, bytes, UUID]] = []

    def seal(self, new: NewEvent[Any], stream_id: str, version: int) -> str:
        data: Event = new.data
        plan = plan_for(type(data))
        if plan.empty:
            return data.model_dump_json()
        # Sealing works in place: the first attempt takes the tree, a retry dumps afresh.
        prepared = self._trees.pop(id(new), None)
        if prepared is None:
            tree = data.model_dump(mode="json")
            prepared = (tree, walk(plan, tree))
        tree, spots = prepared
        for value in seal_event(tree, spots, self._keys, stream_id, version):
            kind = value.marker.index
            if kind is not None and self._index is not None:
                self.tokens.append((kind, self._index.token(kind, value.plain), value.subject))
        return dumps(tree)


class _ChainChecker:
    """Recomputes one stream's chain event by event."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.previous = hashing.GENESIS
        self.expected_version = 1
        self.checked = 0
        self.failure: VerificationResult | None = None

    def _fail(self, version: int, position: int | None, reason: str) -> bool:
        self.failure = VerificationResult(
            self.stream_id, False, self.checked, version, position, reason
        )
        return False

    def feed(self, raw: RawEvent) -> bool:
        if raw.version != self.expected_version:
            return self._fail(
                self.expected_version,
                raw.position,
                f"缺失事件 version {self.expected_version} is missing (next stored is "
                f"{raw.version})",
            )
        try:
            digest = hashing.link(raw.hash_alg, self.previous, _canonical(raw))
        except hashing.UnsupportedHashAlgorithmError as exc:
            return self._fail(raw.version, raw.position, str(exc))
        if digest != raw.hash:
            return self._fail(
                raw.version, raw.position, f"哈希不符 hash of version {raw.version} does not match"
            )
        self.previous = digest
        self.expected_version += 1
        self.checked += 1
        return True

    def finish(self, head: asyncpg.Record | None) -> VerificationResult:
        if self.failure is not None:
            return self.failure
        last = self.expected_version - 1
        if head is None:
            if last == 0:
                return VerificationResult(self.stream_id, True, 0)
            return VerificationResult(
                self.stream_id, False, self.checked, 1, None, "流记录缺失 stream row is missing"
            )
        if head["version"] != last or bytes(head["head_hash"]) != self.previous:
            return VerificationResult(
                self.stream_id,
                False,
                self.checked,
                last + 1,
                None,
                f"流头不符 stream head says version {head['version']}, events end at {last}",
            )
        return VerificationResult(self.stream_id, True, self.checked)


def _canonical(raw: RawEvent) -> bytes:
    return hashing.canonical_bytes(
        stream_id=raw.stream_id,
        version=raw.version,
        event_id=raw.event_id,
        event_type=raw.event_type,
        schema_version=raw.schema_version,
        bureau=raw.bureau,
        data=raw.data,
        actor=raw.actor,
        service=raw.service,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        occurred_at=raw.occurred_at,
        recorded_at=raw.recorded_at,
    )


def _raw(row: asyncpg.Record) -> RawEvent:
    # _COLUMNS lists the columns in RawEvent's field order; asyncpg gives bytea as bytes.
    return RawEvent(*row)
