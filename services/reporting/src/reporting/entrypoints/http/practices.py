"""The seed's practices measured, from the start date a bureau configures: JSON, XLSX, CSV."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from datetime import date
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from petitions.identity import Principal

from reporting import exports, queries
from reporting.entrypoints.http.common import (
    AsOfQ,
    BureauQ,
    Context,
    Export,
    ReportError,
    register_report,
    report_router,
)
from reporting.exports.practices import practices_report
from reporting.queries import periods
from reporting.roster import published as published_roster_of

TAGS: list[str | Enum] = ["实践成效 practices measured"]

SinceQ = Annotated[
    date | None,
    Query(
        description="实践起始日 S（默认：配置 PETITIONS_PRACTICES_SINCE 中本单位的，无则市局的）"
        "the day the practices began; default: the bureau's configured date, else the city's"
    ),
]


def router(ctx: Context) -> APIRouter:
    api = report_router()
    config = ctx.config
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)

    async def effect(
        principal: Principal, bureau: str | None, since: date | None, as_of: date | None
    ) -> queries.PracticesEffect:
        code = ctx.scope_of(principal, bureau)
        start = since or ctx.practices_since.get(code) or ctx.practices_since.get(config.city.code)
        if start is None:
            raise ReportError(
                422,
                "practices_not_configured",
                "未配置实践起始日：请在 PETITIONS_PRACTICES_SINCE 中配置（如 "
                '{"3301": "2025-01-01"}）或用 since=2025-01-01 指定 / no start date is '
                "configured for this bureau: set PETITIONS_PRACTICES_SINCE (e.g. "
                '{"3301": "2025-01-01"}) or pass since=2025-01-01',
            )
        report_date = as_of or ctx.today()
        if start > report_date:
            raise ReportError(
                422,
                "invalid_period",
                f"起始日 {start} 晚于报告日 {report_date} / the start date {start} is after the "
                f"report date {report_date}",
            )
        published: dict[str, list[str]] = {}
        if ctx.store is not None:
            month = periods.month_of(start.year, start.month)
            last = periods.month_of(report_date.year, report_date.month)
            while month.start < last.start:
                found = await published_roster_of(ctx.store(), config, month.label)
                if found is not None:
                    published[month.label] = [e.sub_bureau.code for e in found.roster]
                month = periods.shift_months(month, 1)
        async with ctx.snapshot() as db:
            return await queries.practices_effect(db, config, code, start, report_date, published)

    async def practices_export(
        principal: Reader, bureau: BureauQ = None, since: SinceQ = None, as_of: AsOfQ = None
    ) -> exports.Report:
        return practices_report(await effect(principal, bureau, since, as_of), today=ctx.today())

    async def get_practices(
        principal: Reader, bureau: BureauQ = None, since: SinceQ = None, as_of: AsOfQ = None
    ) -> Any:
        return await effect(principal, bureau, since, as_of)

    register_report(
        api,
        ctx,
        "/practices",
        name="practices",
        tags=TAGS,
        build=practices_export,
        xlsx=Export(
            "导出实践成效 (XLSX) Export the practices measured as Excel",
            "实践成效 Excel 工作簿（含图表）the practices measured, with charts",
        ),
        csv=Export(
            "导出实践成效 (CSV) Export the practices measured as CSV",
            "实践成效 CSV（UTF-8 带 BOM）the practices measured as CSV",
        ),
        json=get_practices,
        json_route={
            "response_model": queries.PracticesEffect,
            "summary": "实践成效 The seed's practices measured: before and after the start date",
            "description": (
                "Accompanied sub-bureaus' monthly petitions to the city bureau before and after "
                "they first accompanied; the chiefs' monthly reception volume and the "
                "first-petition resolution rate before and after the start date. Definitions: "
                "reporting.queries.practices (README, reports)."
            ),
        },
    )
    return api
