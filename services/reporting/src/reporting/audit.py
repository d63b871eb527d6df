"""Audit replay (审计回放): a case's whole timeline, its state as of any moment, and the
verification of its hash chain, for auditors (纪检, 督察).

The event store is the only source here, never the read models: an audit must show what was
recorded, not what a projection made of it (the read models serve only to find a case by its
number, and the store answers that too). Personal data is read masked, whatever keys the given
store holds.

Every read is itself recorded: a ``reporting.TimelineRead`` is appended to ``audit-<case id>``
before anything is returned, so the record of looking is as tamper-evident as the case.

Who may read which case is the one scope rule's (``petitions.scope``): the API passes the
reader's :class:`~petitions.scope.Reach`, and a case outside it, or accusing the reader, is
answered exactly like a case that does not exist. The operator command passes none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
from petitions.eventstore import ANY, EventStore, Metadata, NewEvent, RawEvent, RecordedEvent
from petitions.eventstore.model import VerificationResult
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messages.case_state import CaseState as S
from petitions.messages.personal import PersonalDataErased
from petitions.messages.reporting import TimelineRead
from petitions.scope import CaseFacts, Reach
from pydantic import BaseModel, ConfigDict, Field

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
SERVICE: Final = "reporting"
By = Literal["recorded", "occurred"]
Via = Literal["api", "cli"]

# Services stamp occurred = recorded unless they import history; a gap beyond clock noise means
# the event was entered after the fact, which an auditor must see at a glance.
BACKDATE_TOLERANCE: Final = timedelta(minutes=5)

LABELS: Final[dict[str, str]] = {
    "intake.CaseRegistered": "登记立案 case registered",
    "intake.SubmissionReceived": "收到信访件 submission received",
    "intake.PersonalDataRead": "查阅个人信息 personal data read in the clear",
    "intake.ReceptionSessionScheduled": "排定接访日 reception session scheduled",
    "intake.ReceptionSessionHeld": "领导接访 reception session held",
    "intake.ReceptionSessionMissed": "接访缺席 reception session missed",
    "intake.LeaderInstructionRecorded": "领导批示 leader's instruction recorded",
    "assignment.WorkflowOpened": "进入受理流程 workflow opened",
    "assignment.CaseAccepted": "受理 case accepted",
    "assignment.AcceptanceDeclined": "不予受理 acceptance declined",
    "assignment.CaseForwarded": "转送 case forwarded",
    "assignment.DivertedToLegalProcedure": "导入法定程序 diverted to a legal procedure",
    "assignment.AssignmentObjected": "交办异议 assignment objected to",
    "assignment.CaseAssigned": "交办 case assigned",
    "assignment.LeaderOwnershipTaken": "领导包案 leader took ownership",
    "assignment.ProgressRecorded": "每周进展 weekly progress recorded",
    "assignment.CompletionReported": "办结报告 completion reported",
    "assignment.CompletionAccepted": "办结审核通过 completion accepted",
    "assignment.CompletionSentBack": "退回重办 completion sent back",
    "assignment.ExtensionGranted": "延期 extension granted",
    "assignment.HearingStarted": "听证开始 hearing started",
    "assignment.HearingEnded": "听证结束 hearing ended",
    "assignment.ReplyIssued": "出具处理意见书 reply issued",
    "assignment.SatisfactionRated": "满意度评价 satisfaction rated",
    "assignment.ReviewRequested": "申请复查 review requested",
    "assignment.ReviewDecided": "复查决定 review decided",
    "assignment.ReReviewRequested": "申请复核 re-review requested",
    "assignment.ReReviewDecided": "复核决定 re-review decided",
    "assignment.DeliveryRecorded": "送达 written decision delivered",
    "intake.NoticeIssued": "出具书面告知 written notice issued",
    "intake.AttachmentAdded": "添加附件 attachment added",
    "assignment.CaseTerminated": "终结 case terminated",
    "assignment.CongressSupervisionStarted": "人大督办 People's Congress supervision",
    "assignment.CongressReportSent": "向人大书面报告 report sent to the People's Congress",
    "assignment.DeadlineReminderSent": "催办 deadline reminder sent",
    "assignment.SupervisionRaised": "督办 supervision raised",
    "assignment.DeadlinesRecomputed": "期限重新计算（节假日安排或期限规则变更）deadlines "
    "recomputed on a changed holiday calendar or corrected rules",
    "personal.PersonalDataErased": "个人信息擦除 personal data erased",
    "reporting.TimelineRead": "查阅审计记录 audit timeline read",
    "reporting.AccompanyRosterPublished": "陪同接访名单发布 accompany roster published",
}

# The workflow's states are the shared contract's; "not registered" is the audit's own, for a
# moment before the case existed.
STATES: Final[dict[str, str]] = {"not_registered": "尚未登记 not yet registered"} | {
    state.value: state.label for state in S
}

_CHANNELS: Final = {
    "visit": "来访",
    "letter": "来信",
    "phone": "来电",
    "online": "网上",
    "congress_referral": "人大交办",
    "higher_referral": "上级转办",
}


def label_for(event_type: str) -> str:
    """The Chinese and English name of an event type (the type itself when unknown)."""
    return LABELS.get(event_type, event_type)


def as_shanghai(moment: datetime) -> datetime:
    """An instant in Asia/Shanghai; a naive one is taken to be Shanghai local time already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


