"""assignment composition root: the one place where the service's parts are built and wired."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from fastapi import FastAPI
from petitions.bureaus import BureauConfig, WorkCalendar, load_work_calendar
from petitions.clock import Clock, utc_now
from petitions.db import create_pool
from petitions.eventstore import EventStore
from petitions.http import (
    asyncapi_router,
    health_router,
    install_correlation_ids,
    install_dependency_errors,
    install_input_guards,
    install_offline_docs,
    serve,
)
from petitions.identity import authenticate, install_auth_errors, verifier_from_settings
from petitions.log import configure_logging, get_logger
from petitions.messaging import Consumer
from petitions.messaging.security import durable
from petitions.metrics import install_metrics
from petitions.runtime import (
    Runtime,
    StartupError,
    migrate_schema,
    open_runtime,
    personal_data,
    prepare_schema,
    tune_gc,
)

from assignment.adapters.postgres import PostgresStorage
from assignment.adapters.postgres import event_id_key as stored_event_id_key
from assignment.application.workflow import RecomputeResult, Workflow
from assignment.asyncapi import spec
from assignment.config import Settings
from assignment.entrypoints.http import install_errors, router

SERVICE = "assignment"
MIGRATIONS = [
    ("messaging", "petitions.messaging.migrations"),
    ("assignment", "assignment.migrations"),
]
# The durable the deployment provisions for this service (only intake's events start anything
# here; the toolkit fills the case's other versions in). Its AsyncAPI document shows the same.
DURABLE = durable(SERVICE)

NEEDS_KEK = (
    "办理服务需要个人信息密钥以加密办理意见等文字 assignment needs PETITIONS_KEK (the same as "
    "intake's) to seal the free text it writes (python -m petitions.personal prints a new one)"
)

log = get_logger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    settings = settings or Settings()
    config, calendar = settings.load_bureaus()
    verifier = verifier_from_settings(settings)
    holder: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            SERVICE,
            settings,
            migrations=MIGRATIONS,
            clock=clock,
        ) as runtime:
            # Assignment seals the free text it writes (notes, reasons, summaries: they may name
            # people) under the petitioner's key, and reads everything masked: it never opens.
            if runtime.personal is None:
                raise StartupError(NEEDS_KEK)
            store = EventStore(
                runtime.pool,
                hash_algorithm=settings.hash_algorithm,
                max_event_bytes=settings.max_event_bytes,
                clock=clock,
                personal=runtime.personal,
            )
            key = await event_id_key(settings, runtime.pool)
            storage = PostgresStorage(store)
            workflow = Workflow(
                storage,
                config,
                calendar,
                event_id_key=key,
                clock=clock,
                calendar_loader=lambda: calendar_of(config),
            )
            notes = (await workflow.calendar_notes())["calendar"]
            if "warning" in notes:
                log.warning("calendar.provisional_deadlines", **notes)
            holder["runtime"] = runtime
            holder["workflow"] = workflow
            runtime.stores.append(store)
            runtime.count(
                "petitions_sweep_runs", "Deadline sweeps run to the end", lambda: workflow.sweeps
            )
            runtime.count(
                "petitions_sweep_notices_raised",
                "Reminders and supervision notices the sweep raised",
                lambda: workflow.notices_raised,
            )
            if settings.run_consumer:
                consumer = Consumer(
                    name=DURABLE.name,
                    # Taking a case up writes in the consumer's transaction, which also
                    # records the event as handled.
                    handler=lambda conn, delivered: workflow.take_up(
                        delivered, writer=storage.cases.within(conn)
                    ),
                    pool=runtime.pool,
                    store=store,
                    nats_url=settings.nats(),
                    filter_subject=DURABLE.filter_subject,
                )
                holder["consumer"] = consumer
                runtime.supervise("consumer", consumer.run, stop=consumer.stop, progress=consumer)
            if settings.run_sweep:
                stop = asyncio.Event()
                runtime.supervise(
                    "sweep",
                    lambda: _sweep_forever(workflow, settings.sweep_interval_seconds, stop),
                    stop=stop.set,
                )
            # open_runtime stops the supervised tasks on the way out.
            yield

    app = FastAPI(
        title="交办督办 Assignment",
        description=(
            "按《信访工作条例》办理每一件信访：受理、交办、包案、每周进展、延期、答复、复查复核，"
            "期限、催办与督办。 Takes each case through its legal workflow: acceptance, "
            "assignment, leader ownership, weekly progress, extension, reply, review and "
            "re-review, with every statutory deadline, reminder and supervision."
        ),
        version="0.2.0",
        lifespan=lifespan,
    )
    install_correlation_ids(app)
    install_input_guards(app)
    install_offline_docs(app)
    install_auth_errors(app)
    install_errors(app)
    install_dependency_errors(app)
    app.include_router(asyncapi_router(spec))
    app.include_router(
        health_router(
            lambda: _get(holder, "runtime", Runtime),
            notes=lambda: _get(holder, "workflow", Workflow).calendar_notes(),
        )
    )
    app.include_router(
        router(lambda: _get(holder, "workflow", Workflow), authenticate(lambda: verifier))
    )
    install_metrics(app, lambda: _get(holder, "runtime", Runtime))
    app.state.holder = holder
    return app


async def _sweep_forever(workflow: Workflow, interval: float, stop: asyncio.Event) -> None:
    """Deadlines pass whether or not anyone looks: sweep at start and then every interval."""
    while not stop.is_set():
        try:
            await workflow.sweep()
        except Exception as exc:  # the next round retries; a sweep must never kill the service
            log.warning("sweep.failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


T = TypeVar("T")


def _get(holder: dict[str, object], key: str, kind: type[T]) -> T:
    value = holder[key]
    assert isinstance(value, kind)
    return value


def calendar_of(config: BureauConfig) -> WorkCalendar:
    return load_work_calendar(config)


async def recompute_deadlines(settings: Settings, *, clock: Clock = utc_now) -> RecomputeResult:
    """Re-date every running deadline on the holiday files as they are now: one
    ``DeadlinesRecomputed`` per case that changes, nothing for the others (run it again: nothing).
    Needs PostgreSQL only; the relay of a running service publishes the events."""
    config, calendar = settings.load_bureaus()
    await prepare_schema(settings, settings.database_url, MIGRATIONS)
    pool = await create_pool(settings)
    try:
        personal = personal_data(settings, pool)
        if personal is None:
            raise StartupError(NEEDS_KEK)
        store = EventStore(
            pool,
            hash_algorithm=settings.hash_algorithm,
            max_event_bytes=settings.max_event_bytes,
            clock=clock,
            personal=personal,
        )
        key = await event_id_key(settings, pool)
        workflow = Workflow(PostgresStorage(store), config, calendar, event_id_key=key, clock=clock)
        result = await workflow.recompute_deadlines()
        await store.flush()
        return result
    finally:
        await pool.close()


USAGE = """usage: python -m assignment [serve | recompute-deadlines]
  serve                 run the service (the default)
  recompute-deadlines   re-date running deadlines after a holiday file was installed or changed,
                        or the deadline rules were corrected (a hearing no longer pauses handling)
                        重新计算节假日安排或期限规则变更后的在办期限"""


def run(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    tune_gc()
    settings = Settings()
    if not args or args == ["serve"]:
        serve(SERVICE, lambda: create_app(settings), settings, settings.port)
    elif args == ["recompute-deadlines"]:
        configure_logging(service=SERVICE, fmt=settings.log_format, level=settings.log_level)
        result = asyncio.run(recompute_deadlines(settings))
        print(
            f"已重新计算 {result.cases} 件案件的期限 re-dated {result.cases} cases "
            f"(calendar sha256 {result.checksum}, deadline rules {result.rules_version})"
        )
    else:
        print(USAGE, file=sys.stderr)
        raise SystemExit(2)


async def migrate(
    database_url: str, *, role: str | None = None, reporting_database_url: str | None = None
) -> list[str]:
    """This service's part of the deployment's migration step (``python -m petitions.migrate``
    runs it as the tables' owner): the event store's schema and the service's own. ``role`` and
    ``reporting_database_url`` concern reporting only."""
    return await migrate_schema(database_url, MIGRATIONS)


async def event_id_key(settings: Settings, pool: asyncpg.Pool) -> bytes:
    """The deployment's key for assignment's own event ids: from settings, else the one kept in
    the database (the first process to start makes it; the others read the same)."""
    if settings.event_id_key is not None:
        try:
            key = base64.b64decode(settings.event_id_key.get_secret_value(), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"PETITIONS_EVENT_ID_KEY is not base64: {exc}") from None
        if len(key) < 16:
            raise ValueError("PETITIONS_EVENT_ID_KEY must hold at least 16 bytes")
        return key
    return await stored_event_id_key(pool)
