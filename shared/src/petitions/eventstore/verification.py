"""Verifying stored hash chains in PostgreSQL (the chain logic itself is :mod:`.chain`).

PostgreSQL formats each event's canonical bytes (:data:`sql.CANONICAL`), and the next rows are
fetched while this process hashes the last ones: the server and Python work on different cores.
The whole log is verified in lanes (ranges of stream ids, one connection each, all in one
snapshot): formatting the canonical text is the server's larger share of the work, and one
backend formats on one core.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from petitions.eventstore import sql
from petitions.eventstore.chain import ChainChecker
from petitions.eventstore.model import VerificationResult
from petitions.turns import next_turn

_BATCH = 5000
_SLICE = 500  # rows hashed between two chances for the fetches to run
LANES = 2
"""Connections verify_all formats on, when the pool has them to spare: on 2 cores and a log of
12.7 million events, one lane checked 101,000-111,000 events/s and two 141,000-143,000."""


async def verify_stream(pool: asyncpg.Pool, stream_id: str) -> VerificationResult:
    """Recompute the stream's hash chain; report the first event that does not match."""
    async with pool.acquire() as conn:
        head = await conn.fetchrow(sql.STREAM_HEAD, stream_id)
        rows = await conn.fetch(sql.CHECK_ONE_STREAM, stream_id)
    checker = ChainChecker(stream_id)
    for row in rows:
        if not checker.feed_canonical(row[1], row[2], row[3], row[4], row[5]):
            break
    return checker.finish(None if head is None else (head[0], head[1]))


def split_points(heads: Sequence[tuple[str, int]], lanes: int) -> list[str]:
    """Stream ids that cut ``heads`` (stream id, events; in the server's stream-id order) into
    up to ``lanes`` ranges of about as many events: range k runs from point k-1 (included) to
    point k (excluded). A cut goes before the stream in whose first half the next share
    ends."""
    total = sum(events for _, events in heads)
    points: list[str] = []
    done = 0
    for stream_id, events in heads:
        if len(points) + 1 >= lanes:
            break
        if done and done + events / 2 > total * (len(points) + 1) / lanes:
            points.append(stream_id)
        done += events
    return points


@dataclass(slots=True)
class _Lane:
    """One range of streams: its server-side cursor and the chains checked so far."""

    cursor: asyncpg.cursor.Cursor
    pending: asyncio.Future[list[asyncpg.Record]] | None = None
    results: list[VerificationResult] = field(default_factory=list)
    checker: ChainChecker | None = None
    failed: bool = False

    def fetch(self) -> None:
        self.pending = asyncio.ensure_future(self.cursor.fetch(_BATCH))

    async def check(
        self, rows: Sequence[asyncpg.Record], heads: dict[str, tuple[int, bytes]]
    ) -> None:
        checker, failed = self.checker, self.failed
        for k, row in enumerate(rows):
            if k % _SLICE == 0:
                await next_turn()  # the fetches take in what has arrived
            stream_id = row[0]
            if checker is None or checker.stream_id != stream_id:
                if checker is not None:
                    self.results.append(checker.finish(heads.pop(checker.stream_id, None)))
                checker, failed = ChainChecker(stream_id), False
            if not failed:
                failed = not checker.feed_canonical(row[1], row[2], row[3], row[4], row[5])
        self.checker, self.failed = checker, failed

    def finish(self, heads: dict[str, tuple[int, bytes]]) -> list[VerificationResult]:
        if self.checker is not None:
            self.results.append(self.checker.finish(heads.pop(self.checker.stream_id, None)))
        return self.results


def _range(low: str | None, high: str | None) -> tuple[str, list[str]]:
    """The query of the lane from ``low`` (included) to ``high`` (excluded; None: no bound),
    and its arguments."""
    conditions: list[str] = []
    args: list[str] = []
    for bound, compare in ((low, ">="), (high, "<")):
        if bound is not None:
            args.append(bound)
            conditions.append(f"stream_id {compare} ${len(args)}")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    query = f"SELECT {sql.CHECKED} FROM eventstore.events{where} ORDER BY stream_id, version"
    return query, args


def _spare(pool: asyncpg.Pool) -> bool:
    """Whether the pool has a connection free now, or room to open one."""
    idle: int = pool.get_idle_size()
    return idle > 0 or pool.get_size() < pool.get_max_size()


async def verify_every_stream(pool: asyncpg.Pool, lanes: int = LANES) -> list[VerificationResult]:
    """Verify every stream; return one result per stream (failures and successes), in stream-id
    order."""
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(pool.acquire())
        await stack.enter_async_context(first.transaction(isolation="repeatable_read"))
        heads_in_order = await first.fetch(sql.STREAM_HEADS)
        heads: dict[str, tuple[int, bytes]] = {r[0]: (r[1], r[2]) for r in heads_in_order}
        points = split_points([(r[0], r[1]) for r in heads_in_order], lanes)
        del heads_in_order
        connections = [first]
        if points:
            snapshot = await first.fetchval("SELECT pg_export_snapshot()")
            while len(connections) <= len(points) and _spare(pool):
                conn = await stack.enter_async_context(pool.acquire())
                await stack.enter_async_context(conn.transaction(isolation="repeatable_read"))
                # Every lane reads the log as the first one does (the id is the server's).
                await conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                connections.append(conn)
            points = points[: len(connections) - 1]
        bounds = list(zip([None, *points], [*points, None], strict=True))
        lanes_: list[_Lane] = []
        for conn, (low, high) in zip(connections, bounds, strict=True):
            # The rows in stream order from the (stream_id, version) index, formatted as they
            # go: left to itself, PostgreSQL sorts the whole table first (the canonical text
            # of every event made before the first row comes out, and spilled to disk on a
            # large log) while this process waits.
            await conn.execute("SET LOCAL enable_sort = off")
            query, args = _range(low, high)
            lanes_.append(_Lane(await conn.cursor(query, *args)))
        for lane in lanes_:
            lane.fetch()
        try:
            active = list(lanes_)
            while active:
                for lane in list(active):
                    assert lane.pending is not None
                    rows = await lane.pending
                    if not rows:
                        lane.pending = None
                        active.remove(lane)
                        continue
                    lane.fetch()
                    await lane.check(rows, heads)
        finally:
            for lane in lanes_:
                if lane.pending is not None:
                    lane.pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await lane.pending
        results = [r for lane in lanes_ for r in lane.finish(heads)]
    # A stream row whose events are all gone.
    for stream_id, head in heads.items():
        results.append(ChainChecker(stream_id).finish(head))
    return results
