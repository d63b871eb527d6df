"""Intake's HTTP API, reference data: the configuration and the holiday arrangement, with
ETags."""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator).

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from petitions.identity import Authenticator, Principal

from intake.application.reference import Document, Reference, ReferenceKind


def _conditional(document: Document, if_none_match: str | None) -> Response:
    # Revalidate every time (no-cache): the tag is cheap to compare and the configuration may
    # change with a restart.
    headers = {"ETag": document.etag, "Cache-Control": "private, no-cache"}
    if document.matches(if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)


def router(auth: Authenticator, reference: Callable[[], Reference]) -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    @api.get(
        "/reference/holidays",
        tags=["基础数据 reference"],
        summary="节假日安排 The State Council's holiday arrangement for a year (调休上班 included)",
        responses={
            304: {"description": "未变化 unchanged since the ETag you sent"},
            404: {"description": "该年份未配置 no arrangement configured for that year"},
        },
    )
    async def holidays(
        principal: Annotated[Principal, Depends(auth)],
        year: Annotated[int, Query(ge=1999, le=2200, description="年份 year, e.g. 2026")],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
    ) -> Response:
        del principal
        return _conditional(reference().holidays(year), if_none_match)

    @api.get(
        "/reference/{kind}",
        tags=["基础数据 reference"],
        summary="基础数据 Reference data from the configuration, in Chinese and English",
        description=(
            "kind: bureaus 单位（市局、分县局、部门）, categories 信访分类（含子类）, "
            "channels 渠道, outcomes 处理意见, roles 角色, leaders 局领导及接访日, "
            "purposes 查阅目的. Each "
            "answer carries an ETag; send it back in If-None-Match to get 304 when unchanged."
        ),
        responses={304: {"description": "未变化 unchanged since the ETag you sent"}},
    )
    async def reference_data(
        kind: ReferenceKind,
        principal: Annotated[Principal, Depends(auth)],
        if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
    ) -> Response:
        del principal
        return _conditional(reference().document(kind), if_none_match)

    return api
