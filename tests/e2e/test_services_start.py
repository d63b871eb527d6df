"""Each service, started as its own process the way `make up` starts it, connects to PostgreSQL
and NATS and answers its health check; it reports a dead PostgreSQL as unhealthy."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.personal import generate_key

from tests.conftest import ROOT, Servers

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


EXPECTED_CHANNELS = {
    "intake": {
        "petitions.events.*.*.intake.CaseRegistered",
        "petitions.events.*.*.intake.SubmissionReceived",
        "petitions.events.*.*.intake.ReceptionSessionMissed",
    },
    # What each consumer subscribes to (its durable's filter) and something it publishes.
    "assignment": {
        "petitions.events.*.*.intake.>",
        "petitions.events.*.*.assignment.CaseTerminated",
    },
    "reporting": {
        "petitions.events.>",
        "petitions.events.*.*.reporting.TimelineRead",
    },
}


@pytest.fixture
def service_env(database_url: str, servers: Servers, tmp_path: Path) -> dict[str, str]:
    """What `make up` gives each service: servers, keys, the identity issuer's JWKS, the
    bureau configuration."""
    issuer = LocalIssuer(tmp_path / "issuer.pem", create=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    return {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_NATS_URL": servers.nats_url,
        "PETITIONS_KEK": generate_key(16),
        "PETITIONS_BLIND_INDEX_KEY": generate_key(32),
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks),
        "PETITIONS_BUREAU_CONFIG": str(ROOT / "deploy/config/bureaus.demo.toml"),
    }


@pytest.mark.parametrize("service", ["intake", "assignment", "reporting"])
def test_service_answers_health(
    service: str, service_env: dict[str, str], servers: Servers, nats_url: str
) -> None:
    # Each service with its own NATS identity (anonymous connections are refused), on the
    # stream and durables the ``nats_url`` fixture provisioned.
    service_env = service_env | servers.env(service)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", service],
        env={**service_env, "PETITIONS_HTTP_PORT": str(port), "PETITIONS_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        status = 0
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                early = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"{service} exited with {proc.returncode}:\n{early}")
            try:
                status, body = _get(f"http://127.0.0.1:{port}/health")
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.2)
        assert status == 200
        assert {k: body[k] for k in ("service", "ok", "postgres", "nats")} == {
            "service": service,
            "ok": True,
            "postgres": "ok",
            "nats": "ok",
        }
        assert body["relay"] in ("active", "standby")
        if service == "reporting":  # its read models' own database is checked too
            assert body["reporting_db"] == "ok"
        status, document = _get(f"http://127.0.0.1:{port}/asyncapi.json")
        assert status == 200
        assert document["asyncapi"] == "3.0.0"
        channels = {c["address"] for c in document["channels"].values()}
        assert EXPECTED_CHANNELS[service] <= channels
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    # uvicorn re-raises SIGTERM after its graceful shutdown, so the exit status is -15.
    assert proc.returncode in (0, -15)
    assert b"Application shutdown complete" in out, "a service must stop cleanly on SIGTERM"
