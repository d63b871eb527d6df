"""The relay's lease: one relay publishes at a time, it keeps the right only by making progress,
and one that lost it cannot publish or move the cursor afterwards.

* The lease is a row in ``eventstore.relay_lease`` (holder, epoch, expiry). A standby takes it in
  one statement when it is free or expired, raising the epoch; the holder renews it for ``ttl``
  seconds after every round that made progress (a batch published and its cursor saved, or a look
  that found nothing to publish with NATS answering). A holder that is frozen, or that reaches
  PostgreSQL but not NATS, stops renewing and loses the lease within ``ttl`` seconds.
* Expiry is judged by PostgreSQL's clock (``now()``), never by the relays' clocks, which may
  disagree. The holder turns the time its lease has left into a deadline on its own monotonic
  clock (which runs on while a process is stopped) with a margin, and publishes nothing past it:
  a process resumed after a freeze finds its deadline passed before it can send.
* Fencing: the cursor advances, and incidents are recorded, only in statements that find the
  holder's epoch still in the lease row (:data:`FENCE`), so a holder that lost the lease moves
  nothing even if it acts before it notices.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

NAME = "relay"


def fence(epoch: str, holder: str) -> str:
    """A CTE ``lease`` that yields a row only while the lease still carries this holder's epoch
    (``epoch`` and ``holder``: the statement's parameters, e.g. ``$4``). ``FOR SHARE`` makes a
    standby's acquisition wait for the statement, and the statement for an acquisition under
    way (then it finds the new epoch): the cursor moves before the lease changes hands, or not
    at all."""
    return (
        "lease AS (SELECT 1 FROM eventstore.relay_lease WHERE name = 'relay' "
        f"AND epoch = {epoch} AND holder = {holder} FOR SHARE)"
    )


class LeaseLostError(Exception):
    """This relay no longer holds the lease (another took it, or it ran out): stand by."""


@dataclass(frozen=True, slots=True)
class LeaseState:
    """The lease as ``relay-status`` shows it."""

    holder: str
    epoch: int
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime
    remaining: float
    """Seconds until it expires, by the database's clock (negative: expired)."""

    @property
    def held(self) -> bool:
        return self.remaining > 0


async def lease_state(conn: asyncpg.Connection | asyncpg.Pool) -> LeaseState | None:
    row = await conn.fetchrow(
        "SELECT holder, epoch, acquired_at, renewed_at, expires_at, "
        "extract(epoch FROM expires_at - now())::float8 AS remaining "
        "FROM eventstore.relay_lease WHERE name = $1",
        NAME,
    )
    return None if row is None else LeaseState(**dict(row))


def holder_name() -> str:
    """Who holds the lease, as operators see it: host and process, plus a random part so that a
    restarted process with a reused pid is not taken for its predecessor."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    """One relay's side of the lease. ``ttl``: seconds a renewal holds; ``margin``: how long
    before expiry (by its own clock) the holder stops publishing, to cover a publish in flight
    and the clocks' small difference in rate."""

    def __init__(self, *, ttl: float, holder: str | None = None, margin: float | None = None):
        self.ttl = ttl
        self.margin = ttl / 3 if margin is None else margin
        self.holder = holder or holder_name()
        self.epoch: int | None = None
        self._deadline = 0.0

    @property
    def fence_args(self) -> tuple[int, str]:
        if self.epoch is None:
            raise LeaseLostError("the relay holds no lease")
        return self.epoch, self.holder

    def valid(self) -> bool:
        """Whether this holder may still publish, by its own monotonic clock."""
        return self.epoch is not None and time.monotonic() < self._deadline

    def _hold_until(self, started: float, remaining: float | None) -> bool:
        # ``started`` is taken before the query: the database's now() came later, so the
        # deadline errs on the early side.
        if remaining is None or remaining <= self.margin:
            self._deadline = 0.0
            return False
        self._deadline = started + remaining - self.margin
        return True

    async def acquire(self, conn: asyncpg.Connection | asyncpg.Pool) -> bool:
        """Take the lease if it is free or expired (one statement: of racing standbys one wins,
        the other finds it taken). Each acquisition raises the epoch."""
        started = time.monotonic()
        row = await conn.fetchrow(
            "INSERT INTO eventstore.relay_lease AS l "
            "(name, holder, epoch, acquired_at, renewed_at, expires_at) "
            "VALUES ($1, $2, 1, now(), now(), now() + make_interval(secs => $3)) "
            "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1, "
            "acquired_at = now(), renewed_at = now(), expires_at = EXCLUDED.expires_at "
            "WHERE l.expires_at <= now() "
            "RETURNING epoch, extract(epoch FROM expires_at - now())::float8 AS remaining",
            NAME,
            self.holder,
            self.ttl,
        )
        if row is None:
            return False
        self.epoch = int(row["epoch"])
        return self._hold_until(started, row["remaining"])

    async def check(self, conn: asyncpg.Connection | asyncpg.Pool) -> bool:
        """Whether the lease is still this holder's with more than the margin left (without
        renewing it: only progress renews); sets the publishing deadline."""
        if self.epoch is None:
            return False
        started = time.monotonic()
        remaining = await conn.fetchval(
            "SELECT extract(epoch FROM expires_at - now())::float8 FROM eventstore.relay_lease "
            "WHERE name = $1 AND epoch = $2 AND holder = $3",
            NAME,
            self.epoch,
            self.holder,
        )
        return self._hold_until(started, remaining)

    async def renew(self, conn: asyncpg.Connection | asyncpg.Pool) -> bool:
        """Extend the lease by ``ttl`` after progress, if it still carries this epoch (even if it
        ran out meanwhile: the same epoch means nobody else held it in between)."""
        if self.epoch is None:
            return False
        started = time.monotonic()
        remaining = await conn.fetchval(
            "UPDATE eventstore.relay_lease SET renewed_at = now(), "
            "expires_at = now() + make_interval(secs => $4) "
            "WHERE name = $1 AND epoch = $2 AND holder = $3 "
            "RETURNING extract(epoch FROM expires_at - now())::float8",
            NAME,
            self.epoch,
            self.holder,
            self.ttl,
        )
        return self._hold_until(started, remaining)

    async def release(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        """Give the lease up (stopping, or stepping down): a standby need not wait for it to
        run out. A no-op if it is another's by now."""
        epoch, self.epoch, self._deadline = self.epoch, None, 0.0
        if epoch is None:
            return
        await conn.execute(
            "UPDATE eventstore.relay_lease SET expires_at = now() "
            "WHERE name = $1 AND epoch = $2 AND holder = $3 AND expires_at > now()",
            NAME,
            epoch,
            self.holder,
        )

    def forget(self) -> None:
        """Drop the lease locally (it is gone, or cannot be told apart from gone)."""
        self.epoch, self._deadline = None, 0.0
