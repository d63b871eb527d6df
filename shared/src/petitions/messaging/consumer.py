"""The consumer toolkit: how assignment and reporting take in relayed events, exactly once in
effect and in per-case order.

* A FastStream JetStream pull subscriber bound to a durable the deployment provisioned, with
  manual acks (brokers.py has the wiring). Several replicas may share one durable name:
  JetStream spreads the messages over them.
* Each event's effect runs in one PostgreSQL transaction with the consumer's bookkeeping row for
  the event's case (``messaging.applied``), taken FOR UPDATE: it is committed before the ack, so a
  redelivery finds the version applied and only acks. The row lock also serialises replicas on
  one case.
* A consumer given a batch handler applies a whole fetched batch in one transaction (the
  bookkeeping rows of all its cases locked in one sorted query, the effects applied in delivery
  order): a round trip and a commit per batch instead of several per event. A batch that fails
  is handled again one message at a time, so a bad event is retried and dead-lettered alone.
* Per-case order: an event whose case is behind (a version is missing: delivered to another
  replica not yet committed, redelivered later, or lost) first applies the missing versions,
  read from the event store. So versions apply in order, once each, whatever NATS does.
* A failing event is redelivered with growing delays; after ``max_deliver`` deliveries it becomes
  a dead letter (error, payload) that operators list and replay, and the consumer goes on with the
  rest. Later events of the same case then wait behind it (they dead-letter too, naming it):
  per-case order is never given up.
* The message is only a notification: NATS is reachable by more than the relay, so what it
  carries is never believed. The consumer looks the event id up in the event store and applies
  the store's copy. An id the store does not hold is a forgery (or garbage): it is dead-lettered
  and alerted, never applied, and never recorded as applied, so a forged "next version" cannot
  make the genuine one look applied later. A message whose content or subject differs from the
  store's copy is alerted and kept as a dead letter for the record, and the store's copy is
  applied, so the genuine event is not lost to a forger who published under its id first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import nats
from faststream.nats import NatsBroker
from faststream.nats.subscriber.usecases.basic import LogicSubscriber
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from petitions.eventstore import EventStore, RawEvent
from petitions.log import bind_context, describe_error, get_logger
from petitions.messaging import envelope
from petitions.messaging.brokers import nats_broker, subscribe
from petitions.messaging.claims import Claim, claim_of, delivered_from, subject_matches
from petitions.messaging.dead_letters import (
    DeadLetter,
    dead_letter_event,
    list_dead_letters,
    mark_replayed,
    record_dead_letter,
)
from petitions.messaging.envelope import Delivered
from petitions.messaging.security import Durable, NatsAccess, access
from petitions.messaging.subjects import PREFIX, STREAM, subject_for
from petitions.migrations import apply_package

log = get_logger(__name__)

_LAG_EVERY = 5.0
"""Seconds between looks at the consumer's pending count (one JetStream API call each)."""

FAILURES_BEFORE_RESTART = 3
"""Messages in a row whose handling failed (not acked, redelivered after the ack wait) before
the consumer gives up and raises: its supervisor restarts it, and a consumer that keeps failing
ends the process (exit 70) instead of looking alive while nothing is applied."""


class ConsumerFailingError(RuntimeError):
    """Handling keeps failing (e.g. a dead letter that cannot be written)."""


Handler = Callable[[asyncpg.Connection, Delivered], Awaitable[None]]
"""Applies one event's effect with the given connection, inside the consumer's transaction."""

BatchHandler = Callable[[asyncpg.Connection, Sequence[Delivered]], Awaitable[None]]
"""Applies several events' effects, in the order given, inside the consumer's transaction (per
case their versions are consecutive, and each follows the case's stored version)."""

Begin = Callable[[asyncpg.Connection], Awaitable[None]]
"""Runs first in each of the consumer's transactions, before the bookkeeping row is locked."""


