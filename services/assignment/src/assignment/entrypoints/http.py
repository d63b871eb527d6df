"""Assignment's HTTP API: a case's workflow state and the commands that move it on.

One POST per command (``/api/v1/cases/{case_id}/accept``, ``.../reply``, ...), each with its own
documented body. A refused command answers 409 (the state and the commands it allows, or the
current version for a stale one), 403 (the role it needs) or 422 (what is wrong); nothing is
written then.
"""

# No `from __future__ import annotations`: FastAPI evaluates the endpoints' annotations at run
# time, and they name locals of `router` (the authenticator, the command class).

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from petitions.bureaus import BureauConfig, CategoryKind, split_note
from petitions.http import install_refusals, install_validation_errors
from petitions.identity import Authenticator, Principal, Role
from petitions.limits import CODE_MAX, MAX_OFFSET
from petitions.messages.assignment import DeadlineKind
from pydantic import BaseModel, ConfigDict, Field

from assignment.application.workflow import ImportBatch, Workflow
from assignment.domain.case import (
    STATE_LABELS,
    Case,
    Invalid,
    allowed_commands,
)
from assignment.domain.commands import COMMANDS, Command
from assignment.domain.my_work import Urgency

READ_ROLES = tuple(Role)
_CASE_REF = "案号（如 330102-2026-000009）或案件ID the case number or the case id"


class ProvisionalOut(BaseModel):
    deadline: str = Field(description="期限 which deadline (acceptance, handling, ...)")
    deadline_zh: str
    due: date | None
    reason_zh: str
    reason_en: str


class CaseOut(BaseModel):
    case_id: uuid.UUID
    case_number: str
    version: int = Field(description="案件版本：提交命令时作为 expected_version 回传")
    state: str
    state_label: str
    bureau: str
    bureau_name: str | None = Field(description="受理单位名称 receiving bureau's name")
    sub_bureau: str
    sub_bureau_name: str | None = Field(description="所涉分县局名称")
    category: str
    category_name: str | None = Field(description="信访分类名称 category's name")
    category_kind: str
    category_kind_name: str | None = Field(description="建议意见/检举控告/申诉求决")
    first_receiver: str
    unit: str | None
    unit_name: str | None = Field(description="承办单位名称 handling unit's name")
    officer: str | None
    leader_id: str | None
    leader_name: str | None = Field(description="包案领导 the owning leader's name")
    referral: bool
    congress: bool
    received_on: date | None
    acceptance_due: date | None
    objection_due: date | None
    accepted_on: date | None
    handling_due: date | None
    extended: bool
    replied_on: date | None
    outcome: str | None
    review_request_until: date | None = Field(
        description="申请复查截止日（自答复送达之日起30日）；未登记送达时为空 last day to ask for "
        "review, 30 days from the reply's delivery; null until it is delivered"
    )
    review_due: date | None
    re_review_request_until: date | None = Field(
        description="申请复核截止日（自复查意见送达之日起30日）last day to ask for re-review"
    )
    re_review_due: date | None
    awaiting_delivery: bool = Field(
        description="已出具的书面意见尚未登记送达：申请期限尚未起算 a written decision is issued "
        "but not yet recorded as delivered: the petitioner's window has not started"
    )
    awaiting_delivery_of: str | None = Field(
        description="待送达文书 reply / review_decision / re_review_decision"
    )
    reply_delivered_on: date | None
    review_decision_delivered_on: date | None
    re_review_decision_delivered_on: date | None
    progress_weeks: list[str]
    running_deadline: str | None
    running_deadline_name: str | None = Field(description="正在计时的期限 e.g. 办理答复")
    running_due: date | None
    provisional_deadlines: list[ProvisionalOut] = Field(
        default_factory=list,
        description="按暂定或未配置的节假日安排计算的期限，正式安排发布后可能变动 deadlines "
        "computed on a provisional or missing holiday year: they may move when the official "
        "arrangement is installed",
    )
    allowed_commands: list[str] = Field(description="您现在可执行的命令 commands you may give now")


class MyCaseOut(BaseModel):
    """One row of "my work" (我的待办)."""

    case_id: uuid.UUID
    case_number: str
    version: int
    state: str
    state_label: str | None
    bureau: str
    bureau_name: str | None
    sub_bureau: str
    sub_bureau_name: str | None
    category: str
    category_name: str | None
    category_kind: str
    category_kind_name: str | None
    unit: str | None
    unit_name: str | None
    officer: str | None
    leader_id: str | None
    leader_name: str | None
    deadline: str | None = Field(description="正在计时的期限 the running deadline")
    deadline_name: str | None
    due: date | None = Field(description="到期日 its due date")
    working_days_left: int | None = Field(
        description="剩余工作日（按工作日历计算，负数为已超期的工作日数）working days left on the "
        "work calendar; negative: working days overdue; null when a year is not configured"
    )
    urgency: list[Urgency] = Field(
        description="紧急原因，最紧急的在前 why it is urgent, most urgent first: overdue, "
        "supervised, sent_back, due_soon (5 working days), reminded"
    )
    urgency_labels: list[str]
    provisional: bool = Field(
        description="期限按暂定或未配置的节假日安排计算 a deadline rests on a provisional year"
    )
    provisional_deadlines: list[str]


