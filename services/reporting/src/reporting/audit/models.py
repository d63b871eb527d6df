"""What an audit answers: timeline entries, the case state as of a moment, recorded reads,
the chain's verification, and the unknown-case refusal."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from petitions.eventstore.model import VerificationResult
from pydantic import BaseModel, ConfigDict, Field

from reporting.audit.labels import By

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
    committee_decisions: int = Field(default=0, description="党委研究决定 decisions recorded")
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
