"""Real servers for the tests: PostgreSQL and NATS with JetStream.

Which servers, in order of precedence:
- ``PETITIONS_DATABASE_URL`` and ``PETITIONS_NATS_URL`` both set: those servers (the database URL
  names an admin-capable user: each test gets its own database, created from a migrated template);
- ``PETITIONS_TEST_SERVERS=testcontainers``: pinned Docker images through testcontainers;
- otherwise: PostgreSQL and NATS from the PyPI wheels, started once for the session.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import nats
import nats.js.errors
import pytest
from assignment.config import Settings as AssignmentSettings
from assignment.main import create_app as create_assignment
from intake.config import Settings as IntakeSettings
from intake.main import create_app as create_intake
from petitions.db import create_pool
from petitions.eventstore import EventStore, PersonalData, apply_migrations
from petitions.identity import DEV_ISSUER, LocalIssuer
from petitions.messaging import STREAM, NatsAccess, provision
from petitions.messaging.security import ADMIN, RELAY, generate_passwords
from petitions.messaging.security import SERVICES as SERVICE_IDENTITIES
from petitions.personal import BlindIndex, DataKeys, LocalKeyService
from petitions.settings import CommonSettings
from pydantic import SecretStr

import tests.support.events  # noqa: F401  (registers the test event types)

ROOT = Path(__file__).resolve().parent.parent
# The same pinned images as docker-compose.yml.
POSTGRES_IMAGE = "postgres:15.19-bookworm"
NATS_IMAGE = "nats:2.10.29-alpine"


@dataclass(frozen=True)
class Servers:
    postgres_url: str
    """Admin URL on the server's maintenance database."""
    nats_url: str
    """NATS without credentials: connecting there anonymously is refused."""
    kind: str
    nats_store_dir: Path | None = None
    """Where JetStream keeps its files, when known (for scans of what NATS stores)."""
    nats_passwords: Mapping[str, str] | None = None
    """By NATS user (petitions.messaging.security); None for a server without identities."""

    def access(self, user: str) -> NatsAccess:
        if self.nats_passwords is None:
            return NatsAccess(self.nats_url)
        return NatsAccess(self.nats_url, user, SecretStr(self.nats_passwords[user]))

    @property
    def admin_url(self) -> str:
        """The operator's URL with its credentials in it, for the tests' own look at NATS
        (never for a service: they get settings, which keep the password out of logs)."""
        return self.url_as(ADMIN)

    def url_as(self, user: str) -> str:
        if self.nats_passwords is None:
            return self.nats_url
        password = quote(self.nats_passwords[user], safe="")
        return self.nats_url.replace("nats://", f"nats://{user}:{password}@", 1)

    def env(self, service: str) -> dict[str, str]:
        """A service process's NATS environment: its identity and the relay's, as devstack
        hands them over."""
        if self.nats_passwords is None:
            return {"PETITIONS_NATS_URL": self.nats_url}
        user = SERVICE_IDENTITIES[service].user
        return {
            "PETITIONS_NATS_URL": self.nats_url,
            "PETITIONS_NATS_USER": user,
            "PETITIONS_NATS_PASSWORD": self.nats_passwords[user],
            "PETITIONS_NATS_RELAY_PASSWORD": self.nats_passwords[RELAY],
        }

    def settings(self, service: str) -> dict[str, Any]:
        """A service's NATS settings: its own identity, and the relay's."""
        own = self.access(SERVICE_IDENTITIES[service].user)
        relay = self.access(RELAY)
        return {
            "nats_url": self.nats_url,
            "nats_user": own.user,
            "nats_password": own.password,
            "nats_relay_password": relay.password,
        }


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    db_url = os.environ.get("PETITIONS_DATABASE_URL")
    nats_url = os.environ.get("PETITIONS_NATS_URL")
    mode = os.environ.get("PETITIONS_TEST_SERVERS", "")
    if db_url and nats_url:
        # The given NATS (the machine's 2.9, anonymous) cannot show identities at work: a second
        # server of the same nats-server binary runs beside it with the identities' config.
        from devstack.servers import start_nats

        base = ROOT / ".devstack"
        base.mkdir(exist_ok=True)
        data = Path(tempfile.mkdtemp(prefix="test-nats-", dir=base))
        system = Path("/usr/sbin/nats-server")
        passwords = generate_passwords()
        try:
            with start_nats(
                data / "nats", passwords=passwords, binary=system if system.exists() else None
            ) as nats_server:
                yield Servers(
                    _with_database(db_url, "postgres"),
                    nats_server.url,
                    "external",
                    data / "nats",
                    passwords,
                )
        finally:
            shutil.rmtree(data, ignore_errors=True)
    elif mode == "testcontainers":
        import docker
        from testcontainers.community.nats import NatsContainer
        from testcontainers.community.postgres import PostgresContainer

        try:
            docker.from_env(timeout=2).ping()
        except Exception as exc:  # any failure means: no engine to use
            pytest.exit(
                f"PETITIONS_TEST_SERVERS=testcontainers needs a Docker engine ({exc}); "
                "unset it to use PostgreSQL and NATS from the PyPI wheels",
                returncode=2,
            )

        with (
            PostgresContainer(POSTGRES_IMAGE, driver=None) as pg,
            NatsContainer(NATS_IMAGE, jetstream=True) as nats,
        ):
            yield Servers(
                _with_database(pg.get_connection_url(), "postgres"),
                nats.nats_uri(),
                "testcontainers",
            )
    else:
        from devstack.servers import start_nats, start_postgres

        base = ROOT / ".devstack"
        base.mkdir(exist_ok=True)
        data = Path(tempfile.mkdtemp(prefix="test-", dir=base))
        try:
            passwords = generate_passwords()
            with (
                start_postgres(data / "postgres") as pg,
                start_nats(data / "nats", passwords=passwords) as nats,
            ):
                yield Servers(pg.url, nats.url, "embedded", data / "nats", passwords)
        finally:
            shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(servers: Servers) -> Iterator[str]:
    """A migrated database that each test's database is cloned from (much faster than
    migrating every time)."""
    import asyncio

    name = f"petitions_tpl_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await asyncpg.connect(servers.postgres_url)
        try:
            await conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        finally:
            await conn.close()
        await apply_migrations(_with_database(servers.postgres_url, name))

    async def drop() -> None:
        conn = await asyncpg.connect(servers.postgres_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


@pytest.fixture
async def database_url(servers: Servers, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"petitions_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(servers.postgres_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await conn.close()
    yield _with_database(servers.postgres_url, name)
    conn = await asyncpg.connect(servers.postgres_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def settings(database_url: str, servers: Servers) -> CommonSettings:
    # The intake service's identity: what a plain service process holds.
    return CommonSettings(database_url=database_url, db_pool_max=12, **servers.settings("intake"))


@pytest.fixture
async def pool(settings: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings)
    yield pool
    await pool.close()


@pytest.fixture
async def store(pool: asyncpg.Pool) -> EventStore:
    return EventStore(pool)


# One key-encryption key for the test session: intake seals petitioners with it and assignment
# the free text of its acts, so both must hold the same (as in a deployment).
TEST_KEK = os.urandom(16)
TEST_KEK_B64 = base64.b64encode(TEST_KEK).decode()


@pytest.fixture
def kek() -> bytes:
    return TEST_KEK


def sealing_store(pool: asyncpg.Pool) -> EventStore:
    """The store as assignment has it: it seals the free text it writes under the test
    session's KEK (the one intake's fixtures use) and reads everything masked."""
    return EventStore(pool, personal=PersonalData(DataKeys(pool, LocalKeyService(TEST_KEK))))


@pytest.fixture
async def personal_store(pool: asyncpg.Pool, kek: bytes) -> EventStore:
    """A store that seals personal fields (random keys for each test)."""
    keys = DataKeys(pool, LocalKeyService(kek))
    return EventStore(pool, personal=PersonalData(keys, BlindIndex(os.urandom(32))))


# --- intake over HTTP, for the tests of its API -------------------------------------------------


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "issuer.pem", create=True)


@pytest.fixture
async def client(
    database_url: str, servers: Servers, issuer: LocalIssuer, tmp_path: Path, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    settings = IntakeSettings(
        database_url=database_url,
        **servers.settings("intake"),
        run_relay=False,
        kek=TEST_KEK_B64,
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
    )
    app = create_intake(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield http


@pytest.fixture
async def nats_url(servers: Servers) -> AsyncIterator[str]:
    """The shared NATS server with a fresh stream and the services' durables, as the deployment
    provisions them: each test starts with no messages and no consumers left over from another.
    Yields the operator's URL (credentials in it), for the tests' own look at the stream and
    for test consumers (their durables are created with :func:`provision_durable`)."""

    async def drop() -> None:
        client = await nats.connect(servers.admin_url)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(STREAM)
        await client.close()

    await drop()
    await provision(servers.access(ADMIN))
    yield servers.admin_url
    await drop()


@pytest.fixture
def nats_relay(servers: Servers, nats_url: str) -> NatsAccess:
    """The relay's identity (the only one that may publish events)."""
    return servers.access(RELAY)


@pytest.fixture
def jwks_file(issuer: LocalIssuer, tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(issuer.jwks()))
    return path


# The assignment service's key for its own event ids (take-up, notices), shared by the
# `assignment` fixture and the tests that build a Workflow of their own, so both compute the
# same ids.
TEST_EVENT_ID_KEY = b"the sweep tests' event id key"

# Every test starts on the same instant, whatever day the suite runs: Wednesday 2026-11-04,
# 10:00 in Asia/Shanghai (a working day, a chief's reception day, mid-month, mid-year). A test
# about other dates sets the clock to the dates it names.
TEST_NOW = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move by hand (the services take it as their time source)."""

    def __init__(self, now: datetime = TEST_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def assignment(
    database_url: str, nats_url: str, servers: Servers, jwks_file: Path, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    """The assignment service in-process, taking cases up from NATS (its relay publishes the
    store's events), on the test's clock; the periodic sweep is off (tests sweep by hand). It
    connects with its own identity and its relay with the relay's, on the durable the
    ``nats_url`` fixture provisioned."""
    settings = AssignmentSettings(
        database_url=database_url,
        **servers.settings("assignment"),
        run_relay=True,
        run_sweep=False,
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
            yield http


Token = Callable[..., dict[str, str]]


@pytest.fixture
def auth(issuer: LocalIssuer) -> Token:
    def headers(
        role: str = "registrar", bureau: str = "330102", user: str = "clerk-01"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.mint(user, role, bureau)}"}

    return headers


@pytest.fixture
def relay_url(servers: Servers, nats_url: str) -> str:
    """The relay's URL with its credentials in it: tests that publish (the relay, or a forger
    holding the relay's identity; no other identity may publish events) connect with it."""
    return servers.url_as(RELAY)


@pytest.fixture
def reporting_nats(servers: Servers, nats_url: str) -> NatsAccess:
    """Reporting's own identity, on the ``reporting`` durable the deployment provisions."""
    return servers.access(SERVICE_IDENTITIES["reporting"].user)
