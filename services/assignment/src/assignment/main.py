"""assignment composition root: the one place where the service's parts are built and wired."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from fastapi import FastAPI
from petitions.eventstore import EventStore
from petitions.http import (
    asyncapi_router,
    health_router,
    install_correlation_ids,
    install_input_guards,
    serve,
)
from petitions.identity import authenticate, install_auth_errors, verifier_from_settings
from petitions.log import get_logger
from petitions.messaging import Consumer
from petitions.runtime import Runtime, open_runtime, tune_gc

from assignment.application.workflow import Clock, Workflow, utc_now
from assignment.asyncapi import spec
from assignment.config import Settings
from assignment.entrypoints.http import install_errors, router

SERVICE = "assignment"
# Only intake's events start anything here; the toolkit fills the case's other versions in.
INTAKE_EVENTS = "petitions.events.*.*.intake.>"

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
            migrations=[
                ("messaging", "petitions.messaging.migrations"),
                ("assignment", "assignment.migrations"),
            ],
        ) as runtime:
            # Assignment needs no personal data: a keyless store reads it masked.
            store = EventStore(runtime.pool, hash_algorithm=settings.hash_algorithm)
            key = await event_id_key(settings, runtime.pool)
            workflow = Workflow(store, config, calendar, event_id_key=key, clock=clock)
            holder["runtime"] = runtime
            holder["workflow"] = workflow
            tasks: list[asyncio.Task[None]] = []
            consumer: Consumer | None = None
            if settings.run_consumer:
                consumer = Consumer(
                    name=SERVICE,
                    handler=workflow.take_up,
                    pool=runtime.pool,
                    store=store,
                    nats_url=settings.nats_url,
                    filter_subject=INTAKE_EVENTS,
                )
                holder["consumer"] = consumer
                tasks.append(asyncio.create_task(consumer.run(), name="consumer"))
            stop = asyncio.Event()
            if settings.run_sweep:
                tasks.append(
                    asyncio.create_task(
                        _sweep_forever(workflow, settings.sweep_interval_seconds, stop),
                        name="sweep",
                    )
                )
            try:
                yield
            finally:
                stop.set()
                if consumer is not None:
                    consumer.stop()
                for task in tasks:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(task, 10)

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
    install_auth_errors(app)
    install_errors(app)
    app.include_router(asyncapi_router(spec))
    app.include_router(health_router(lambda: _get(holder, "runtime", Runtime)))
    app.include_router(
        router(lambda: _get(holder, "workflow", Workflow), authenticate(lambda: verifier))
    )
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


def run() -> None:
    tune_gc()
    settings = Settings()
    serve(SERVICE, lambda: create_app(settings), settings, settings.port)


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
    await pool.execute(
        "INSERT INTO assignment.event_id_key (key) VALUES ($1) ON CONFLICT DO NOTHING",
        os.urandom(32),
    )
    return bytes(await pool.fetchval("SELECT key FROM assignment.event_id_key"))
