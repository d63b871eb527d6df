"""The monthly analysis (一月一分析) as JSON, XLSX and CSV, its SVG charts and its case lists
page by page."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from petitions.identity import Principal

from reporting import exports, queries
from reporting.entrypoints.http.common import (
    MONTH_PATTERN,
    REPORT_CONNECTIONS,
    SVG,
    AsOfQ,
    BureauQ,
    Context,
    Export,
    PageQ,
    PageSizeQ,
    file_responses,
    linked,
    paged,
    register_report,
    report_router,
    viewer,
)
from reporting.queries import periods

TAGS: list[str | Enum] = ["一月一分析 monthly analysis"]

MonthP = Annotated[str, Path(pattern=MONTH_PATTERN, description="月份 month, e.g. 2026-03")]


def router(ctx: Context) -> APIRouter:
    api = report_router()
    config = ctx.config
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)

    async def analysis(
        principal: Principal,
        month_text: str,
        bureau: str | None,
        as_of: date | None,
        page: queries.Page | None = None,
    ) -> queries.MonthlyAnalysis:
        """The analysis with ``page`` of each list; None (the exports): every row."""
        code = ctx.scope_of(principal, bureau)
        month = periods.month(month_text)
        async with ctx.snapshots(REPORT_CONNECTIONS) as (db, *also):
            answer = await queries.monthly_analysis(
                db,
                config,
                viewer(principal),
                code,
                month,
                as_of or ctx.today(),
                page,
                also=also,
            )
        # The roster the month yields, and the one published for it at the next month's start
        # (binding: the computed one only says what it would be now).
        roster = await ctx.with_published(answer.roster, code)
        return answer.model_copy(update={"roster": roster})

    async def analysis_export(
        principal: Reader, month: MonthP, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> exports.Report:
        return exports.analysis_report(
            await analysis(principal, month, bureau, as_of), today=ctx.today()
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

    xlsx = Export(
        "导出一月一分析 (XLSX) Export the monthly analysis as Excel",
        "一月一分析 Excel 工作簿 the analysis as an Excel workbook",
    )
    csv = Export(
        "导出一月一分析 (CSV) Export the monthly analysis as CSV",
        "一月一分析 CSV（UTF-8 带 BOM）the analysis as CSV",
    )

    @api.get(
        "/monthly/{month}/charts/{chart}.svg",
        response_class=Response,
        responses=file_responses(SVG, "SVG 图表 an SVG chart"),
        tags=TAGS,
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
        code = ctx.scope_of(principal, bureau)
        period = periods.month(month)
        name = config.bureau_name(code)
        async with ctx.snapshot() as db:
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

    register_report(
        api,
        ctx,
        "/monthly/{month}",
        name="monthly",
        tags=TAGS,
        build=analysis_export,
        xlsx=xlsx,
        csv=csv,
        json=get_monthly,
        json_route={
            "response_model": queries.MonthlyAnalysis,
            "summary": "一月一分析 Monthly analysis: figures with changes, rankings, roster, lists",
            "description": (
                "Month-on-month and year-on-year changes compare with months judged as long "
                "after their end as this one (report date minus month end). Rate deltas are "
                "ratios."
            ),
        },
    )

    @api.get(
        "/monthly/{month}/{list_name}",
        response_model=queries.CaseList,
        tags=TAGS,
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
        code = ctx.scope_of(principal, bureau)
        period = periods.month(month)
        async with ctx.snapshot() as db:
            cases = await queries.analysis_list(
                db, config, viewer(principal), code, period, list_name, paged(page, page_size)
            )
        return linked(request, cases)

    return api
