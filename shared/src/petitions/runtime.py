"""What every service process holds open: settings, the PostgreSQL pool, the event store and the
NATS broker. Each service's composition root opens one of these in its lifespan; tests open the
same thing against their own servers, so the wiring they check is the wiring that runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import asyncpg
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext

from petitions.clock import Clock, utc_now
from petitions.db import CONNECTION_ERRORS, create_pool
from petitions.eventstore import EventStore, PersonalData, apply_migrations
from petitions.eventstore.schema import OWNER as SCHEMA_OWNER
from petitions.eventstore.schema import PACKAGE as SCHEMA_PACKAGE
from petitions.log import get_logger
from petitions.messaging import Relay
from petitions.messaging.relay import CURSOR_NAME as RELAY_CURSOR
from petitions.metrics import Counted
from petitions.migrations import apply_package, pending
from petitions.personal import BlindIndex, DataKeys, KeyUnavailableError, LocalKeyService
from petitions.settings import CommonSettings
from petitions.supervision import Supervisor

log = get_logger(__name__)


class Progressing(Protocol):
    """What readiness reads from a relay or consumer: when it last made progress
    (``time.monotonic()``), None before its first round."""

    last_progress: float | None


LAG_COUNT_LIMIT = 100_000
"""Readiness counts the relay's backlog up to this many events (then says "at least")."""


@dataclass(frozen=True)
class Runtime:
    service: str
    settings: CommonSettings
    pool: asyncpg.Pool
    store: EventStore
    broker: NatsBroker
    relay: Relay | None = None
    personal: PersonalData | None = None
    supervisor: Supervisor = field(default_factory=Supervisor)
    watched: dict[str, Progressing] = field(default_factory=dict)
    """Consumers (and the like) whose progress readiness reports, by name."""
    stores: list[EventStore] = field(default_factory=list)
    """The event stores this process appends through (/metrics counts their appends)."""
    counted: list[Counted] = field(default_factory=list)
    """A service's own counters for /metrics (sweeps, personal-data reads)."""

    def count(self, name: str, help: str, read: Callable[[], float]) -> None:
        """Expose a counter the service keeps (``read`` gives its value) on /metrics."""
        self.counted.append(Counted(name, help, read))

    def supervise(
        self,
        name: str,
        run: Callable[[], Awaitable[None]],
        *,
        stop: Callable[[], None] | None = None,
        progress: Progressing | None = None,
    ) -> None:
        """Run a background task under the process's supervisor (see petitions.supervision);
        ``progress``: report its progress in readiness under ``name``."""
        self.supervisor.start(name, run, stop=stop)
        if progress is not None:
            self.watched[name] = progress

    def live(self) -> dict[str, Any]:
        """Liveness: the process's background tasks are alive (running, or restarting after a
        failure). Nothing outside the process counts: a broker outage must not make an
        orchestrator restart every service."""
        ok, tasks, reasons = self.supervisor.live()
        return {"service": self.service, "ok": ok, "tasks": tasks, "reasons": reasons}

    async def ready(self, extra_pools: Mapping[str, asyncpg.Pool] | None = None) -> dict[str, Any]:
        """Readiness: PostgreSQL (and any other database the service uses, by name) answers a
        query and NATS a round trip, each within 2 seconds; the relay (when active) and the
        consumers have made progress within ``stall_seconds``; the tasks are alive. ``ok`` with
        the reasons it is not."""
        reasons: list[str] = []
        checks: dict[str, str] = {}
        for name, pool in {"postgres": self.pool, **(extra_pools or {})}.items():
            checks[name] = await _ping(pool)
        checks["nats"] = await _nats_round_trip(self.broker)
        for name, result in checks.items():
            if result != "ok":
                reasons.append(
                    f"{name} 无响应 does not answer within 2 s ({result}): the service waits for "
                    "it and recovers by itself once it is back"
                )
        stall = self.settings.stall_seconds
        now = time.monotonic()
        progress: dict[str, dict[str, Any]] = {}
        if self.relay is not None:
            relay: dict[str, Any] = {"active": self.relay.is_leader}
            if self.relay.is_leader:
                relay["last_progress_age"] = _age(self.relay.last_progress, now)
                relay["lag"] = await relay_lag(self.pool) if checks["postgres"] == "ok" else None
                if _stalled(self.relay.last_progress, now, stall):
                    reasons.append(
                        f"转发停滞 the relay has published nothing for over {stall:.0f} s "
                        f"({relay['lag']} events waiting): see the relay.* log lines"
                    )
            progress["relay"] = relay
        for name, watched in self.watched.items():
            progress[name] = {
                "last_progress_age": _age(watched.last_progress, now),
                "lag": getattr(watched, "pending", None),
            }
            if _stalled(watched.last_progress, now, stall):
                reasons.append(
                    f"消费停滞 consumer {name} has taken in nothing for over {stall:.0f} s: see "
                    "the consumer.* log lines"
                )
        _, tasks, dead = self.supervisor.live()
        reasons += dead
        report: dict[str, Any] = {
            "service": self.service,
            "ok": not reasons,
            **checks,
            "progress": progress,
            "tasks": tasks,
            "reasons": reasons,
        }
        if self.relay is not None:
            report["relay"] = "active" if self.relay.is_leader else "standby"
        return report

    async def health(self, extra_pools: Mapping[str, asyncpg.Pool] | None = None) -> dict[str, Any]:
        """The combined answer ``/health`` gave before liveness and readiness were apart: the
        readiness report."""
        return await self.ready(extra_pools)


