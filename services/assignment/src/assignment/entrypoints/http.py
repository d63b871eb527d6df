"""Assignment's HTTP API: a case's workflow state and the commands that move it on.

One POST per command (``/api/v1/cases/{case_id}/accept``, ``.../reply``, ...), each with its own
documented body. A refused command answers 409 (the state and the commands it allows, or the
current version for a stale one), 403 (the role it needs) or 422 (what is wrong); nothing is
written then.
"""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator, the command class).

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from petitions.http import install_refusals, install_validation_errors
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import CODE_MAX, MAX_OFFSET

from assignment.application.workflow import ImportBatch, Workflow
from assignment.domain.case import (
    Invalid,
)
from assignment.domain.commands import COMMANDS, Command
from assignment.entrypoints.views import (
    CaseOut,
    DoneOut,
    ErrorOut,
    ImportBatchIn,
    ImportBatchOut,
    MyCaseOut,
    SweepIn,
    SweepOut,
    case_out,
    names,
)

READ_ROLES = tuple(Role)
_CASE_REF = "案号（如 330102-2026-000009）或案件ID the case number or the case id"


def install_errors(app: FastAPI) -> None:
    install_validation_errors(app)
    install_refusals(app)  # WorkflowError and the others: {"error", "message", **details}


_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "缺少或无效的令牌 missing or bad bearer token"},
    403: {"model": ErrorOut, "description": "角色不允许 the role may not give this command"},
    404: {"model": ErrorOut, "description": "案件不存在或不在您的范围内 no such case for you"},
    409: {
        "model": ErrorOut,
        "description": "当前状态不允许（含 state 与 allowed），或版本已过期（含 current_version）"
        " not allowed in this state, or a stale expected_version",
    },
    422: {"model": ErrorOut, "description": "内容有误 invalid content, each field named"},
}


