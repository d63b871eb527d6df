"""Verifying stored hash chains in PostgreSQL (the chain logic itself is :mod:`.chain`).

PostgreSQL formats each event's canonical bytes (:data:`sql.CANONICAL`), and the next rows are
fetched while this process hashes the last ones: the server and Python work on different cores.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from petitions.eventstore import sql
from petitions.eventstore.chain import ChainChecker
from petitions.eventstore.model import VerificationResult

_BATCH = 5000
_SLICE = 500  # rows hashed between two chances for the fetch to run


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


async def verify_every_stream(pool: asyncpg.Pool) -> list[VerificationResult]:
    """Verify every stream; return one result per stream (failures and successes).

    PostgreSQL formats each event's canonical bytes (:data:`sql.CANONICAL`) and the next
    rows are fetched from its cursor while this process hashes the last ones (the hashing
    lets the fetch run every few hundred rows): the two work on different cores."""
    results: list[VerificationResult] = []
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        heads: dict[str, tuple[int, bytes]] = {
            r[0]: (r[1], r[2]) for r in await conn.fetch(sql.STREAM_HEADS)
        }
        # The rows in stream order from the (stream_id, version) index, formatted as they go:
        # left to itself, PostgreSQL sorts the whole table first (the canonical text of every
        # event made before the first row comes out, and spilled to disk on a large log) while
        # this process waits; at 100,000 events of ~1 KB that wait was half of verify_all.
        await conn.execute("SET LOCAL enable_sort = off")
        cursor = await conn.cursor(sql.CHECK_EVERY_STREAM)
        checker: ChainChecker | None = None
        feed = None
        failed = False
        pending = asyncio.ensure_future(cursor.fetch(_BATCH))
        try:
            while rows := await pending:
                pending = asyncio.ensure_future(cursor.fetch(_BATCH))
                for k, row in enumerate(rows):
                    if k % _SLICE == 0:
                        await asyncio.sleep(0)  # let the fetch take in what has arrived
                    stream_id = row[0]
                    if checker is None or checker.stream_id != stream_id:
                        if checker is not None:
                            results.append(checker.finish(heads.pop(checker.stream_id, None)))
                        checker, failed = ChainChecker(stream_id), False
                        feed = checker.feed_canonical
                    if not failed:
                        assert feed is not None
                        failed = not feed(row[1], row[2], row[3], row[4], row[5])
        finally:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        if checker is not None:
            results.append(checker.finish(heads.pop(checker.stream_id, None)))
    # A stream row whose events are all gone.
    for stream_id, head in heads.items():
        results.append(ChainChecker(stream_id).finish(head))
    return results
