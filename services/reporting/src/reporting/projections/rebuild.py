"""Rebuild the read models from the event store, and swap them in without stopping the service.

1. Fold the whole log in memory with the same :class:`Projector` the live consumer uses.
2. COPY the rows into a fresh schema (``reporting_next``, created from schema.sql).
3. In one transaction, holding the projection lock exclusively (live projection transactions
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

import asyncpg
from petitions.eventstore import Cursor, EventStore, RawEvent
from petitions.messages import Event, EventRegistry, registry
from petitions.personal.codec import without_vault
from tqdm import tqdm

from reporting.projections.projector import Projector
from reporting.projections.tables import (
    PROJECTION_LOCK,
    SCHEMA,
    copy_rows,
    create_tables,
    write,
    write_applied,
)

NEXT = "reporting_next"
OLD = "reporting_old"


@dataclass(frozen=True, slots=True)
class RebuildResult:
    events: int
    seconds: float
    eps: float


class Fold:
    """The whole log folded in memory, in store order, each stream's versions once and in
    order (as the live consumer applies them: a version read ahead of an earlier one, possible
    when transaction ids and commit order disagree, first brings in the missing ones)."""

    def __init__(self, store: EventStore, batch_size: int = 5000) -> None:
        self.store = store
        self.projector = Projector()
        self.applied: dict[str, int] = {}
        self.cursor = Cursor()
        self.events = 0
        self._batch = batch_size
        self._changed_streams: set[str] = set()

    async def catch_up(self, bar: tqdm[Any] | None = None) -> None:
        """Fold every event committed after the cursor."""
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
                if bar is not None:
                    bar.update(len(raws))
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending

    async def feed(self, raws: Sequence[RawEvent]) -> None:
        ordered: list[RawEvent] = []
        applied = self.applied
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
        apply = self.projector.apply
        for raw in ordered:
            if handles(raw.event_type):
                apply(raw, masked(raw))
        self.events += len(raws)

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
) -> RebuildResult:
    """Rebuild the read models from every stored event and swap them in (see the module).

    ``source``: the event store, or its pool; it is read without keys whatever ``source`` holds,
    so personal fields come masked exactly as the live consumer sees them. ``read_pool``: the
    reporting pool (its role must own schema ``reporting`` and may create schemas, as
    :func:`reporting.projections.tables.migrate` arranges)."""
    pool = source.pool if isinstance(source, EventStore) else source
    store = EventStore(pool)
    fold = Fold(store, batch_size)
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
        await fold.catch_up(bar)
        async with read_pool.acquire() as conn:
            # A rebuild that died before its swap leaves its schema behind.
            await conn.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
            await create_tables(conn, NEXT)
            async with conn.transaction():
                await copy_rows(conn, NEXT, fold.projector.rows(), fold.take_applied())
            # Statistics for the tables reports filter and join on, before any query plans.
            for table in ("cases", "submissions"):
                await conn.execute(f"ANALYZE {NEXT}.{table}")
        fold.projector.forget_changes()
        async with read_pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", PROJECTION_LOCK)
            # Read before this transaction writes anything: the ordered reader waits for older
            # transactions, which must not include this one.
            await fold.catch_up(bar)
            await conn.execute(f"SET LOCAL search_path = {NEXT}")
            await write(conn, fold.projector.take_changes())
            await write_applied(conn, fold.take_applied())
            if await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", SCHEMA):
                await conn.execute(f"ALTER SCHEMA {SCHEMA} RENAME TO {OLD}")
                await conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO {SCHEMA}")
                await conn.execute(f"DROP SCHEMA {OLD} CASCADE")
            else:
                await conn.execute(f"ALTER SCHEMA {NEXT} RENAME TO {SCHEMA}")
    seconds = time.perf_counter() - started
    return RebuildResult(fold.events, round(seconds, 3), round(fold.events / max(seconds, 1e-9)))
