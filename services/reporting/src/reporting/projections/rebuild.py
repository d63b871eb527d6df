"""Rebuild the read models from the event store, and swap them in without stopping the service.

1. Fold the log in store order with the same :class:`Projector` the live consumer uses, into a
   fresh schema (``reporting_next``, created from schema.sql): every ``flush_every`` events the
   changed rows are COPYed in and forgotten, and a later event's rows are read back (see
   :class:`Fold`), so memory does not grow with the log. The tables have their keys only until
   the fold is done; the other indexes are built then, one sort each (tables.index_ddl). A
   large log is folded in parts, in processes of their own (see :mod:`.parts`).
2. In one transaction, holding the projection lock exclusively (live projection transactions
   hold it shared, so none is half-way and none starts): fold the events stored meanwhile,
   write them, and rename ``reporting`` -> ``reporting_old``, ``reporting_next`` -> ``reporting``,
   then drop ``reporting_old``. The bookkeeping (``applied``) swaps with the tables, so the live
   consumer goes on from exactly what the new tables hold.

Until the swap commits, every query answers from the old tables. Dropping the old ones makes
PostgreSQL invalidate the plans cached on pooled connections; they are parsed again, and the
unqualified names resolve through search_path to the new tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

import asyncpg
from petitions.eventstore import Cursor, EventStore, RawEvent, sql
from petitions.messages import Event, EventRegistry, registry
from petitions.messages.reception import LeaderInstructionRecorded
from petitions.personal.codec import without_vault, without_vault_bytes
from petitions.turns import next_turn
from tqdm import tqdm

from reporting.projections.parts import (
    ERASED_TYPE,
    Parallel,
    Part,
    Progress,
    add_session_instructions,
    fold_in_parts,
    last_cursor,
)
from reporting.projections.projector import Projector, case_only, erased_only, needs
from reporting.projections.rows import Envelope
from reporting.projections.tables import (
    PROJECTION_LOCK,
    SCHEMA,
    create_indexes,
    create_tables,
    load_stored,
    stored_versions,
    upsert_copied,
)

NEXT = "reporting_next"
OLD = "reporting_old"


@dataclass(frozen=True, slots=True)
class RebuildResult:
    events: int
    seconds: float
    eps: float
    parts: int = 1
    """Processes the log was folded in (see :mod:`.parts`); 1: this one alone."""
    parts_peak_rss_mb: float = 0.0
    """Their peak resident memory, summed (this process's own is not in it)."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds spent in each step, in order: ``parts`` (the split fold, if any), ``fold`` (this
    process's), ``indexes``, ``vacuum``, ``swap`` (the events stored meanwhile, then the
    renames)."""


@dataclass(frozen=True, slots=True)
class Sink:
    """Where a bounded fold writes its rows (and reads back those it forgot): the schema being
    built; ``conn`` writes, ``reader`` (``conn`` if not given) reads back. With a reader of its
    own, a batch of rows is written while the fold goes on (see :meth:`Fold.flush`)."""

    conn: asyncpg.Connection
    schema: str
    reader: asyncpg.Connection | None = None
    guard: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
    """Awaited on ``conn`` before each write; raises if the fold must not write (a part of a
    split rebuild whose rebuild is gone)."""

    @property
    def reads(self) -> asyncpg.Connection:
        return self.reader if self.reader is not None else self.conn


class Stored(Envelope, Protocol):
    """What the fold reads of a stored event (a :class:`RawEvent`, or a :class:`_Read` row):
    the envelope the projector reads, and the event's own bytes and place in the log."""

    @property
    def schema_version(self) -> int: ...
    @property
    def data(self) -> str | bytes:
        """The stored JSON text; or, as bytes (UTF-8), its masked form: the vault cut off."""
        ...

    @property
    def cursor(self) -> Cursor: ...


class _Read(NamedTuple):
    """An event row with only the columns a fold reads: the hash, the actor and the ids of
    correlation cost the client a fifth of the raw read to decode, and the fold never looks
    at them. The data comes masked, as bytes (see sql.DECODE_COLUMNS)."""

    position: int
    stream_id: str
    version: int
    event_id: UUID
    event_type: str
    schema_version: int
    data: bytes
    occurred_at: datetime
    recorded_at: datetime
    tx_id: int
    vaults: int

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.tx_id, self.position)