def router(workflow: Callable[[], Workflow], auth: Authenticator) -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    reader = auth.require(*READ_ROLES)

    @api.get(
        "/cases",
        response_model=list[dict[str, Any]],
        tags=["案件 cases"],
        summary="案件清单 Cases in your scope, by state, unit, leader ownership or overdue",
    )
    async def list_cases(
        principal: Annotated[Principal, Depends(reader)],
        state: Annotated[str | None, Query(max_length=40, description="流程状态 state")] = None,
        unit: Annotated[
            str | None, Query(max_length=CODE_MAX, description="责任单位 responsible unit")
        ] = None,
        leader_owned: Annotated[
            bool | None, Query(description="只看领导包案 only leader-owned (包案) cases")
        ] = None,
        overdue_on: Annotated[
            date | None, Query(description="期限早于该日 running deadline before this day")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Any:
        flow = workflow()
        rows = await flow.list_cases(
            principal,
            state=state,
            unit=unit,
            leader_owned=leader_owned,
            overdue_on=overdue_on,
            limit=limit,
            offset=offset,
        )
        return [row | names(flow.config, row) for row in rows]

    @api.get(
        "/my/cases",
        response_model=list[MyCaseOut],
        tags=["案件 cases"],
        summary="我的待办 What you must act on: overdue first, then by due date",
        description=(
            "承办人：分配给本人的在办案件；分县局局长：本单位承办的在办案件；局领导：本人包案的"
            "案件；信访部门：可见范围内的全部在办案件。被检举控告人永远看不到相关案件。 Handlers: "
            "their own open cases (the token's subject is the officer); unit heads: their unit's; "
            "leaders: the cases they own; the petition office: every open case in reach. The "
            "accused never see an accusation (Art. 30)."
        ),
    )
    async def my_cases(
        principal: Annotated[Principal, Depends(reader)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Any:
        flow = workflow()
        rows = await flow.my_cases(principal, limit=limit, offset=offset)
        return [
            MyCaseOut(
                **row,
                **names(flow.config, row),
                urgency_labels=[u.label for u in row["urgency"]],
                provisional=bool(row["provisional_deadlines"]),
            )
            for row in rows
        ]

    @api.get(
        "/cases/leader-owned",
        response_model=list[dict[str, Any]],
        tags=["案件 cases"],
        summary="领导包案清单 Cases a leader owns (包案), listed separately",
    )
    async def leader_owned(principal: Annotated[Principal, Depends(reader)]) -> Any:
        flow = workflow()
        rows = await flow.list_cases(principal, leader_owned=True, limit=1000)
        return [row | names(flow.config, row) for row in rows]

    @api.get(
        "/cases/{case_id}",
        response_model=CaseOut,
        responses=_REFUSALS,
        tags=["案件 cases"],
        summary="案件办理状态 A case's workflow state, deadlines and the commands you may give",
    )
    async def get_case(
        case_id: Annotated[str, Path(max_length=64, description=_CASE_REF)],
        principal: Annotated[Principal, Depends(reader)],
    ) -> Any:
        flow = workflow()
        case = await flow.visible(await flow.resolve(case_id), principal)
        return case_out(case, principal, flow.today(), flow.config)

    for command in COMMANDS:
        api.add_api_route(
            f"/cases/{{case_id}}/{command.name}",
            _endpoint(command, workflow, reader),
            methods=["POST"],
            response_model=DoneOut,
            responses=_REFUSALS,
            tags=["办理 workflow"],
            summary=command.title,
            description=(command.__doc__ or "") + f"\n\n命令 command: `{command.name}`",
            name=command.name,
        )

    @api.post(
        "/sweep",
        response_model=SweepOut,
        tags=["期限 deadlines"],
        summary="立即检查期限 Run the deadline sweep now (reminders, supervision)",
    )
    async def sweep(
        body: SweepIn,
        principal: Annotated[Principal, Depends(auth.require(Role.ADMIN, Role.IMPORTER))],
    ) -> Any:
        del principal
        flow = workflow()
        if body.today is not None and body.today > flow.today():
            # A notice raised for a day that has not come is final (fixed ids): never allow it.
            raise Invalid(
                "sweep_in_future",
                f"不能按将来的日期 {body.today} 检查期限（今天是 {flow.today()}）/ cannot sweep "
                f"as of a future day {body.today} (today is {flow.today()})",
            )
        result = await flow.sweep(body.today)
        return SweepOut(cases=result.cases, events=result.events)

    importer = auth.require(Role.IMPORTER, Role.ADMIN)

    def batch_out(batch: ImportBatch) -> ImportBatchOut:
        return ImportBatchOut(**vars(batch), open=batch.closed_at is None)

    @api.post(
        "/imports",
        response_model=ImportBatchOut,
        status_code=201,
        tags=["导入 import"],
        summary="开始导入批次 Open an import batch (the sweep leaves imported cases alone)",
        description=(
            "补录历史案件前先开批次：批次开着时，期限检查不对导入中的案件发出提醒或督办（它们后续的"
            "办理行为可能尚未导入）；全部导入后关闭批次，下一次检查按完整历史判断。 Open a batch "
            "before importing history case by case: while it is open, the deadline sweep raises "
            "no reminder or supervision for cases being imported (their later acts may not be "
            "in yet); close it when done, and the next sweep judges them on their whole history."
        ),
    )
    async def open_import(
        body: ImportBatchIn, principal: Annotated[Principal, Depends(importer)]
    ) -> Any:
        return batch_out(await workflow().open_import(principal, body.label))

    @api.post(
        "/imports/{batch_id}/close",
        response_model=ImportBatchOut,
        responses={404: {"model": ErrorOut, "description": "批次不存在 no such batch"}},
        tags=["导入 import"],
        summary="关闭导入批次 Close an import batch",
    )
    async def close_import(
        batch_id: uuid.UUID, principal: Annotated[Principal, Depends(importer)]
    ) -> Any:
        return batch_out(await workflow().close_import(batch_id, principal))

    @api.get(
        "/imports",
        response_model=list[ImportBatchOut],
        tags=["导入 import"],
        summary="导入批次 Import batches, newest first",
    )
    async def list_imports(
        principal: Annotated[Principal, Depends(importer)],
        open_only: Annotated[bool, Query(description="只看未关闭的 open ones only")] = False,
    ) -> Any:
        del principal
        return [batch_out(b) for b in await workflow().import_batches(open_only=open_only)]

    return api


def _endpoint(
    command: type[Command],
    workflow: Callable[[], Workflow],
    reader: Callable[..., Awaitable[Principal]],
) -> Callable[..., Awaitable[Any]]:
    # FastAPI reads the body model from the annotation, so each command's endpoint is annotated
    # with that command's class: a variable there is what mypy cannot check (hence the ignore).
    async def endpoint(
        case_id: Annotated[str, Path(max_length=64, description=_CASE_REF)],
        body: command,  # type: ignore[valid-type]
        request: Request,
        principal: Annotated[Principal, Depends(reader)],
    ) -> Any:
        flow = workflow()
        done = await flow.execute(
            await flow.resolve(case_id),
            body,
            principal,
            correlation_id=uuid.UUID(request.state.correlation_id),
        )
        return DoneOut(
            case=case_out(done.case, principal, flow.today(), flow.config),
            events=list(done.events),
        )

    return endpoint