# ---------------------------------------------------------------------------------- results


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Verification(_Out):
    """The stream's hash chain, recomputed from its first event."""

    stream_id: str
    ok: bool = Field(description="链完整 the chain verifies")
    events_checked: int = Field(description="校验通过的事件数 events that verified")
    first_bad_version: int | None = Field(description="首个不符的版本 first event that fails")
    first_bad_position: int | None = None
    reason: str | None = Field(description="原因 why it fails (中文 English)")

    @classmethod
    def of(cls, result: VerificationResult) -> Verification:
        return cls(
            stream_id=result.stream_id,
            ok=result.ok,
            events_checked=result.events_checked,
            first_bad_version=result.first_bad_version,
            first_bad_position=result.first_bad_position,
            reason=result.reason,
        )


class TimelineEntry(_Out):
    """One event of the case, as the store holds it (personal data masked)."""

    version: int
    event_type: str
    label: str = Field(description="事件名称 the event's Chinese and English name")
    occurred_at: datetime = Field(description="发生时间 when it happened (Asia/Shanghai)")
    recorded_at: datetime = Field(description="记录时间 when the store recorded it")
    backdated: bool = Field(
        description="补录 occurred well before it was recorded (imported history)"
    )
    actor: str = Field(description="操作人 who caused it")
    service: str = Field(description="记录的服务 the service that appended it")
    bureau: str
    correlation_id: UUID
    causation_id: UUID | None
    summary: str = Field(description="摘要 what it says, personal data masked")
    hash_alg: str
    hash: str = Field(description="链上哈希 (hex) the event's link in the hash chain")


class CaseState(_Out):
    """A case's workflow state and key facts, folded from its events up to some moment."""

    state: str = Field(description="流程状态 the workflow state name")
    state_label: str
    case_id: UUID | None = None
    case_number: str | None = None
    bureau: str | None = Field(default=None, description="受理单位 receiving bureau")
    sub_bureau: str | None = Field(default=None, description="所涉分县局 attributed sub-bureau")
    category: str | None = None
    category_kind: str | None = None
    first_receiver: str | None = Field(default=None, description="首接责任人 first receiver")
    responsible_unit: str | None = Field(default=None, description="承办单位")
    responsible_officer: str | None = Field(default=None, description="承办人")
    owning_leader: str | None = Field(default=None, description="包案领导")
    referral: bool = False
    congress: bool = False
    preliminary_assessment: str | None = None
    submissions: int = 0
    repeat_submissions: int = 0
    received_on: date | None = None
    acceptance_due: date | None = None
    objection_due: date | None = None
    accepted_on: date | None = None
    handling_due: date | None = Field(default=None, description="办理期限 (extension included)")
    extended_days: int = 0
    state_before_hearing: str | None = Field(
        default=None, description="听证前的状态 the state a hearing interrupted, it returns to"
    )
    hearing_since: date | None = Field(
        default=None,
        description="听证中 in a hearing since (a re-review's clock paused; handling runs on)",
    )
    replied_on: date | None = None
    on_time: bool | None = None
    outcome: str | None = Field(default=None, description="最新处理意见 latest outcome")
    justified: bool | None = Field(default=None, description="有理访 latest assessment")
    satisfaction: str | None = None
    review_request_until: date | None = None
    review_due: date | None = None
    re_review_request_until: date | None = None
    re_review_due: date | None = None
    closed_reason: str | None = Field(default=None, description="不予受理/转送等的理由")
    closed_on: date | None = None
    reminders: int = 0
    supervisions: int = 0
    version: int = Field(default=0, description="折叠到的事件版本 last event folded")


