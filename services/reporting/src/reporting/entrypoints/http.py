"""Reporting's HTTP API: figures, roster, zero-petition sub-bureaus, reception statistics, the
ledger, the weekly bulletin and the monthly analysis, as JSON, XLSX, CSV and SVG charts.

Who sees what: the read roles below; a sub-bureau's staff see only their own bureau, the city
bureau's see every bureau; handlers only their own bureau, even at the city bureau. Case lists
never show an accusation to the unit or officer it accuses (信访工作条例 Art. 30).

Errors answer ``{"error": code, "message": "中文 / English"}``; identity errors (401, 403) go
through the app's ``petitions.identity.install_auth_errors``.
"""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator's dependencies).

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from petitions.bureaus import BureauConfig, UnknownCodeError, WorkCalendar, YearNotConfiguredError
from petitions.clock import Clock, utc_now
from petitions.eventstore import EventStore
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import MAX_OFFSET
from petitions.scope import ensure_acts_for
from starlette.concurrency import run_in_threadpool

from reporting import exports, queries
from reporting.queries import periods
from reporting.queries.periods import Period, PeriodError
from reporting.roster import RosterNotDue
from reporting.roster import publish as publish_roster_for
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

WEEK_PATTERN = r"^\d{4}-W\d{2}$"
MONTH_PATTERN = r"^\d{4}-\d{2}$"

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
    403: {"description": "角色或单位范围不允许 role or bureau scope does not allow it"},
    422: {"description": "参数有误 invalid parameters, with what to write instead"},
}


def _file(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {}}, "description": what}, **_ERRORS}


