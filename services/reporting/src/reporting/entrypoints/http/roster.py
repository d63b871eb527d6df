"""The accompany roster: as it would be now beside the one published, and its publication."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from petitions.identity import Principal, Role

from reporting import queries
from reporting.entrypoints.http.common import Context, MonthQ, ReportError, report_router
from reporting.queries import periods
from reporting.roster import RosterNotDue
from reporting.roster import publish as publish_roster_for


def router(ctx: Context) -> APIRouter:
    api = report_router()
    config = ctx.config
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)
    Publisher = Annotated[  # noqa: N806
        Principal, Depends(ctx.auth.require(Role.ADMIN, Role.PETITION_OFFICE))
    ]

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
        async with ctx.snapshot() as db:
            roster = await queries.accompany_roster(db, config, counted)
        roster = await ctx.with_published(roster, principal.bureau)
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
        if ctx.store is None:
            raise ReportError(503, "no_store", "事件库不可用 / the event store is not available")
        if principal.role is Role.PETITION_OFFICE and principal.bureau != config.city.code:
            raise ReportError(
                403,
                "city_only",
                "陪同接访名单由市局信访科发布 / the city bureau's petition office publishes the "
                "roster",
            )
        today = ctx.today()
        month = for_month or f"{today.year:04d}-{today.month:02d}"
        try:
            async with ctx.snapshot() as db:
                found, _ = await publish_roster_for(
                    ctx.store(), db, config, month, today, principal.user
                )
                live = await queries.accompany_roster(
                    db, config, periods.shift_months(periods.month(month), -1)
                )
        except RosterNotDue as exc:
            raise ReportError(409, "roster_not_due", str(exc)) from exc
        return live.model_copy(update={"published": found})

    return api