class ReadRecord(_Out):
    """One recorded read of a case's timeline."""

    version: int
    reader: str
    role: str
    bureau: str | None = Field(
        default=None, description="查阅人所属单位 the reader's bureau (none: operator command)"
    )
    purpose: str
    via: str
    view: str
    as_of: datetime | None
    by: str
    verified: bool | None
    read_at: datetime = Field(description="查阅时间 (Asia/Shanghai)")
    correlation_id: UUID


class Timeline(_Out):
    """What an auditor reads: the case's events up to ``as_of``, its state then, and (asked
    for) the verification of its whole chain."""

    case_id: UUID
    case_number: str
    stream_id: str
    as_of: datetime | None = Field(description="截至时刻 the moment asked about (Asia/Shanghai)")
    by: By = Field(description="按记录时间或发生时间截取 which clock as_of compares with")
    stream_version: int = Field(description="案件流当前版本 events in the stream now")
    entries: list[TimelineEntry]
    state: CaseState
    verification: Verification | None = Field(
        description="整条流的链校验（不限于截至时刻）the whole stream's chain, not only up to "
        "as_of; null unless verify was asked"
    )
    read: ReadRecord = Field(description="本次查阅的记录 the record of this very read")


class StateAsOf(_Out):
    case_id: UUID
    case_number: str
    as_of: datetime | None
    by: By
    state: CaseState
    read: ReadRecord


class Reads(_Out):
    case_id: UUID
    case_number: str
    reads: list[ReadRecord]
    verification: Verification = Field(description="查阅记录本身的链校验 the reads' own chain")


# ---------------------------------------------------------------------------------- errors


class UnknownCaseError(LookupError):
    """No case has this number (neither in the read models nor in the event store)."""

    def __init__(self, case_number: str) -> None:
        super().__init__(
            f"找不到案号为 {case_number:.64} 的案件，请核对案号（如 3301-2026-000123）后重试 / "
            f"no case has the number {case_number:.64}: check the number and try again"
        )
        self.case_number = case_number


# ---------------------------------------------------------------------------------- the fold