class ReportError(Exception):
    """A request the reports cannot answer as asked; the message says what to ask instead."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _answer(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message})


class _ReportRoute(APIRoute):
    """Turns this router's own refusals into the house error shape, so the router works in any
    app without an exception handler of its own to install."""

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


def router(
    read_pool: Callable[[], asyncpg.Pool],
    config: BureauConfig,
    calendar: WorkCalendar,
    auth: Authenticator,
    *,
    clock: Clock = utc_now,
    store: Callable[[], EventStore] | None = None,
) -> APIRouter:
    """``store``: the event store, where published rosters live (without it, none is shown and
    none can be published)."""
    api = APIRouter(prefix="/api/v1/reports", route_class=_ReportRoute, responses=_ERRORS)
    reader = auth.require(*READ_ROLES)
    publisher = auth.require(Role.ADMIN, Role.PETITION_OFFICE)
    Publisher = Annotated[Principal, Depends(publisher)]  # noqa: N806
    Reader = Annotated[Principal, Depends(reader)]  # noqa: N806  (a type alias, local by need)

    @asynccontextmanager
    async def snapshot() -> AsyncIterator[Any]:
        # One repeatable-read snapshot per report: the projections keep writing meanwhile, and
        # a report's parts (figures, lists, rankings) must describe the same moment.
        async with (
            read_pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield conn

    def scope_of(principal: Principal, requested: str | None) -> str:
        bureau = requested or principal.bureau
        if not config.is_bureau(bureau):
            raise ReportError(
                422,
                "unknown_bureau",
                f"未知单位代码 {bureau:.32}，请使用市局 {config.city.code} 或分县局代码 / "
                f"unknown bureau code {bureau:.32}: use the city bureau's {config.city.code} or "
                "a sub-bureau's code",
            )
        ensure_acts_for(principal, config, bureau)  # the one scope rule, as every service
        return bureau

    def viewer(principal: Principal) -> queries.Viewer:
        return queries.Viewer(
            bureau=principal.bureau,
            user=principal.user,
            role=principal.role,
            department=principal.department,
        )

    def period_of(
        from_: date | None, to: date | None, month: str | None, week: str | None, year: str | None
    ) -> Period:
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

    # The period parameters, shared by the endpoints that take any period.
    BureauQ = Annotated[  # noqa: N806
        str | None,
        Query(
            max_length=32,
            description="单位代码，默认为令牌所属单位 bureau code; default: the caller's own",
        ),
    ]
    FromQ = Annotated[  # noqa: N806
        date | None, Query(alias="from", description="起始日（含）first day, local date")
    ]
    ToQ = Annotated[date | None, Query(description="截止日（含）last day, local date")]  # noqa: N806
    MonthQ = Annotated[  # noqa: N806
        str | None, Query(pattern=MONTH_PATTERN, description="月份 month, e.g. 2026-03")
    ]
    WeekQ = Annotated[  # noqa: N806
        str | None, Query(pattern=WEEK_PATTERN, description="ISO 周 week, e.g. 2026-W12")
    ]
    YearQ = Annotated[str | None, Query(pattern=r"^\d{4}$", description="年份 year")]  # noqa: N806
    AsOfQ = Annotated[  # noqa: N806
        date | None,
        Query(description="报告日 D（默认今天，北京时间）report date; default: today"),
    ]

    def today() -> date:
        return periods.local_today(clock())

    @api.get(
        "/figures",
        response_model=queries.Figures,
        tags=["统计 figures"],
        summary="统计指标 Figures: matters, submissions, person-visits and the binding rates",
        description=(
            "For a sub-bureau (cases attributed to it) or the city bureau (all). Rates give "
            "numerator, denominator and ratio (null when the denominator is 0). Period: one of "
            "month, week, year or from/to; report date D (as_of) judges 'by D'."
        ),
    )
    async def get_figures(
        principal: Reader,
        bureau: BureauQ = None,
        from_: FromQ = None,
        to: ToQ = None,
        month: MonthQ = None,
        week: WeekQ = None,
        year: YearQ = None,
        as_of: AsOfQ = None,
    ) -> Any:
        code = scope_of(principal, bureau)
        period = period_of(from_, to, month, week, year)
        async with snapshot() as db:
            return await queries.figures(db, config, code, period, as_of or today())

    @api.get(
        "/zero-petition",
        response_model=queries.ZeroPetition,
        tags=["统计 figures"],
        summary="零信访分县局 Sub-bureaus with no submission to the city bureau in the period",
    )
    async def get_zero_petition(
        principal: Reader,
        bureau: BureauQ = None,
        from_: FromQ = None,
        to: ToQ = None,
        month: MonthQ = None,
        week: WeekQ = None,
        year: YearQ = None,
    ) -> Any:
        code = scope_of(principal, bureau)
        period = period_of(from_, to, month, week, year)
        async with snapshot() as db:
            return await queries.zero_petition_sub_bureaus(db, config, code, period)

    @api.get(
        "/accompany-roster",
        response_model=queries.AccompanyRoster,
        tags=["统计 figures"],
        summary="陪同接访名单 Sub-bureau heads who accompany the chief next month",
        description=(
            "month: the month counted (the roster applies to the month after it); or for_month: "
            "the month the roster applies to. Up to three sub-bureaus with the most justified "
            "petitions to the city bureau, above zero; ties: more submissions to the city bureau, "
            "then the lower code."
        ),
    )
    async def get_roster(
        principal: Reader,
        month: MonthQ = None,
        for_month: MonthQ = None,
    ) -> Any:
        if (month is None) == (for_month is None):
            raise ReportError(
                422,
                "invalid_period",
                "请给出 month（计数月份）或 for_month（适用月份）之一 / give month (the month "
                "counted) or for_month (the month the roster is for), not both",
            )
        counted = (
            periods.month(month)
            if month
            else periods.shift_months(periods.month(str(for_month)), -1)
        )
        async with snapshot() as db:
            roster = await queries.accompany_roster(db, config, counted)
        if store is not None:
            found = await published_roster_of(store(), config, roster.applies_to)
            if found is not None and principal.bureau != config.city.code:
                found = found.model_copy(update={"candidates": list(found.roster)})
            roster = roster.model_copy(update={"published": found})
        # Published as the monthly analysis publishes it: the roster (three heads and their
        # counts, circulated anyway) to all; the full ranking behind it to the city bureau.
        return queries.published_roster(config, principal.bureau, roster)

    @api.post(
        "/accompany-roster/publish",
        response_model=queries.AccompanyRoster,
        tags=["统计 figures"],
        summary="发布陪同接访名单 Publish the month's accompany roster (once)",
        description=(
            "for_month: the month the roster is for (default: the current month, Asia/Shanghai). "
            "Counted on the month before as it stands now and appended once as "
            "reporting.AccompanyRosterPublished; publishing again returns what was published. "
            "City petition office or admin; not before the month begins."
        ),
    )
    async def publish_roster(principal: Publisher, for_month: MonthQ = None) -> Any:
        if store is None:
            raise ReportError(503, "no_store", "事件库不可用 / the event store is not available")
        if principal.role is Role.PETITION_OFFICE and principal.bureau != config.city.code:
            raise ReportError(
                403,
                "city_only",
                "陪同接访名单由市局信访科发布 / the city bureau's petition office publishes the "
                "roster",
            )
        today = periods.local_today(clock())
        month = for_month or f"{today.year:04d}-{today.month:02d}"
        try:
            async with snapshot() as db:
                found, _ = await publish_roster_for(
                    store(), db, config, month, today, principal.user
                )
                live = await queries.accompany_roster(
                    db, config, periods.shift_months(periods.month(month), -1)
                )
        except RosterNotDue as exc:
            raise ReportError(409, "roster_not_due", str(exc)) from exc
        return live.model_copy(update={"published": found})

    @api.get(
        "/reception",
        response_model=queries.ReceptionStats,
        tags=["领导接访 reception days"],
        summary="领导接访统计 Reception sessions held and missed, per leader, visits, instructions",
    )
    async def get_reception(
        principal: Reader,
        bureau: BureauQ = None,
        from_: FromQ = None,
        to: ToQ = None,
        month: MonthQ = None,
        week: WeekQ = None,
        year: YearQ = None,
    ) -> Any:
        code = scope_of(principal, bureau)
        period = period_of(from_, to, month, week, year)
        async with snapshot() as db:
            return await queries.reception_statistics(db, config, code, period)

    # -- paging the case lists of the bulletin and the analysis -----------------------------

    PageQ = Annotated[  # noqa: N806
        int,
        Query(
            ge=1,
            le=MAX_OFFSET + 1,
            description="页码（从 1 起）page number, from 1 (the page must start within the "
            "first MAX_OFFSET rows)",
        ),
    ]
    PageSizeQ = Annotated[  # noqa: N806
        int,
        Query(
            ge=1,
            le=queries.MAX_PAGE_SIZE,
            description="每页件数 rows per page of each case list (the exports hold every row)",
        ),
    ]

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

    # -- the ledger ---------------------------------------------------------------------------

    def ledger_filter(
        sub_bureau: Annotated[str | None, Query(max_length=32, description="所属分县局")] = None,
        category: Annotated[
            str | None, Query(max_length=64, description="问题分类（含下级）category and below")
        ] = None,
        category_kind: Annotated[
            Literal["suggestion", "accusation", "complaint_demand"] | None, Query()
        ] = None,
        state: Annotated[str | None, Query(max_length=40, description="流程状态 state")] = None,
        received_from: Annotated[
            date | None, Query(description="首次信访日起 first received from")
        ] = None,
        received_to: Annotated[
            date | None, Query(description="首次信访日止 first received to")
        ] = None,
        open_: Annotated[bool | None, Query(alias="open", description="在办 open")] = None,
        overdue: Annotated[bool | None, Query(description="超期 overdue on as_of")] = None,
        congress: Annotated[bool | None, Query(description="人大交办督办")] = None,
        justified: Annotated[bool | None, Query(description="有理访")] = None,
        collective: Annotated[bool | None, Query(description="集体访")] = None,
        skip_level: Annotated[bool | None, Query(description="越级访")] = None,
        repeat: Annotated[bool | None, Query(description="重复访")] = None,
        supervised: Annotated[bool | None, Query(description="督办")] = None,
        responsible_unit: Annotated[str | None, Query(max_length=32)] = None,
        case_number: Annotated[
            str | None, Query(max_length=40, description="案件编号（部分）part of it")
        ] = None,
        reception_session: Annotated[
            UUID | None, Query(description="领导接访场次 visits received at this session")
        ] = None,
    ) -> queries.LedgerFilter:
        received = None
        if received_from is not None or received_to is not None:
            received = periods.date_range(
                received_from or date(1990, 1, 1), received_to or date(2999, 12, 31)
            )
        return queries.LedgerFilter(
            sub_bureau=sub_bureau,
            category=category,
            category_kind=category_kind,
            state=state,
            received=received,
            open=open_,
            overdue=overdue,
            congress=congress,
            justified=justified,
            collective=collective,
            skip_level=skip_level,
            repeat=repeat,
            supervised=supervised,
            responsible_unit=responsible_unit,
            case_number=case_number,
            reception_session=reception_session,
        )

    Filters = Annotated[queries.LedgerFilter, Depends(ledger_filter)]  # noqa: N806

    async def ledger_page(
        principal: Principal,
        bureau: str | None,
        filters: queries.LedgerFilter,
        as_of: date | None,
        limit: int,
        offset: int,
    ) -> queries.LedgerPage:
        code = scope_of(principal, bureau)
        async with snapshot() as db:
            return await queries.ledger(
                db,
                config,
                viewer(principal),
                code,
                filters,
                as_of=as_of or today(),
                limit=limit,
                offset=offset,
            )

    async def ledger_export(
        principal: Principal, bureau: str | None, filters: queries.LedgerFilter, as_of: date | None
    ) -> exports.Report:
        page = await ledger_page(principal, bureau, filters, as_of, queries.MAX_EXPORT, 0)
        notes = [f"统计截止日 Report date: {page.as_of}", f"共 {page.total} 件 {page.total} cases"]
        if page.total > len(page.rows):
            notes.append(
                f"仅导出前 {len(page.rows)} 件，请缩小筛选范围 / only the first {len(page.rows)} "
                "rows are exported: narrow the filters"
            )
        return exports.ledger_report(page.bureau, page.rows, notes)

    @api.get(
        "/ledger.xlsx",
        response_class=Response,
        responses=_file(XLSX, "台帐 Excel 工作簿 the ledger as an Excel workbook"),
        tags=["台帐 ledger"],
        summary="导出台帐 (XLSX) Export the ledger as Excel",
    )
    async def ledger_xlsx(
        principal: Reader, filters: Filters, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> Response:
        report = await ledger_export(principal, bureau, filters, as_of)
        return await _download(exports.to_xlsx, XLSX, report, "xlsx")

    @api.get(
        "/ledger.csv",
        response_class=Response,
        responses=_file(CSV, "台帐 CSV（UTF-8 带 BOM）the ledger as CSV, UTF-8 with BOM"),
        tags=["台帐 ledger"],
        summary="导出台帐 (CSV) Export the ledger as CSV",
    )
    async def ledger_csv(
        principal: Reader, filters: Filters, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> Response:
        report = await ledger_export(principal, bureau, filters, as_of)
        return await _download(exports.to_csv, CSV, report, "csv")

    @api.get(
        "/ledger",
        response_model=queries.LedgerPage,
        tags=["台帐 ledger"],
        summary="台帐 The ledger: one row per case, newest first, filtered and paged",
        description=(
            "A bureau's ledger holds the cases attributed to it, received by it or assigned to "
            "it; the city bureau's holds all. Accusations are never listed for the unit or "
            "officer they accuse. Personal data appears masked, as stored."
        ),
    )
    async def get_ledger(
        principal: Reader,
        filters: Filters,
        bureau: BureauQ = None,
        as_of: AsOfQ = None,
        limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Any:
        return await ledger_page(principal, bureau, filters, as_of, limit, offset)

    # -- the weekly bulletin -----------------------------------------------------------------

    WeekP = Annotated[  # noqa: N806
        str, Path(pattern=WEEK_PATTERN, description="ISO 周 week, e.g. 2026-W12")
    ]
    BulletinAsOfQ = Annotated[  # noqa: N806
        date | None,
        Query(
            description="超期、临期的判断日（默认：今天与周日中较早者）the day overdue and due "
            "soon are judged on; default: today or the week's Sunday, whichever is earlier"
        ),
    ]

    async def bulletin(
        principal: Principal,
        week_text: str,
        bureau: str | None,
        as_of: date | None,
        page: queries.Page | None = None,
    ) -> queries.WeeklyBulletin:
        """The bulletin with ``page`` of each list; None (the exports): every row."""
        code = scope_of(principal, bureau)
        week = periods.week(week_text)
        async with snapshot() as db:
            return await queries.weekly_bulletin(
                db,
                config,
                calendar,
                viewer(principal),
                code,
                week,
                as_of or min(today(), week.end),
                page,
            )

    @api.get(
        "/weekly/{week}.xlsx",
        response_class=Response,
        responses=_file(XLSX, "一周一通报 Excel 工作簿 the bulletin as an Excel workbook"),
        tags=["一周一通报 weekly bulletin"],
        summary="导出一周一通报 (XLSX) Export the weekly bulletin as Excel",
    )
    async def weekly_xlsx(
        principal: Reader, week: WeekP, bureau: BureauQ = None, as_of: BulletinAsOfQ = None
    ) -> Response:
        report = exports.bulletin_report(await bulletin(principal, week, bureau, as_of))
        return await _download(exports.to_xlsx, XLSX, report, "xlsx")

    @api.get(
        "/weekly/{week}.csv",
        response_class=Response,
        responses=_file(CSV, "一周一通报 CSV（UTF-8 带 BOM）the bulletin as CSV"),
        tags=["一周一通报 weekly bulletin"],
        summary="导出一周一通报 (CSV) Export the weekly bulletin as CSV",
    )
    async def weekly_csv(
        principal: Reader, week: WeekP, bureau: BureauQ = None, as_of: BulletinAsOfQ = None
    ) -> Response:
        report = exports.bulletin_report(await bulletin(principal, week, bureau, as_of))
        return await _download(exports.to_csv, CSV, report, "csv")

    @api.get(
        "/weekly/{week}",
        response_model=queries.WeeklyBulletin,
        tags=["一周一通报 weekly bulletin"],
        summary="一周一通报 Weekly bulletin: new, replied, overdue, due soon, missing progress",
    )
    async def get_weekly(
        request: Request,
        principal: Reader,
        week: WeekP,
        bureau: BureauQ = None,
        as_of: BulletinAsOfQ = None,
        page_size: PageSizeQ = queries.DEFAULT_PAGE_SIZE,
    ) -> Any:
        answer = await bulletin(principal, week, bureau, as_of, queries.Page(1, page_size))
        return answer.model_copy(
            update={
                name: linked(request, getattr(answer, name), name)
                for name in queries.BULLETIN_LISTS
            }
        )

    @api.get(
        "/weekly/{week}/{list_name}",
        response_model=queries.CaseList,
        tags=["一周一通报 weekly bulletin"],
        summary="一周一通报案件清单分页 One page of a bulletin list: overdue, due soon, missing",
        description=(
            "The same list the bulletin's first page comes from, judged on the same day; "
            "'next' links to the following page. Every row at once: the bulletin's XLSX or CSV."
        ),
    )
    async def get_weekly_list(
        request: Request,
        principal: Reader,
        week: WeekP,
        list_name: Annotated[
            Literal["overdue", "due_soon", "missing_progress"],
            Path(description="overdue: 超期; due_soon: 临期; missing_progress: 缺进展"),
        ],
        bureau: BureauQ = None,
        as_of: BulletinAsOfQ = None,
        page: PageQ = 1,
        page_size: PageSizeQ = queries.DEFAULT_PAGE_SIZE,
    ) -> Any:
        code = scope_of(principal, bureau)
        period = periods.week(week)
        async with snapshot() as db:
            cases = await queries.bulletin_list(
                db,
                config,
                calendar,
                viewer(principal),
                code,
                period,
                as_of or min(today(), period.end),
                list_name,
                paged(page, page_size),
            )
        return linked(request, cases)

    # -- the monthly analysis ----------------------------------------------------------------

    MonthP = Annotated[  # noqa: N806
        str, Path(pattern=MONTH_PATTERN, description="月份 month, e.g. 2026-03")
    ]

    async def analysis(
        principal: Principal,
        month_text: str,
        bureau: str | None,
        as_of: date | None,
        page: queries.Page | None = None,
    ) -> queries.MonthlyAnalysis:
        """The analysis with ``page`` of each list; None (the exports): every row."""
        code = scope_of(principal, bureau)
        month = periods.month(month_text)
        async with snapshot() as db:
            return await queries.monthly_analysis(
                db,
                config,
                viewer(principal),
                code,
                month,
                as_of or today(),
                page,
            )

    @api.get(
        "/monthly/{month}.xlsx",
        response_class=Response,
        responses=_file(XLSX, "一月一分析 Excel 工作簿 the analysis as an Excel workbook"),
        tags=["一月一分析 monthly analysis"],
        summary="导出一月一分析 (XLSX) Export the monthly analysis as Excel",
    )
    async def monthly_xlsx(
        principal: Reader, month: MonthP, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> Response:
        report = exports.analysis_report(await analysis(principal, month, bureau, as_of))
        return await _download(exports.to_xlsx, XLSX, report, "xlsx")

    @api.get(
        "/monthly/{month}.csv",
        response_class=Response,
        responses=_file(CSV, "一月一分析 CSV（UTF-8 带 BOM）the analysis as CSV"),
        tags=["一月一分析 monthly analysis"],
        summary="导出一月一分析 (CSV) Export the monthly analysis as CSV",
    )
    async def monthly_csv(
        principal: Reader, month: MonthP, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> Response:
        report = exports.analysis_report(await analysis(principal, month, bureau, as_of))
        return await _download(exports.to_csv, CSV, report, "csv")

    @api.get(
        "/monthly/{month}/charts/{chart}.svg",
        response_class=Response,
        responses=_file(SVG, "SVG 图表 an SVG chart"),
        tags=["一月一分析 monthly analysis"],
        summary="一月一分析图表 (SVG) Charts: submissions, justified (by sub-bureau), trend",
    )
    async def monthly_chart(
        principal: Reader,
        month: MonthP,
        chart: Annotated[
            Literal["submissions", "justified", "trend"],
            Path(description="submissions: 件次; justified: 到市局有理访; trend: 近12个月"),
        ],
        bureau: BureauQ = None,
    ) -> Response:
        code = scope_of(principal, bureau)
        period = periods.month(month)
        name = config.bureau_name(code)
        async with snapshot() as db:
            if chart == "trend":
                points = await queries.monthly_series(db, config, code, period)
                svg = exports.line_chart(
                    f"{name} 近十二个月信访趋势 Twelve-month trend to {period.label}",
                    [p.month for p in points],
                    [
                        ("件 matters", [p.matters for p in points]),
                        ("件次 submissions", [p.submissions for p in points]),
                        ("人次 person-visits", [p.person_visits for p in points]),
                    ],
                )
            else:
                by_submissions, by_justified = await queries.sub_bureau_rankings(
                    db, config, code, period
                )
                rows = by_submissions if chart == "submissions" else by_justified
                title = (
                    f"{name} {period.label} 分县局信访件次 Submissions by sub-bureau"
                    if chart == "submissions"
                    else f"{name} {period.label} 分县局到市局有理访 Justified petitions to "
                    "the city bureau"
                )
                svg = exports.bar_chart(
                    title, [r.sub_bureau.name for r in rows], [r.value for r in rows]
                )
        filename = f"{name}_{period.label}_{chart}.svg"
        return Response(
            svg.encode("utf-8"),
            media_type=SVG,
            headers={
                "Content-Disposition": exports.inline(
                    filename, f"{code}_{period.label}_{chart}.svg"
                )
            },
        )

    @api.get(
        "/monthly/{month}",
        response_model=queries.MonthlyAnalysis,
        tags=["一月一分析 monthly analysis"],
        summary="一月一分析 Monthly analysis: figures with changes, rankings, roster, lists",
        description=(
            "Month-on-month and year-on-year changes compare with months judged as long after "
            "their end as this one (report date minus month end). Rate deltas are ratios."
        ),
    )
    async def get_monthly(
        request: Request,
        principal: Reader,
        month: MonthP,
        bureau: BureauQ = None,
        as_of: AsOfQ = None,
        page_size: PageSizeQ = queries.DEFAULT_PAGE_SIZE,
    ) -> Any:
        answer = await analysis(principal, month, bureau, as_of, queries.Page(1, page_size))
        return answer.model_copy(
            update={
                name: linked(request, getattr(answer, name), name)
                for name in queries.ANALYSIS_LISTS
            }
        )

    @api.get(
        "/monthly/{month}/{list_name}",
        response_model=queries.CaseList,
        tags=["一月一分析 monthly analysis"],
        summary="一月一分析案件清单分页 One page of an analysis list: congress, repeat, skip-level",
        description=(
            "The same list the analysis's first page comes from; 'next' links to the following "
            "page. Every row at once: the analysis's XLSX or CSV."
        ),
    )
    async def get_monthly_list(
        request: Request,
        principal: Reader,
        month: MonthP,
        list_name: Annotated[
            Literal["congress_cases", "repeat_cases", "skip_level_cases"],
            Path(
                description="congress_cases: 人大; repeat_cases: 重复访; skip_level_cases: 越级访"
            ),
        ],
        bureau: BureauQ = None,
        page: PageQ = 1,
        page_size: PageSizeQ = queries.DEFAULT_PAGE_SIZE,
    ) -> Any:
        code = scope_of(principal, bureau)
        period = periods.month(month)
        async with snapshot() as db:
            cases = await queries.analysis_list(
                db, config, viewer(principal), code, period, list_name, paged(page, page_size)
            )
        return linked(request, cases)

    return api


async def _download(
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


__all__ = ["READ_ROLES", "ReportError", "router"]