# The store's ordered read (EventStore.read_all_raw: only transactions older than every one
# still running, in (transaction, position) order) with the columns of _Read, the data masked by
# PostgreSQL as for the store's decoded read (UTF-8 bytes the validator reads as they are, the
# vault cut off on the server's core). The cast column needs its alias: named tx_id, it is what
# ORDER BY tx_id sorts by, and the whole table is sorted for every batch instead of read along
# the index.
_READ = (
    f"SELECT position, stream_id, version, event_id, event_type, schema_version, {sql.MASKED}, "
    f"occurred_at, recorded_at, tx_id::text::bigint AS tx, {sql.VAULTS} "
    f"FROM eventstore.events, {sql.CUT_VAULT} "
    "WHERE (tx_id, position) > ($1::text::xid8, $2::bigint) "
    "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) "
    "ORDER BY tx_id, position LIMIT $3"
)
# A part of a split rebuild (see .parts) reads its own streams up to the parts' common cursor.
_READ_PART = _READ.replace(
    " ORDER BY", " AND (tx_id, position) <= ($4::text::xid8, $5::bigint) AND (<part>) ORDER BY"
)
_YIELD_EVERY = 250
"""Events decoded and folded between two turns of the event loop: the batch being read ahead
arrives meanwhile (otherwise its rows wait in the socket, and PostgreSQL waits with them)."""


def _cut(read: _Read) -> _Read:
    """A row whose data PostgreSQL sent whole (the vault's opening spelled inside an event)."""
    return read._replace(data=without_vault_bytes(read.data))


async def _give_way(n: int) -> None:
    """Every _YIELD_EVERY events, let the read-ahead and flush tasks run. A zero-length yield
    of the CPU-bound fold (see petitions.turns)."""
    if n % _YIELD_EVERY == 0:
        await next_turn()


@dataclass(frozen=True, slots=True)
class _Kind:
    """How the fold treats one event type, looked up once per event."""

    cls: type[Event]
    validate_json: Callable[[str | bytes], Event]
    """``cls.model_validate_json`` without the wrapper's per-call checks of its options."""
    handler: Callable[[Projector, Any, Any], None]
    case_of: Callable[[Any], UUID] | None
    """The event's case, for types whose :func:`needs` is that case and nothing else."""
    loads_nothing: bool
    """Types whose :func:`needs` a bounded fold holds already (erased subjects)."""


