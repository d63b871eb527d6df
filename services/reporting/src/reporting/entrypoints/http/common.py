"""What every report's router shares: the error shape, the route class that answers with it, the
context a router is built on (read pool, configuration, calendar, clock, store), the query
parameters as dependencies (scope, period, report date, paging) and the helper that registers a
report's JSON, XLSX and CSV variants side by side."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and some name attributes of a Context built at run time.

import dataclasses
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from petitions.bureaus import BureauConfig, UnknownCodeError, WorkCalendar, YearNotConfiguredError
from petitions.clock import Clock
from petitions.eventstore import ANY, EventStore, Metadata, NewEvent
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import MAX_OFFSET
from petitions.messages.reporting import ReportExported
from petitions.scope import ensure_acts_for
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from reporting import exports, queries
from reporting.queries import periods
from reporting.queries.periods import Period, PeriodError
from reporting.roster import published as published_roster_of

READ_ROLES = (
    Role.PETITION_OFFICE,
    Role.SUB_BUREAU_HEAD,
    Role.LEADER,
    Role.AUDITOR,
    Role.ADMIN,
    Role.HANDLER,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
SVG = "image/svg+xml"

# Connections a report may take to run its independent queries at once (Context.snapshots): the
# machine the scale benchmark runs on has two cores.
REPORT_CONNECTIONS = 3
# pg_export_snapshot()'s identifiers (hex words and dashes), spliced into SET TRANSACTION
# SNAPSHOT, which takes no parameter.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")

WEEK_PATTERN = r"^\d{4}-W\d{2}$"
MONTH_PATTERN = r"^\d{4}-\d{2}$"

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
    403: {"description": "角色或单位范围不允许 role or bureau scope does not allow it"},
    422: {"description": "参数有误 invalid parameters, with what to write instead"},
}


def file_responses(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {}}, "description": what}, **ERRORS}


class ReportError(Exception):
    """A request the reports cannot answer as asked; the message says what to ask instead."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _answer(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message})


