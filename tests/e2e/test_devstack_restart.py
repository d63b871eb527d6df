"""devstack restarts a service that dies instead of stopping everything (issue 16): the real
intake process, started the way `make up` starts it and watched by devstack's supervisor, is
killed with SIGKILL and comes back answering /health/live."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devstack.processes import RestartPolicy, ServiceProcess, Supervisor
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.personal import generate_key

from tests.conftest import ROOT, Servers

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_killed_service_is_restarted_and_answers_again(
    database_url: str, servers: Servers, nats_url: str, tmp_path: Path
) -> None:
    issuer = LocalIssuer(tmp_path / "issuer.pem", create=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    port = _free_port()
    env = {
        **os.environ,
        **servers.env("intake"),
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_KEK": generate_key(16),
        "PETITIONS_BLIND_INDEX_KEY": generate_key(32),
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks),
        "PETITIONS_BUREAU_CONFIG": str(ROOT / "deploy/config/bureaus.demo.toml"),
        "PETITIONS_HTTP_PORT": str(port),
        "PETITIONS_LOG_FORMAT": "json",
    }

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "intake"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )

    service = ServiceProcess("intake", port, start, tmp_path / "logs" / "intake.log")
    supervisor = Supervisor(lambda: RestartPolicy(initial_backoff=0.2))
    service.launch()
    supervisor.watch(service)
    try:

        def live() -> bool:
            supervisor.check()
            if service.poll() is not None and supervisor.restarts("intake") == 0:
                pytest.fail(f"intake exited at start-up:\n{service.tail_text()}")
            return service.answers("/health/live")

        _until(live, "intake did not become live")
        first = service.process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert not service.answers("/health/live")

        def back() -> bool:
            supervisor.check()
            return service.process is not first and service.answers("/health/live")

        _until(back, "intake was not restarted")
        assert supervisor.restarts("intake") == 1
        assert service.process is not None
        assert service.process.pid != first.pid
        log = service.log_path.read_text()
        assert "devstack: start intake" in log
        assert "devstack: restart intake" in log
        assert "Started server process" in log  # both runs' output went to the file
    finally:
        service.stop()


def _until(condition: object, message: str, seconds: float = 60.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
