"""What people ask the workflow to do: imperative, validated at the edge, frozen.

Every command may carry ``expected_version`` (the case version the caller last saw): if the case
has moved on since, the command is refused with the current version instead of acting on a state
the caller never saw. ``occurred_at`` dates an imported historical act; only the import role may
give it (the recorded time is always the real one).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from petitions.limits import Code, LongText, ShortText, Text
from petitions.messages.assignment import (
    CommitteeBody,
    DeliveredDocument,
    DeliveryMethod,
    Outcome,
    ReviewDecision,
    Satisfaction,
)
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assignment.domain.periods import MAX_EXTENSION_DAYS

MAX_VERSION = 1_000_000
"""Far above any case's history; bounds expected_version below PostgreSQL's bigint."""


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: ClassVar[str]
    title: ClassVar[str]

    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_VERSION,
        description="调用方所见的案件版本 the case version you last saw",
    )
    occurred_at: datetime | None = Field(
        default=None,
        description="历史数据导入时的发生时间（仅数据导入角色）occurred time of an imported act "
        "(import role only)",
    )

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("须带时区，如 2026-03-01T09:00:00+08:00 / give a time zone")
        return value


def _text(description: str) -> Any:
    # Typed Any like pydantic's own Field(), so it stands as the default of a str field; the
    # length limit comes with the field's type (petitions.limits).
    return Field(min_length=1, description=description)


class Accept(Command):
    name = "accept"
    title = "受理 Accept the case"
    notice: Text = Field(default="", description="受理告知书 notice to petitioner")


class Decline(Command):
    name = "decline"
    title = "不予受理 Decline to accept"
    reason: Text = _text("不予受理理由 reason told to the petitioner")


class Forward(Command):
    name = "forward"
    title = "转送 Forward to another organ"
    organ: ShortText = _text("转送机关 the organ it goes to")
    reason: Text = _text("转送理由 reason")


class Divert(Command):
    name = "divert"
    title = "导入法定程序 Divert to a legal procedure"
    procedure: ShortText = _text("法定途径，如行政复议、诉讼 the procedure")
    reason: Text = _text("理由 reason")


class Object(Command):
    name = "object"
    title = "交办异议 Object to a case assigned from above"
    reason: Text = _text("异议理由 reason")


class Assign(Command):
    name = "assign"
    title = "交办/改派 Assign or reassign"
    unit: Code = _text("责任单位代码（分县局或市局部门）responsible unit code")
    officer: ShortText | None = Field(default=None, description="承办人 responsible officer")
    reason: Text = _text("交办或改派理由 why")


class TakeOwnership(Command):
    """A leader of the case's sub-bureau owns it, or a city leader (hard, long-running and
    skip-level cases go up to the city's leaders)."""

    name = "take_ownership"
    title = "领导包案 A leader takes ownership"
    leader_id: Code = _text(
        "包案领导编号 leader id (configuration: the city's or the sub-bureau's)"
    )
    team: list[Annotated[ShortText, Field(min_length=1)]] = Field(
        min_length=1, max_length=20, description="专班成员 the team"
    )
    plan: LongText = _text("化解方案 the plan")
    needs_party_committee: bool = Field(
        default=False,
        description="拟提交党委研究（意向；党委决定另行登记 record_committee_decision）"
        "to go before the party committee (intent; record its decision with "
        "record_committee_decision)",
    )


class RecordPartyCommitteeDecision(Command):
    """The party committee's decision on a leader-owned case, while it is owned and open."""

    name = "record_committee_decision"
    title = "登记党委研究决定 Record the party committee's decision"
    decided_on: date | None = Field(
        default=None,
        description="党委研究日期（默认为今天）the day the committee decided (default today)",
    )
    body: CommitteeBody = Field(
        description="决定机关 party_committee_meeting 党委会 / city_bureau_committee 市局党委 / "
        "sub_bureau_committee 分局党委 / political_legal_committee 政法委"
    )
    content: LongText = _text("决定内容 what the committee decided")


class RecordProgress(Command):
    name = "record_progress"
    title = "每周进展 Record this week's progress"
    note: LongText = _text("本周进展 progress this week")


class ReportCompletion(Command):
    name = "report_completion"
    title = "报告办结 Report the case handled"
    summary: LongText = _text("办理情况 what was done")


class AcceptCompletion(Command):
    name = "accept_completion"
    title = "审核通过办结报告 Accept the completion report"
    note: Text = Field(default="", description="审核意见 note")


