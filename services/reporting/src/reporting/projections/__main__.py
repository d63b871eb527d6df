"""Operate the read models without the HTTP service.

    python -m reporting.projections consume   # a projection replica: the durable consumer only
    python -m reporting.projections rebuild   # rebuild from the event store and swap in

Settings come from the environment like the service's (PETITIONS_DATABASE_URL,
PETITIONS_REPORTING_DATABASE_URL, PETITIONS_NATS_URL, PETITIONS_DB_ROLE ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from petitions.db import create_pool
from petitions.eventstore import EventStore
from petitions.log import configure_logging, get_logger
from petitions.runtime import prepare_schema, tune_gc

from reporting.config import Settings
from reporting.projections.live import projection_consumer
from reporting.projections.parts import Parallel
from reporting.projections.rebuild import rebuild
from reporting.projections.tables import create_read_pool, prepare

log = get_logger(__name__)


@asynccontextmanager
async def _pools(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    await prepare_schema(settings, settings.database_url)
    await prepare(
        settings.read_database_url,
        role=settings.db_role,
        migrate_on_start=settings.migrate_on_start,
    )
    store_pool = await create_pool(settings)
    try:
        read_pool = await create_read_pool(
            settings.read_database_url,
            role=settings.db_role,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
        )
        try:
            yield store_pool, read_pool
        finally:
            await read_pool.close()
    finally:
        await store_pool.close()


async def consume(settings: Settings) -> None:
    async with _pools(settings) as (store_pool, read_pool):
        store = EventStore(store_pool, hash_algorithm=settings.hash_algorithm)
        consumer = projection_consumer(
            read_pool, store, settings.nats(), ack_wait=settings.reporting_ack_wait
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        log.info("reporting.consuming", nats=settings.nats_url)
        await consumer.run()
        log.info("reporting.stopped", applied=consumer.applied)


async def rebuild_command(settings: Settings, progress: bool) -> None:
    async with _pools(settings) as (store_pool, read_pool):
        parallel = Parallel(
            settings.rebuild_parts,
            settings.database_url,
            settings.read_database_url,
            settings.db_role or None,
        )
        result = await rebuild(store_pool, read_pool, progress=progress, parallel=parallel)
        print(json.dumps(dataclasses.asdict(result)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reporting.projections", description="台帐读模型 reporting read models"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("consume", help="投影副本 run one projection replica (no HTTP)")
    rebuild_parser = commands.add_parser(
        "rebuild", help="重建读模型 rebuild the read models from the event store and swap them in"
    )
    rebuild_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(service="reporting", fmt=settings.log_format, level=settings.log_level)
    tune_gc()
    if args.command == "consume":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(consume(settings))
    else:
        asyncio.run(rebuild_command(settings, progress=not args.no_progress))
    return 0


if __name__ == "__main__":
    sys.exit(main())
