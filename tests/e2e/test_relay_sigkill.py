"""A service process relaying events is killed with SIGKILL in the middle of a burst; another
takes over; every event is on NATS exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nats
import pytest
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.identity import DEV_ISSUER
from petitions.messaging import STREAM

from tests.conftest import ROOT, Servers
from tests.integration.test_relay import wait_for
from tests.support.events import CounterMoved

pytestmark = pytest.mark.integration

META = Metadata(actor="registrar", service="intake")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(
    database_url: str, nats: dict[str, str], jwks_file: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        **nats,
        "PETITIONS_HTTP_PORT": str(_port()),
        "PETITIONS_LOG_FORMAT": "json",
        "PETITIONS_BUREAU_CONFIG": str(ROOT / "deploy/config/bureaus.demo.toml"),
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks_file),
    }
    # reporting needs no personal-data keys, and runs the relay like every service.
    return subprocess.Popen(
        [sys.executable, "-m", "reporting"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def stream_ids(url: str) -> list[str]:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        try:
            total = (await js.stream_info(STREAM)).state.messages
        except nats.js.errors.NotFoundError:
            return []
        sub = await js.pull_subscribe("petitions.events.>", stream=STREAM)
        ids: list[str] = []
        while len(ids) < total:
            for m in await sub.fetch(min(500, total - len(ids)), timeout=5):
                assert m.headers is not None  # the relay sends every message with its id
                ids.append(m.headers["Nats-Msg-Id"])
        return ids
    finally:
        await client.close()


async def _at_least(url: str, n: int) -> bool:
    return len(await stream_ids(url)) >= n


async def test_sigkill_mid_burst_loses_nothing_and_duplicates_nothing(
    store: EventStore, database_url: str, nats_url: str, servers: Servers, jwks_file: Path
) -> None:
    first = start_service(database_url, servers.env("reporting"), jwks_file)
    second: subprocess.Popen[bytes] | None = None
    try:
        written: list[str] = []

        async def burst() -> None:
            for i in range(600):
                result = await store.append(
                    f"case-k{i}", [NewEvent(CounterMoved(by=i), bureau="330102")], 0, metadata=META
                )
                written.append(str((await store.read_stream_raw(result.stream_id))[0].event_id))
                await asyncio.sleep(0.004)

        task = asyncio.create_task(burst())
        await wait_for(lambda: _at_least(nats_url, 100), 30, "the first relay to publish")
        first.send_signal(signal.SIGKILL)  # mid-burst, wherever it is: publish, ack, checkpoint
        first.wait(timeout=10)
        second = start_service(database_url, servers.env("reporting"), jwks_file)
        await task
        await wait_for(lambda: _at_least(nats_url, 600), 60, "all 600 events on NATS")
        ids = await stream_ids(nats_url)
        assert len(ids) == len(set(ids)) == 600
        assert set(ids) == set(written)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