class SendBack(Command):
    name = "send_back"
    title = "退回重办 Send the completion report back"
    reason: Text = _text("退回理由 why")


class GrantExtension(Command):
    name = "grant_extension"
    title = "批准延期 Grant the one extension (unit head)"
    days: int = Field(
        ge=1, le=MAX_EXTENSION_DAYS, description="延长天数，最多30天 days, at most 30"
    )
    reason: Text = _text("延期理由（告知信访人）reason, told to the petitioner")


class StartHearing(Command):
    name = "start_hearing"
    title = "听证开始（复核期间停止计时）Start a hearing (a re-review's clock stops)"
    reason: Text = _text("听证事由 why")


class EndHearing(Command):
    name = "end_hearing"
    title = "听证结束 End the hearing"


class IssueReply(Command):
    name = "reply"
    title = "出具信访处理意见书 Issue the written reply"
    outcome: Outcome = Field(description="支持 support / 解释说明 explain / 不予支持 not_supported")
    legal_basis: Text = _text("法律依据 legal basis")
    summary: LongText = _text("处理意见 the decision")


class RateSatisfaction(Command):
    name = "rate_satisfaction"
    title = "满意度评价 Record the petitioner's rating"
    rating: Satisfaction


class RequestReview(Command):
    name = "request_review"
    title = "申请复查 Record a request for review"
    organ: ShortText = Field(default="", description="复查机关（默认上一级）organ")


class DecideReview(Command):
    name = "decide_review"
    title = "复查决定 Decide the review"
    decision: ReviewDecision
    outcome: Outcome
    summary: LongText = _text("复查意见 the decision")


class RequestReReview(Command):
    name = "request_re_review"
    title = "申请复核 Record a request for re-review"
    organ: ShortText = Field(default="", description="复核机关 organ")


class DecideReReview(Command):
    name = "decide_re_review"
    title = "复核决定（终结）Decide the re-review (terminates the matter)"
    decision: ReviewDecision
    outcome: Outcome
    summary: LongText = _text("复核意见 the decision")


class RecordDelivery(Command):
    name = "record_delivery"
    title = "登记送达 Record that the petitioner received the written decision"
    document: DeliveredDocument | None = Field(
        default=None,
        description="送达的文书（默认为待送达的那一份）reply / review_decision / "
        "re_review_decision (default: the one awaiting delivery)",
    )
    method: DeliveryMethod = Field(
        description="送达方式 in_person 直接送达 / post 邮寄送达 / electronic 电子送达"
    )
    delivered_on: date | None = Field(
        default=None,
        description="信访人收到之日（默认为今天）；复查、复核申请期限自该日起算 the day the "
        "petitioner received it (default today): the review windows count from it",
    )
    tracking_number: ShortText | None = Field(
        default=None, description="邮件单号（邮寄送达必填）postal tracking number (post only)"
    )
    receipt: Text = Field(default="", description="送达回证、签收情况 receipt note")

    @model_validator(mode="after")
    def _tracking(self) -> RecordDelivery:
        if self.method is DeliveryMethod.POST and not self.tracking_number:
            raise ValueError(
                "邮寄送达须填写邮件单号 tracking_number / post needs the tracking number"
            )
        if self.method is not DeliveryMethod.POST and self.tracking_number:
            raise ValueError("只有邮寄送达有邮件单号 / only post has a tracking_number")
        return self


class StartCongressSupervision(Command):
    name = "congress_supervise"
    title = "人大督办 Record People's Congress supervision"
    document_number: ShortText = _text("督办文号 document number")
    report_due: date | None = Field(default=None, description="报告期限 report due")


class SendCongressReport(Command):
    name = "congress_report"
    title = "向人大书面报告 Send the written report to the People's Congress"
    report: LongText = _text("书面报告 the report")


COMMANDS: tuple[type[Command], ...] = (
    Accept,
    Decline,
    Forward,
    Divert,
    Object,
    Assign,
    TakeOwnership,
    RecordPartyCommitteeDecision,
    RecordProgress,
    ReportCompletion,
    AcceptCompletion,
    SendBack,
    GrantExtension,
    StartHearing,
    EndHearing,
    IssueReply,
    RateSatisfaction,
    RequestReview,
    DecideReview,
    RequestReReview,
    DecideReReview,
    RecordDelivery,
    StartCongressSupervision,
    SendCongressReport,
)
