"""The ledger: one row per case, filtered and paged, as JSON, XLSX and CSV."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run time.

from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from petitions.identity import Principal
from petitions.limits import MAX_OFFSET

from reporting import exports, queries
from reporting.entrypoints.http.common import (
    AsOfQ,
    BureauQ,
    Context,
    Export,
    register_report,
    report_router,
    viewer,
)
from reporting.queries import periods

TAGS: list[str | Enum] = ["台帐 ledger"]


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
    received_to: Annotated[date | None, Query(description="首次信访日止 first received to")] = None,
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
    timely_accepted: Annotated[
        bool | None,
        Query(
            description="及时受理：true 计入及时受理率分子的案件，false 分母中其余的（按报告日）"
            "timely acceptance: true, the cases the rate counts in time; false, the rest of "
            "its denominator (judged by as_of)"
        ),
    ] = None,
    satisfied: Annotated[
        bool | None,
        Query(description="满意（按报告日最新评价）satisfied or basically, latest rating by as_of"),
    ] = None,
    first_petition_resolved: Annotated[
        bool | None,
        Query(
            description="初信初访化解：已答复且答复后无重复访、无复查申请（按报告日）"
            "replied, with no repeat and no review request after the reply (by as_of)"
        ),
    ] = None,
) -> queries.LedgerFilter:
    """A dependency: the ledger's filters, from the query."""
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
        timely_accepted=timely_accepted,
        satisfied=satisfied,
        first_petition_resolved=first_petition_resolved,
    )


Filters = Annotated[queries.LedgerFilter, Depends(ledger_filter)]


def router(ctx: Context) -> APIRouter:
    api = report_router()
    Reader = Annotated[Principal, Depends(ctx.reader)]  # noqa: N806  (a type alias, local by need)

    async def ledger_page(
        principal: Principal,
        bureau: str | None,
        filters: queries.LedgerFilter,
        as_of: date | None,
        limit: int,
        offset: int,
    ) -> queries.LedgerPage:
        code = ctx.scope_of(principal, bureau)
        async with ctx.snapshot() as db:
            return await queries.ledger(
                db,
                ctx.config,
                viewer(principal),
                code,
                filters,
                as_of=as_of or ctx.today(),
                limit=limit,
                offset=offset,
            )

    async def ledger_export(
        principal: Reader, filters: Filters, bureau: BureauQ = None, as_of: AsOfQ = None
    ) -> exports.Report:
        page = await ledger_page(principal, bureau, filters, as_of, queries.MAX_EXPORT, 0)
        counted = f"{page.total:,}" + ("+" if page.total_capped else "")
        notes = [f"统计截止日 Report date: {page.as_of}", f"共 {counted} 件 {counted} cases"]
        if page.total > len(page.rows):
            notes.append(
                f"仅导出前 {len(page.rows)} 件，请缩小筛选范围 / only the first {len(page.rows)} "
                "rows are exported: narrow the filters"
            )
        return exports.ledger_report(page.bureau, page.rows, notes, today=ctx.today())

    async def get_ledger(
        principal: Reader,
        filters: Filters,
        bureau: BureauQ = None,
        as_of: AsOfQ = None,
        limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Any:
        page = await ledger_page(principal, bureau, filters, as_of, limit, offset)
        asked = {"filters": filters, "bureau": bureau, "as_of": as_of, "offset": offset}
        await ctx.record_export(principal, "ledger", "json", asked, len(page.rows))
        return page

    register_report(
        api,
        ctx,
        "/ledger",
        name="ledger",
        tags=TAGS,
        build=ledger_export,
        xlsx=Export(
            "导出台帐 (XLSX) Export the ledger as Excel",
            "台帐 Excel 工作簿 the ledger as an Excel workbook",
        ),
        csv=Export(
            "导出台帐 (CSV) Export the ledger as CSV",
            "台帐 CSV（UTF-8 带 BOM）the ledger as CSV, UTF-8 with BOM",
        ),
        json=get_ledger,
        json_route={
            "response_model": queries.LedgerPage,
            "summary": "台帐 The ledger: one row per case, newest first, filtered and paged",
            "description": (
                "A bureau's ledger holds the cases attributed to it, received by it or assigned "
                "to it; the city bureau's holds all. Accusations are never listed for the unit or "
                "officer they accuse. Personal data appears masked, as stored."
            ),
        },
    )
    return api
