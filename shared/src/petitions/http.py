"""HTTP plumbing every service shares: correlation ids, the health endpoint and the API pages
(Swagger UI, ReDoc) served from the deployment itself."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final

import asyncpg
import fastapi_offline
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from faststream.specification import AsyncAPI
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from petitions.db import CONNECTION_ERRORS
from petitions.eventstore import EventTooLargeError
from petitions.log import bind_context, clear_context, configure_logging, get_logger
from petitions.messaging.asyncapi import render
from petitions.refusals import Refusal
from petitions.runtime import Runtime
from petitions.settings import CommonSettings
from petitions.supervision import EXIT_CODE, exit_process_on_give_up, exit_requested

STARTUP_FAILURE = 3
"""Exit code of a server that never started (uvicorn's)."""

log = get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"


class _CorrelationIds:
    """Plain ASGI, not ``@app.middleware("http")``: Starlette's function middleware runs each
    request in a task group it then cancels, leaving dozens of objects per request for the cyclic
    collector; measured here, that made the p99 of registrations at 100/s a GC pause."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER, "")
        try:
            correlation_id = str(uuid.UUID(given))
        except ValueError:
            correlation_id = str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id  # request.state
        clear_context()
        bind_context(correlation_id=correlation_id)
        echo = (CORRELATION_HEADER.lower().encode(), correlation_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), echo]
            await send(message)

        await self.app(scope, receive, send_with_id)


# What a person reads for the usual pydantic error kinds; anything else keeps pydantic's text.
_KINDS = {
    "missing": "必填 / required",
    "extra_forbidden": "不认识的字段 / unknown field",
    "enum": "取值不在可选范围内 / not one of the allowed values",
    "string_too_short": "不能为空 / must not be empty",
    "too_short": "至少需要一项 / needs at least one",
    "too_long": "项数过多，最多 {max_length} 项 / too many: at most {max_length}",
    "string_too_long": "过长，最多 {max_length} 字 / too long: at most {max_length} characters",
    "int_parsing": "须为整数 / must be a whole number",
    "greater_than_equal": "数值过小，最小为 {ge} / too small: at least {ge}",
    "less_than_equal": "数值过大，最大为 {le} / too large: at most {le}",
    "datetime_from_date_parsing": "时间格式不对，如 2026-03-01T09:00:00+08:00 / not a date-time",
    "datetime_parsing": "时间格式不对，如 2026-03-01T09:00:00+08:00 / not a date-time",
    "uuid_parsing": "须为UUID / must be a UUID",
}


class _Limits(dict[str, Any]):
    """The limits pydantic reports with an error; one it does not report reads as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if p not in ("body",)]
        kind = error.get("type", "")
        message = str(error.get("msg", ""))
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
        elif kind in _KINDS:
            message = _KINDS[kind].format_map(_Limits(error.get("ctx", {})))
        else:
            message = f"格式错误 / {message}"
        out.append({"field": ".".join(loc) or "(body)", "message": message})
    return out


def invalid_response(fields: list[dict[str, str]]) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={
            "error": "invalid_request",
            "message": (
                "请求有误，请按各字段提示修改后重试 / the request is invalid: see each field"
            ),
            "fields": fields,
        },
    )


def install_refusals(app: FastAPI) -> None:
    """Answer every :class:`Refusal` the same way: its status, ``{"error", "message", **details}``
    (the identity errors keep their own handler, which adds the bearer challenge)."""

    @app.exception_handler(Refusal)
    async def on_refused(_: Request, exc: Refusal) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content=exc.body())


def install_validation_errors(app: FastAPI) -> None:
    """422 answers that name every wrong field in Chinese and English; 413 for a request whose
    event the store refuses as too large (the field limits should stop it first)."""

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_response(field_errors(exc))

    @app.exception_handler(EventTooLargeError)
    async def on_too_large(_: Request, exc: EventTooLargeError) -> JSONResponse:
        log.warning(
            "append.event_too_large", event_type=exc.event_type, size=exc.size, limit=exc.limit
        )
        return JSONResponse(
            status_code=413,
            content={
                "error": "event_too_large",
                "message": (
                    f"内容过长，无法保存（{exc.size} 字节，上限 {exc.limit} 字节），请缩短文字后"
                    f"重试，未写入任何内容 / the request's content is too large to store "
                    f"({exc.size} bytes, the limit is {exc.limit}): shorten the texts and try "
                    "again; nothing was written"
                ),
                "event_type": exc.event_type,
                "size": exc.size,
                "limit": exc.limit,
            },
        )


def install_correlation_ids(app: FastAPI) -> None:
    """Take the caller's correlation id (or make one), bind it to the logs, echo it back."""
    app.add_middleware(_CorrelationIds)


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


_NUL_REFUSED = JSONResponse(
    status_code=422,
    content={
        "error": "invalid_request",
        "message": "请求中含有不允许的控制字符（NUL） / the request contains a NUL character, "
        "which no field may hold",
        "fields": [],
    },
)


