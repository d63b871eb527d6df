"""The services log in as a role of their own, not as the database's superuser (issue 11,
finding 9): devstack migrates as the owner and makes ``petitions_service`` (petitions.migrate),
the three services started the way `make up` starts them connect as that login, and a session
as it can neither switch the append-only trigger off nor change or delete an event, nor become
anyone else."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from devstack.prepare import prepare_database
from devstack.processes import ServiceProcess
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.migrate import SERVICE_LOGIN
from petitions.personal import generate_key
from petitions.runtime import StartupError, prepare_schema
from petitions.settings import CommonSettings

from tests.conftest import ROOT, Servers
from tests.e2e.test_devstack_restart import _free_port, _until
from tests.support.events import NoteAdded

pytestmark = pytest.mark.integration

SERVICES = ("intake", "assignment", "reporting")


def _service_env(prepared: dict[str, str], servers: Servers, tmp_path: Path) -> dict[str, str]:
    issuer = LocalIssuer(tmp_path / "issuer.pem", create=True)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    return {
        **os.environ,
        "PETITIONS_KEK": generate_key(16),
        "PETITIONS_BLIND_INDEX_KEY": generate_key(32),
        "PETITIONS_OIDC_ISSUER": DEV_ISSUER,
        "PETITIONS_JWKS_FILE": str(jwks),
        "PETITIONS_BUREAU_CONFIG": str(ROOT / "deploy/config/bureaus.demo.toml"),
        "PETITIONS_LOG_FORMAT": "json",
        **prepared,
    }


async def test_devstack_services_log_in_as_a_role_that_cannot_touch_history(
    database_url: str, servers: Servers, nats_url: str, tmp_path: Path
) -> None:
    prepared = await prepare_database(database_url)
    # What devstack hands the services: the login's URL (never the owner's), and no migrating.
    assert prepared["PETITIONS_MIGRATE_ON_START"] == "false"
    service_url = prepared["PETITIONS_DATABASE_URL"]
    assert service_url.startswith(f"postgresql://{SERVICE_LOGIN}:")
    base = _service_env(prepared, servers, tmp_path)

    processes: list[ServiceProcess] = []
    for name in SERVICES:
        port = _free_port()
        env = base | servers.env(name) | {"PETITIONS_HTTP_PORT": str(port)}

        def start(name: str = name, env: dict[str, str] = env) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", name],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
            )

        service = ServiceProcess(name, port, start, tmp_path / "logs" / f"{name}.log")
        service.launch()
        processes.append(service)
    try:
        for service in processes:

            def ready(service: ServiceProcess = service) -> bool:
                if service.poll() is not None:
                    pytest.fail(f"{service.name} exited at start-up:\n{service.tail_text()}")
                return service.answers("/health/ready")

            await asyncio.to_thread(_until, ready, f"{service.name} did not become ready", 90)

        admin = await asyncpg.connect(database_url)
        try:
            # Who the running services are, as PostgreSQL sees them.
            sessions = await admin.fetch(
                "SELECT DISTINCT a.usename, r.rolsuper FROM pg_stat_activity a "
                "JOIN pg_roles r ON r.rolname = a.usename "
                "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
                "AND a.application_name LIKE 'petitions%'"
            )
            assert [(s["usename"], s["rolsuper"]) for s in sessions] == [(SERVICE_LOGIN, False)]
            # It owns none of the event store's or the personal data's tables, even through
            # its membership of petitions_app.
            owned = await admin.fetch(
                "SELECT schemaname, tablename FROM pg_tables "
                "WHERE schemaname IN ('eventstore', 'personal', 'intake', 'assignment') "
                "AND pg_has_role($1, tableowner, 'USAGE')",
                SERVICE_LOGIN,
            )
            assert owned == []
        finally:
            await admin.close()
    finally:
        for service in processes:
            service.stop()

    # One real session as that login: what it is for works, history cannot be touched.
    conn = await asyncpg.connect(service_url)
    try:
        assert await conn.fetchval("SELECT current_user") == SERVICE_LOGIN
        rights = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication "
            "FROM pg_roles WHERE rolname = current_user"
        )
        assert rights is not None
        assert not any(rights.values())
        pool = await asyncpg.create_pool(service_url, min_size=1, max_size=2)
        try:
            await EventStore(pool).append(
                "case-login",
                [NewEvent(NoteAdded(body="one", words=1), bureau="3301")],
                0,
                metadata=Metadata(actor="officer", service="tests"),
            )
        finally:
            await pool.close()
        for statement in (
            "ALTER TABLE eventstore.events DISABLE TRIGGER ALL",
            "ALTER TABLE eventstore.events DISABLE TRIGGER events_append_only",
            "UPDATE eventstore.events SET actor = 'x'",
            "DELETE FROM eventstore.events",
            "TRUNCATE eventstore.events",
            "SET ROLE postgres",
            "CREATE ROLE petitions_escape SUPERUSER",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        await conn.execute("RESET ROLE")  # back to the login itself, still nobody more
        assert (
            await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            is False
        )
        assert await conn.fetchval("SELECT count(*) FROM eventstore.events") == 1
    finally:
        await conn.close()


async def test_a_service_that_does_not_migrate_refuses_an_old_schema(database_url: str) -> None:
    # The test database has the event store's migrations only: intake's are missing.
    settings = CommonSettings(database_url=database_url, migrate_on_start=False)
    with pytest.raises(StartupError) as refused:
        await prepare_schema(settings, database_url, [("intake", "intake.migrations")])
    message = str(refused.value)
    assert "intake/0001_intake.sql" in message
    assert "python -m petitions.migrate" in message
    conn = await asyncpg.connect(database_url)
    try:  # nothing was applied by the check
        assert await conn.fetchval("SELECT to_regclass('intake.case_numbers')") is None
    finally:
        await conn.close()


def test_the_migration_step_runs_as_a_command(database_url: str) -> None:
    """``python -m petitions.migrate`` (compose's one-shot ``migrate`` service) migrates all
    three services and makes the login; run twice, it changes nothing the second time."""
    env = {
        **os.environ,
        "PETITIONS_DATABASE_URL": database_url,
        "PETITIONS_SERVICE_DB_PASSWORD": "a-test-password",
    }
    first = subprocess.run(
        [sys.executable, "-m", "petitions.migrate"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "intake, assignment, reporting" in first.stdout
    assert "intake/0001_intake.sql" in first.stdout
    assert f"services log in as {SERVICE_LOGIN}" in first.stdout
    again = subprocess.run(
        [sys.executable, "-m", "petitions.migrate"], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "already up to date" in again.stdout
