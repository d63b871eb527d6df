"""The relay: every stored event onto JetStream, in store order, exactly once in effect.

* It reads the store with the ordered reader (never skipping a late commit) from its durable
  cursor, publishes a batch through FastStream's NATS publishers (one per event type, see
  brokers.py) with every publish in flight at once, and advances the cursor only after every
  publish of the batch is acknowledged. A crash in between re-publishes the batch;
  JetStream drops the repeats by ``Nats-Msg-Id`` (the event id) within its duplicate window.
* One relay is active at a time: the one holding the lease (lease.py). It renews the lease only
  after a round that made progress (a batch published and checkpointed, or a look that found
  nothing to publish while NATS answered), so a holder that is frozen, or reaches PostgreSQL but
  not NATS, loses it within ``lease_ttl`` seconds; a standby tries for it every
  ``standby_poll`` seconds and takes over. A holder checks the lease before each batch and
  publishes nothing past its lease's deadline; the cursor advances (and incidents are recorded)
  only in statements that check its epoch, so a holder that lost the lease (fenced) moves
  nothing, notices, and stands by. Every message carries the epoch it was published under
  (``Petitions-Relay-Epoch``). A standby competes only while it can reach NATS itself.
* While NATS is down it retries with backoff and loses nothing: the cursor has not moved; after
  ``lease_ttl`` seconds without progress it lets a standby that reaches NATS try.
* An event NATS refuses for good (larger than the server's maximum payload) must not stop every
  bureau's events behind it: the relay records it as a dead letter (``relay_incidents``),
  alerts, and goes on. Consumers fill a case's missing version in from the store when its next
  event arrives, so per-case order holds.
* A duplicate ack for an event is only expected when the relay re-publishes after a crash. The
  relay reads the message JetStream kept under that id: if it is not byte for byte the stored
  event, someone published first under the id; the relay alerts, records it, and publishes the
  genuine event again under a fresh, random message id, so that it still reaches the consumers
  (which apply only what the store bears out).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import nats
from faststream.nats import NatsBroker
from faststream.nats.publisher.usecase import LogicPublisher
from nats.js.api import PubAck
from nats.js.errors import APIError

from petitions.eventstore import Cursor, EventStore, RawEvent, load_cursor
from petitions.eventstore.subscription import Wakeup
from petitions.log import describe_error, get_logger
from petitions.messaging import envelope
from petitions.messaging.brokers import event_publisher, nats_broker
from petitions.messaging.lease import Lease, LeaseLostError, fence
from petitions.messaging.security import NatsAccess, access
from petitions.messaging.subjects import STREAM, subject_for

log = get_logger(__name__)

CURSOR_NAME = "relay"
H_EPOCH = "Petitions-Relay-Epoch"
"""The header naming the lease epoch a message was published under."""
RELAY = "relay"
"""How the relay is named among the consumers when dead letters are listed."""
_REFUSED_FOR_GOOD = frozenset({10054})
"""JetStream error codes that refuse this one message whatever is retried: 10054, the message
exceeds the stream's maximum message size."""


@dataclass(frozen=True, slots=True)
class RelayIncident:
    event_id: str
    kind: str
    """``unpublishable`` (skipped: a dead letter) or ``preempted`` (published again)."""
    stream_id: str
    version: int
    event_type: str
    subject: str
    size: int
    error: str
    seen_at: datetime
    resolved_at: datetime | None


async def list_relay_incidents(
    conn: asyncpg.Pool | asyncpg.Connection, *, include_resolved: bool = False
) -> list[RelayIncident]:
    rows = await conn.fetch(
        "SELECT event_id::text AS event_id, kind, stream_id, version, event_type, subject, size, "
        "error, seen_at, resolved_at FROM eventstore.relay_incidents "
        "WHERE $1 OR resolved_at IS NULL ORDER BY seen_at, event_id",
        include_resolved,
    )
    return [RelayIncident(**dict(r)) for r in rows]


def permanent(exc: BaseException) -> bool:
    """Whether a publish failed for this message for good (retrying cannot help), rather than
    for NATS being away or slow."""
    if isinstance(exc, nats.errors.MaxPayloadError):
        return True
    return isinstance(exc, APIError) and exc.err_code in _REFUSED_FOR_GOOD


