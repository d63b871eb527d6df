"""The weekly bulletin (一周一通报) as JSON, XLSX and CSV, and its case lists page by page."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from petitions.identity import Principal

from reporting import exports, queries
from reporting.entrypoints.http.common import (
    WEEK_PATTERN,
    BureauQ,
    Context,
    Export,
    PageQ,
    PageSizeQ,
    linked,
    paged,
    register_report,
    report_router,
    viewer,
)
from reporting.queries import periods

TAGS: list[str | Enum] = ["一周一通报 weekly bulletin"]

WeekP = Annotated[str, Path(pattern=WEEK_PATTERN, description="ISO 周 week, e.g. 2026-W12")]
BulletinAsOfQ = Annotated[
    date | None,
    Query(
        description="超期、临期的判断日（默认：今天与周日中较早者）the day overdue and due "
        "soon are judged on; default: today or the week's Sunday, whichever is earlier"
    ),
]


def router(ctx: Context) -> APIRouter:
    api = report_router()
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)

    async def bulletin(
        principal: Principal,
        week_text: str,
        bureau: str | None,
        as_of: date | None,
        page: queries.Page | None = None,
    ) -> queries.WeeklyBulletin:
        """The bulletin with ``page`` of each list; None (the exports): every row."""
        code = ctx.scope_of(principal, bureau)
        week = periods.week(week_text)
        async with ctx.snapshot() as db:
            return await queries.weekly_bulletin(
                db,
                ctx.config,
                ctx.calendar,
                viewer(principal),
                code,
                week,
                as_of or min(ctx.today(), week.end),
                page,
            )

    async def bulletin_export(
        principal: Reader, week: WeekP, bureau: BureauQ = None, as_of: BulletinAsOfQ = None
    ) -> exports.Report:
        return exports.bulletin_report(
            await bulletin(principal, week, bureau, as_of), today=ctx.today()
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

    register_report(
        api,
        ctx,
        "/weekly/{week}",
        name="weekly",
        tags=TAGS,
        build=bulletin_export,
        xlsx=Export(
            "导出一周一通报 (XLSX) Export the weekly bulletin as Excel",
            "一周一通报 Excel 工作簿 the bulletin as an Excel workbook",
        ),
        csv=Export(
            "导出一周一通报 (CSV) Export the weekly bulletin as CSV",
            "一周一通报 CSV（UTF-8 带 BOM）the bulletin as CSV",
        ),
        json=get_weekly,
        json_route={
            "response_model": queries.WeeklyBulletin,
            "summary": (
                "一周一通报 Weekly bulletin: new, replied, overdue, due soon, missing progress"
            ),
        },
    )

    @api.get(
        "/weekly/{week}/{list_name}",
        response_model=queries.CaseList,
        tags=TAGS,
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
        code = ctx.scope_of(principal, bureau)
        period = periods.week(week)
        async with ctx.snapshot() as db:
            cases = await queries.bulletin_list(
                db,
                ctx.config,
                ctx.calendar,
                viewer(principal),
                code,
                period,
                as_of or min(ctx.today(), period.end),
                list_name,
                paged(page, page_size),
            )
        return linked(request, cases)

    return api
