"""Names and times shown to auditors: event labels, state labels, channels, Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from petitions.messages.case_state import CaseState as S

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
    "intake.InstructionAnswered": "批示答复 instruction answered",
    "assignment.WorkflowOpened": "进入受理流程 workflow opened",
    "assignment.CaseAccepted": "受理 case accepted",
    "assignment.AcceptanceDeclined": "不予受理 acceptance declined",
    "assignment.CaseForwarded": "转送 case forwarded",
    "assignment.DivertedToLegalProcedure": "导入法定程序 diverted to a legal procedure",
    "assignment.AssignmentObjected": "交办异议 assignment objected to",
    "assignment.CaseAssigned": "交办 case assigned",
    "assignment.LeaderOwnershipTaken": "领导包案 leader took ownership",
    "assignment.PartyCommitteeDecisionRecorded": "党委研究决定 party committee decision recorded",
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
    "reporting.ReportExported": "台帐查阅或报表导出 ledger read or report exported",
}

# The workflow's states are the shared contract's; "not registered" is the audit's own, for a
# moment before the case existed.
STATES: Final[dict[str, str]] = {"not_registered": "尚未登记 not yet registered"} | {
    state.value: state.label for state in S
}

CHANNELS: Final = {
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
