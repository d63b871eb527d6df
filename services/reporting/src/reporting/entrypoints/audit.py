"""The audit replay API (审计回放): a case's timeline, its state as of a moment, who read it.

Auditors (纪检, 督察), administrators and the city bureau's petition office may read, each within
the one scope rule (``petitions.scope``): the city bureau's see every case, a sub-bureau's its
own; a token whose bureau is not configured gets 403; a case that accuses the reader (Art. 30)
or lies outside their scope is answered 404, exactly like a case that does not exist. Every
timeline or state read, an accusation's included, is recorded in the event store (who, role,
bureau, why) before it is answered.
"""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the role dependency).

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from petitions.bureaus import BureauConfig
from petitions.eventstore import EventStore
from petitions.identity import Authenticator, ForbiddenError, Principal, Role
from petitions.scope import ensure_acts_for, reach
from pydantic import BaseModel

from reporting.audit import Audit, Reader, Reads, StateAsOf, Timeline, UnknownCaseError

AUDIT_ROLES = (Role.AUDITOR, Role.ADMIN, Role.PETITION_OFFICE)


class ErrorOut(BaseModel):
    error: str
    message: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "缺少或无效的令牌 missing or bad bearer token"},
    403: {
        "model": ErrorOut,
        "description": "仅审计、管理员或市局信访科可查阅；令牌单位未配置 only auditors, "
        "administrators or the city bureau's petition office may read; or the token's bureau "
        "is not configured",
    },
    404: {
        "model": ErrorOut,
        "description": "案号不存在或不在您的范围内 no case has this number within your scope",
    },
}

CaseNumber = Annotated[
    str,
    Path(min_length=1, max_length=64, description="案号 the case number, e.g. 3301-2026-000123"),
]
AsOf = Annotated[
    datetime | None,
    Query(
        description="截至时刻 the moment to replay to, e.g. 2026-03-01T09:00 (without an offset: "
        "Asia/Shanghai); omitted: now"
    ),
]
By = Annotated[
    Literal["recorded", "occurred"],
    Query(
        description="as_of 比较记录时间(recorded, 默认)或发生时间(occurred) compare as_of with the "
        "recorded time (default) or the occurred time",
    ),
]
Purpose = Annotated[
    str, Query(max_length=500, description="查阅目的 why you read it (recorded with the read)")
]


def _not_found(exc: UnknownCaseError) -> JSONResponse:
    return JSONResponse(status_code=404, content={"error": "case_not_found", "message": str(exc)})


def router(
    store: Callable[[], EventStore],
    use_case: Callable[[], Audit],
    auth: Authenticator,
    *,
    config: BureauConfig,
) -> APIRouter:
    """The audit routes; ``config`` places readers for the scope rule."""
    api = APIRouter(prefix="/api/v1/audit", tags=["审计回放 audit replay"])
    admitted = auth.require(*AUDIT_ROLES)

    async def auditor(principal: Annotated[Principal, Depends(admitted)]) -> Principal:
        reach(principal, config)  # 403 before anything is read for a token it cannot place
        if principal.role is Role.PETITION_OFFICE and principal.bureau != config.city.code:
            raise ForbiddenError(
                "audit_city_only",
                "只有市局信访科可以查阅任意案件的审计记录，请由市局信访科或纪检督察人员查阅 / "
                "only the city bureau's petition office may read any case's audit record: ask "
                "it, or an auditor",
            )
        return principal

    def reader(principal: Principal, purpose: str, request: Request) -> Reader:
        correlation = getattr(request.state, "correlation_id", None)
        return Reader(
            name=principal.user,
            role=str(principal.role),
            purpose=purpose,
            via="api",
            correlation_id=None if correlation is None else _uuid(correlation),
            bureau=principal.bureau,
            scope=reach(principal, config),
        )

    @api.get(
        "/cases/{case_number}/timeline",
        response_model=Timeline,
        summary="案件时间线 A case's whole timeline, its state then and the chain verification",
        description="每次查阅都会被记录 every read is itself recorded (GET .../reads lists them)",
        responses=_ERRORS,
    )
    async def timeline(
        case_number: CaseNumber,
        request: Request,
        principal: Annotated[Principal, Depends(auditor)],
        as_of: AsOf = None,
        by: By = "recorded",
        verify: Annotated[
            bool, Query(description="校验哈希链 recompute the case's hash chain")
        ] = False,
        purpose: Purpose = "",
    ) -> Any:
        try:
            return await use_case().timeline(
                case_number,
                reader(principal, purpose, request),
                as_of=as_of,
                by=by,
                verify=verify,
            )
        except UnknownCaseError as exc:
            return _not_found(exc)

    @api.get(
        "/cases/{case_number}/state",
        response_model=StateAsOf,
        summary="某时刻的案件状态 A case's workflow state and key facts as of a moment",
        description="每次查阅都会被记录 every read is itself recorded",
        responses=_ERRORS,
    )
    async def state(
        case_number: CaseNumber,
        request: Request,
        principal: Annotated[Principal, Depends(auditor)],
        as_of: AsOf = None,
        by: By = "recorded",
        purpose: Purpose = "",
    ) -> Any:
        try:
            return await use_case().state_as_of(
                case_number,
                reader(principal, purpose, request),
                as_of=as_of,
                by=by,
            )
        except UnknownCaseError as exc:
            return _not_found(exc)

    @api.get(
        "/cases/{case_number}/reads",
        response_model=Reads,
        summary="查阅记录 Who read this case's timeline, when and why",
        responses=_ERRORS,
    )
    async def reads(
        case_number: CaseNumber, principal: Annotated[Principal, Depends(auditor)]
    ) -> Any:
        try:
            return await use_case().reads(case_number, reach(principal, config))
        except UnknownCaseError as exc:
            return _not_found(exc)

    @api.get(
        "/exports",
        response_model=Exports,
        summary="台帐与报表导出记录 Who read the ledger or exported a report, in a month",
        description="按读者所在单位和月份（上海时间）列出，附哈希链校验 listed per reader's "
        "bureau and month (Asia/Shanghai), with the check of the record's hash chain",
        responses=_ERRORS,
    )
    async def exports_taken(
        principal: Annotated[Principal, Depends(auditor)],
        month: Annotated[
            str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份 e.g. 2026-12")
        ],
        bureau: Annotated[
            str | None,
            Query(max_length=32, description="读者单位，默认本单位 the readers' bureau"),
        ] = None,
    ) -> Any:
        code = bureau or principal.bureau
        if not config.is_bureau(code):
            raise ForbiddenError("unknown_bureau", f"未知单位 unknown bureau {code:.32}")
        ensure_acts_for(principal, config, code)
        stream = f"exports-{code}-{month}"
        events = await store().read_stream(stream, reveal=False)
        verification = await store().verify(stream) if events else None
        return Exports(
            bureau=code,
            month=month,
            verified=None if verification is None else verification.ok,
            exports=[
                ExportRead(
                    at=e.recorded_at,
                    reader=e.data.reader,
                    role=e.data.role,
                    report=e.data.report,
                    format=e.data.format,
                    parameters=e.data.parameters,
                    rows=e.data.rows,
                )
                for e in events
            ],
        )

    return api


class ExportRead(BaseModel):
    at: datetime
    reader: str
    role: str
    report: str
    format: str
    parameters: dict[str, str]
    rows: int


class Exports(BaseModel):
    bureau: str
    month: str
    verified: bool | None  # None: nothing recorded that month
    exports: list[ExportRead]


def _uuid(text: object) -> UUID | None:
    try:
        return UUID(str(text))
    except ValueError:
        return None
