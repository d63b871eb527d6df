"""Rebuild the read models from the event store, and swap them in without stopping the service.

1. Fold the log in store order with the same :class:`Projector` the live consumer uses, into a
   fresh schema (``reporting_next``, created from schema.sql): every ``flush_every`` events the
   changed rows are COPYed in and forgotten, and a later event's rows are read back (see
   :class:`Fold`), so memory does not grow with the log.
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from petitions.eventstore import Cursor, EventStore, RawEvent
from petitions.messages import Event, EventRegistry, registry
from petitions.personal.codec import without_vault
from tqdm import tqdm

from reporting.projections.projector import Projector, needs
from reporting.projections.tables import (
    PROJECTION_LOCK,
    SCHEMA,
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


@dataclass(frozen=True, slots=True)
class Sink:
    """Where a bounded fold writes its rows (and reads back those it forgot): one connection,
    the schema being built."""

    conn: asyncpg.Connection
    schema: str


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
    ) -> None:
        self.store = store
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

    async def catch_up(self, bar: tqdm[Any] | None = None) -> None:
        """Fold every event committed after the cursor, flushing to the sink as it goes."""
        # The next batch is read while this one is folded (PostgreSQL and Python in parallel).
        pending = asyncio.ensure_future(self.store.read_all_raw(self.cursor, self._batch))
        try:
            while True:
                raws = await pending
                if not raws:
                    return
                self.cursor = raws[-1].cursor
                pending = asyncio.ensure_future(self.store.read_all_raw(self.cursor, self._batch))
                await self.feed(raws)
                if self.sink is not None and self._unflushed >= self._flush_every:
                    await self.flush()
                if bar is not None:
                    bar.update(len(raws))
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending

    async def read_rest(self) -> list[RawEvent]:
        """Every event committed after the cursor, read without folding (the swap reads them
        all before it writes anything)."""
        rest: list[RawEvent] = []
        while raws := await self.store.read_all_raw(self.cursor, self._batch):
            self.cursor = raws[-1].cursor
            rest += raws
        return rest

    async def feed(self, raws: Sequence[RawEvent]) -> None:
        applied = self.applied
        sink = self.sink if self._flushed else None
        reload = sink is not None
        if sink is not None:
            forgotten = list({raw.stream_id for raw in raws if raw.stream_id not in applied})
            if forgotten:
                applied.update(await stored_versions(sink.conn, sink.schema, forgotten))
        ordered: list[RawEvent] = []
        for raw in raws:
            last = applied.get(raw.stream_id, 0)
            if raw.version <= last:
                continue
            if raw.version > last + 1:
                ordered += await self.store.read_stream_raw(
                    raw.stream_id, last + 1, raw.version - 1
                )
            ordered.append(raw)
            applied[raw.stream_id] = raw.version
            self._changed_streams.add(raw.stream_id)
        handles = Projector.handles
        decoded = [(raw, masked(raw)) for raw in ordered if handles(raw.event_type)]
        if reload:
            await self._reload(decoded)
        apply = self.projector.apply
        for raw, event in decoded:
            apply(raw, event)
        self.events += len(raws)
        self._unflushed += len(raws)

    async def _reload(self, decoded: Sequence[tuple[RawEvent, Event]]) -> None:
        """Load from the sink the rows these events need that the projector has forgotten."""
        assert self.sink is not None
        projector = self.projector
        cases: set[UUID] = set()
        sessions: set[UUID] = set()
        instructions: set[UUID] = set()
        erase: list[UUID] = []
        holds_case = projector.holds_case
        for _, event in decoded:
            # Most events are about a case the fold holds and need nothing else: skip needs()
            # for them (it cost the bounded fold a tenth of its time). An event naming a
            # session (a leader's instruction on a case) or an instruction (its answer) needs
            # that too.
            case_id = getattr(event, "case_id", None)
            if (
                isinstance(case_id, UUID)
                and holds_case(case_id)
                and not hasattr(event, "session_id")
                and not hasattr(event, "instruction_id")
            ):
                continue
            need = needs(event)
            if need.case_id is not None and not projector.holds_case(need.case_id):
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
                self.sink.conn,
                self.sink.schema,
                projector,
                list(cases),
                list(sessions),
                erase,
                list(instructions),
            )

    async def flush(self) -> None:
        """Write the changed rows and versions to the sink; keep only those in memory."""
        assert self.sink is not None
        changes = self.projector.take_changes()
        applied = self.take_applied()
        await upsert_copied(self.sink.conn, self.sink.schema, changes, applied)
        self.projector.retain(changes)
        self.applied = dict(applied)
        self._unflushed = 0
        self._flushed = True

    def take_applied(self) -> list[tuple[str, int]]:
        """The streams whose applied version moved since the last call."""
        changed = [(s, self.applied[s]) for s in self._changed_streams]
        self._changed_streams.clear()
        return changed


def masked(raw: RawEvent, events: EventRegistry = registry) -> Event:
    """The typed event with personal fields masked, decoded as a keyless store decodes it (the
    vault cut off; upcast if stored under an older schema). Straight from the raw row: building
    a RecordedEvent per event cost a rebuild a fifth of its time."""
    cls = events.class_for(raw.event_type)
    text = without_vault(raw.data)
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
) -> RebuildResult:
    """Rebuild the read models from every stored event and swap them in (see the module).

    ``source``: the event store, or its pool; it is read without keys whatever ``source`` holds,
    so personal fields come masked exactly as the live consumer sees them. ``read_pool``: the
    reporting pool (its role must own schema ``reporting`` and may create schemas, as
    :func:`reporting.projections.tables.migrate` arranges). ``flush_every``: events folded
    between two writes of the changed rows (memory grows with it, not with the log)."""
    pool = source.pool if isinstance(source, EventStore) else source
    store = EventStore(pool)
    started = time.perf_counter()
    total = await _event_count(pool)
    with tqdm(
        total=total,
        unit="ev",
        unit_scale=True,
        desc="重建 rebuild",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        async with read_pool.acquire() as conn:
            # A rebuild that died before its swap leaves its schema behind.
            await conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
            await create_tables(conn, NEXT)
            fold = Fold(store, batch_size, sink=Sink(conn, NEXT), flush_every=flush_every)
            await fold.catch_up(bar)
            await fold.flush()
            # Statistics for the tables reports filter and join on, before any query plans.
            for table in ("cases", "submissions"):
                await conn.execute(f"ANALYZE {NEXT}.{table}")
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
    seconds = time.perf_counter() - started
    return RebuildResult(fold.events, round(seconds, 3), round(fold.events / max(seconds, 1e-9)))
