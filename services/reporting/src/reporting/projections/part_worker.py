"""One part of a split rebuild, as a process of its own (started by :mod:`.parts`, never by
hand): reads its spec as one JSON line on stdin, folds its part of the log into the schema being
built, and writes JSON lines on stdout: ``{"folded": n}`` as it goes, then its result.

The parent keeps stdin open until the part is done. If it closes (the parent died, even by
SIGKILL), the part stops at its next batch and before its next write: left running, it would go
on writing into a schema of that name, which the next rebuild drops and creates anew. Before
each write it also checks that the schema is still the one its rebuild made (its oid, in the
spec)."""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from petitions.db import create_pool
from petitions.eventstore import Cursor, EventStore
from petitions.runtime import tune_gc
from petitions.settings import CommonSettings

from reporting.projections.parts import Part
from reporting.projections.rebuild import Fold, Sink
from reporting.projections.tables import create_read_pool


class ParentGone(RuntimeError):
    """The rebuild that started this part is gone."""


@dataclass(frozen=True, slots=True)
class _Lines:
    """The fold's progress, as lines the parent adds to its bar; and the check, every batch,
    that the parent is still there."""

    def update(self, n: int) -> None:
        if _parent_gone():
            raise ParentGone("重建进程已退出 the rebuild that started this part is gone")
        _say({"folded": n})


def _parent_gone() -> bool:
    """Whether stdin has reached its end: the parent writes nothing after the spec, so stdin is
    readable only once closed. A poll (select with no timeout), not a wait."""
    readable, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(readable)


_protocol = sys.stdout


def _say(message: dict[str, Any]) -> None:
    _protocol.write(json.dumps(message) + "\n")
    _protocol.flush()


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)  # kB


def _guard(schema: str, oid: int) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def check(conn: asyncpg.Connection) -> None:
        if _parent_gone():
            raise ParentGone("重建进程已退出 the rebuild that started this part is gone")
        if await conn.fetchval("SELECT to_regnamespace($1)::oid", schema) != oid:
            raise ParentGone(f"{schema} is no longer the schema this part's rebuild made")

    return check


async def run(spec: dict[str, Any]) -> None:
    part = Part(spec["index"], spec["count"], Cursor(*spec["until"]))
    role = spec["role"]
    schema = spec["schema"]
    store_pool = await create_pool(
        CommonSettings(
            database_url=spec["store_dsn"], db_role=role or "", db_pool_min=1, db_pool_max=2
        )
    )
    try:
        read_pool = await create_read_pool(spec["read_dsn"], role=role, min_size=2, max_size=2)
        try:
            async with read_pool.acquire() as conn, read_pool.acquire() as reader:
                fold = Fold(
                    EventStore(store_pool),
                    spec["batch_size"],
                    sink=Sink(conn, schema, reader, _guard(schema, spec["schema_oid"])),
                    flush_every=spec["flush_every"],
                    part=part,
                )
                await fold.catch_up(_Lines())
                await fold.flush()
        finally:
            await read_pool.close()
    finally:
        await store_pool.close()
    _say(
        {
            "done": True,
            "events": fold.events,
            "session_instructions": [
                [str(session), n] for session, n in sorted(fold.session_instructions.items())
            ],
            "peak_rss_mb": _peak_rss_mb(),
        }
    )


def main() -> None:
    global _protocol
    # The parent reads this process's stdout as its protocol; anything else written there (a
    # library's print, a log line) goes to stderr, which the operator sees.
    _protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    tune_gc()
    try:
        asyncio.run(run(json.loads(sys.stdin.readline())))
    except ParentGone as gone:
        print(gone, file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
