"""HTTP plumbing every service shares: correlation ids and the health endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from faststream.specification import AsyncAPI

from petitions.log import bind_context, clear_context
from petitions.messaging.asyncapi import render
from petitions.runtime import Runtime

CORRELATION_HEADER = "X-Correlation-ID"


def install_correlation_ids(app: FastAPI) -> None:
    """Take the caller's correlation id (or make one), bind it to the logs, echo it back."""

    @app.middleware("http")
    async def correlate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get(CORRELATION_HEADER, "")
        try:
            correlation_id = str(uuid.UUID(given))
        except ValueError:
            correlation_id = str(uuid.uuid4())
        request.state.correlation_id = correlation_id
        clear_context()
        bind_context(correlation_id=correlation_id)
        response = await call_next(request)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response


def asyncapi_router(spec: Callable[[], AsyncAPI]) -> APIRouter:
    """The service's AsyncAPI document (events it publishes and consumes)."""
    router = APIRouter(tags=["文档 documents"])

    @router.get("/asyncapi.json", summary="AsyncAPI 3.0 事件文档 event document (JSON)")
    async def asyncapi_json() -> Response:
        return Response(render(spec(), "json"), media_type="application/json")

    @router.get("/asyncapi.yaml", summary="AsyncAPI 3.0 事件文档 event document (YAML)")
    async def asyncapi_yaml() -> Response:
        return Response(render(spec(), "yaml"), media_type="application/yaml")

    return router


def install_input_guards(app: FastAPI) -> None:
    """Refuse NUL characters anywhere in a request: PostgreSQL text cannot hold them, so they
    would turn into a 500 half-way through a command, or into stored JSON that nothing can
    query later. Found by fuzzing the intake API."""

    @app.middleware("http")
    async def refuse_nul(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        body = await request.body()
        query = request.url.query
        if b"\\u0000" in body or b"\x00" in body or "%00" in query or "\x00" in query:
            return JSONResponse(
                status_code=422,
                content={
                    "error": "invalid_request",
                    "message": "请求中含有不允许的控制字符（NUL） / the request contains a NUL "
                    "character, which no field may hold",
                    "fields": [],
                },
            )
        return await call_next(request)


def health_router(runtime: Callable[[], Runtime]) -> APIRouter:
    router = APIRouter(tags=["运维 operations"])

    @router.get(
        "/health",
        summary="健康检查 Health: PostgreSQL and NATS reachable",
        responses={503: {"description": "A server this service needs does not answer"}},
    )
    async def health() -> JSONResponse:
        report = await runtime().health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    return router