class DoneOut(BaseModel):
    case: CaseOut
    events: list[str] = Field(description="写入的事件 the events written")


class ErrorOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    error: str
    message: str


class SweepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    today: date | None = Field(default=None, description="按哪一天检查（默认今天）as of which day")


class SweepOut(BaseModel):
    cases: int
    events: int


class ImportBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(
        min_length=1,
        max_length=200,
        description="批次说明 what is being imported, e.g. 2025年纸质台帐补录",
    )


class ImportBatchOut(BaseModel):
    batch_id: uuid.UUID
    label: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    open: bool


def provisional_out(case: Case) -> list[ProvisionalOut]:
    dues = {
        "acceptance": case.acceptance_due,
        "objection": case.objection_due,
        "handling": case.handling_due,
        "review_request": case.review_request_until,
        "review": case.review_due,
        "re_review_request": case.re_review_request_until,
        "re_review": case.re_review_due,
    }
    marks = []
    for kind, note in case.provisional:
        zh, en = split_note(note)
        marks.append(
            ProvisionalOut(
                deadline=str(kind),
                deadline_zh=kind.zh,
                due=dues.get(str(kind)),
                reason_zh=zh,
                reason_en=en,
            )
        )
    return marks


def _name(lookup: Callable[[str], str], code: str | None) -> str | None:
    """The configured name of a code, or None for a code the configuration no longer knows
    (codes in events outlive configuration entries)."""
    if code is None:
        return None
    try:
        return lookup(code)
    except (LookupError, ValueError):
        return None


def names(config: BureauConfig, row: Mapping[str, Any]) -> dict[str, str | None]:
    """Chinese names beside the codes of a case (its view or a list row), for the codes the
    row has."""
    lookups: dict[str, tuple[str, Callable[[str], str]]] = {
        "bureau": ("bureau_name", config.bureau_name),
        "sub_bureau": ("sub_bureau_name", config.bureau_name),
        "category": ("category_name", lambda c: config.category(c).name),
        "category_kind": ("category_kind_name", lambda k: CategoryKind(k).zh),
        "unit": ("unit_name", config.unit_name),
        "leader_id": ("leader_name", lambda i: config.leader(i).name),
        "state": ("state_label", STATE_LABELS.__getitem__),
        "running_deadline": ("running_deadline_name", lambda d: DeadlineKind(d).zh),
        "deadline": ("deadline_name", lambda d: DeadlineKind(d).zh),
    }
    return {out: _name(lookup, row[key]) for key, (out, lookup) in lookups.items() if key in row}


def case_out(case: Case, principal: Principal, today: date | None, config: BureauConfig) -> CaseOut:
    running = case.running_deadline()
    codes = {
        "bureau": case.bureau,
        "sub_bureau": case.sub_bureau,
        "category": case.category,
        "category_kind": case.category_kind,
        "unit": case.unit,
        "leader_id": case.leader_id,
        "state": case.state,
        "running_deadline": None if running is None else str(running[0]),
    }
    named = names(config, codes)
    return CaseOut(
        case_id=case.case_id,
        case_number=case.case_number,
        version=case.version,
        state=case.state,
        state_label=STATE_LABELS[case.state],
        bureau=case.bureau,
        bureau_name=named["bureau_name"],
        sub_bureau=case.sub_bureau,
        sub_bureau_name=named["sub_bureau_name"],
        category=case.category,
        category_name=named["category_name"],
        category_kind=case.category_kind,
        category_kind_name=named["category_kind_name"],
        first_receiver=case.first_receiver,
        unit=case.unit,
        unit_name=named["unit_name"],
        officer=case.officer,
        leader_id=case.leader_id,
        leader_name=named["leader_name"],
        referral=case.referral,
        congress=case.congress,
        received_on=case.received_on,
        acceptance_due=case.acceptance_due,
        objection_due=case.objection_due,
        accepted_on=case.accepted_on,
        handling_due=case.handling_due,
        extended=case.extended,
        replied_on=case.replied_on,
        outcome=None if case.outcome is None else str(case.outcome),
        review_request_until=case.review_request_until,
        review_due=case.review_due,
        re_review_request_until=case.re_review_request_until,
        re_review_due=case.re_review_due,
        awaiting_delivery=case.awaiting_delivery,
        awaiting_delivery_of=None
        if case.awaiting_delivery_of is None
        else str(case.awaiting_delivery_of),
        reply_delivered_on=case.reply_delivered_on,
        review_decision_delivered_on=case.review_decision_delivered_on,
        re_review_decision_delivered_on=case.re_review_decision_delivered_on,
        progress_weeks=sorted(case.progress_weeks),
        running_deadline=None if running is None else str(running[0]),
        running_deadline_name=named["running_deadline_name"],
        running_due=None if running is None else running[1],
        provisional_deadlines=provisional_out(case),
        allowed_commands=allowed_commands(case, principal, today),
    )


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
