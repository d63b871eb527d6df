"""The live projection: the durable consumer ``reporting`` applies each relayed event to the read
models, exactly once and in per-case order (the consumer toolkit's bookkeeping, kept in the
read models' own ``applied`` table), a fetched batch a transaction. Any number of replicas share
it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from petitions.eventstore import EventStore
from petitions.messaging import Consumer, Delivered, NatsAccess
from petitions.messaging.security import durable

from reporting.projections.projector import Projector, needs
from reporting.projections.tables import PROJECTION_LOCK, load, write

CONSUMER = "reporting"


async def begin(conn: asyncpg.Connection) -> None:
    """First in every projection transaction, before any row lock: a rebuild's swap waits for
    the transactions holding this, and holds back the next ones until the new tables are in."""
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", PROJECTION_LOCK)


async def project(conn: asyncpg.Connection, events: Sequence[Delivered]) -> None:
    """Apply events (one, or a fetched batch, in delivery order): load the rows they touch,
    fold them, upsert what changed. The same :class:`Projector` code as a rebuild's, on the
    rows as stored: one projector over several events is what a rebuild does all along."""
    typed = [(event, event.typed()) for event in events if Projector.handles(event.event_type)]
    if not typed:
        return
    projector = Projector()
    await load(conn, projector, [needs(t) for _, t in typed])
    for event, t in typed:
        projector.apply(event, t)
    await write(conn, projector.take_changes())


def projection_consumer(
    read_pool: asyncpg.Pool, store: EventStore, nats_url: str | NatsAccess, **options: Any
) -> Consumer:
    """The consumer keeping the read models up to date. ``read_pool``: the reporting pool
    (search_path reporting); ``store``: a keyless store, to fill in a case's missing events."""
    return Consumer(
        name=CONSUMER,
        batch_handler=project,
        pool=read_pool,
        store=store,
        nats_url=nats_url,
        # The durable the deployment provisions (its AsyncAPI document shows the same filter).
        filter_subject=durable(CONSUMER).filter_subject,
        applied_table="applied",
        begin=begin,
        **options,
    )
