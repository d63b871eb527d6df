"""Intake's HTTP API, registration: register submissions; let a petitioner look up their
case's status by its query code."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from petitions.identity import Authenticator, Principal, Role
from pydantic import BaseModel, Field

from intake.application.dossier import Dossier
from intake.application.register import Registrar
from intake.domain.commands import RegisterSubmission

REGISTERING_ROLES = (Role.REGISTRAR, Role.PETITION_OFFICE, Role.LEADER, Role.IMPORTER, Role.ADMIN)


class RegisteredOut(BaseModel):
    case_id: uuid.UUID
    case_number: str
    submission_id: uuid.UUID
    is_repeat: bool
    reason: str | None
    query_code: str | None
    similar_cases: list[str]


class StatusOut(BaseModel):
    """What a petitioner may know: phases and dates, no names, nothing internal."""

    case_number: str
    status: str = Field(description="阶段 phase: received, handling, replied, under_review, ...")
    status_zh: str
    status_en: str
    submissions: int = Field(description="本事项的信访件次 submissions on this matter")
    received_on: date | None
    acceptance_due: date | None = Field(description="受理告知期限 (while awaiting it)")
    accepted: bool | None = Field(description="是否受理 accepted; null while undecided")
    accepted_on: date | None
    decided_on: date | None = Field(description="不予受理、转送等的决定日 when not accepted")
    handling_due: date | None = Field(description="办理期限 (extension included)")
    extended: bool
    extended_days: int
    replied_on: date | None
    review_request_until: date | None = Field(description="可申请复查至 review may be asked until")
    review_requested_on: date | None
    review_due: date | None
    review_decided_on: date | None
    re_review_request_until: date | None
    re_review_requested_on: date | None
    re_review_due: date | None
    re_review_decided_on: date | None
    terminated: bool


def router(
    registrar: Callable[[], Registrar], auth: Authenticator, dossier: Callable[[], Dossier]
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
        found = await dossier().status_by_query_code(code)
        if found is None:
            return JSONResponse(
                status_code=404,
                content={
                    "error": "not_found",
                    "message": "查询码无效 / no case has this query code",
                },
            )
        return found

    return api