def _age(last: float | None, now: float) -> float | None:
    return None if last is None else round(now - last, 1)


def _stalled(last: float | None, now: float, stall: float) -> bool:
    # None: not a round yet. Start-up is bounded by the servers' own checks above, so an
    # active relay or consumer that never completes a round shows up as NATS or PostgreSQL
    # not answering rather than here.
    return last is not None and now - last > stall


async def relay_lag(pool: asyncpg.Pool) -> int | None:
    """Events stored after the relay's cursor, counted up to LAG_COUNT_LIMIT."""
    try:
        async with asyncio.timeout(2):
            lag: int = await pool.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM eventstore.events WHERE position > "
                "coalesce((SELECT position FROM eventstore.subscriptions WHERE name = $1), 0) "
                "LIMIT $2) AS waiting",
                RELAY_CURSOR,
                LAG_COUNT_LIMIT,
            )
    except (TimeoutError, *CONNECTION_ERRORS, asyncpg.PostgresError):
        return None
    return lag


async def _nats_round_trip(broker: NatsBroker) -> str:
    """A PING answered by a PONG: a connection flag says "connected" for a frozen server."""
    try:
        client = broker.connection
    except Exception as exc:  # faststream raises its own kinds when never connected
        return f"unavailable: {type(exc).__name__}"
    if client is None or not client.is_connected:
        return "unavailable: not connected"
    try:
        await client.flush(timeout=2)
    except Exception as exc:  # nats-py raises timeouts and its own errors alike
        return f"unavailable: {type(exc).__name__}"
    return "ok"


async def _ping(pool: asyncpg.Pool) -> str:
    try:
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
    except (TimeoutError, asyncpg.PostgresError, *CONNECTION_ERRORS) as exc:
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def tune_gc() -> None:
    """Collect garbage less often. The default first threshold (700 allocations) makes the cyclic
    collector run every few events when thousands are decoded a second, and each full pass walks
    every live object: measured here, reading the whole log went from 66k to 104k events/s.
    ``freeze`` moves what start-up allocated (modules, classes) out of the collector's way."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


class StartupError(RuntimeError):
    """The service cannot start as configured; the message says what to set."""


def personal_data(settings: CommonSettings, pool: asyncpg.Pool) -> PersonalData | None:
    """The personal-data keys from settings, or None (personal fields then read masked only and
    cannot be written)."""
    if settings.kek is None:
        log.warning(
            "personal_data.disabled", hint="set PETITIONS_KEK and PETITIONS_BLIND_INDEX_KEY"
        )
        return None
    try:
        kek = base64.b64decode(settings.kek.get_secret_value(), validate=True)
        index_key = (
            base64.b64decode(settings.blind_index_key.get_secret_value(), validate=True)
            if settings.blind_index_key is not None
            else None
        )
    except binascii.Error as exc:
        raise KeyUnavailableError(
            f"密钥不是合法的 base64 PETITIONS_KEK / PETITIONS_BLIND_INDEX_KEY are not base64: {exc}"
        ) from None
    keys = DataKeys(
        pool, LocalKeyService(kek, settings.kek_id), cache_seconds=settings.key_cache_seconds
    )
    return PersonalData(keys, BlindIndex(index_key) if index_key is not None else None)


SCHEMA_NOT_CURRENT = (
    "数据库结构未更新 the database schema is not up to date ({missing}): run "
    "`python -m petitions.migrate` as the database owner first (this process does not migrate: "
    "PETITIONS_MIGRATE_ON_START=false)"
)


async def prepare_schema(
    settings: CommonSettings, dsn: str, migrations: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The event store's schema and the service's own ``(owner, package)`` migrations at
    ``dsn``: applied (``migrate_on_start``, the owner's login), or else only checked, so that a
    service logged in as petitions_service, which may not create anything, refuses to start on
    an old schema with a message saying what to run instead of failing half-way."""
    if settings.migrate_on_start:
        return await migrate_schema(dsn, migrations)
    await check_schema(dsn, [(SCHEMA_OWNER, SCHEMA_PACKAGE), *migrations])
    return []


