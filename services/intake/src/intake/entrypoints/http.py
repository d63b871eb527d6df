"""Intake's HTTP API: register submissions; let a petitioner look up their case's status."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from petitions.http import install_validation_errors, invalid_response
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import CODE_MAX, Code, ShortText, Text
from pydantic import BaseModel, ConfigDict, Field

from intake.application.reception import Reception
from intake.application.register import InvalidCommand, Registrar
from intake.domain.commands import RegisterSubmission
from intake.domain.registration import Refused

REGISTERING_ROLES = (Role.REGISTRAR, Role.PETITION_OFFICE, Role.LEADER, Role.IMPORTER, Role.ADMIN)


class RegisteredOut(BaseModel):
    case_id: uuid.UUID
    case_number: str
    submission_id: uuid.UUID
    is_repeat: bool
    reason: str | None
    query_code: str | None
    similar_cases: list[str]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bureau: Code = Field(min_length=1, description="单位代码 bureau code")
    first: date = Field(description="起始日 first day")
    last: date = Field(description="结束日 last day")
    place: ShortText = Field(min_length=1, description="接访地点 place")


class HeldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_by: ShortText = Field(min_length=1, description="实际接访领导 the leader who received")
    note: Text = Field(default="", description="备注 note")


class MissedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, description="缺席原因 why it was missed")


class InstructionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: uuid.UUID
    instruction: Text = Field(min_length=1, description="批示 instruction")
    needs_party_committee: bool = False


class StatusOut(BaseModel):
    case_number: str
    status: str
    submissions: int


def install_errors(app: FastAPI) -> None:
    install_validation_errors(app)

    @app.exception_handler(InvalidCommand)
    async def on_invalid_command(_: Request, exc: InvalidCommand) -> JSONResponse:
        return invalid_response([{"field": f, "message": m} for f, m in exc.problems])

    @app.exception_handler(Refused)
    async def on_refused(_: Request, exc: Refused) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status, content={"error": exc.code, "message": exc.message}
        )


def router(
    registrar: Callable[[], Registrar], reception: Callable[[], Reception], auth: Authenticator
) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    @api.post(
        "/submissions",
        status_code=201,
        response_model=RegisteredOut,
        tags=["登记 registration"],
        summary="登记信访 Register a submission (new case, or repeat on an open one)",
        responses={
            401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
            403: {"description": "角色或单位范围不允许 role or bureau scope does not allow it"},
            409: {"description": "已复核终结等 refused, e.g. terminated after re-review"},
            422: {"description": "字段有误 invalid fields, each named"},
        },
    )
    async def register(
        command: RegisterSubmission,
        request: Request,
        principal: Annotated[Principal, Depends(auth.require(*REGISTERING_ROLES))],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                max_length=200,
                description="重试同一请求时保持不变 keep it when retrying the same request",
            ),
        ] = None,
    ) -> Any:
        result = await registrar().register(
            command,
            principal,
            idempotency_key=idempotency_key,
            correlation_id=uuid.UUID(request.state.correlation_id),
        )
        return result.as_json()

    @api.get(
        "/public/status",
        response_model=StatusOut,
        tags=["公开查询 public"],
        summary="凭查询码查询办理状态 A petitioner looks up their case by its query code",
        responses={404: {"description": "查询码无效 no case has this query code"}},
    )
    async def status(code: Annotated[str, Query(min_length=6, max_length=20)]) -> Any:
        found = await registrar().status_by_query_code(code)
        if found is None:
            return JSONResponse(
                status_code=404,
                content={
                    "error": "not_found",
                    "message": "查询码无效 / no case has this query code",
                },
            )
        return found

    reception_roles = auth.require(Role.PETITION_OFFICE, Role.LEADER, Role.ADMIN)

    @api.post(
        "/reception/schedule",
        status_code=201,
        tags=["领导接访 reception days"],
        summary="排定接访日 Schedule reception sessions for a period from the duty roster",
    )
    async def schedule(
        body: ScheduleIn, principal: Annotated[Principal, Depends(reception_roles)]
    ) -> Any:
        return await reception().schedule(principal, body.bureau, body.first, body.last, body.place)

    @api.get(
        "/reception/sessions",
        tags=["领导接访 reception days"],
        summary="接访场次 Sessions of a bureau in a period, held or missed",
    )
    async def sessions(
        principal: Annotated[Principal, Depends(auth)],
        bureau: Annotated[str, Query(min_length=1, max_length=CODE_MAX)],
        first: date,
        last: date,
    ) -> Any:
        return await reception().list(principal, bureau, first, last)

    @api.post(
        "/reception/sessions/{session_id}/held",
        status_code=204,
        tags=["领导接访 reception days"],
        summary="记为已接访 Record the session as held",
    )
    async def held(
        session_id: uuid.UUID,
        body: HeldIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> None:
        await reception().held(principal, session_id, body.held_by, body.note)

    @api.post(
        "/reception/sessions/{session_id}/missed",
        status_code=204,
        tags=["领导接访 reception days"],
        summary="记为缺席并说明原因 Record the session as missed, with the reason",
    )
    async def missed(
        session_id: uuid.UUID,
        body: MissedIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> None:
        await reception().missed(principal, session_id, body.reason)

    @api.post(
        "/reception/sessions/{session_id}/instructions",
        status_code=204,
        tags=["领导接访 reception days"],
        summary="记录领导批示 Record the leader's instruction on a visit",
    )
    async def instruct(
        session_id: uuid.UUID,
        body: InstructionIn,
        principal: Annotated[Principal, Depends(reception_roles)],
    ) -> None:
        await reception().instruct(
            principal, session_id, body.case_id, body.instruction, body.needs_party_committee
        )

    return api
