"""Replicas benchmark (issue 17): reporting's consumer throughput with 1, 2 and 4 replicas on a
backlog, and the CPU each event costs them.

`python -m bench replicas [--cases N]` (``BENCH_REPLICAS_CASES``; 12 events a case). The log is
loaded by :mod:`bench.loader` and published onto a fresh stream by the relay; then, for each
replica count, the read models and the ``reporting`` durable start empty and N processes of
`python -m reporting.projections consume` (as a deployment runs them) share the durable until
every stored version is applied. Timed from the first applied case to the last (process
start-up left out); CPU is the replicas' own user + system time (/proc) over the events.

Replicas share one durable: JetStream hands each message to one of them, and per-case order
holds because each replica applies a case's versions in order (a version ahead of the stored
one reads the missing ones from the store first; see petitions.messaging.Consumer). The
subjects carry a partition (``petitions.events.<bureau>.p<nn>.<type>``) should a deployment
want one durable per partition group instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import nats
import nats.js.errors
from petitions.db import create_pool
from petitions.eventstore import EventStore
from petitions.messaging import STREAM, NatsAccess, Relay, provision
from petitions.settings import CommonSettings

from bench.loader import load, new_secrets
from bench.reporting import _fresh_database, _raw_read
from bench.servers import ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "replicas.json"
CASES = int(os.environ.get("BENCH_REPLICAS_CASES", "4000"))
COUNTS = tuple(int(n) for n in os.environ.get("BENCH_REPLICAS_COUNTS", "1,2,4").split(","))
# BENCH_REPLICAS_PROFILE=<folder>: each replica runs under cProfile, its profile written there.
PROFILE = os.environ.get("BENCH_REPLICAS_PROFILE")
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


async def _applied(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(sum(version), 0) FROM reporting.applied"))


async def _deliveries(nats_url: str) -> int:
    """Messages the durable delivered, redeliveries included (its consumer sequence)."""
    client = await nats.connect(nats_url)
    try:
        info = await client.jetstream().consumer_info(STREAM, "reporting")
        return int(info.delivered.consumer_seq or 0)
    finally:
        await client.close()


async def _reset(dsn: str, nats_url: str) -> None:
    """Empty read models and a new ``reporting`` durable (it delivers the stream from the start)."""
    owner = await asyncpg.connect(dsn)  # the pool's connections take the service's role
    try:
        tables = [
            r[0]
            for r in await owner.fetch(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                "WHERE schemaname IN ('reporting', 'messaging')"
            )
        ]
        await owner.execute(f"TRUNCATE {', '.join(tables)}")
    finally:
        await owner.close()
    client = await nats.connect(nats_url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await client.jetstream().delete_consumer(STREAM, "reporting")
    await client.close()
    await provision(NatsAccess(nats_url))


async def _publish(store: EventStore, dsn: str, nats_url: str, events: int) -> float:
    """The relay publishes the whole log onto a fresh stream; returns its events/s."""
    client = await nats.connect(nats_url)
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await client.jetstream().delete_stream(STREAM)
    await client.close()
    await provision(NatsAccess(nats_url))
    relay = Relay(store, dsn=dsn, nats_url=nats_url)
    task = asyncio.create_task(relay.run())
    started = time.perf_counter()
    try:
        while relay.published < events:
            if task.done():
                task.result()
            await asyncio.sleep(0.5)
        return events / (time.perf_counter() - started)
    finally:
        relay.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)


async def _replicas(
    count: int, dsn: str, nats_url: str, pool: asyncpg.Pool, events: int, logs: Path
) -> dict[str, Any]:
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": dsn,
        "PETITIONS_NATS_URL": nats_url,
        "PETITIONS_LOG_FORMAT": "json",
    }
    env.pop("PETITIONS_REPORTING_DATABASE_URL", None)
    procs = []
    for n in range(count):
        with (logs / f"replica-{count}-{n}.log").open("wb") as out:
            procs.append(
                subprocess.Popen(  # noqa: ASYNC220  (spawned before the timing starts)
                    [
                        sys.executable,
                        *(
                            ["-m", "cProfile", "-o", f"{PROFILE}/replica-{count}-{n}.prof"]
                            if PROFILE
                            else []
                        ),
                        "-m",
                        "reporting.projections",
                        "consume",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 3600
        first: float | None = None
        while True:
            applied = await _applied(pool)
            now = time.perf_counter()
            if first is None and applied > 0:
                first, first_applied = now, applied
            if applied >= events:
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"{count} replicas: {applied} of {events} applied, see {logs}")
            await asyncio.sleep(0.2)
        cpu = sum(_cpu_seconds(p.pid) for p in procs)
        assert first is not None
        seconds = now - first
        return {
            "eps": round((events - first_applied) / max(seconds, 1e-9)),
            "seconds": round(seconds, 1),
            "cpu_us_per_event": round(cpu / events * 1e6),
            "deliveries_per_event": round(await _deliveries(nats_url) / events, 2),
            "load_average": round(os.getloadavg()[0], 1),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def run(admin_url: str, nats_url: str, cases: int, logs: Path) -> dict[str, Any]:
    from reporting.projections import migrate

    admin = await asyncpg.connect(admin_url)
    dsn = await _fresh_database(admin, admin_url, "bench_replicas")
    try:
        print(f"  loading about {cases:,} cases ...", flush=True)
        await load(dsn, cases, new_secrets(), progress=False)
        await migrate(dsn, role="petitions_app")
        pool = await create_pool(CommonSettings(database_url=dsn, db_pool_min=1, db_pool_max=4))
        try:
            events = int(await pool.fetchval("SELECT count(*) FROM eventstore.events"))
            figures: dict[str, Any] = {"events": events, "cases": cases}
            figures["raw_read_rows_per_s"] = round(await _raw_read(dsn))
            print(f"  relaying {events:,} events onto a fresh stream ...", flush=True)
            figures["relay_eps"] = round(await _publish(EventStore(pool), dsn, nats_url, events))
            for count in COUNTS:
                print(f"  {count} replica(s) ...", flush=True)
                await _reset(dsn, nats_url)
                result = await _replicas(count, dsn, nats_url, pool, events, logs)
                figures[f"replicas_eps_{count}"] = result["eps"]
                figures[f"replicas_{count}"] = result
            figures["raw_read_rows_per_s_after"] = round(await _raw_read(dsn))
        finally:
            await pool.close()
        return figures
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')
        await admin.close()


def main(admin_url: str, nats_url: str, argv: list[str] | None = None) -> dict[str, Any]:
    args = argv if argv is not None else []
    cases = int(args[args.index("--cases") + 1]) if "--cases" in args else CASES
    print(f"== replicas benchmark 投影副本基准 ({cases:,} cases)")
    logs = ROOT / ".devstack" / "bench-replicas-logs"
    logs.mkdir(parents=True, exist_ok=True)
    figures = asyncio.run(run(admin_url, nats_url, cases, logs))
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    for count in COUNTS:
        r = figures[f"replicas_{count}"]
        print(
            f"{count} replica(s): {r['eps']:,} events/s, {r['cpu_us_per_event']} µs CPU/event "
            f"(load {r['load_average']}); raw SELECT {figures['raw_read_rows_per_s']:,} rows/s"
        )
    out = Path(os.environ.get("BENCH_REPLICAS_RESULTS", RESULTS))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {out}")
    return figures
