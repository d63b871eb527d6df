"""The relay: every stored event onto JetStream, in store order, exactly once in effect.

* It reads the store with the ordered reader (never skipping a late commit) from its durable
  cursor, publishes a batch with every publish in flight at once, and advances the cursor only
  after every publish of the batch is acknowledged. A crash in between re-publishes the batch;
  JetStream drops the repeats by ``Nats-Msg-Id`` (the event id) within its duplicate window.
* One relay is active at a time: it holds a PostgreSQL advisory lock on a connection of its
  own. A standby polls for the lock every ``standby_poll`` seconds, so it takes over within that
  time of the active relay's connection closing (a killed process closes it at once). The
  active relay checks its lock connection before each batch and steps down if it is gone.
* While NATS is down it retries with backoff and loses nothing: the cursor has not moved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError

from petitions.eventstore import Cursor, EventStore, RawEvent, load_cursor, save_cursor
from petitions.eventstore.subscription import Wakeup
from petitions.log import get_logger
from petitions.messaging import envelope
from petitions.messaging.subjects import STREAM, stream_config, subject_for

log = get_logger(__name__)

LOCK_KEY = 7_031_952_842
CURSOR_NAME = "relay"


async def declare_stream(js: JetStreamContext) -> None:
    """Create the stream, or bring an existing one's settings up to date."""
    config = stream_config()
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


class Relay:
    def __init__(
        self,
        store: EventStore,
        *,
        dsn: str,
        nats_url: str,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        standby_poll: float = 1.0,
        after_publish: Callable[[list[RawEvent]], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._dsn = dsn
        self._nats_url = nats_url
        self._batch = batch_size
        self._poll = poll_interval
        self._standby_poll = standby_poll
        # Test seam: runs between the acknowledged publishes and the checkpoint.
        self._after_publish = after_publish
        self._stopping = asyncio.Event()
        self._wakeup = Wakeup(dsn)
        self.is_leader = False
        self.published = 0

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.poke()

    async def run(self) -> None:
        """Stand by for the lock, then relay until stopped; step down and stand by again if the
        lock is lost."""
        try:
            while not self._stopping.is_set():
                lock = await self._acquire()
                if lock is None:
                    return
                try:
                    await self._lead(lock)
                finally:
                    self.is_leader = False
                    with contextlib.suppress(Exception):
                        await lock.close()
        finally:
            await self._wakeup.close()

    async def _acquire(self) -> asyncpg.Connection | None:
        while not self._stopping.is_set():
            try:
                conn = await asyncpg.connect(self._dsn)
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                    self.is_leader = True
                    log.info("relay.leading")
                    return conn
                await conn.close()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("relay.lock_unavailable", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._standby_poll)
        return None

    async def _lead(self, lock: asyncpg.Connection) -> None:
        backoff = 0.2
        client: NatsClient | None = None
        try:
            while not self._stopping.is_set():
                if lock.is_closed():
                    log.warning("relay.lost_lock")
                    return
                try:
                    await lock.fetchval("SELECT 1")  # notices a dead lock connection early
                    if client is None or not client.is_connected:
                        client = await self._connect()
                    moved = await self.pump(client.jetstream())
                    backoff = 0.2
                except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("relay.postgres_unavailable", error=str(exc))
                    return  # stand by again: the lock may be gone with the connection
                except (nats.errors.Error, TimeoutError, OSError) as exc:
                    # Mostly NATS; if it was PostgreSQL instead, the lock check above notices
                    # on the next round and the relay stands by.
                    log.warning("relay.unavailable", error=str(exc), retry_in=backoff)
                    await self._pause(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if moved < self._batch:
                    await self._wakeup.wait(self._poll)
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()

    async def _connect(self) -> NatsClient:
        client = await nats.connect(
            self._nats_url,
            name="petitions-relay",
            allow_reconnect=False,  # we reconnect ourselves, with the cursor as the truth
            connect_timeout=2,
        )
        await declare_stream(client.jetstream())
        return client

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def pump(self, js: JetStreamContext) -> int:
        """Publish the next batch after the cursor; return how many events it held."""
        cursor: Cursor = await load_cursor(self._store.pool, CURSOR_NAME)
        batch = await self._store.read_all_raw(cursor, self._batch)
        if not batch:
            return 0
        acks = await asyncio.gather(*(self._publish(js, raw) for raw in batch))
        if self._after_publish is not None:
            await self._after_publish(batch)
        await save_cursor(self._store.pool, CURSOR_NAME, batch[-1].cursor)
        self.published += sum(1 for duplicate in acks if not duplicate)
        log.debug("relay.batch", events=len(batch), cursor=str(batch[-1].cursor))
        return len(batch)

    async def _publish(self, js: JetStreamContext, raw: RawEvent) -> bool:
        body, headers = envelope.encode(raw)
        ack = await js.publish(
            subject_for(raw.bureau, raw.stream_id, raw.event_type),
            body,
            stream=STREAM,
            headers=headers,
            timeout=5,
        )
        return bool(ack.duplicate)