class Fold:
    """The log folded in store order, each stream's versions once and in order (as the live
    consumer applies them: a version read ahead of an earlier one, possible when transaction
    ids and commit order disagree, first brings in the missing ones).

    Without a sink, everything stays in memory (tests compare with it). With one, memory is
    bounded: every ``flush_every`` events the changed rows and versions are written to the
    sink and everything else is forgotten (:meth:`Projector.retain`); a batch first reloads
    from the sink the rows and versions its events touch that the fold no longer holds, exactly
    as the live path loads them. Cases' events lie close together in the log, so few are
    reloaded."""

    def __init__(
        self,
        store: EventStore,
        batch_size: int = 5000,
        *,
        sink: Sink | None = None,
        flush_every: int = 50_000,
        part: Part | None = None,
    ) -> None:
        self.store = store
        self.part = part
        self.session_instructions: Counter[UUID] = Counter()
        """A part's instructions by session, for the sessions another part writes."""
        self.projector = Projector()
        self.applied: dict[str, int] = {}
        self.cursor = Cursor()
        self.events = 0
        self.sink = sink
        self._batch = batch_size
        self._flush_every = flush_every
        self._unflushed = 0
        self._flushed = False  # until the first flush, the sink holds nothing to read back
        self._changed_streams: set[str] = set()
        self._kinds: dict[str, _Kind | None] = {}
        self._writing: asyncio.Future[None] | None = None

    def resume(self, after: Cursor, erased: Sequence[UUID]) -> None:
        """Go on after ``after`` from what the sink holds (the parts of a split fold wrote it):
        rows and versions are read back as they are needed; the erased subjects, which a
        bounded fold holds all of, are ``erased``."""
        self.cursor = after
        self._flushed = True
        self.projector.load_erased(erased)

    async def catch_up(self, bar: Progress | None = None) -> None:
        """Fold every event committed after the cursor, flushing to the sink as it goes."""
        # The next batch is read while this one is folded (PostgreSQL and Python in parallel:
        # feed() lets the reading task take in the rows as they arrive).
        batches: asyncio.Queue[list[_Read] | Exception] = asyncio.Queue(maxsize=2)
        reading = asyncio.ensure_future(self._read_ahead(self.cursor, batches))
        try:
            while True:
                raws = await batches.get()
                if isinstance(raws, Exception):
                    raise raws
                if not raws:
                    break
                self.cursor = raws[-1].cursor
                await self.feed(raws)
                if self.sink is not None and self._unflushed >= self._flush_every:
                    await self.flush(wait=False)
                if bar is not None:
                    bar.update(len(raws))
        except BaseException:
            # A flush being written must end before the caller's connections are released
            # (releasing one mid-COPY fails, and that error would hide this one).
            with contextlib.suppress(Exception):
                await self.written()
            raise
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading

    async def _read_ahead(
        self, after: Cursor, batches: asyncio.Queue[list[_Read] | Exception]
    ) -> None:
        """Put the batches after ``after`` in ``batches`` until caught up (then an empty one),
        or the error that stopped the reading."""
        make = _Read._make
        pool = self.store.pool
        part = self.part
        try:
            query = _READ if part is None else _READ_PART.replace("<part>", part.where())
            bounds = () if part is None else (str(part.until.tx_id), part.until.position)
            while True:
                rows = await pool.fetch(
                    query, str(after.tx_id), after.position, self._batch, *bounds
                )
                raws = [make(row) if row[10] < 2 else _cut(make(row)) for row in rows]
                await batches.put(raws)
                if not raws:
                    return
                after = raws[-1].cursor
        except Exception as error:  # the fold raises it (it would otherwise wait for ever)
            await batches.put(error)

    async def read_rest(self) -> list[RawEvent]:
        """Every event committed after the cursor, read without folding (the swap reads them
        all before it writes anything)."""
        rest: list[RawEvent] = []
        while raws := await self.store.read_all_raw(self.cursor, self._batch):
            self.cursor = raws[-1].cursor
            rest += raws
        return rest

    def _kind(self, event_type: str) -> _Kind | None:
        try:
            return self._kinds[event_type]
        except KeyError:
            handler = Projector.handler(event_type)
            kind = None
            if handler is not None:
                cls = registry.class_for(event_type)
                case_of = attrgetter("case_id") if case_only(cls) else None
                validate = cls.__pydantic_validator__.validate_json
                kind = _Kind(cls, validate, handler, case_of, erased_only(cls))
            self._kinds[event_type] = kind
            return kind

    async def feed(self, raws: Sequence[Stored]) -> None:
        applied = self.applied
        part = self.part
        # A part reads its own streams and every erasure (Part.where): only an erasure may be
        # on another part's stream (asked of erasures alone: a few, where events are millions).
        foreign_type = None if part is None else ERASED_TYPE
        owns: Callable[[str], bool] = bool if part is None else part.owns_stream
        sink = self.sink if self._flushed else None
        if sink is not None:
            forgotten = list(
                {
                    raw.stream_id
                    for raw in raws
                    if raw.stream_id not in applied
                    and (raw.event_type != foreign_type or owns(raw.stream_id))
                }
            )
            if forgotten:
                applied.update(await stored_versions(sink.reads, sink.schema, forgotten))
        ordered: list[Stored] = []
        changed = self._changed_streams
        foreign = 0
        for raw in raws:
            stream = raw.stream_id
            if raw.event_type == foreign_type and not owns(stream):
                # An erasure every part applies to its own cases. The ordered read gives each
                # event once, and erasing twice changes nothing: no version is kept for it here
                # (the first part keeps the stream's).
                ordered.append(raw)
                foreign += 1
                continue
            last = applied.get(stream, 0)
            version = raw.version
            if version <= last:
                continue
            if version > last + 1:
                ordered += await self.store.read_stream_raw(stream, last + 1, version - 1)
            ordered.append(raw)
            applied[stream] = version
            changed.add(stream)
        decoded: list[tuple[Stored, Event, _Kind]] = []
        kind_of = self._kind
        for n, raw in enumerate(ordered, 1):
            kind = kind_of(raw.event_type)
            if kind is not None:
                if raw.schema_version < kind.cls.schema_version:
                    event = masked(raw, kind.cls)
                else:  # as masked() decodes it
                    data = raw.data
                    event = kind.validate_json(
                        data if isinstance(data, bytes) else without_vault(data)
                    )
                decoded.append((raw, event, kind))
            await _give_way(n)
        if sink is not None:
            await self._reload(decoded)
        projector = self.projector
        for n, (raw, event, kind) in enumerate(decoded, 1):
            kind.handler(projector, raw, event)
            await _give_way(n)
        if part is not None and not part.keeps_shared:
            counts = self.session_instructions
            for _, event, kind in decoded:
                # By class, not isinstance: a pydantic model's isinstance goes through ABCMeta.
                if kind.cls is LeaderInstructionRecorded:
                    counts[cast(LeaderInstructionRecorded, event).session_id] += 1
        self.events += len(raws) - foreign
        self._unflushed += len(raws)

    async def _reload(self, decoded: Sequence[tuple[Stored, Event, _Kind]]) -> None:
        """Load from the sink the rows these events need that the projector has forgotten."""
        assert self.sink is not None
        projector = self.projector
        part = self.part
        cases: set[UUID] = set()
        sessions: set[UUID] = set()
        instructions: set[UUID] = set()
        erase: list[UUID] = []
        holds_case = projector.holds_case
        for _, event, kind in decoded:
            if kind.case_of is not None:
                # Most events are about a case and nothing else (needs() would say so, at a
                # tenth of the bounded fold's time).
                case_id = kind.case_of(event)
                if not holds_case(case_id):
                    cases.add(case_id)
                continue
            if kind.loads_nothing:
                continue
            need = needs(event)
            if part is not None:
                # Another part's rows are its own to read and write (see .parts).
                need = part.mine(need)
            if need.case_id is not None and not holds_case(need.case_id):
                cases.add(need.case_id)
            if need.session_id is not None and not projector.holds_session(need.session_id):
                sessions.add(need.session_id)
            if need.instruction_id is not None and not projector.holds_instruction(
                need.instruction_id
            ):
                instructions.add(need.instruction_id)
            if need.erase is not None:
                erase.append(need.erase)
        if cases or sessions or erase or instructions:
            await load_stored(
                self.sink.reads,
                self.sink.schema,
                projector,
                list(cases),
                list(sessions),
                erase,
                list(instructions),
                owns_case=None if part is None else part.owns_case,
            )

    async def flush(self, *, wait: bool = True) -> None:
        """Write the changed rows and versions to the sink; keep only those in memory.

        ``wait=False`` (a sink with a reader of its own): the rows are written while the fold
        goes on. That is safe because what the fold reads back meanwhile was written by an
        earlier flush, already committed (each flush waits for the one before): every row and
        version this one writes stays in memory until the next flush, so none is read back.
        Rows it writes may change in memory before they are sent; they are then changed rows
        of the next flush, which writes them again."""
        assert self.sink is not None
        await self.written()
        if self.sink.guard is not None:
            await self.sink.guard(self.sink.conn)
        changes = self.projector.take_changes()
        if self.part is not None and not self.part.keeps_shared and changes.erased:
            # The first part writes the erased subjects (two parts inserting the same ones
            # could wait on each other); this part keeps them all in memory (retain).
            changes = replace(changes, erased=())
        applied = self.take_applied()
        writing = upsert_copied(self.sink.conn, self.sink.schema, changes, applied)
        self.projector.retain(changes)
        self.applied = dict(applied)
        self._unflushed = 0
        self._flushed = True
        if wait or self.sink.reader is None:
            await writing
        else:
            self._writing = asyncio.ensure_future(writing)

    async def written(self) -> None:
        """Wait for the flush being written, if any (and raise its error)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    def take_applied(self) -> list[tuple[str, int]]:
        """The streams whose applied version moved since the last call."""
        changed = [(s, self.applied[s]) for s in self._changed_streams]
        self._changed_streams.clear()
        return changed


def masked(raw: Stored, cls: type[Event] | None = None, events: EventRegistry = registry) -> Event:
    """The typed event with personal fields masked, decoded as a keyless store decodes it (the
    vault cut off; upcast if stored under an older schema). Straight from the raw row: building
    a RecordedEvent per event cost a rebuild a fifth of its time."""
    if cls is None:
        cls = events.class_for(raw.event_type)
    text = raw.data if isinstance(raw.data, bytes) else without_vault(raw.data)
    if raw.schema_version < cls.schema_version:
        data = events.upcast(raw.event_type, raw.schema_version, json.loads(text))
        return cls.model_validate(data)
    return cls.model_validate_json(text)


async def _event_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM eventstore.events"))


async def rebuild(
    source: EventStore | asyncpg.Pool,
    read_pool: asyncpg.Pool,
    *,
    progress: bool = True,
    batch_size: int = 5000,
    flush_every: int = 50_000,
    parallel: Parallel | None = None,
) -> RebuildResult:
    """Rebuild the read models from every stored event and swap them in (see the module).

    ``source``: the event store, or its pool; it is read without keys whatever ``source`` holds,
    so personal fields come masked exactly as the live consumer sees them. ``read_pool``: the
    reporting pool (its role must own schema ``reporting`` and may create schemas, as
    :func:`reporting.projections.tables.migrate` arranges). ``flush_every``: events folded
    between two writes of the changed rows (memory grows with it, not with the log).
    ``parallel``: fold a large log in parts, in processes of their own (see :mod:`.parts`)."""
    pool = source.pool if isinstance(source, EventStore) else source
    store = EventStore(pool)
    started = time.perf_counter()
    phases: dict[str, float] = {}
    lap = started

    def done(phase: str) -> None:
        nonlocal lap
        now = time.perf_counter()
        phases[phase] = round(now - lap, 3)
        lap = now

    total = await _event_count(pool)
    with tqdm(
        total=total,
        unit="ev",
        unit_scale=True,
        desc="重建 rebuild",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        async with contextlib.AsyncExitStack() as connections:
            conn = await connections.enter_async_context(read_pool.acquire())
            # Rows are read back on a connection of their own while a flush writes on `conn`
            # (a pool of one connection: one after the other).
            reader = None
            if read_pool.get_max_size() > 1:
                reader = await connections.enter_async_context(read_pool.acquire())
            # A rebuild that died before its swap leaves its schema behind.
            await conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
            # The secondary indexes once the rows are in (see tables.index_ddl).
            await create_tables(conn, NEXT, indexes=False)
            sink = Sink(conn, NEXT, reader)
            fold = Fold(store, batch_size, sink=sink, flush_every=flush_every)
            parts = None
            if parallel is not None and parallel.workers > 1 and total >= parallel.min_events:
                until = await last_cursor(pool)
                made = await conn.fetchval("SELECT to_regnamespace($1)::oid", NEXT)
                parts = await fold_in_parts(
                    parallel,
                    NEXT,
                    made,
                    until,
                    batch_size=batch_size,
                    flush_every=flush_every,
                    progress=bar,
                )
                await add_session_instructions(conn, NEXT, parts.session_instructions)
                erased = await conn.fetch(f"SELECT subject_id FROM {NEXT}.erased_subjects")
                fold.resume(until, [row[0] for row in erased])
                done("parts")
            await fold.catch_up(bar)
            await fold.flush()
            done("fold")
            await create_indexes([conn] if reader is None else [conn, reader], NEXT)
            done("indexes")
            # Statistics for the tables reports filter and join on, before any query plans,
            # and their visibility maps set, so the ledger's count and the justified probes
            # read their indexes alone (freshly COPYed pages are not yet all-visible).
            for table in ("cases", "submissions", "progress"):
                await conn.execute(f"VACUUM (ANALYZE) {NEXT}.{table}")
            done("vacuum")
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", PROJECTION_LOCK)
                # Read before this transaction writes anything: the ordered reader waits for
                # older transactions, which must not include this one.
                rest = await fold.read_rest()
                for start in range(0, len(rest), batch_size):
                    await fold.feed(rest[start : start + batch_size])
                bar.update(len(rest))
                await fold.flush()
                if await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", SCHEMA):
                    await conn.execute(f"ALTER SCHEMA {SCHEMA} RENAME TO {OLD}")
                    await conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO {SCHEMA}")
                    await conn.execute(f"DROP SCHEMA {OLD} CASCADE")
                else:
                    await conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO {SCHEMA}")
            done("swap")
    seconds = time.perf_counter() - started
    events = fold.events + (0 if parts is None else parts.events)
    return RebuildResult(
        events,
        round(seconds, 3),
        round(events / max(seconds, 1e-9)),
        1 if parts is None else parts.count,
        0.0 if parts is None else parts.peak_rss_mb,
        phases,
    )
