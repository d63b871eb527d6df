"""Health that tells the truth, and errors while a dependency restarts (issue 16).

* Readiness asks NATS for a real round trip: with the test's own nats-server frozen (SIGSTOP) it
  is false, naming NATS, while liveness stays 200 (a broker outage must not restart services);
  after SIGCONT it is true again.
* A background task that keeps raising is given up on, and then liveness is 503 naming it.
* While the test's own PostgreSQL is down, a request is answered 503 with Retry-After and a
  bilingual message, never a 500; once PostgreSQL is back the same request succeeds.

Each outage is on servers started for the one test, so the session's shared servers (and the
other tests using them) are never touched.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from assignment.config import Settings as AssignmentSettings
from assignment.main import create_app as create_assignment
from devstack.servers import start_nats, start_postgres
from intake.config import Settings as IntakeSettings
from intake.main import create_app as create_intake
from petitions.identity import DEV_ISSUER
from petitions.runtime import Runtime

from tests.conftest import ROOT, TEST_EVENT_ID_KEY, TEST_KEK_B64, Clock, Servers, Token
from tests.integration.test_intake_registration import visit

pytestmark = pytest.mark.integration

DEADLINE = 60.0


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, deadline: float = DEADLINE
) -> Any:
    """Call ``check`` until it returns something true; fail naming ``what`` after ``deadline``."""
    end = time.monotonic() + deadline
    last: Any = None
    while time.monotonic() < end:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not seen within {deadline:.0f} s (last: {last!r})")


def intake_settings(database_url: str, nats_url: str, jwks_file: Path) -> IntakeSettings:
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        run_relay=True,
        kek=base64.b64encode(os.urandom(16)).decode(),
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks_file,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
    )


@asynccontextmanager
async def serving(settings: IntakeSettings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_intake(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield http


async def test_readiness_is_false_while_nats_is_frozen_and_liveness_stays(
    database_url: str, jwks_file: Path, clock: Clock, tmp_path: Path
) -> None:
    with start_nats(tmp_path / "nats") as nats_server:
        pid = nats_server.pid
        assert pid is not None
        settings = intake_settings(database_url, nats_server.url, jwks_file)
        async with serving(settings, clock) as http:

            async def ready() -> httpx.Response | None:
                response = await http.get("/health/ready")
                return response if response.status_code == 200 else None

            before = await eventually(ready, "ready before the freeze")
            assert before.json()["nats"] == "ok"
            assert (await http.get("/health")).status_code == 200  # the combined answer, too

            os.kill(pid, signal.SIGSTOP)
            try:

                async def unready() -> httpx.Response | None:
                    response = await http.get("/health/ready")
                    return response if response.status_code == 503 else None

                frozen = await eventually(unready, "not ready while NATS is frozen")
                body = frozen.json()
                assert body["ok"] is False
                assert body["nats"].startswith("unavailable"), body
                assert body["postgres"] == "ok"
                assert any("nats" in reason for reason in body["reasons"]), body["reasons"]
                assert (await http.get("/health")).status_code == 503
                live = await http.get("/health/live")
                assert live.status_code == 200, live.text
                assert live.json()["tasks"]["relay"]["state"] in ("running", "restarting")
            finally:
                os.kill(pid, signal.SIGCONT)

            after = await eventually(ready, "ready again after the thaw")
            assert after.json()["reasons"] == []
            assert (await http.get("/health/live")).status_code == 200


async def test_a_task_that_keeps_raising_is_restarted_then_makes_the_process_not_live(
    database_url: str, nats_url: str, jwks_file: Path, clock: Clock
) -> None:
    settings = AssignmentSettings(
        database_url=database_url,
        nats_url=nats_url,
        run_relay=True,
        run_sweep=False,
        kek=TEST_KEK_B64,
        event_id_key=base64.b64encode(TEST_EVENT_ID_KEY).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks_file,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
        supervisor_max_failures=3,
        supervisor_window_seconds=600,
    )
    app = create_assignment(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as http:
            live = await http.get("/health/live")
            assert live.status_code == 200, live.text
            assert set(live.json()["tasks"]) == {"relay", "consumer"}

            runtime = app.state.holder["runtime"]
            assert isinstance(runtime, Runtime)
            runs = 0

            async def doomed() -> None:
                nonlocal runs
                runs += 1
                raise RuntimeError("a bug the task does not catch")

            runtime.supervise("doomed", doomed)

            async def given_up() -> httpx.Response | None:
                response = await http.get("/health/live")
                return response if response.status_code == 503 else None

            dead = (await eventually(given_up, "the process not live")).json()
            assert runs == 3  # started, restarted twice, then given up on
            assert dead["tasks"]["doomed"]["state"] == "failed"
            assert dead["tasks"]["doomed"]["restarts"] == 2
            assert "RuntimeError" in dead["tasks"]["doomed"]["last_error"]
            assert any("doomed" in reason for reason in dead["reasons"])
            # The others are untouched; readiness says the process is unwell, too.
            assert dead["tasks"]["relay"]["state"] == "running"
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert any("doomed" in reason for reason in ready.json()["reasons"])


async def test_requests_while_postgres_is_down_are_503_with_retry_after(
    nats_url: str, jwks_file: Path, clock: Clock, tmp_path: Path, auth: Token
) -> None:
    data = tmp_path / "postgres"
    pg = start_postgres(data)
    port = pg.port
    try:
        # The database the services use, on the test's own server.
        admin = await asyncpg.connect(pg.url)
        await admin.execute("CREATE DATABASE petitions")
        await admin.close()
        settings = intake_settings(pg.url_for("petitions"), nats_url, jwks_file)
        async with serving(settings, clock) as http:
            first = await http.post("/api/v1/submissions", json=visit(), headers=auth())
            assert first.status_code == 201, first.text

            pg.stop()
            down = await http.post("/api/v1/submissions", json=visit(), headers=auth())
            assert down.status_code == 503, down.text
            assert down.headers["Retry-After"] == "5"
            body = down.json()
            assert body["error"] == "database_unavailable"
            assert "数据库暂时无法访问" in body["message"]
            assert "try again" in body["message"]
            assert "Traceback" not in down.text
            lookup = await http.get("/api/v1/public/status", params={"code": "ABCDEFGH"})
            assert lookup.status_code == 503
            assert lookup.headers["Retry-After"] == "5"
            ready = await http.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["postgres"].startswith("unavailable")
            assert (await http.get("/health/live")).status_code == 200

            pg = start_postgres(data, port)

            async def registered() -> bool:
                response = await http.post("/api/v1/submissions", json=visit(), headers=auth())
                assert response.status_code in (201, 503), response.text
                return response.status_code == 201

            await eventually(registered, "a registration after PostgreSQL came back")
            lookup = await http.get("/api/v1/public/status", params={"code": "ABCDEFGH"})
            assert lookup.status_code == 404, lookup.text
    finally:
        pg.stop()


async def test_an_idle_consumer_is_ready_and_a_stopped_one_is_not(
    database_url: str, nats_url: str, servers: Servers, jwks_file: Path, clock: Clock
) -> None:
    """The FastStream subscriber pulling and finding nothing is progress (readiness stays
    green past the stall threshold); a consumer whose pull loop is gone is a stall."""
    settings = AssignmentSettings(
        database_url=database_url,
        **servers.settings("assignment"),  # its own identity, bound to its provisioned durable
        run_relay=False,
        run_sweep=False,
        stall_seconds=3,
        kek=TEST_KEK_B64,
        event_id_key=base64.b64encode(TEST_EVENT_ID_KEY).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks_file,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
    )
    app = create_assignment(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as http:
            consumer = app.state.holder["consumer"]

            async def bound() -> bool:
                return consumer.subscriber is not None and consumer.pending is not None

            await eventually(bound, "the consumer bound to its durable")
            # Idle past the stall threshold (3 s), nothing to consume: ready all along.
            idle_until = asyncio.get_running_loop().time() + 4
            while asyncio.get_running_loop().time() < idle_until:
                ready = await http.get("/health/ready")
                assert ready.status_code == 200, ready.text
                await asyncio.sleep(0.5)
            ready = await http.get("/health/ready")
            assert ready.status_code == 200, ready.text
            progress = ready.json()["progress"]["consumer"]
            assert progress["lag"] == 0
            assert progress["last_progress_age"] is not None  # it has pulled, with nothing to do
            assert progress["last_progress_age"] < 3

            # The pull loop ends (as if it had died): no progress from then on.
            await consumer.subscriber.stop()

            async def stalled() -> httpx.Response | None:
                response = await http.get("/health/ready")
                return response if response.status_code == 503 else None

            body = (await eventually(stalled, "a stall reported")).json()
            assert any("consumer" in reason for reason in body["reasons"]), body["reasons"]
