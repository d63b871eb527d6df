"""Leaders' reception statistics of any period."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from petitions.identity import Principal

from reporting import queries
from reporting.entrypoints.http.common import Context, PeriodP, report_router, viewer


def router(ctx: Context) -> APIRouter:
    api = report_router()
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)
    Scope = Annotated[str, Depends(ctx.scope())]  # noqa: N806

    @api.get(
        "/reception",
        response_model=queries.ReceptionStats,
        tags=["领导接访 reception days"],
        summary="领导接访统计 Reception sessions held and missed, per leader, visits, instructions "
        "and those overdue",
    )
    async def get_reception(principal: Reader, code: Scope, period: PeriodP) -> Any:
        # The duty check and overdue instructions are judged on the period's last day, or today
        # if that is earlier.
        as_of = min(ctx.today(), period.end)
        async with ctx.snapshot() as db:
            return await queries.reception_statistics(
                db,
                ctx.config,
                code,
                period,
                calendar=ctx.calendar,
                as_of=as_of,
                viewer=viewer(principal),
            )

    return api
