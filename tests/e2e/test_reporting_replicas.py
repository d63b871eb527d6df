"""Three reporting replicas share the durable consumer; one is killed with SIGKILL mid-stream.
The read models end up equal to a fold of the store: nothing lost, nothing applied twice, each
case's events in order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from petitions.eventstore import EventStore
from petitions.messaging import Relay

from bench.reporting import histories, write
from tests.conftest import Servers
from tests.integration import test_reporting_projections as projections
from tests.integration.test_relay import wait_for
from tests.integration.test_reporting_projections import (
    caught_up,
    fold_of_store,
    running,
    snapshot,
)
from tests.support.messaging import provision_durable

pytestmark = pytest.mark.integration

read_pool = projections.read_pool


def _replica(database_url: str, nats: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        **nats,
        "PETITIONS_LOG_FORMAT": "json",
        # A killed replica's unacknowledged events come back soon, not after 30 s.
        "PETITIONS_REPORTING_ACK_WAIT": "2",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "reporting.projections", "consume"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
async def short_ack_wait(nats_url: str) -> None:
    """The deployment's ``reporting`` durable with the ack wait the replicas expect."""
    await provision_durable(nats_url, "reporting", "petitions.events.>", ack_wait=2.0)


@pytest.fixture
def replicas(
    database_url: str, servers: Servers, short_ack_wait: None, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    logs = [tmp_path / f"replica-{n}.log" for n in range(3)]
    procs = [_replica(database_url, servers.env("reporting"), log) for log in logs]
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)


def _consuming(log: Path) -> bool:
    return log.exists() and "reporting.consuming" in log.read_text(errors="replace")


async def _applied_events(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(sum(version), 0) FROM applied"))


async def test_a_replica_killed_mid_stream_loses_nothing_and_applies_nothing_twice(
    personal_store: EventStore,
    database_url: str,
    relay_url: str,
    read_pool: asyncpg.Pool,
    replicas: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    logs = [tmp_path / f"replica-{n}.log" for n in range(3)]

    async def all_consuming() -> bool:
        return all(_consuming(log) for log in logs)

    await wait_for(all_consuming, 60, "three replicas consuming")
    keyless = EventStore(personal_store.pool)
    stories, erase = histories(600, seed=21)
    total = sum(s.events for s in stories)

    async with running(Relay(keyless, dsn=database_url, nats_url=relay_url)):
        writing = asyncio.create_task(write(personal_store, stories, writers=3))

        async def some_applied() -> bool:
            return await _applied_events(read_pool) >= total // 5

        await wait_for(some_applied, 60, "the replicas to apply a fifth of the events")
        victim = replicas[0]
        victim.send_signal(signal.SIGKILL)  # wherever it is: mid-transaction, before an ack
        victim.wait(timeout=10)
        await writing
        for subject in erase:
            await personal_store.erase_subject(
                subject, reason="本人申请", metadata=projections.META
            )
        await wait_for(caught_up(keyless, read_pool), 120, "the two survivors to apply the rest")

    assert all(p.poll() is None for p in replicas[1:])
    live = await snapshot(read_pool)
    assert live == await fold_of_store(keyless)
    assert len(live["submissions"]) == sum(row["submissions"] for row in live["cases"])
    assert await _applied_events(read_pool) == total + len(erase)