class ReportRoute(APIRoute):
    """Turns the reports' own refusals into the house error shape, so the routers work in any
    app without an exception handler of their own to install."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except ReportError as exc:
                return _answer(exc.status, exc.code, exc.message)
            except PeriodError as exc:
                return _answer(422, "invalid_period", str(exc))
            except YearNotConfiguredError as exc:
                return _answer(422, "year_not_configured", str(exc))
            except UnknownCodeError as exc:
                return _answer(422, "unknown_code", f"{exc}，请检查代码 / check the code")
            except OverflowError:
                # Only a client's date gets here: a day before or after one at the ends of the
                # calendar (0001-01-01, 9999-12-31) has no datetime, and the answer was a 500.
                return _answer(
                    422,
                    "date_out_of_range",
                    f"日期超出可查询范围，请使用 {periods.MIN_YEAR}-{periods.MAX_YEAR} 年间的"
                    f"日期 / a date is out of range: use dates within the years "
                    f"{periods.MIN_YEAR}-{periods.MAX_YEAR}",
                )

        return guarded


def report_router() -> APIRouter:
    """A router for one report; the composing router adds the prefix and the error responses."""
    return APIRouter(route_class=ReportRoute)


# -- shared query parameters ----------------------------------------------------------------

BureauQ = Annotated[
    str | None,
    Query(
        max_length=32,
        description="单位代码，默认为令牌所属单位 bureau code; default: the caller's own",
    ),
]
FromQ = Annotated[date | None, Query(alias="from", description="起始日（含）first day, local date")]
ToQ = Annotated[date | None, Query(description="截止日（含）last day, local date")]
MonthQ = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="月份 month, e.g. 2026-03")]
WeekQ = Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO 周 week, e.g. 2026-W12")]
YearQ = Annotated[str | None, Query(pattern=r"^\d{4}$", description="年份 year")]
AsOfQ = Annotated[
    date | None,
    Query(description="报告日 D（默认今天，北京时间）report date; default: today"),
]
PageQ = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_OFFSET + 1,
        description="页码（从 1 起）page number, from 1 (the page must start within the "
        "first MAX_OFFSET rows)",
    ),
]
PageSizeQ = Annotated[
    int,
    Query(
        ge=1,
        le=queries.MAX_PAGE_SIZE,
        description="每页件数 rows per page of each case list (the exports hold every row)",
    ),
]


async def period_of(
    from_: FromQ = None,
    to: ToQ = None,
    month: MonthQ = None,
    week: WeekQ = None,
    year: YearQ = None,
) -> Period:
    """The period asked for, given exactly one way (a dependency: the period parameters)."""
    given = [name for name, v in (("month", month), ("week", week), ("year", year)) if v]
    if from_ is not None or to is not None:
        given.append("from/to")
    if len(given) != 1:
        raise ReportError(
            422,
            "invalid_period",
            "请只用一种方式指定期间：month=2026-03、week=2026-W12、year=2026 或 "
            "from=2026-03-01&to=2026-03-31 / give the period one way: month=2026-03, "
            "week=2026-W12, year=2026, or from=2026-03-01&to=2026-03-31"
            + (f" (got {', '.join(given)})" if given else ""),
        )
    if month:
        return periods.month(month)
    if week:
        return periods.week(week)
    if year:
        return periods.year(year)
    if from_ is None or to is None:
        raise ReportError(
            422,
            "invalid_period",
            "from 和 to 须同时给出 / give both 'from' and 'to' (local dates, inclusive)",
        )
    return periods.date_range(from_, to)


PeriodP = Annotated[Period, Depends(period_of)]


def paged(page: int, page_size: int) -> queries.Page:
    if (page - 1) * page_size > MAX_OFFSET:
        raise ReportError(
            422,
            "page_out_of_range",
            f"页码过大，最多翻过 {MAX_OFFSET} 件；完整清单请导出 XLSX 或 CSV / the page lies "
            f"beyond the first {MAX_OFFSET} rows: export the report as XLSX or CSV for "
            "every row",
        )
    return queries.Page(page, page_size)


def linked(request: Request, cases: queries.CaseList, name: str | None = None) -> Any:
    """``cases`` with ``next``: the following page's path and query, on the report's own
    list endpoint (``name``: the list inside a report) with the same parameters."""
    if cases.page * cases.page_size >= cases.total:
        return cases
    url = request.url
    if name is not None:
        url = url.replace(path=f"{url.path}/{name}")
    url = url.include_query_params(page=cases.page + 1, page_size=cases.page_size)
    return cases.model_copy(update={"next": f"{url.path}?{url.query}"})


# -- the context every report's router is built on --------------------------------------------


@dataclass(frozen=True)
class Context:
    """``store``: the event store, where published rosters live (None: none is shown and none
    can be published)."""

    read_pool: Callable[[], asyncpg.Pool]
    config: BureauConfig
    calendar: WorkCalendar
    auth: Authenticator
    clock: Clock
    store: Callable[[], EventStore] | None = None
    practices_since: Mapping[str, date] = field(default_factory=dict)
    """Per bureau code, the day it began the seed's practices (PETITIONS_PRACTICES_SINCE)."""
    reader: Callable[..., Awaitable[Principal]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reader", self.auth.require(*READ_ROLES))

    def scope(self) -> Callable[..., Awaitable[str]]:
        """A dependency: the bureau a report is about (``bureau``, default the caller's own),
        refused unless the caller may see it."""
        Reader = Annotated[Principal, Depends(self.reader)]  # noqa: N806

        async def scope(principal: Reader, bureau: BureauQ = None) -> str:
            return self.scope_of(principal, bureau)

        return scope

    def report_date(self) -> Callable[..., Awaitable[date]]:
        """A dependency: the report date D, today (Asia/Shanghai) unless ``as_of`` says."""

        async def report_date(as_of: AsOfQ = None) -> date:
            return as_of or self.today()

        return report_date

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Any]:
        # One repeatable-read snapshot per report: the projections keep writing meanwhile, and
        # a report's parts (figures, lists, rankings) must describe the same moment.
        async with (
            self.read_pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn

    @asynccontextmanager
    async def snapshots(self, most: int) -> AsyncIterator[list[Any]]:
        """Up to ``most`` connections in one repeatable-read snapshot (the first exports it,
        the others import it), for a report whose independent queries may run at once. Only
        connections the pool has to spare are taken: one idle, or a new one while the pool is
        below its size (checked with no await before the pool's queue hands it over). With
        none spare the report runs on its one connection as before, so reports holding one
        never wait on each other for a second. (At worst the last free place is being
        connected for another report, which then sees the pool full, takes no more and
        finishes: this one waits for that release, never in a cycle.)"""
        pool = self.read_pool()
        async with self.snapshot() as conn, AsyncExitStack() as helpers:
            connections = [conn]
            if most > 1:
                exported = await conn.fetchval("SELECT pg_export_snapshot()")
                if not _SNAPSHOT_ID.fullmatch(exported):
                    raise ValueError(f"unexpected snapshot id {exported!r}")
                while len(connections) < most and (
                    pool.get_idle_size() > 0 or pool.get_size() < pool.get_max_size()
                ):
                    helper = await helpers.enter_async_context(pool.acquire())
                    await helpers.enter_async_context(
                        helper.transaction(isolation="repeatable_read", readonly=True)
                    )
                    await helper.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
                    connections.append(helper)
            yield connections

    def scope_of(self, principal: Principal, requested: str | None) -> str:
        bureau = requested or principal.bureau
        if not self.config.is_bureau(bureau):
            raise ReportError(
                422,
                "unknown_bureau",
                f"未知单位代码 {bureau:.32}，请使用市局 {self.config.city.code} 或分县局代码 / "
                f"unknown bureau code {bureau:.32}: use the city bureau's "
                f"{self.config.city.code} or a sub-bureau's code",
            )
        ensure_acts_for(principal, self.config, bureau)  # the one scope rule, as every service
        return bureau

    def today(self) -> date:
        return periods.local_today(self.clock())

    async def record_export(
        self,
        principal: Principal,
        report: str,
        fmt: Literal["json", "xlsx", "csv"],
        parameters: Mapping[str, Any],
        rows: int,
    ) -> None:
        """Record that ``principal`` took ``rows`` rows of ``report`` away, before they get them
        (no record, no list). Without a store (a read-only replica's tests) nothing is recorded
        and nothing is refused: the service itself always has one."""
        if self.store is None:
            return
        now = self.clock()
        event = ReportExported(
            report=report,
            format=fmt,
            reader=principal.user,
            role=str(principal.role),
            reader_bureau=principal.bureau,
            parameters=_parameters(parameters),
            rows=rows,
        )
        month = periods.local_today(now).strftime("%Y-%m")
        await self.store().append(
            f"exports-{principal.bureau}-{month}",
            [NewEvent(event, bureau=principal.bureau)],
            ANY,
            metadata=Metadata(actor=principal.user, service="reporting"),
        )

    async def with_published(
        self, roster: queries.AccompanyRoster, bureau: str
    ) -> queries.AccompanyRoster:
        """``roster`` with the one published for its month beside it (none without a store),
        as ``bureau`` may read it: the ranking behind it only to the city bureau."""
        if self.store is None:
            return roster
        found = await published_roster_of(self.store(), self.config, roster.applies_to)
        if found is not None and bureau != self.config.city.code:
            found = found.model_copy(update={"candidates": list(found.roster)})
        return roster.model_copy(update={"published": found})


def viewer(principal: Principal) -> queries.Viewer:
    return queries.Viewer(
        bureau=principal.bureau,
        user=principal.user,
        role=principal.role,
        department=principal.department,
    )


# -- a report's JSON, XLSX and CSV variants ----------------------------------------------------


async def download(
    render: Callable[[exports.Report], bytes],
    media_type: str,
    report: exports.Report,
    extension: str,
) -> Response:
    # Off the event loop: a workbook of a whole ledger takes seconds of CPU to write.
    body = await run_in_threadpool(render, report)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": exports.attachment(
                f"{report.filename}.{extension}", f"{report.ascii_filename}.{extension}"
            )
        },
    )


