"""A NATS server dying under a service's connections (issue 16: a dying cluster node made the
client print 34 lines of tracebacks): each connection says so in one structured log line, and
nothing else reaches the terminal, neither FastStream's own unformatted lines nor a traceback."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from devstack.servers import start_nats
from petitions.messaging.brokers import nats_broker

from tests.conftest import ROOT
from tests.integration.test_relay import wait_for
from tests.support.logs import json_logging

pytestmark = pytest.mark.integration


async def test_a_dying_server_is_one_structured_line_per_connection(
    capfd: pytest.CaptureFixture[str],
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="test-nats-", dir=ROOT / ".devstack"))
    captured: list[str] = []
    tag = uuid.uuid4().hex[:8]

    async def reported(n: int) -> bool:
        out, err = capfd.readouterr()
        captured.append(out + err)
        return "".join(captured).count("nats.connection_error") >= n

    try:
        with start_nats(folder / "nats") as server, json_logging():
            capfd.readouterr()
            # A consumer's connection (reconnecting) and the relay's (it reconnects itself).
            # Names of their own: the same error of the same connection is logged once in 30 s.
            consumer = nats_broker(server.url, name=f"consumer-{tag}")
            relay = nats_broker(server.url, name=f"relay-{tag}", allow_reconnect=False)
            await consumer.connect()
            await relay.connect()
            try:
                server.kill()
                await wait_for(lambda: reported(2), 10, "both connections to report the loss")
            finally:
                for broker in (consumer, relay):
                    with contextlib.suppress(Exception):  # draining a lost connection fails
                        await broker.stop()
            captured.append("".join(capfd.readouterr()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [line for line in "".join(captured).splitlines() if line.strip()]
    assert "Traceback" not in "".join(captured)
    records = [json.loads(line) for line in lines]  # every line a structured record
    errors = [r for r in records if r["event"] == "nats.connection_error"]
    assert {r["connection"] for r in errors} == {f"consumer-{tag}", f"relay-{tag}"}
    assert all(r["level"] == "warning" and "\n" not in r["error"] for r in errors)