def _apply(state: CaseState, data: Event) -> dict[str, Any]:
    """The changes one event makes to the case's state."""
    match data:
        case i.CaseRegistered():
            return {
                "state": S.REGISTERED,
                "case_id": data.case_id,
                "case_number": data.case_number,
                "bureau": data.bureau,
                "sub_bureau": data.sub_bureau,
                "category": data.category,
                "category_kind": data.category_kind,
                "first_receiver": data.responsible_officer,
                "responsible_officer": data.responsible_officer,
            }
        case i.SubmissionReceived():
            changes: dict[str, Any] = {
                "submissions": state.submissions + 1,
                "repeat_submissions": state.repeat_submissions + int(data.is_repeat),
            }
            if state.preliminary_assessment is None:
                changes["preliminary_assessment"] = str(data.preliminary_assessment)
            if state.justified is None and state.outcome is None:
                changes["justified"] = data.preliminary_assessment == i.Assessment.JUSTIFIED
            return changes
        case a.WorkflowOpened():
            return {
                "state": S.AWAITING_ACCEPTANCE,
                "received_on": data.received_on,
                "acceptance_due": data.acceptance_due,
                "objection_due": data.objection_due,
                "referral": data.referral,
                "congress": state.congress or data.congress,
            }
        case a.CaseAccepted():
            return {
                "state": S.HANDLING,
                "accepted_on": data.accepted_on,
                "handling_due": data.handling_due,
            }
        case a.AcceptanceDeclined():
            return {"state": S.DECLINED, "closed_reason": data.reason, "closed_on": data.decided_on}
        case a.CaseForwarded():
            return {
                "state": S.FORWARDED,
                "closed_reason": f"{data.organ}: {data.reason}",
                "closed_on": data.decided_on,
            }
        case a.DivertedToLegalProcedure():
            return {
                "state": S.DIVERTED,
                "closed_reason": f"{data.procedure}: {data.reason}",
                "closed_on": data.decided_on,
            }
        case a.AssignmentObjected():
            return {
                "state": S.OBJECTED,
                "closed_reason": data.reason,
                "closed_on": data.objected_on,
            }
        case a.CaseAssigned():
            return {"responsible_unit": data.unit, "responsible_officer": data.officer}
        case a.LeaderOwnershipTaken():
            return {"owning_leader": data.leader_name}
        case a.CompletionReported():
            return {"state": S.COMPLETION_REPORTED}
        case a.CompletionAccepted():
            return {"state": S.COMPLETION_ACCEPTED}
        case a.CompletionSentBack():
            return {"state": S.HANDLING}
        case a.ExtensionGranted():
            return {"handling_due": data.handling_due, "extended_days": data.days}
        case a.HearingStarted():
            # The state the API reports during a hearing, and the one it returns to after.
            return {
                "state": S.HEARING,
                "state_before_hearing": state.state,
                "hearing_since": data.started_on,
            }
        case a.HearingEnded():
            due_field = {
                a.DeadlineKind.ACCEPTANCE: "acceptance_due",
                a.DeadlineKind.OBJECTION: "objection_due",
                a.DeadlineKind.HANDLING: "handling_due",
                a.DeadlineKind.REVIEW: "review_due",
                a.DeadlineKind.RE_REVIEW: "re_review_due",
            }[data.deadline]
            return {
                "state": state.state_before_hearing or S.HANDLING,
                "state_before_hearing": None,
                "hearing_since": None,
                due_field: data.due,
            }
        case a.ReplyIssued():
            return {
                "state": S.REPLIED,
                "replied_on": data.replied_on,
                "on_time": data.on_time,
                "outcome": str(data.outcome),
                "justified": data.outcome.justified,
                "review_request_until": data.review_request_until,
            }
        case a.SatisfactionRated():
            return {"satisfaction": str(data.rating)}
        case a.DeliveryRecorded() if data.document is a.DeliveredDocument.REPLY:
            return {"review_request_until": data.request_until}
        case a.DeliveryRecorded() if data.document is a.DeliveredDocument.REVIEW_DECISION:
            return {"re_review_request_until": data.request_until}
        case a.ReviewRequested():
            return {"state": S.UNDER_REVIEW, "review_due": data.review_due}
        case a.ReviewDecided():
            return {
                "state": S.REVIEWED,
                "outcome": str(data.outcome),
                "justified": data.outcome.justified,
                "re_review_request_until": data.re_review_request_until,
            }
        case a.ReReviewRequested():
            return {"state": S.UNDER_RE_REVIEW, "re_review_due": data.re_review_due}
        case a.ReReviewDecided():
            # Terminated by the CaseTerminated that follows it, as the workflow has it.
            return {
                "state": S.RE_REVIEWED,
                "outcome": str(data.outcome),
                "justified": data.outcome.justified,
            }
        case a.CaseTerminated():
            return {"state": S.TERMINATED, "closed_reason": data.reason}
        case a.CongressSupervisionStarted():
            return {"congress": True}
        case a.DeadlineReminderSent():
            return {"reminders": state.reminders + 1}
        case a.SupervisionRaised():
            return {"supervisions": state.supervisions + 1}
        case a.DeadlinesRecomputed():
            return {_REDATED_FIELD[c.deadline]: c.new_due for c in data.changes}
        case _:
            return {}


_REDATED_FIELD: Final[dict[a.DatedDeadline, str]] = {
    a.DatedDeadline.ACCEPTANCE: "acceptance_due",
    a.DatedDeadline.OBJECTION: "objection_due",
    a.DatedDeadline.HANDLING: "handling_due",
    a.DatedDeadline.REVIEW_REQUEST: "review_request_until",
    a.DatedDeadline.REVIEW: "review_due",
    a.DatedDeadline.RE_REVIEW_REQUEST: "re_review_request_until",
    a.DatedDeadline.RE_REVIEW: "re_review_due",
}