@dataclass(frozen=True)
class Export:
    """One file variant's OpenAPI texts: the summary and what the 200 answer holds."""

    summary: str
    what: str


def _parameters(parameters: Mapping[str, Any]) -> dict[str, str]:
    """The query of a list as text: filters flattened, unset ones left out, the reader out."""
    flat: dict[str, str] = {}
    for key, value in parameters.items():
        if value is None or isinstance(value, Principal):
            continue
        if isinstance(value, BaseModel):
            fields = value.model_dump(mode="json", exclude_none=True)
            flat |= {f"{key}.{k}": str(v) for k, v in fields.items()}
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            flat |= {f"{key}.{k}": str(v) for k, v in fields.items() if v is not None}
        else:
            flat[key] = str(value)
    return flat


def rows_of(report: exports.Report) -> int:
    return sum(len(sheet.rows) for sheet in report.sheets)


def register_report(
    api: APIRouter,
    ctx: Context,
    path: str,
    *,
    name: str,
    tags: list[str | Enum],
    build: Callable[..., Awaitable[exports.Report]],
    xlsx: Export,
    csv: Export,
    json: Callable[..., Awaitable[Any]],
    json_route: dict[str, Any],
) -> None:
    """Registers ``path``.xlsx, ``path``.csv and ``path`` (in that order: the JSON path's last
    parameter would otherwise swallow the extension).

    ``build`` takes the exports' request parameters (its signature is the endpoints') and returns
    the report every file variant renders; ``json`` is the JSON endpoint itself, with its own
    parameters (paging) and ``json_route`` (response_model, summary, description)."""
    signature = inspect.signature(build).replace(return_annotation=Response)
    variants: tuple[
        tuple[Literal["xlsx", "csv"], str, Callable[[exports.Report], bytes], Export], ...
    ] = (
        ("xlsx", XLSX, exports.to_xlsx, xlsx),
        ("csv", CSV, exports.to_csv, csv),
    )
    for extension, media_type, render, texts in variants:

        def endpoint(
            render: Callable[[exports.Report], bytes] = render,
            media_type: str = media_type,
            extension: Literal["xlsx", "csv"] = extension,
        ) -> Callable[..., Awaitable[Response]]:
            async def variant(**params: Any) -> Response:
                report = await build(**params)
                principal = next(v for v in params.values() if isinstance(v, Principal))
                await ctx.record_export(principal, name, extension, params, rows_of(report))
                return await download(render, media_type, report, extension)

            variant.__signature__ = signature  # type: ignore[attr-defined]
            variant.__name__ = f"{name}_{extension}"
            return variant

        api.add_api_route(
            f"{path}.{extension}",
            endpoint(),
            methods=["GET"],
            name=f"{name}_{extension}",
            response_class=Response,
            responses=file_responses(media_type, texts.what),
            tags=list(tags),
            summary=texts.summary,
        )
    api.add_api_route(path, json, methods=["GET"], tags=list(tags), **json_route)


__all__ = [
    "ERRORS",
    "READ_ROLES",
    "AsOfQ",
    "BureauQ",
    "Context",
    "Export",
    "MonthQ",
    "PageQ",
    "PageSizeQ",
    "PeriodP",
    "ReportError",
    "ReportRoute",
    "WeekQ",
    "download",
    "file_responses",
    "linked",
    "paged",
    "period_of",
    "register_report",
    "report_router",
    "viewer",
]
