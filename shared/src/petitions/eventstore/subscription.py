"""Durable, ordered subscriptions to the whole log.

A subscription keeps its cursor in ``eventstore.subscriptions``. It wakes on the store's
LISTEN/NOTIFY channel and also polls, because a notification is lost whenever the listening
connection is being re-established. Handlers get a batch of events; the cursor advances only after
the handler returns, so a crash replays the last batch (handlers must be idempotent, which the
consumer toolkit's tracking records make them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from petitions.eventstore.model import Cursor, RawEvent
from petitions.eventstore.store import CHANNEL, EventStore
from petitions.log import get_logger

log = get_logger(__name__)


async def load_cursor(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> Cursor:
    row = await conn.fetchrow(
        "SELECT tx_id::text::bigint AS tx_id, position FROM eventstore.subscriptions "
        "WHERE name = $1",
        name,
    )
    return Cursor() if row is None else Cursor(row["tx_id"], row["position"])


async def save_cursor(conn: asyncpg.Connection | asyncpg.Pool, name: str, cursor: Cursor) -> None:
    """Store the cursor; pass the connection of the handler's transaction to commit both at once."""
    await conn.execute(
        "INSERT INTO eventstore.subscriptions (name, tx_id, position) "
        "VALUES ($1, $2::text::xid8, $3) "
        "ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, "
        "updated_at = now()",
        name,
        str(cursor.tx_id),
        cursor.position,
    )


class Wakeup:
    """LISTENs on the store's channel on a dedicated connection and re-listens after a drop."""

    def __init__(self, dsn: str, *, connect_kwargs: dict[str, Any] | None = None) -> None:
        self._dsn = dsn
        self._kwargs = connect_kwargs or {}
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    def poke(self, *_: object) -> None:
        """Wake the waiter now (a notification, a lost connection, or a stop)."""
        self._event.set()

    def _lost(self, *_: object) -> None:
        self._conn = None
        self._event.set()  # poll at once: appends may have happened while we were deaf

    async def listen(self) -> None:
        """Start listening (again, after a drop); a failure is logged and retried on the next
        wait."""
        if self._conn is not None and not self._conn.is_closed():
            return
        try:
            conn = await asyncpg.connect(self._dsn, **self._kwargs)
            await conn.add_listener(CHANNEL, self.poke)
            conn.add_termination_listener(self._lost)
            self._conn = conn
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("eventstore.listen_failed", error=str(exc))
            self._conn = None

    async def wait(self, seconds: float) -> None:
        """Return on a notification or after ``seconds``, whichever comes first."""
        await self.listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        self._event.clear()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


BatchHandler = Callable[[list[RawEvent]], Awaitable[None]]


class CatchUpSubscription:
    """Feeds every event after the stored cursor to ``handler``, in order, forever.

    Use :meth:`run` as a task; :meth:`stop` ends it after the batch in hand.
    """

    def __init__(
        self,
        store: EventStore,
        name: str,
        handler: BatchHandler,
        *,
        dsn: str,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        save_cursor_after_handler: bool = True,
    ) -> None:
        self._store = store
        self._name = name
        self._handler = handler
        self._wakeup = Wakeup(dsn)
        self._batch_size = batch_size
        self._poll = poll_interval
        self._save = save_cursor_after_handler
        self._stopping = asyncio.Event()
        self.cursor = Cursor()
        self.waiting = False
        """True while caught up and waiting for a notification (or the poll interval)."""

    async def run(self) -> None:
        self.cursor = await load_cursor(self._store.pool, self._name)
        # Listen before the first read: an append committed between that read and a later
        # LISTEN would otherwise wait a whole poll interval unannounced.
        await self._wakeup.listen()
        try:
            while not self._stopping.is_set():
                batch = await self._store.read_all_raw(self.cursor, self._batch_size)
                if batch:
                    await self._handler(batch)
                    self.cursor = batch[-1].cursor
                    if self._save:
                        await save_cursor(self._store.pool, self._name, self.cursor)
                    if len(batch) == self._batch_size:
                        continue
                self.waiting = True
                await self._wakeup.wait(self._poll)
                self.waiting = False
        finally:
            await self._wakeup.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.poke()
