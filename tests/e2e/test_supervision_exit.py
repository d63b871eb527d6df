"""A service whose background task keeps failing ends with exit code 70 (EX_SOFTWARE), so its
orchestrator starts a fresh one (issue 16): the real assignment entrypoint, as its own process.

The failure is one the chaos run met: a consumer that cannot write a dead letter (an asyncpg
error outside the handler's try). The garbage message has been delivered four times already, so
the service's first delivery is the fifth, where the consumer dead-letters it; the durable's
short ack wait brings it back at once after each failure."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import asyncpg
import nats
import pytest
from assignment.main import MIGRATIONS
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.messaging.provision import declare_consumer
from petitions.messaging.security import access
from petitions.messaging.subjects import STREAM
from petitions.migrations import apply_package
from petitions.supervision import EXIT_CODE

from tests.conftest import ROOT, TEST_EVENT_ID_KEY, TEST_KEK_B64, Servers

pytestmark = pytest.mark.integration

INTAKE_EVENTS = "petitions.events.*.*.intake.>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_task_that_keeps_failing_ends_the_service_with_code_70(
    database_url: str, servers: Servers, nats_url: str, relay_url: str, tmp_path: Path
) -> None:
    # The one identity that may publish events (with its own inbox prefix).
    relay = await nats.connect(**access(relay_url).options())
    try:
        await relay.jetstream().publish(
            "petitions.events.3301.p01.intake.CaseRegistered", b"not an event"
        )
    finally:
        await relay.close()
    client = await nats.connect(**access(nats_url).options())
    try:
        js = client.jetstream()
        # The assignment durable as provisioned, with a 1 s ack wait: a message its consumer
        # failed on comes back within a second instead of the default 30.
        await js.delete_consumer(STREAM, "assignment")
        await declare_consumer(js, "assignment", INTAKE_EVENTS, ack_wait=1.0)
        sub = await js.pull_subscribe_bind(durable="assignment", stream=STREAM)
        for _ in range(4):  # deliveries 1-4, as if a consumer had retried it before
            (message,) = await sub.fetch(1, timeout=5)
            await message.nak()
    finally:
        await client.close()
    conn = await asyncpg.connect(database_url)
    try:
        for owner, package in MIGRATIONS:  # the service's schema, as its start-up makes it
            await apply_package(conn, owner, package)
        # Every dead-letter write now fails, as a full disk or a lost grant would make it.
        await conn.execute(
            "ALTER TABLE messaging.dead_letters "
            "ADD CONSTRAINT refuse_everything CHECK (false) NOT VALID"
        )
    finally:
        await conn.close()

    issuer = LocalIssuer(tmp_path / "issuer.pem", create=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    env = {
        **os.environ,
        **servers.env("assignment"),
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks),
        "PETITIONS_BUREAU_CONFIG": str(ROOT / "deploy/config/bureaus.demo.toml"),
        "PETITIONS_EVENT_ID_KEY": base64.b64encode(TEST_EVENT_ID_KEY).decode(),
        "PETITIONS_KEK": TEST_KEK_B64,
        "PETITIONS_HTTP_PORT": str(_free_port()),
        "PETITIONS_LOG_FORMAT": "json",
        "PETITIONS_RUN_SWEEP": "false",
        "PETITIONS_SUPERVISOR_MAX_FAILURES": "3",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "assignment",
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        pytest.fail(f"the service did not exit:\n{output.decode()[-4000:]}")
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    events = [(line["event"], line.get("task")) for line in lines]
    assert process.returncode == EXIT_CODE, output.decode()[-4000:]
    failures = [line for line in lines if line["event"] == "supervisor.task_failed"]
    assert len(failures) == 3
    assert all(line["task"] == "consumer" for line in failures)
    assert all("CheckViolationError" in line["error"] for line in failures)
    assert events.count(("supervisor.restarting", "consumer")) == 2
    assert ("supervisor.gave_up", "consumer") in events
    assert ("supervisor.stopping_process", "consumer") in events
    # It shut down in order (lifespan, connections) before exiting.
    assert any(line["event"] == "Application shutdown complete." for line in lines)