NOT_REGISTERED: Final = CaseState(state="not_registered", state_label=STATES["not_registered"])


def evolve(state: CaseState, event: RecordedEvent[Any]) -> CaseState:
    """The state after one more event (pure: the old state is left as it was)."""
    changes = _apply(state, event.data)
    changes["version"] = event.version
    if "state" in changes:
        changes["state_label"] = STATES.get(changes["state"], changes["state"])
    return state.model_copy(update=changes)


def fold(events: Iterable[RecordedEvent[Any]]) -> CaseState:
    """The state after ``events`` (in stream order); no events: not registered yet."""
    state = NOT_REGISTERED
    for event in events:
        state = evolve(state, event)
    return state


def facts_of(bureau: str, events: Iterable[RecordedEvent[Any]]) -> CaseFacts:
    """What the scope rule needs of a case, from its events (``bureau``: the stream's)."""
    events = list(events)
    state = fold(events)
    registered = next((e.data for e in events if isinstance(e.data, i.CaseRegistered)), None)
    return CaseFacts(
        bureau=state.bureau or bureau,
        sub_bureau=state.sub_bureau or "",
        unit=state.responsible_unit,
        accused_units=() if registered is None else registered.accused_units,
        accused_officers=() if registered is None else registered.accused_officers,
    )


# ---------------------------------------------------------------------------------- summaries


def _join(values: Iterable[str]) -> str:
    return "、".join(values) or "-"