async def migrate_schema(dsn: str, migrations: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Apply the event store's migrations and then ``migrations`` (``(owner, package)``) at
    ``dsn``, as its owner; return what was applied now."""
    applied = await apply_migrations(dsn)
    if migrations:
        conn = await asyncpg.connect(dsn)
        try:
            for owner, package in migrations:
                applied += await apply_package(conn, owner, package)
        finally:
            await conn.close()
    return applied


async def check_schema(dsn: str, migrations: Sequence[tuple[str, str]]) -> None:
    """Raise StartupError unless every file of the ``(owner, package)`` pairs was applied at
    ``dsn`` as it is now."""
    conn = await asyncpg.connect(dsn)
    try:
        missing: list[str] = []
        for owner, package in migrations:
            missing += await pending(conn, owner, package)
    except asyncpg.InsufficientPrivilegeError:
        missing = ["the migrations' bookkeeping is not readable"]
    finally:
        await conn.close()
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise StartupError(SCHEMA_NOT_CURRENT.format(missing=shown))


@asynccontextmanager
async def open_runtime(
    service: str,
    settings: CommonSettings,
    *,
    migrations: Sequence[tuple[str, str]] = (),
    clock: Clock = utc_now,
) -> AsyncIterator[Runtime]:
    """Migrate or check (:func:`prepare_schema`) the event store's schema, then the service's
    own ``(owner, package)`` pairs; connect to PostgreSQL and NATS; close both on the way out."""
    applied = await prepare_schema(settings, settings.database_url, migrations)
    if applied:
        log.info("schema.migrated", migrations=applied)
    pool = await create_pool(settings)
    identity = settings.nats()
    broker = NatsBroker(
        identity.servers,
        name=f"petitions-{service}",
        security=(
            SASLPlaintext(username=identity.user, password=identity.options()["password"])
            if identity.user is not None
            else None
        ),
        inbox_prefix=identity.options().get("inbox_prefix", "_INBOX"),
    )
    supervisor = Supervisor(
        max_failures=settings.supervisor_max_failures, window=settings.supervisor_window_seconds
    )
    try:
        await broker.connect()
        personal = personal_data(settings, pool)
        store = EventStore(
            pool,
            hash_algorithm=settings.hash_algorithm,
            personal=personal,
            max_event_bytes=settings.max_event_bytes,
            clock=clock,
        )
        relay: Relay | None = None
        runtime = Runtime(
            service,
            settings,
            pool,
            store,
            broker,
            personal=personal,
            supervisor=supervisor,
            stores=[store],
        )
        if settings.run_relay:
            # Every service process stands ready to relay; one at a time does (advisory lock).
            relay = Relay(store, dsn=settings.database_url, nats_url=settings.relay_nats())
            runtime = replace(runtime, relay=relay)
            runtime.supervise("relay", relay.run, stop=relay.stop)
        log.info("runtime.ready", nats=settings.nats_url, nats_user=settings.nats_user)
        yield runtime
    finally:
        # The service's own tasks (consumers, sweep) were started on this supervisor too: all
        # end here, before the pool and broker they use close.
        await supervisor.stop()
        await broker.stop()
        await pool.close()
