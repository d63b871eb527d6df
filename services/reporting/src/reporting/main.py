"""reporting composition root: the one place where the service's parts are built and wired."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from petitions.http import asyncapi_router, health_router, install_correlation_ids, serve
from petitions.runtime import Runtime, open_runtime, tune_gc

from reporting.asyncapi import spec
from reporting.config import Settings

SERVICE = "reporting"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(SERVICE, settings) as runtime:
            holder["runtime"] = runtime
            yield

    app = FastAPI(
        title="台帐统计 Reporting",
        description=("Case ledger, bulletins, analyses, rankings, rosters and audit replay."),
        version="0.1.0",
        lifespan=lifespan,
    )
    install_correlation_ids(app)
    app.include_router(asyncapi_router(spec))
    app.include_router(health_router(lambda: holder["runtime"]))
    return app


def run() -> None:
    tune_gc()
    settings = Settings()
    serve(SERVICE, lambda: create_app(settings), settings, settings.port)
