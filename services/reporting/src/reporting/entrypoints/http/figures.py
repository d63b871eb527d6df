"""Figures and the zero-petition sub-bureaus of any period."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from petitions.identity import Principal

from reporting import queries
from reporting.entrypoints.http.common import REPORT_CONNECTIONS, Context, PeriodP, report_router


def router(ctx: Context) -> APIRouter:
    api = report_router()
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)
    Scope = Annotated[str, Depends(ctx.scope())]  # noqa: N806
    ReportDate = Annotated[date, Depends(ctx.report_date())]  # noqa: N806

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
        principal: Reader, code: Scope, period: PeriodP, as_of: ReportDate
    ) -> Any:
        async with ctx.snapshots(REPORT_CONNECTIONS) as (db, *also):
            return await queries.figures(db, ctx.config, code, period, as_of, also=also)

    @api.get(
        "/zero-petition",
        response_model=queries.ZeroPetition,
        tags=["统计 figures"],
        summary="零信访分县局 Sub-bureaus with no submission to the city bureau in the period",
    )
    async def get_zero_petition(principal: Reader, code: Scope, period: PeriodP) -> Any:
        async with ctx.snapshot() as db:
            return await queries.zero_petition_sub_bureaus(db, ctx.config, code, period)

    return api