def summarize(data: Event) -> str:
    """A line a person reads: the event's gist, in the masked form the store gives keyless
    readers. Identity numbers and phones are left out even masked: an audit line needs who,
    not how to reach them."""
    match data:
        case i.CaseRegistered():
            names = _join(p.name or "匿名 anonymous" for p in data.petitioners)
            accused = ""
            if data.accused_units or data.accused_officers:
                accused = (
                    f"；被控告 accused: {_join((*data.accused_units, *data.accused_officers))}"
                )
            return (
                f"案号 {data.case_number}；受理单位 bureau {data.bureau}；所涉 sub-bureau "
                f"{data.sub_bureau}；分类 category {data.category} ({data.category_kind})；"
                f"首接 first receiver {data.responsible_officer}；信访人 petitioners {names}"
                f"{accused}"
            )
        case i.SubmissionReceived():
            extra = []
            if data.is_repeat:
                extra.append("重复访 repeat")
            if data.collective:
                extra.append("集体访 collective")
            if data.escalation is not None:
                extra.append(f"越级 escalation {data.escalation}")
            if data.document_number:
                extra.append(f"文号 {data.document_number}")
            received = as_shanghai(data.received_at).isoformat(timespec="minutes")
            return (
                f"{_CHANNELS.get(str(data.channel), str(data.channel))} {data.channel}；"
                f"收到 received {received} by {data.receiving_bureau}/{data.receiving_officer}；"
                f"人数 head count {data.head_count}；初判 assessment "
                f"{data.preliminary_assessment}" + "".join(f"；{e}" for e in extra)
            )
        case a.WorkflowOpened():
            kind = (
                "人大交办 congress referral"
                if data.congress
                else ("上级转办 referral" if data.referral else "本级 own")
            )
            return (
                f"收到日 received {data.received_on}；受理期限 acceptance due "
                f"{data.acceptance_due}；{kind}"
            )
        case a.CaseAccepted():
            return f"受理日 accepted {data.accepted_on}；办理期限 handling due {data.handling_due}"
        case a.AcceptanceDeclined() | a.AssignmentObjected():
            return f"理由 reason: {data.reason}"
        case a.CaseForwarded():
            return f"转送 to {data.organ}；理由 reason: {data.reason}"
        case a.DivertedToLegalProcedure():
            return f"程序 procedure {data.procedure}；理由 reason: {data.reason}"
        case a.CaseAssigned():
            previous = ""
            if data.previous_unit:
                previous = f"（原 previously {data.previous_unit}/{data.previous_officer or '-'}）"
            return (
                f"承办 to {data.unit}/{data.officer or '-'}{previous}；理由 reason: {data.reason}"
            )
        case a.LeaderOwnershipTaken():
            committee = "；需党委研究 needs party committee" if data.needs_party_committee else ""
            return f"包案领导 leader {data.leader_name}；专班 team {_join(data.team)}{committee}"
        case a.ProgressRecorded():
            return f"{data.week}：{data.note}"
        case a.CompletionReported():
            return f"{data.reported_on}：{data.summary}"
        case a.CompletionAccepted():
            return data.note or "-"
        case a.CompletionSentBack():
            return f"理由 reason: {data.reason}"
        case a.ExtensionGranted():
            return (
                f"延期 {data.days} 天 days，新期限 new due {data.handling_due}；"
                f"批准 approved by {data.approved_by}；理由 reason: {data.reason}"
            )
        case a.HearingStarted():
            return f"{data.started_on} 起 from；理由 reason: {data.reason}"
        case a.HearingEnded():
            return (
                f"{data.ended_on} 止 until；暂停 paused {data.paused_days} 天 days；"
                f"{data.deadline.zh} {data.deadline} due {data.due}"
            )
        case a.ReplyIssued():
            on_time = "按期 on time" if data.on_time else "超期 late"
            return (
                f"{data.outcome.zh} {data.outcome}；答复日 replied {data.replied_on}（{on_time}）；"
                f"依据 basis: {data.legal_basis}"
            )
        case a.SatisfactionRated():
            return f"{data.rating}（{data.rated_on}）"
        case a.DeliveryRecorded():
            post = f"（单号 tracking {data.tracking_number}）" if data.tracking_number else ""
            window = f"；申请期限至 window until {data.request_until}" if data.request_until else ""
            return (
                f"{data.document.zh} {data.document}：{data.method.zh} {data.method}{post}，"
                f"{data.delivered_on} 收到 received{window}"
            )
        case a.ReviewRequested():
            return f"向 to {data.organ}；复查期限 review due {data.review_due}"
        case a.ReReviewRequested():
            return f"向 to {data.organ}；复核期限 re-review due {data.re_review_due}"
        case a.ReviewDecided() | a.ReReviewDecided():
            return f"{data.decision}；{data.outcome.zh} {data.outcome}；{data.summary}"
        case a.CaseTerminated():
            return f"理由 reason: {data.reason}"
        case a.CongressSupervisionStarted():
            return f"文号 document {data.document_number}；报告期限 report due {data.report_due}"
        case a.CongressReportSent():
            return f"{data.sent_on}：{data.report}"
        case a.DeadlineReminderSent():
            return (
                f"{data.deadline.zh} {data.deadline} due {data.due}；剩 "
                f"{data.working_days_left} 个工作日 working days left；{data.unit}/"
                f"{data.officer or '-'}"
            )
        case a.SupervisionRaised():
            return (
                f"{data.deadline.zh} {data.deadline} due {data.due} 逾期 missed；"
                f"责任 answerable {data.unit}/{data.officer or '-'}"
            )
        case a.DeadlinesRecomputed():
            redated = "；".join(
                f"{c.deadline.zh} {c.deadline}: {c.old_due} → {c.new_due}"
                f"{'（暂定 provisional）' if c.provisional_after else ''}"
                f"；{', '.join(c.calendar_files)}"
                for c in data.changes
            )
            return f"{redated}；{data.rule_note}" if data.rule_note else redated
        case r.LeaderInstructionRecorded():
            committee = "；需党委研究 needs party committee" if data.needs_party_committee else ""
            return f"批示 instruction: {data.instruction}{committee}"
        case PersonalDataErased():
            return f"数据主体 subject {data.subject_id}；理由 reason: {data.reason}"
        case TimelineRead():
            return f"{data.reader} ({data.role}, {data.via})；目的 purpose: {data.purpose or '-'}"
        case _:
            return _generic(data.model_dump(mode="json"))


