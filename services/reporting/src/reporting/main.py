"""reporting composition root: the one place where the service's parts are built and wired."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI
from petitions.bureaus import BureauConfig, WorkCalendar
from petitions.clock import Clock, utc_now
from petitions.eventstore import EventStore
from petitions.http import (
    asyncapi_router,
    health_router,
    install_correlation_ids,
    install_dependency_errors,
    install_input_guards,
    install_offline_docs,
    install_validation_errors,
    serve,
)
from petitions.identity import authenticate, install_auth_errors, verifier_from_settings
from petitions.log import get_logger
from petitions.messaging import Consumer
from petitions.metrics import install_metrics
from petitions.runtime import Runtime, migrate_schema, open_runtime, tune_gc

from reporting.adapters.postgres import PostgresCaseFinder
from reporting.asyncapi import spec
from reporting.audit import Audit
from reporting.config import Settings
from reporting.entrypoints import audit, http
from reporting.projections.live import projection_consumer
from reporting.projections.tables import create_read_pool, prepare
from reporting.projections.tables import migrate as migrate_read_models
from reporting.roster import publish_monthly

SERVICE = "reporting"
log = get_logger(__name__)


@dataclass(frozen=True)
class ReportingRuntime:
    """What the reporting routes use: the event store (keyless: personal fields masked) on the
    store's pool, and the read models on their own pool (search_path ``reporting``)."""

    store_pool: asyncpg.Pool
    read_pool: asyncpg.Pool
    store: EventStore
    config: BureauConfig
    calendar: WorkCalendar
    base: Runtime
    """The shared runtime (health, relay, broker)."""
    consumer: Consumer | None = None
    """The live projection in this process, if it runs one (``reporting_consume``)."""
    query_pool: asyncpg.Pool | None = None
    """Where the reports and the audit API read (``reporting_query_database_url``); None: the
    read pool."""

    @property
    def queries(self) -> asyncpg.Pool:
        return self.query_pool or self.read_pool

    def databases(self) -> dict[str, asyncpg.Pool]:
        """The databases readiness checks besides the store's."""
        if self.query_pool is None or self.query_pool is self.read_pool:
            return {"reporting_db": self.read_pool}
        return {"reporting_db": self.read_pool, "reporting_query_db": self.query_pool}


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or Settings()
    config, calendar = settings.load_bureaus()
    verifier = verifier_from_settings(settings)
    holder: dict[str, ReportingRuntime] = {}

    def current() -> ReportingRuntime:
        return holder["runtime"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(SERVICE, settings, clock=clock) as base:
            applied = await prepare(
                settings.read_database_url,
                role=settings.db_role,
                migrate_on_start=settings.migrate_on_start,
            )
            if applied:
                log.info("reporting.migrated", migrations=applied)
            read_pool = await create_read_pool(
                settings.read_database_url,
                role=settings.db_role,
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
            )
            query_pool: asyncpg.Pool | None = None
            if settings.reporting_query_database_url:
                query_pool = await create_read_pool(
                    settings.reporting_query_database_url,
                    role=settings.db_role,
                    min_size=settings.db_pool_min,
                    max_size=settings.db_pool_max,
                    read_only=True,
                )
            store = EventStore(
                base.pool,
                hash_algorithm=settings.hash_algorithm,
                max_event_bytes=settings.max_event_bytes,
                clock=clock,
            )
            consumer: Consumer | None = None
            if settings.reporting_consume:
                consumer = projection_consumer(
                    read_pool, store, settings.nats(), ack_wait=settings.reporting_ack_wait
                )
                base.supervise(
                    "reporting-projection", consumer.run, stop=consumer.stop, progress=consumer
                )
            base.stores.append(store)
            if settings.reporting_publish_roster:
                stop_roster = asyncio.Event()
                base.supervise(
                    "roster-publication",
                    lambda: publish_monthly(
                        store,
                        read_pool,
                        config,
                        clock,
                        interval=settings.roster_check_interval_seconds,
                        stop=stop_roster,
                        # Without a projection in this process another replica keeps the read
                        # models current: nothing here can tell how far it is.
                        ready=lambda: consumer is None or consumer.pending == 0,
                    ),
                    stop=stop_roster.set,
                )
            holder["runtime"] = ReportingRuntime(
                base.pool, read_pool, store, config, calendar, base, consumer, query_pool
            )
            try:
                yield
            finally:
                # The projection writes to the read pool: stop it before closing that (the
                # runtime would stop it too, but only after this pool is gone).
                await base.supervisor.stop()
                if query_pool is not None:
                    await query_pool.close()
                await read_pool.close()

    app = FastAPI(
        title="台帐统计 Reporting",
        description=(
            "台帐、通报、分析、排名、陪同接访名单与审计回放。 Case ledger, bulletins, analyses, "
            "rankings, rosters and audit replay."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    install_correlation_ids(app)
    install_input_guards(app)
    install_offline_docs(app)
    install_auth_errors(app)
    install_validation_errors(app)
    install_dependency_errors(app)
    auth = authenticate(lambda: verifier)
    app.include_router(asyncapi_router(spec))
    app.include_router(health_router(lambda: current().base, lambda: current().databases()))
    install_metrics(app, lambda: current().base)
    app.include_router(
        audit.router(
            lambda: current().store,
            lambda: Audit(current().store, PostgresCaseFinder(current().store, current().queries)),
            auth,
            config=config,
        )
    )
    app.include_router(
        http.router(
            lambda: current().queries,
            config,
            calendar,
            auth,
            clock=clock,
            store=lambda: current().store,
            practices_since=settings.practices_since,
        )
    )
    return app


async def migrate(
    database_url: str,
    *,
    role: str | None = "petitions_app",
    reporting_database_url: str | None = None,
) -> list[str]:
    """This service's part of the deployment's migration step (``python -m petitions.migrate``
    runs it as the tables' owner): the event store's schema, then the read models'
    database (``reporting_database_url``, else the same one) with its schema owned by ``role``."""
    applied = await migrate_schema(database_url)
    return applied + await migrate_read_models(reporting_database_url or database_url, role=role)


def run() -> None:
    tune_gc()
    settings = Settings()
    serve(SERVICE, lambda: create_app(settings), settings, settings.port)