class Relay:
    def __init__(
        self,
        store: EventStore,
        *,
        dsn: str,
        nats_url: str | NatsAccess,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        lease_ttl: float = 3.0,
        standby_poll: float | None = None,
        after_publish: Callable[[list[RawEvent]], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        self._dsn = dsn
        # The relay's own identity: the only one allowed to publish events.
        self._nats = access(nats_url)
        self._batch = batch_size
        # The holder renews after each round; an idle round waits up to ``poll_interval``, which
        # must leave the renewal well inside the lease.
        self._poll = min(poll_interval, lease_ttl / 3)
        self.lease = Lease(ttl=lease_ttl)
        self._standby_poll = lease_ttl / 6 if standby_poll is None else standby_poll
        # Test seam: runs between the acknowledged publishes and the checkpoint.
        self._after_publish = after_publish
        self._stopping = asyncio.Event()
        self._wakeup = Wakeup(dsn)
        self._outlet: Outlet | None = None
        self.is_leader = False
        self.published = 0
        self.duplicates = 0
        """Events found already on the stream as the relay published them (a re-publish)."""
        self.preempted = 0
        """Events whose id someone else had published first (published again, alerted)."""
        self.dead_lettered = 0
        """Events NATS refused for good (skipped, alerted)."""
        self.takeovers = 0
        """Times this relay took the lease."""
        self.lease_lost = 0
        """Times it found the lease gone (ran out or taken) and stood by again."""
        self.fenced = 0
        """Checkpoints or publishes refused because the lease was no longer this relay's."""
        # Whether this relay may itself have published events past the cursor: a duplicate ack
        # for them is then no surprise. A new leader cannot know what its predecessor published.
        self._maybe_ours: set[uuid.UUID] = set()
        self._new_leader = True
        self.last_progress: float | None = None
        """``time.monotonic()`` when the active relay last published a batch or found nothing
        to publish: readiness reports its age (a leader whose age grows is stalled)."""

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.poke()

    async def run(self) -> None:
        """Stand by for the lease, then relay until stopped; stand by again whenever the lease
        is lost."""
        pool = self._store.pool
        try:
            while not self._stopping.is_set():
                if not await self._stand_by():
                    return
                try:
                    self._new_leader = True
                    self._maybe_ours.clear()
                    await self._lead()
                finally:
                    self.is_leader = False
                    with contextlib.suppress(Exception):
                        # Hand over at once rather than after the lease runs out (a no-op
                        # when it is another's by now).
                        async with asyncio.timeout(2):
                            await self.lease.release(pool)
                    self.lease.forget()
        finally:
            if self._outlet is not None:
                await self._outlet.close()
                self._outlet = None
            await self._wakeup.close()

    async def _stand_by(self) -> bool:
        """Wait for the lease; False when stopped first. Only a relay that reaches NATS
        competes: one that could not publish would only hold the others up."""
        reported: str | None = None  # each outage once, not at every poll
        while not self._stopping.is_set():
            trouble = error = None
            try:
                await self._connected_outlet()
            except (nats.errors.Error, TimeoutError, OSError) as exc:
                trouble, error = "relay.standby_without_nats", describe_error(exc)
            else:
                try:
                    if await self.lease.acquire(self._store.pool):
                        self.is_leader = True
                        self.takeovers += 1
                        log.info("relay.leading", epoch=self.lease.epoch, holder=self.lease.holder)
                        return True
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                    trouble, error = "relay.lease_unavailable", describe_error(exc)
            if trouble is not None and trouble != reported:
                log.warning(trouble, error=error)
            reported = trouble
            await self._pause(self._standby_poll)
        return False

    async def _connected_outlet(self) -> Outlet:
        if self._outlet is None or not self._outlet.connected:
            if self._outlet is not None:
                await self._outlet.close()
                self._outlet = None
            self._outlet = await Outlet.open(self._nats)
        return self._outlet

    async def _lead(self) -> None:
        backoff = 0.2
        pool = self._store.pool
        while not self._stopping.is_set():
            try:
                if not await self.lease.check(pool):
                    self._lost("expired or taken")
                    return
                outlet = await self._connected_outlet()
                moved = await self.pump(outlet)
                if moved == 0:
                    # Nothing to publish: progress only if NATS answers (a round trip), or a
                    # holder cut off from NATS would keep the lease while events arrive.
                    await outlet.ping()
                if not await self.lease.renew(pool):
                    self._lost("taken while relaying")
                    return
                self.last_progress = time.monotonic()
                backoff = 0.2
            except LeaseLostError as exc:
                self._lost(str(exc))
                return
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # The lease cannot be renewed meanwhile: the check above tells whether it held.
                log.warning(
                    "relay.postgres_unavailable", error=describe_error(exc), retry_in=backoff
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except (nats.errors.Error, TimeoutError, OSError) as exc:
                log.warning("relay.unavailable", error=describe_error(exc), retry_in=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if moved < self._batch:
                await self._wakeup.wait(self._poll)

    def _lost(self, why: str) -> None:
        self.lease_lost += 1
        log.warning("relay.lease_lost", epoch=self.lease.epoch, reason=why)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def pump(self, outlet: Outlet) -> int:
        """Publish the next batch after the cursor; return how many events it held."""
        cursor: Cursor = await load_cursor(self._store.pool, CURSOR_NAME)
        batch = await self._store.read_all_raw(cursor, self._batch)
        if not batch:
            return 0
        messages = [_Message(raw, *envelope.encode(raw)) for raw in batch]
        acks = await asyncio.gather(
            *(self._publish(outlet, m, m.headers) for m in messages), return_exceptions=True
        )
        for ack in acks:
            if isinstance(ack, BaseException) and not permanent(ack):
                # Some of the batch may be on the stream now: their duplicate acks next time
                # are this relay's own doing.
                self._maybe_ours.update(raw.event_id for raw in batch)
                raise ack
        for message, ack in zip(messages, acks, strict=True):
            if isinstance(ack, BaseException):
                await self._dead_letter(message, ack)
            elif ack.duplicate:
                await self._investigate(outlet, message, ack)
            else:
                self.published += 1
        if self._after_publish is not None:
            await self._after_publish(batch)
        await self._checkpoint(batch[-1].cursor)
        self._maybe_ours.clear()
        self._new_leader = False
        log.debug("relay.batch", events=len(batch), cursor=str(batch[-1].cursor))
        return len(batch)

    async def _publish(self, outlet: Outlet, message: _Message, headers: dict[str, str]) -> PubAck:
        """Publish under the lease: nothing goes out past the lease's deadline (a process
        resumed after a freeze finds it passed)."""
        if not self.lease.valid():
            self.fenced += 1
            raise LeaseLostError("the lease ran out before publishing (fenced)")
        epoch, _ = self.lease.fence_args
        return await outlet.publish(message, {**headers, H_EPOCH: str(epoch)})

    async def _checkpoint(self, cursor: Cursor) -> None:
        """Advance the cursor, in one statement with the check that the lease is still ours."""
        epoch, holder = self.lease.fence_args
        moved = await self._store.pool.fetchval(
            f"WITH {fence('$4', '$5')} "
            "INSERT INTO eventstore.subscriptions (name, tx_id, position) "
            "SELECT $1, $2::text::xid8, $3 FROM lease "
            "ON CONFLICT (name) DO UPDATE SET tx_id = EXCLUDED.tx_id, "
            "position = EXCLUDED.position, updated_at = now() RETURNING true",
            CURSOR_NAME,
            str(cursor.tx_id),
            cursor.position,
            epoch,
            holder,
        )
        if not moved:
            self.fenced += 1
            raise LeaseLostError("the lease changed hands: cursor not advanced (fenced)")

    async def _investigate(self, outlet: Outlet, message: _Message, ack: PubAck) -> None:
        """A duplicate ack: find out whether the stream holds this very event under its id, and
        if not, make sure the genuine one still goes out."""
        raw = message.raw
        try:
            # STREAM.MSG.GET is allowed to the relay's identity alone (security.py): it reads
            # only what it publishes itself.
            kept = await outlet.broker.connection.jetstream().get_msg(STREAM, seq=ack.seq)
            same: bool | None = kept.data == message.body and kept.subject == message.subject
        except (nats.errors.Error, TimeoutError):
            same = None  # not allowed to read it, or gone: it cannot be vouched for
        if same:
            self.duplicates += 1
            return
        ours = self._new_leader or raw.event_id in self._maybe_ours
        if same is None and ours:
            # Most likely our own publish before a crash; publishing again costs consumers a
            # redelivery they skip, not publishing might cost them the event.
            self.duplicates += 1
            log.info("relay.duplicate_unverified", event_id=str(raw.event_id))
        else:
            self.preempted += 1
            reason = (
                "抢先发布 another publisher used this event id first: the stream keeps other "
                "content under it"
                if same is False
                else "抢先发布 duplicate ack for an id this relay never published; the stream's "
                "copy could not be read"
            )
            log.error(
                "relay.preempted",
                event_id=str(raw.event_id),
                case=raw.stream_id,
                version=raw.version,
                subject=message.subject,
                reason=reason,
            )
            await self._record(message, "preempted", reason)
        fresh = {**message.headers, envelope.MSG_ID: str(uuid.uuid4())}
        await self._publish(outlet, message, fresh)

    async def _dead_letter(self, message: _Message, exc: BaseException) -> None:
        raw = message.raw
        error = f"{type(exc).__name__}: {exc}"
        self.dead_lettered += 1
        log.error(
            "relay.dead_lettered",
            event_id=str(raw.event_id),
            case=raw.stream_id,
            version=raw.version,
            subject=message.subject,
            size=len(message.body),
            error=error,
        )
        await self._record(message, "unpublishable", f"无法发布 NATS refused it: {error}")

    async def _record(self, message: _Message, kind: str, error: str) -> None:
        raw = message.raw
        epoch, holder = self.lease.fence_args
        recorded = await self._store.pool.fetchval(
            f"WITH {fence('$9', '$10')} "
            "INSERT INTO eventstore.relay_incidents (event_id, kind, stream_id, version, "
            "event_type, subject, size, error) SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM lease "
            "ON CONFLICT (event_id, kind) DO UPDATE SET error = EXCLUDED.error, seen_at = now() "
            "RETURNING true",
            raw.event_id,
            kind,
            raw.stream_id,
            raw.version,
            raw.event_type,
            message.subject,
            len(message.body),
            error,
            epoch,
            holder,
        )
        if not recorded:
            self.fenced += 1
            raise LeaseLostError("the lease changed hands: incident not recorded (fenced)")


@dataclass(frozen=True, slots=True)
class _Message:
    raw: RawEvent
    body: bytes
    headers: dict[str, str]

    @property
    def subject(self) -> str:
        return subject_for(self.raw.bureau, self.raw.stream_id, self.raw.event_type)


class Outlet:
    """The relay's connection to NATS: a FastStream broker with the relay's identity and its
    publishers, one per event type (brokers.event_publisher), made as types come up."""

    def __init__(self, broker: NatsBroker) -> None:
        self.broker = broker
        self._publishers: dict[str, LogicPublisher] = {}

    @classmethod
    async def open(cls, nats_access: str | NatsAccess) -> Outlet:
        # The stream is the deployment's (petitions.messaging.provision): the relay's identity
        # may not create it. Until it exists publishes fail and the relay retries, cursor unmoved.
        broker = nats_broker(
            nats_access,
            name="petitions-relay",
            allow_reconnect=False,  # we reconnect ourselves, with the cursor as the truth
            connect_timeout=2,
        )
        try:
            await broker.connect()
        except BaseException:
            with contextlib.suppress(Exception):
                await broker.stop()
            raise
        return cls(broker)

    @property
    def connected(self) -> bool:
        try:
            return bool(self.broker.connection.is_connected)
        except Exception:  # FastStream raises its own kinds when never connected
            return False

    async def publish(self, message: _Message, headers: dict[str, str]) -> PubAck:
        raw = message.raw
        publisher = self._publishers.get(raw.event_type)
        if publisher is None:
            publisher = self._publishers[raw.event_type] = event_publisher(
                self.broker, raw.event_type
            )
        ack: PubAck = await publisher.publish(
            message.body,
            subject=message.subject,
            headers=headers,
            correlation_id=str(raw.correlation_id),
            stream=STREAM,
            timeout=5,
        )
        return ack

    async def ping(self) -> None:
        """A round trip to the server (PING/PONG): raises when NATS does not answer within a
        second."""
        await self.broker.connection.flush(timeout=1)

    async def close(self) -> None:
        # Stopping drains the connection: bounded, a frozen server must not hold the relay.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.broker.stop()