def _generic(tree: dict[str, Any], limit: int = 160) -> str:
    def show(value: Any) -> str:
        return (
            json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        )

    text = "；".join(f"{key}: {show(value)}" for key, value in tree.items() if key != "$vault")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _raw_summary(text: str, limit: int = 160) -> str:
    try:
        tree = json.loads(text)
    except ValueError:
        tree = None
    if isinstance(tree, dict):
        return _generic(tree, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry_for(raw: RawEvent, data: Event | None) -> TimelineEntry:
    """A timeline line; ``data`` is None when the event cannot be read as its type (shown from
    the raw, masked JSON instead)."""
    occurred = as_shanghai(raw.occurred_at)
    recorded = as_shanghai(raw.recorded_at)
    if data is not None:
        summary = summarize(data)
    else:
        summary = "〔无法按类型读取 not readable as its type〕 " + _raw_summary(raw.data)
    return TimelineEntry(
        version=raw.version,
        event_type=raw.event_type,
        label=label_for(raw.event_type),
        occurred_at=occurred,
        recorded_at=recorded,
        backdated=recorded - occurred > BACKDATE_TOLERANCE,
        actor=raw.actor,
        service=raw.service,
        bureau=raw.bureau,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        summary=summary,
        hash_alg=raw.hash_alg,
        hash=raw.hash.hex(),
    )


def read_record(event: RecordedEvent[Any]) -> ReadRecord:
    data: TimelineRead = event.data
    return ReadRecord(
        version=event.version,
        reader=data.reader,
        role=data.role,
        bureau=data.reader_bureau,
        purpose=data.purpose,
        via=data.via,
        view=data.view,
        as_of=None if data.as_of is None else as_shanghai(data.as_of),
        by=data.by,
        verified=data.verified,
        read_at=as_shanghai(event.recorded_at),
        correlation_id=event.correlation_id,
    )


# ---------------------------------------------------------------------------------- use case


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads, and why: recorded with every read."""

    name: str
    role: str
    purpose: str = ""
    via: Via = "api"
    correlation_id: UUID | None = None
    bureau: str | None = None
    scope: Reach | None = None
    """What the reader may see (the one scope rule); None: the operator command, unrestricted."""


@dataclass(frozen=True, slots=True)
class _Case:
    case_id: UUID
    case_number: str
    bureau: str

    @property
    def stream_id(self) -> str:
        return f"case-{self.case_id}"

    @property
    def audit_stream(self) -> str:
        return f"audit-{self.case_id}"


_FIND_IN_STORE = """
    SELECT e.stream_id, s.bureau FROM eventstore.events e
    JOIN eventstore.streams s USING (stream_id)
    WHERE e.event_type = 'intake.CaseRegistered' AND e.data->>'case_number' = $1
    ORDER BY e.position LIMIT 1
"""


class Audit:
    """The audit replay use case (one per process).

    ``store`` reads the event store (its keys, if any, are not used: everything is read masked);
    ``read_pool`` reaches the reporting read models (``cases`` on its search_path), or None to
    find cases through the event store alone.
    """

    def __init__(self, store: EventStore, read_pool: asyncpg.Pool | None = None) -> None:
        self._store = store
        self._read_pool = read_pool

    async def _find(self, case_number: str) -> _Case:
        case_id: UUID | None = None
        if self._read_pool is not None:
            try:
                case_id = await self._read_pool.fetchval(
                    "SELECT case_id FROM cases WHERE case_number = $1", case_number
                )
            except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
                case_id = None  # projections not built yet: the store still knows
        if case_id is not None:
            bureau = await self._store.pool.fetchval(
                "SELECT bureau FROM eventstore.streams WHERE stream_id = $1", f"case-{case_id}"
            )
            if bureau is not None:
                return _Case(case_id, case_number, bureau)
        # The read models may lag (or be rebuilding): the registration itself is authoritative.
        row = await self._store.pool.fetchrow(_FIND_IN_STORE, case_number)
        if row is None:
            raise UnknownCaseError(case_number)
        return _Case(UUID(row["stream_id"].removeprefix("case-")), case_number, row["bureau"])

    async def _visible(self, case_number: str, scope: Reach | None) -> _Case:
        """The case, if ``scope`` may see it; otherwise the same error as for no case at all,
        so that the accused cannot learn an accusation exists (Art. 30)."""
        case = await self._find(case_number)
        if scope is None:
            return case
        # The case as it is now decides, whatever moment is asked about: a case reassigned
        # away from a unit, or found to accuse it, is no longer that unit's to read.
        events = await self._decode(await self._store.read_stream_raw(case.stream_id))
        if not scope.sees(facts_of(case.bureau, [e for e in events if e is not None])):
            raise UnknownCaseError(case_number)
        return case

    async def _decode(self, raws: Sequence[RawEvent]) -> list[RecordedEvent[Any] | None]:
        try:
            return list(await self._store.decode_many(raws, reveal=False))
        except (LookupError, ValueError):
            pass
        # An unknown type, or data no longer valid for it (a forged row, say), must not hide
        # the rest of the history from the auditor: that event is shown from its raw JSON.
        out: list[RecordedEvent[Any] | None] = []
        for raw in raws:
            try:
                out.extend(await self._store.decode_many([raw], reveal=False))
            except (LookupError, ValueError):
                out.append(None)
        return out

    async def _record(
        self,
        case: _Case,
        reader: Reader,
        *,
        as_of: datetime | None,
        by: By,
        verified: bool | None,
        view: Literal["timeline", "state"],
    ) -> ReadRecord:
        read = TimelineRead(
            case_id=case.case_id,
            reader=reader.name,
            role=reader.role,
            purpose=reader.purpose,
            as_of=as_of,
            verified=verified,
            by=by,
            view=view,
            via=reader.via,
            reader_bureau=reader.bureau,
        )
        metadata = Metadata(
            actor=reader.name,
            service=SERVICE,
            correlation_id=reader.correlation_id or uuid4(),
        )
        result = await self._store.append(
            case.audit_stream, [NewEvent(read, bureau=case.bureau)], ANY, metadata=metadata
        )
        recorded = await self._store.read_stream(
            case.audit_stream, result.version, result.version, reveal=False
        )
        return read_record(recorded[0])

    async def timeline(
        self,
        case_number: str,
        reader: Reader,
        *,
        as_of: datetime | None = None,
        by: By = "recorded",
        verify: bool = False,
    ) -> Timeline:
        """The case's events up to ``as_of`` (all of them without), its state then, and the
        verification of its whole chain if asked; the read is recorded before it is returned."""
        case = await self._visible(case_number, reader.scope)
        moment = None if as_of is None else as_shanghai(as_of)
        verification = Verification.of(await self._store.verify(case.stream_id)) if verify else None
        raws = await self._store.read_stream_raw(case.stream_id, as_of=moment, by=by)
        decoded = await self._decode(raws)
        entries = [
            entry_for(raw, None if event is None else event.data)
            for raw, event in zip(raws, decoded, strict=True)
        ]
        state = fold(event for event in decoded if event is not None)
        version = await self._store.stream_version(case.stream_id)
        read = await self._record(
            case,
            reader,
            as_of=moment,
            by=by,
            verified=None if verification is None else verification.ok,
            view="timeline",
        )
        return Timeline(
            case_id=case.case_id,
            case_number=case.case_number,
            stream_id=case.stream_id,
            as_of=moment,
            by=by,
            stream_version=version,
            entries=entries,
            state=state,
            verification=verification,
            read=read,
        )

    async def state_as_of(
        self,
        case_number: str,
        reader: Reader,
        *,
        as_of: datetime | None = None,
        by: By = "recorded",
    ) -> StateAsOf:
        """The case's state as of ``as_of`` (now without); recorded as a read like a timeline,
        since it tells as much about the case."""
        case = await self._visible(case_number, reader.scope)
        moment = None if as_of is None else as_shanghai(as_of)
        raws = await self._store.read_stream_raw(case.stream_id, as_of=moment, by=by)
        state = fold(event for event in await self._decode(raws) if event is not None)
        read = await self._record(case, reader, as_of=moment, by=by, verified=None, view="state")
        return StateAsOf(
            case_id=case.case_id,
            case_number=case.case_number,
            as_of=moment,
            by=by,
            state=state,
            read=read,
        )

    async def reads(self, case_number: str, scope: Reach | None = None) -> Reads:
        """Who read the case's timeline, oldest first, with the verification of that record;
        ``scope`` as for :meth:`timeline`."""
        case = await self._visible(case_number, scope)
        events = await self._store.read_stream(case.audit_stream, reveal=False)
        return Reads(
            case_id=case.case_id,
            case_number=case.case_number,
            reads=[read_record(e) for e in events if isinstance(e.data, TimelineRead)],
            verification=Verification.of(await self._store.verify(case.audit_stream)),
        )