async def apply_consumer_migrations(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await apply_package(conn, "messaging", "petitions.messaging.migrations")
    finally:
        await conn.close()


class Consumer:
    def __init__(
        self,
        *,
        name: str,
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        pool: asyncpg.Pool,
        store: EventStore,
        nats_url: str | NatsAccess,
        filter_subject: str = f"{PREFIX}.>",
        max_deliver: int = 5,
        backoff: Sequence[float] = (0.5, 2.0, 10.0, 30.0),
        batch_size: int = 100,
        ack_wait: float = 30.0,
        applied_table: str | None = None,
        begin: Begin | None = None,
    ) -> None:
        """``applied_table``: keep the bookkeeping in this table, ``(stream_id text PRIMARY KEY,
        version, applied_at)``, owned by this one consumer, instead of the shared
        ``messaging.applied``: beside the effects, so that whatever replaces the effects (a read
        model rebuilt into fresh tables) replaces the bookkeeping with them. ``begin`` runs
        first in every transaction, before any row is locked (for example to take a lock that
        the effects' owner must order before row locks). Give ``handler`` (one event a
        transaction) or ``batch_handler`` (a fetched batch a transaction)."""
        if (handler is None) == (batch_handler is None):
            raise ValueError("give a consumer exactly one of handler and batch_handler")
        self.name = name
        self._ack_wait = ack_wait
        self._handler = handler
        self._batch_handler = batch_handler
        self._pool = pool
        self._store = store
        self._nats = access(nats_url)
        self._filter = filter_subject
        self._max_deliver = max_deliver
        self._backoff = tuple(backoff)
        self._batch = batch_size
        self._stopping = asyncio.Event()
        self._begin = begin
        self._serial = asyncio.Lock()
        self._busy_since: float | None = None
        self._failures = 0
        self._last_failure = ""
        self._waiting: list[tuple[Msg, Claim]] = []
        """Delivered messages not yet handled (all of a fetched batch, as FastStream starts
        them), in delivery order."""
        self._handled: set[int] = set()
        """Messages (by id()) a batch applied and acked while their own tasks waited."""
        self._one_by_one = False
        """A batch failed: the rest of the fetched batch is handled a message at a time."""
        self._known: dict[UUID, RawEvent] = {}
        self._looked_up: set[UUID] = set()
        """Event ids whose store copies were read ahead (found ones are in ``_known``)."""
        self.subscriber: LogicSubscriber[Any] | None = None
        """The FastStream subscriber while bound (None before and between connections)."""
        self.last_progress: float | None = None
        """``time.monotonic()`` when a message was last handled, or last seen pulling with no
        message in hand: readiness reports its age."""
        self.pending: int | None = None
        """Messages JetStream holds for this consumer not yet delivered (its lag), as of the
        last look (every few seconds while running)."""
        self.applied = 0
        self.rejected = 0
        """Messages the store did not bear out (forged, garbled or altered)."""
        self.dead_lettered = 0
        """Dead letters this consumer recorded (/metrics)."""
        # The stream is $1 (and the version $2); the shared table also scopes by consumer, the
        # last parameter.
        if applied_table is None:
            table, lock_scope, update_scope = (
                "messaging.applied",
                " AND consumer = $2",
                " AND consumer = $3",
            )
            self._insert = (
                "INSERT INTO messaging.applied (consumer, stream_id, version) "
                "VALUES ($3, $1, $2) ON CONFLICT DO NOTHING"
            )
            self._insert_many = (
                "INSERT INTO messaging.applied (consumer, stream_id, version) "
                "SELECT $2, unnest($1::text[]), 0 ON CONFLICT DO NOTHING"
            )
            self._scope: tuple[str, ...] = (name,)
        else:
            table, lock_scope, update_scope = applied_table, "", ""
            self._insert = (
                f"INSERT INTO {table} (stream_id, version) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            )
            self._insert_many = (
                f"INSERT INTO {table} (stream_id, version) "
                "SELECT unnest($1::text[]), 0 ON CONFLICT DO NOTHING"
            )
            self._scope = ()
        self._lock = f"SELECT version FROM {table} WHERE stream_id = $1{lock_scope} FOR UPDATE"
        # Sorted: replicas lock the rows of the cases two batches share in the same order.
        self._lock_many = (
            f"SELECT stream_id, version FROM {table} WHERE stream_id = ANY($1::text[])"
            f"{lock_scope} ORDER BY stream_id FOR UPDATE"
        )
        self._update_many = (
            f"UPDATE {table} t SET version = v.version, applied_at = now() "
            "FROM unnest($1::text[], $2::bigint[]) AS v(stream_id, version) "
            f"WHERE t.stream_id = v.stream_id{update_scope.replace(' consumer', ' t.consumer')}"
        )
        self._update = (
            f"UPDATE {table} SET version = $2, applied_at = now() "
            f"WHERE stream_id = $1{update_scope}"
        )

    def stop(self) -> None:
        self._stopping.set()

    @property
    def durable(self) -> Durable:
        """The provisioned durable this consumer binds to (its name and filter)."""
        return Durable(self.name, self._filter)

    def subscribe(self, broker: NatsBroker) -> LogicSubscriber[Any]:
        """Register this consumer's FastStream pull subscriber on ``broker`` (see brokers.py)."""
        from petitions.messaging.asyncapi import consumed_message

        return subscribe(
            broker,
            self.durable,
            self.on_message,
            user=self._nats.user,
            documented=consumed_message(self.name, self._filter),
            batch_size=self._batch,
        )

    async def run(self) -> None:
        """Bind a FastStream JetStream pull subscriber to the durable and keep it running until
        stopped; start over on a new connection when NATS goes away."""
        while not self._stopping.is_set():
            broker = nats_broker(self._nats, name=f"petitions-{self.name}")
            try:
                await broker.connect()
            except (nats.errors.Error, OSError) as exc:
                log.warning("consumer.nats_unavailable", consumer=self.name, error=str(exc))
                await _stop(broker)
                await self._pause(1.0)
                continue
            try:
                js = broker.connection.jetstream()
                # Bind only: the durable is the deployment's (petitions.messaging.provision);
                # a service's identity may read its INFO, never create or change it. Looked up
                # here first because nats-py (under FastStream) would try to create a missing
                # one, which the identity may not.
                try:
                    info = await js.consumer_info(STREAM, self.name)
                except NotFoundError:
                    log.error(
                        "consumer.not_provisioned",
                        consumer=self.name,
                        hint="未创建持久消费者 run `python -m petitions.messaging provision` "
                        "as the NATS operator",
                    )
                    await self._pause(2.0)
                    continue
                if info.config.ack_wait != self._ack_wait:
                    log.warning(
                        "consumer.ack_wait_differs",
                        consumer=self.name,
                        expected=self._ack_wait,
                        provisioned=info.config.ack_wait,
                    )
                self.subscriber = self.subscribe(broker)
                await broker.start()
                await self._watch(broker, self.subscriber)
            except (nats.errors.Error, OSError) as exc:
                log.warning("consumer.interrupted", consumer=self.name, error=repr(exc))
                await self._pause(1.0)
            finally:
                self.subscriber = None
                await _stop(broker)

    async def _watch(self, broker: NatsBroker, subscriber: LogicSubscriber[Any]) -> None:
        """While the subscriber runs: note progress for readiness (its pull loop is alive and
        no message has been in hand too long), and look at the lag every few seconds."""
        client = broker.connection
        js = client.jetstream()
        looked = 0.0
        while not self._stopping.is_set():
            if client.is_closed:
                raise nats.errors.ConnectionClosedError
            if self._failures >= FAILURES_BEFORE_RESTART:
                failures, self._failures = self._failures, 0
                raise ConsumerFailingError(
                    f"{failures} messages in a row failed; the last: {self._last_failure}"
                )
            pulling = bool(getattr(subscriber, "tasks", None)) and not all(
                task.done() for task in getattr(subscriber, "tasks", ())
            )
            if pulling and client.is_connected and self._busy_since is None:
                self.last_progress = time.monotonic()
            if time.monotonic() - looked > _LAG_EVERY and client.is_connected:
                looked = time.monotonic()
                with contextlib.suppress(nats.errors.Error, TimeoutError):
                    self.pending = (await js.consumer_info(STREAM, self.name)).num_pending
            await self._pause(0.5)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def on_message(self, msg: Msg) -> None:
        """The subscriber's handler. FastStream starts all of a fetched batch's messages at once:
        they are taken one at a time, in delivery order (an asyncio lock is first come, first
        served), as the consumer always did: a case's versions in order, and no pile of
        transactions waiting on one case's row lock while holding every pool connection. The
        store copies of the messages waiting are read in one query (see _read_ahead)."""
        claim = claim_of(msg)
        waiting = (msg, claim)
        self._waiting.append(waiting)
        try:
            async with self._serial:
                if id(msg) in self._handled:  # a batch applied and acked it meanwhile
                    self._handled.discard(id(msg))
                    return
                self._busy_since = time.monotonic()
                try:
                    if claim.event_id is not None and claim.event_id not in self._looked_up:
                        await self._read_ahead()
                    if self._batch_handler is not None and not self._one_by_one:
                        batched = await self._handle_batch(waiting)
                        if batched:
                            self._failures = 0
                            self.last_progress = time.monotonic()
                            return
                        self._one_by_one = batched is not None
                    await self.handle(msg, self._known, claim=claim)
                    if claim.event_id is not None:
                        self._known.pop(claim.event_id, None)
                        self._looked_up.discard(claim.event_id)
                    self._failures = 0
                    self.last_progress = time.monotonic()
                except Exception as exc:  # e.g. PostgreSQL down while dead-lettering
                    # Not acked: JetStream redelivers it after the ack wait. Not progress either:
                    # _watch gives up after FAILURES_BEFORE_RESTART of these in a row.
                    # By class and SQLSTATE only: a refused dead letter's DETAIL quotes the row,
                    # payload and all.
                    self._failures += 1
                    self._last_failure = describe_error(exc)
                    log.warning(
                        "consumer.handle_failed", consumer=self.name, error=self._last_failure
                    )
                finally:
                    self._busy_since = None
        finally:
            self._waiting.remove(waiting)
            if not self._waiting:  # nothing in hand: forget what a dropped batch left behind
                self._known.clear()
                self._looked_up.clear()
                self._handled.clear()
                self._one_by_one = False

    async def _handle_batch(self, first: tuple[Msg, Claim]) -> bool | None:
        """Apply, in one transaction, the store copies of the waiting messages the store bears
        out (``first``, the caller's, and those delivered after it), and ack them. Messages
        the store does not bear out are left to their own tasks (rejected one by one): None if
        ``first`` is one of them. False if the batch failed: nothing of it was applied or
        acked."""
        if any(
            c.event_id is not None and c.event_id not in self._looked_up for _, c in self._waiting
        ):
            # The rest of the fetched batch arrived while the caller read its own message's
            # copy (its task ran first, alone): read theirs too, so they join this batch.
            await self._read_ahead()
        batch: list[tuple[Msg, Delivered]] = []
        for msg, claim in self._waiting[self._waiting.index(first) :]:
            if id(msg) in self._handled or claim.event_id is None:
                continue
            genuine = self._known.get(claim.event_id)
            if genuine is None:
                continue
            if _differs(msg, genuine) is not None:
                continue
            batch.append((msg, delivered_from(genuine)))
        if not batch or batch[0][0] is not first[0]:
            return None
        try:
            await self._apply_batch([event for _, event in batch])
        except Exception as exc:  # handled again one by one: retries and dead letters per message
            log.warning(
                "consumer.batch_failed",
                consumer=self.name,
                messages=len(batch),
                error=describe_error(exc),
            )
            return False
        for msg, event in batch:
            self._handled.add(id(msg))
            self._known.pop(event.event_id, None)
            self._looked_up.discard(event.event_id)
        self._handled.discard(id(first[0]))
        for msg, _ in batch:
            # Applied and committed: an ack lost with the connection only brings a
            # redelivery, which finds the version applied.
            with contextlib.suppress(nats.errors.Error, OSError):
                await msg.ack()
        return True

    async def _apply_batch(self, events: Sequence[Delivered]) -> None:
        """Apply events read from the store (in delivery order) in one transaction: the
        bookkeeping rows of their cases locked in one sorted query, versions already applied
        skipped, a case's missing versions read from the store before its next one."""
        assert self._batch_handler is not None
        streams = sorted({event.stream_id for event in events})
        async with self._pool.acquire() as conn, conn.transaction():
            if self._begin is not None:
                await self._begin(conn)
            await conn.execute(self._insert_many, streams, *self._scope)
            applied = {
                row["stream_id"]: row["version"]
                for row in await conn.fetch(self._lock_many, streams, *self._scope)
            }
            pending: list[Delivered] = []
            reached: dict[str, int] = {}
            for event in events:
                at = reached.get(event.stream_id, applied[event.stream_id])
                if event.version <= at:
                    continue
                pending += await self._missing(event, at)
                pending.append(event)
                reached[event.stream_id] = event.version
            if pending:
                await self._batch_handler(conn, pending)
                await conn.execute(
                    self._update_many, list(reached), list(reached.values()), *self._scope
                )
            self.applied += len(pending)

    async def _read_ahead(self) -> None:
        """Read the store copies of every message waiting to be handled in one query, rather
        than one query a message."""
        ids = [
            c.event_id
            for _, c in self._waiting
            if c.event_id is not None and c.event_id not in self._looked_up
        ]
        try:
            self._known.update(await self._store.read_events_raw(ids))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return  # each message then reads (and fails, and is retried) on its own
        self._looked_up.update(ids)

    async def handle(
        self,
        msg: Msg,
        known: Mapping[UUID, RawEvent] | None = None,
        *,
        claim: Claim | None = None,
    ) -> None:
        """Apply the store's copy of the event the message names (and any versions of its case
        found missing), then ack; on failure nak with a delay, or dead-letter it after
        ``max_deliver`` deliveries. ``known``: store copies already read, by event id (a
        caller handling several messages may read them in one query); ``claim``: the message
        already read for what it claims to be."""
        claim = claim or claim_of(msg)
        bind_context(consumer=self.name, case=claim.stream_id, event_id=str(claim.event_id))
        try:
            await self._believe(msg, claim, known)
        except Exception as exc:  # a handler may fail in any way; the message must not be lost
            deliveries = msg.metadata.num_delivered or 1
            if deliveries >= self._max_deliver:
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                await self._dead_letter(msg, claim, error, deliveries)
                await msg.ack()
                log.error(
                    "consumer.dead_lettered", deliveries=deliveries, error=describe_error(exc)
                )
            else:
                delay = self._backoff[min(deliveries - 1, len(self._backoff) - 1)]
                log.warning(
                    "consumer.retry", deliveries=deliveries, delay=delay, error=describe_error(exc)
                )
                await msg.nak(delay=delay)
            return
        await msg.ack()

    async def _believe(self, msg: Msg, claim: Claim, known: Mapping[UUID, RawEvent] | None) -> None:
        if claim.event_id is None:
            await self._reject(msg, claim, "消息无法解析 not a relayed event (unreadable envelope)")
            return
        genuine = None if known is None else known.get(claim.event_id)
        if genuine is None:
            # Read again rather than trust the batch's read: it costs a query only here.
            genuine = (await self._store.read_events_raw([claim.event_id])).get(claim.event_id)
        if genuine is None:
            await self._reject(msg, claim, "事件库中没有此事件 event id not in the event store")
            return
        reason = _differs(msg, genuine)
        if reason is not None:
            await self._reject(msg, claim, f"{reason}; the store's copy is applied", applied=True)
            subject = subject_for(genuine.bureau, genuine.stream_id, genuine.event_type)
            if not subject_matches(self._filter, subject):
                return  # not this consumer's event at all: it arrives (or arrived) elsewhere
        await self._apply(delivered_from(genuine))

    async def _reject(self, msg: Msg, claim: Claim, reason: str, *, applied: bool = False) -> None:
        """Alert and keep a dead letter for a message the store does not bear out. The alert
        names ids and the subject only: a forged payload may hold anything."""
        self.rejected += 1
        log.error(
            "consumer.forged_message",
            consumer=self.name,
            event_id=str(claim.event_id),
            subject=msg.subject,
            reason=reason,
            store_copy_applied=applied,
        )
        deliveries = msg.metadata.num_delivered or 1
        error = f"伪造或不符 forged or mismatched: {reason}"
        await self._dead_letter(msg, claim, error, deliveries)

    async def _apply(self, event: Delivered) -> None:
        """Apply an event read from the store (never a message's own content)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if self._begin is not None:
                await self._begin(conn)
            await conn.execute(self._insert, event.stream_id, 0, *self._scope)
            applied = await conn.fetchval(self._lock, event.stream_id, *self._scope)
            if event.version <= applied:
                return  # applied before: a redelivery, or filled in from the store
            pending = [*await self._missing(event, applied), event]
            if self._batch_handler is not None:
                await self._batch_handler(conn, pending)
            else:
                assert self._handler is not None
                for item in pending:
                    await self._handler(conn, item)
            await conn.execute(self._update, event.stream_id, event.version, *self._scope)
            self.applied += len(pending)

    async def _missing(self, event: Delivered, applied: int) -> list[Delivered]:
        """The versions of ``event``'s case between the one applied and it, from the store."""
        if event.version <= applied + 1:
            return []
        missing = await self._store.read_stream_raw(event.stream_id, applied + 1, event.version - 1)
        if [raw.version for raw in missing] != list(range(applied + 1, event.version)):
            # Never mark versions applied that were not: retry until the store has them.
            raise RuntimeError(
                f"{event.stream_id}: the store lacks versions between {applied} and {event.version}"
            )
        return [delivered_from(raw) for raw in missing]

    async def _dead_letter(self, msg: Msg, claim: Claim, error: str, deliveries: int) -> None:
        await record_dead_letter(self._pool, self.name, msg, claim, error, deliveries)
        self.dead_lettered += 1

    async def dead_letters(self, *, include_replayed: bool = False) -> list[DeadLetter]:
        return await list_dead_letters(self._pool, self.name, include_replayed=include_replayed)

    async def replay(self, dead_letter_id: int) -> None:
        """Apply the store's copy of a dead letter's event again (after the cause was fixed) and
        mark it replayed. Raises what the handler raises, or LookupError if the store has no
        such event (a forgery stays a dead letter), leaving the dead letter in place."""
        event_id = await dead_letter_event(self._pool, self.name, dead_letter_id)
        genuine = (await self._store.read_events_raw([event_id])).get(event_id)
        if genuine is None:
            raise LookupError(
                f"事件库中没有此事件，不能重放 dead letter {dead_letter_id} names an event the "
                "store does not hold: it is not replayed"
            )
        await self._apply(delivered_from(genuine))
        await mark_replayed(self._pool, dead_letter_id)


def _differs(msg: Msg, genuine: RawEvent) -> str | None:
    """How the message differs from what the relay publishes for the store's copy, or None."""
    body, _ = envelope.encode(genuine)
    if msg.data != body:
        return "内容与事件库不符 content differs from the store's copy"
    if msg.subject != subject_for(genuine.bureau, genuine.stream_id, genuine.event_type):
        return "主题与事件库不符 subject differs from the store's copy"
    return None


async def _stop(broker: NatsBroker) -> None:
    # Stopping drains the connection: bounded, so a frozen server cannot hold a restart.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await broker.stop()


__all__ = [
    "FAILURES_BEFORE_RESTART",
    "BatchHandler",
    "Begin",
    "Consumer",
    "ConsumerFailingError",
    "DeadLetter",
    "Handler",
    "apply_consumer_migrations",
    "list_dead_letters",
    "subject_matches",
]
