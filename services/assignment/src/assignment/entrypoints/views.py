"""What assignment's HTTP API reads and answers: the request and response models (a case, my
work, sweeps, import batches, errors) and how a case is presented to a principal."""

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from petitions.bureaus import BureauConfig, CategoryKind, split_note
from petitions.identity import Principal
from petitions.messages.assignment import DeadlineKind
from pydantic import BaseModel, ConfigDict, Field

from assignment.domain.case import (
    STATE_LABELS,
    Case,
    allowed_commands,
)
from assignment.domain.my_work import Urgency


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
