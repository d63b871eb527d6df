"""Event store benchmark: appends from 1 and 8 writers and the decoded ordered read, each beside the
raw ceiling of the same server in the same run (plain asyncpg INSERT transactions into a table of
the same shape, and plain row reads)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from petitions.db import create_pool
from petitions.eventstore import EventStore, Metadata, NewEvent, apply_migrations
from petitions.messages import Event
from petitions.settings import CommonSettings

RESULTS = Path(__file__).resolve().parent / "results" / "eventstore.json"
SECONDS = 5.0
META = Metadata(actor="bench", service="bench")


class ProgressRecorded(Event, type="bench.ProgressRecorded"):
    """A realistic small event: a weekly progress entry on a case."""

    case_number: str
    week: str
    officer: str
    note: str
    hours: int


def _event(i: int) -> ProgressRecorded:
    return ProgressRecorded(
        case_number=f"3301-2026-{i:06d}",
        week="2026-W14",
        officer="王警官",
        note="已约谈信访人，调取相关材料，正在核实情况。",
        hours=i % 9,
    )


async def _timed(writers: int, one: Callable[[int, int], Awaitable[None]]) -> float:
    """Run ``one(writer, i)`` in a loop on each writer for SECONDS; return operations per second."""
    done = [0] * writers
    stop = time.perf_counter() + SECONDS

    async def loop(w: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            await one(w, i)
            i += 1
        done[w] = i

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(writers)))
    return sum(done) / (time.perf_counter() - started)


async def _raw_insert(dsn: str, writers: int) -> float:
    """The ceiling: one dedicated connection per writer, a plain INSERT, nothing else."""
    tag = uuid.uuid4().hex[:6]
    conns = [await asyncpg.connect(dsn) for _ in range(writers)]
    row = (
        "case-raw",
        "bench.ProgressRecorded",
        1,
        "3301",
        _event(0).model_dump_json(),
        "bench",
        "bench",
        uuid.uuid4(),
        datetime.now(UTC),
        "sm3",
        bytes(32),
    )

    async def one(w: int, i: int) -> None:
        await conns[w].execute(
            "INSERT INTO bench_raw (stream_id, version, event_id, event_type, schema_version, "
            "bureau, data, actor, service, correlation_id, occurred_at, recorded_at, hash_alg, "
            "hash) VALUES ($1 || $12::text, $13, $14, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, "
            "$11)",
            *row,
            f"{tag}-{w}",
            w * 10_000_000 + i + 1,
            uuid.uuid4(),
        )

    try:
        return await _timed(writers, one)
    finally:
        for conn in conns:
            await conn.close()


async def _append(store: EventStore, writers: int, tag: str) -> float:
    streams_per_writer = 50
    versions: dict[str, int] = {}

    async def one(w: int, i: int) -> None:
        stream = f"case-{tag}{w}x{i % streams_per_writer}"
        expected = versions.get(stream, 0)
        await store.append(stream, [NewEvent(_event(i), bureau="3301")], expected, metadata=META)
        versions[stream] = expected + 1

    return await _timed(writers, one)


async def _fill(store: EventStore, total: int) -> None:
    """Bring the log to ``total`` events quickly (20 events per append)."""
    have = await store.pool.fetchval("SELECT count(*) FROM eventstore.events")
    n = 0
    while have + n < total:
        batch = [NewEvent(_event(n + k), bureau="3301") for k in range(20)]
        await store.append(f"case-fill{n}", batch, 0, metadata=META)
        n += 20


async def _read_all(store: EventStore) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    async for batch in store.iter_all(batch_size=5000):
        count += len(batch)
    return count / (time.perf_counter() - started), count


async def _raw_read(dsn: str) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        count = 0
        last = 0
        while True:
            rows = await conn.fetch(
                "SELECT * FROM eventstore.events WHERE position > $1 ORDER BY position LIMIT 5000",
                last,
            )
            if not rows:
                break
            count += len(rows)
            last = rows[-1]["position"]
        return count / (time.perf_counter() - started), count
    finally:
        await conn.close()


async def run(admin_url: str) -> dict[str, Any]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_url.rpartition("/")[0] + "/" + name
    try:
        await apply_migrations(dsn)
        setup = await asyncpg.connect(dsn)
        await setup.execute("CREATE TABLE bench_raw (LIKE eventstore.events INCLUDING ALL)")
        await setup.close()
        pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=8, db_pool_max=8))
        store = EventStore(pool)
        figures: dict[str, Any] = {}
        steps: list[tuple[str, Callable[[], Awaitable[float]]]] = [
            ("raw_insert_1_writer_tps", lambda: _raw_insert(dsn, 1)),
            ("append_1_writer_eps", lambda: _append(store, 1, "a")),
            ("raw_insert_8_writers_tps", lambda: _raw_insert(dsn, 8)),
            ("append_8_writers_eps", lambda: _append(store, 8, "b")),
        ]
        for key, step in steps:
            print(f"  measuring {key} ({SECONDS:.0f} s) ...", flush=True)
            figures[key] = round(await step())
        print("  filling the log to 200,000 events for the read test ...", flush=True)
        await _fill(store, 200_000)
        await pool.execute("ANALYZE eventstore.events")
        figures["raw_read_rows_per_s"], raw_count = (round(x) for x in await _raw_read(dsn))
        figures["read_all_eps"], read_count = (round(x) for x in await _read_all(store))
        figures["events_read"] = read_count
        assert raw_count == read_count, (raw_count, read_count)
        await pool.close()
        return figures
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def report(figures: dict[str, Any]) -> None:
    rows = [
        ("append, 1 writer (events/s)", "append_1_writer_eps", "raw_insert_1_writer_tps", 1500),
        ("append, 8 writers (events/s)", "append_8_writers_eps", "raw_insert_8_writers_tps", None),
        ("ordered read, decoded (events/s)", "read_all_eps", "raw_read_rows_per_s", 100_000),
    ]
    print(f"\n{'figure':36} {'measured':>10} {'ceiling':>10} {'share':>7}  target")
    for label, key, ceiling_key, target in rows:
        value, ceiling = figures[key], figures[ceiling_key]
        goal = f">= {target:,}" if target else ">= 70% of ceiling"
        print(f"{label:36} {value:>10,} {ceiling:>10,} {value / ceiling:>7.0%}  {goal}")


def main(admin_url: str) -> dict[str, Any]:
    print("== event store benchmark 事件存储基准")
    figures = asyncio.run(run(admin_url))
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report(figures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(RESULTS.parents[2])}")
    return figures