class _RefuseNul:
    """Reads the whole body first (requests here are small), then hands it on unchanged; a
    multipart form (a file upload) passes through unread."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            await _NUL_REFUSED(scope, receive, send)
            return
        content_type = Headers(scope=scope).get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            # Files (attachments) are binary and hold NULs by nature, and may be large: they
            # pass unbuffered. The endpoint that takes a form checks its text fields itself.
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages)
        if b"\\u0000" in body or b"\x00" in body:
            await _NUL_REFUSED(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def install_input_guards(app: FastAPI) -> None:
    """Refuse NUL characters anywhere in a request: PostgreSQL text cannot hold them, so they
    would turn into a 500 half-way through a command, or into stored JSON that nothing can
    query later. Found by fuzzing the intake API."""
    app.add_middleware(_RefuseNul)


# Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes) and ReDoc, as the fastapi-offline
# package ships them: FastAPI's own pages load both from a CDN, blank on an offline intranet.
DOCS_ASSETS: Final = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS_PATH: Final = "/docs-assets"


def install_offline_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with every script, style sheet and icon served by the service
    under ``/docs-assets/`` (no CDN, no Google Fonts). The pages refer to the assets and to
    ``openapi.json`` by relative addresses, so they work at the service's own root and behind
    a proxy that puts it under a prefix (the workbench gateway's ``/intake/docs``)."""
    pages = {app.docs_url, app.redoc_url}
    kept: list[BaseRoute] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path in pages)
    ]
    app.router.routes[:] = kept
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    title = app.title
    assets = DOCS_ASSETS_PATH.lstrip("/")
    openapi = (app.openapi_url or "/openapi.json").lstrip("/")
    redirect = app.swagger_ui_oauth2_redirect_url

    async def swagger_ui(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{title} · 接口文档 API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url=redirect,
        )

    async def redoc(_: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi,
            title=f"{title} · 接口文档 ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )

    if app.docs_url:
        app.add_route(app.docs_url, swagger_ui, include_in_schema=False)
    if app.redoc_url:
        app.add_route(app.redoc_url, redoc, include_in_schema=False)


def health_router(
    runtime: Callable[[], Runtime],
    extra_pools: Callable[[], Mapping[str, asyncpg.Pool]] | None = None,
    notes: Callable[[], Awaitable[Mapping[str, Any]]] | None = None,
) -> APIRouter:
    """``GET /health/live``, ``/health/ready`` and ``/health`` (the same as ready, for the
    callers of the combined endpoint there was before). ``extra_pools``: other databases
    readiness checks (reporting's read models); ``notes`` adds what a service wants operators to
    see (warnings that do not make it unready, e.g. provisional deadlines)."""
    router = APIRouter(tags=["运维 operations"])

    @router.get(
        "/health/live",
        summary="存活检查 Liveness: the process and its background tasks are alive",
        description=(
            "200 while the relay, consumers and sweep run (or restart after a failure); 503 "
            "once one kept failing and was given up on: restart the process. Never checks "
            "PostgreSQL or NATS, so an outage of theirs does not restart every service."
        ),
        responses={503: {"description": "A background task was given up on"}},
    )
    async def live() -> JSONResponse:
        try:
            report = runtime().live()
        except KeyError:  # before the lifespan has built the runtime
            return JSONResponse({"ok": False, "reasons": ["starting"]}, status_code=503)
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    async def ready() -> JSONResponse:
        try:
            current = runtime()
        except KeyError:
            return JSONResponse({"ok": False, "reasons": ["starting"]}, status_code=503)
        report = await current.ready(extra_pools() if extra_pools else None)
        if notes is not None:
            report = {**report, **jsonable_encoder(await notes())}
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    responses: dict[int | str, dict[str, Any]] = {
        503: {"description": "Not ready: the reasons say which server or task"}
    }
    router.add_api_route(
        "/health/ready",
        ready,
        methods=["GET"],
        summary="就绪检查 Readiness: PostgreSQL and NATS answer, relay and consumers progress",
        responses=responses,
    )
    router.add_api_route(
        "/health",
        ready,
        methods=["GET"],
        summary="健康检查 Health: the same as /health/ready",
        responses=responses,
    )
    return router


RETRY_AFTER_SECONDS = 5


def unavailable_response() -> JSONResponse:
    return JSONResponse(
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        content={
            "error": "database_unavailable",
            "message": (
                f"数据库暂时无法访问（可能正在重启），请 {RETRY_AFTER_SECONDS} 秒后重试；如果是"
                "登记等写操作，用同一幂等键重试不会重复登记 / the database is unavailable for "
                f"the moment (it may be restarting): try again in {RETRY_AFTER_SECONDS} s; "
                "retrying a write with the same idempotency key does not apply it twice"
            ),
        },
    )


def install_dependency_errors(app: FastAPI) -> None:
    """503 with Retry-After, never a 500 with a traceback, while PostgreSQL restarts or is
    away: the errors asyncpg raises then are listed once, in petitions.db.CONNECTION_ERRORS."""

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "request.database_unavailable",
            path=request.url.path,
            error=f"{type(exc).__name__}: {exc}",
        )
        return unavailable_response()

    for kind in CONNECTION_ERRORS:
        app.add_exception_handler(kind, on_unavailable)


def serve(service: str, build: Callable[[], FastAPI], settings: CommonSettings, port: int) -> None:
    """Run a service the same way everywhere: logging first (so start-up is logged too), our
    structlog pipeline for uvicorn's records, no access log."""
    configure_logging(service=service, fmt=settings.log_format, level=settings.log_level)
    server = uvicorn.Server(
        uvicorn.Config(
            build(),
            host=settings.http_host,
            port=port,
            log_config=None,  # uvicorn's records go through our structlog handler
            access_log=False,
        )
    )

    def shut_down() -> None:
        server.should_exit = True

    exit_process_on_give_up(shut_down)
    server.run()
    if not server.started:
        # What uvicorn.run does too: a server that never started (port taken, lifespan
        # failed) is a failed start, not a clean exit.
        raise SystemExit(STARTUP_FAILURE)
    if exit_requested():
        # A background task kept failing: a non-zero exit makes the orchestrator start afresh.
        raise SystemExit(EXIT_CODE)
