"""Dead letters: the events a consumer gave up on (error, payload), kept for operators to list
and replay, in ``messaging.dead_letters``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from nats.aio.msg import Msg

from petitions.messaging.claims import Claim, garbage_id


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    consumer: str
    event_id: str
    stream_id: str
    version: int
    event_type: str
    error: str
    deliveries: int
    failed_at: datetime
    replayed_at: datetime | None


async def list_dead_letters(
    pool: asyncpg.Pool | asyncpg.Connection,
    consumer: str | None = None,
    *,
    include_replayed: bool = False,
) -> list[DeadLetter]:
    rows = await pool.fetch(
        "SELECT id, consumer, event_id::text AS event_id, stream_id, version, event_type, error, "
        "deliveries, failed_at, replayed_at FROM messaging.dead_letters "
        "WHERE ($1::text IS NULL OR consumer = $1) AND ($2 OR replayed_at IS NULL) ORDER BY id",
        consumer,
        include_replayed,
    )
    return [DeadLetter(**dict(r)) for r in rows]


async def record_dead_letter(
    pool: asyncpg.Pool, consumer: str, msg: Msg, claim: Claim, error: str, deliveries: int
) -> None:
    """Keep (or refresh) the dead letter of this message for this consumer."""
    await pool.execute(
        "INSERT INTO messaging.dead_letters (consumer, event_id, stream_id, version, "
        "event_type, subject, payload, error, deliveries) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (consumer, event_id) DO UPDATE SET error = EXCLUDED.error, "
        "deliveries = EXCLUDED.deliveries, failed_at = now(), replayed_at = NULL",
        consumer,
        claim.event_id or garbage_id(msg.data),
        claim.stream_id,
        claim.version,
        claim.event_type,
        msg.subject,
        msg.data,
        error,
        deliveries,
    )


async def dead_letter_event(pool: asyncpg.Pool, consumer: str, dead_letter_id: int) -> UUID:
    """The event id a consumer's dead letter names; LookupError if there is no such letter."""
    row = await pool.fetchrow(
        "SELECT event_id FROM messaging.dead_letters WHERE id = $1 AND consumer = $2",
        dead_letter_id,
        consumer,
    )
    if row is None:
        raise LookupError(f"没有这条死信 no dead letter {dead_letter_id} for consumer {consumer!r}")
    event_id: UUID = row["event_id"]
    return event_id


async def mark_replayed(pool: asyncpg.Pool, dead_letter_id: int) -> None:
    await pool.execute(
        "UPDATE messaging.dead_letters SET replayed_at = now() WHERE id = $1", dead_letter_id
    )
