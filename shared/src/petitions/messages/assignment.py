"""Assignment's events: the case workflow under the 2022 Petition Work Regulations (信访工作条例).

They go on the case's own stream (``case-<case id>``), after intake's ``CaseRegistered`` and
``SubmissionReceived``: one stream holds the whole history of a matter. Dates that the law counts
in days (``*_on``, ``*_due``) are local dates in Asia/Shanghai; instants are UTC.

The workflow's states and their labels: :mod:`petitions.messages.case_state`.

The windows to ask for review and re-review open only when the written reply or review decision
is recorded as delivered (``DeliveryRecorded``); the state does not change.

Free text that people type (reasons, notes, summaries, plans, reports) may name anyone, so it is
personal data: sealed under the key of the case's first petitioner (``CaseRegistered.subject_id``,
carried as ``subject_id``), masked for readers without keys (reporting, NATS, audit), read in the
clear only through intake's recorded dossier read, and erased with that person. Events stored
before this rule carry no ``subject_id`` and keep their text as it was written.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from petitions.messages.base import Event
from petitions.personal.fields import PersonalText, Subject

CaseTextSubject = Annotated[UUID | None, Subject()]
"""Whose key seals an event's free text: the case's first petitioner. ``None`` only on events
stored before free text was sealed; the workflow always sets it (``assignment.domain``)."""


class Outcome(StrEnum):
    """信访处理意见 the written decision (Art. 32)."""

    SUPPORT = "support"  # 支持
    EXPLAIN = "explain"  # 解释说明
    NOT_SUPPORTED = "not_supported"  # 不予支持

    @property
    def justified(self) -> bool:
        """有理访: only "support" makes a petition justified."""
        return self is Outcome.SUPPORT

    @property
    def zh(self) -> str:
        return {"support": "支持", "explain": "解释说明", "not_supported": "不予支持"}[self.value]


class DeadlineKind(StrEnum):
    """The statutory clocks a case runs on; each is reminded and supervised."""

    ACCEPTANCE = "acceptance"  # 受理告知 15 days (Art. 23)
    OBJECTION = "objection"  # 交办异议 5 working days (Art. 23), the unit's own window
    HANDLING = "handling"  # 办理 60 days (+ one extension of at most 30) (Art. 34)
    REVIEW = "review"  # 复查答复 30 days (Art. 35)
    RE_REVIEW = "re_review"  # 复核答复 30 days (Art. 36)
    CONGRESS_REPORT = "congress_report"  # 人大督办书面报告, by the date the Congress set

    @property
    def zh(self) -> str:
        return {
            "acceptance": "受理告知",
            "objection": "交办异议",
            "handling": "办理答复",
            "review": "复查答复",
            "re_review": "复核答复",
            "congress_report": "人大书面报告",
        }[self.value]


class DatedDeadline(StrEnum):
    """Every date the workflow computes on the work calendar: the statutory clocks and the
    petitioner's windows to ask for review and re-review."""

    ACCEPTANCE = "acceptance"  # WorkflowOpened.acceptance_due
    OBJECTION = "objection"  # WorkflowOpened.objection_due
    HANDLING = "handling"  # CaseAccepted / ExtensionGranted / HearingEnded handling_due
    REVIEW_REQUEST = "review_request"  # DeliveryRecorded (reply).request_until
    REVIEW = "review"  # ReviewRequested.review_due
    RE_REVIEW_REQUEST = "re_review_request"  # DeliveryRecorded (review decision)
    RE_REVIEW = "re_review"  # ReReviewRequested.re_review_due

    @property
    def zh(self) -> str:
        return {
            "acceptance": "受理告知期限",
            "objection": "交办异议期限",
            "handling": "办理期限",
            "review_request": "申请复查期限",
            "review": "复查答复期限",
            "re_review_request": "申请复核期限",
            "re_review": "复核答复期限",
        }[self.value]


class _Provisional(Event):
    """Fields of every event that dates a deadline on the work calendar. A deadline computed
    on a year whose holiday arrangement is provisional or missing is named here, with the
    reason: it may move when the official file is installed (``DeadlinesRecomputed``)."""

    provisional_deadlines: tuple[DatedDeadline, ...] = ()
    calendar_note: str = ""  # why, in Chinese and English; empty when nothing is provisional


class ReviewDecision(StrEnum):
    UPHELD = "upheld"  # 维持
    REVISED = "revised"  # 撤销或变更


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


# -- acceptance ------------------------------------------------------------------------------


class WorkflowOpened(_Provisional, type="assignment.WorkflowOpened"):
    """Assignment took up a registered case: the acceptance clock runs from its receipt."""

    case_id: UUID
    case_number: str
    bureau: str  # the receiving bureau, which decides on acceptance
    sub_bureau: str
    category: str
    category_kind: str
    received_on: date
    acceptance_due: date
    referral: bool  # 上级转办 / 人大交办: may be objected to within 5 working days
    congress: bool  # 人大交办
    objection_due: date | None = None
    accused_units: tuple[str, ...] = ()
    accused_officers: tuple[str, ...] = ()


class CaseAccepted(_Provisional, type="assignment.CaseAccepted"):
    """受理: the petitioner is told in writing; the 60-day handling clock starts."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    accepted_on: date
    handling_due: date
    notice: PersonalText = ""


class AcceptanceDeclined(Event, type="assignment.AcceptanceDeclined"):
    """不予受理, with the reason told to the petitioner. Not counted in the closure rate."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    reason: PersonalText
    decided_on: date


class CaseForwarded(Event, type="assignment.CaseForwarded"):
    """转送: the matter belongs to another organ."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    organ: str
    reason: PersonalText
    decided_on: date


class DivertedToLegalProcedure(Event, type="assignment.DivertedToLegalProcedure"):
    """导入法定程序: the matter goes to litigation, arbitration, administrative review..."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    procedure: str
    reason: PersonalText
    decided_on: date


class AssignmentObjected(Event, type="assignment.AssignmentObjected"):
    """交办异议: a case assigned from above is returned with the unit's objection."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    reason: PersonalText
    objected_on: date


# -- who handles it --------------------------------------------------------------------------


class CaseAssigned(Event, type="assignment.CaseAssigned"):
    """交办: the responsible unit and officer. A reassignment keeps the previous ones."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    unit: str  # a bureau code or a city department code
    officer: str | None
    reason: PersonalText
    rule: str | None = None  # the routing rule that chose the unit, if one did
    previous_unit: str | None = None
    previous_officer: str | None = None


class LeaderOwnershipTaken(Event, type="assignment.LeaderOwnershipTaken"):
    """包案 (五个一): one leader, one team, one plan, to the end."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    leader_id: str
    leader_name: str
    team: tuple[str, ...]
    plan: PersonalText
    # 需党委研究: the intent only. The committee's decision is recorded as a decision of its own
    # (PartyCommitteeDecisionRecorded); events stored before that keep their flag.
    needs_party_committee: bool = False


class CommitteeBody(StrEnum):
    """Which party committee decided (党委研究): a closed list, so the ledger can count them."""

    PARTY_COMMITTEE_MEETING = "party_committee_meeting"  # 党委会
    CITY_BUREAU_COMMITTEE = "city_bureau_committee"  # 市局党委
    SUB_BUREAU_COMMITTEE = "sub_bureau_committee"  # 分局党委
    POLITICAL_LEGAL_COMMITTEE = "political_legal_committee"  # 政法委

    @property
    def zh(self) -> str:
        return {
            "party_committee_meeting": "党委会",
            "city_bureau_committee": "市局党委",
            "sub_bureau_committee": "分局党委",
            "political_legal_committee": "政法委",
        }[self.value]


class PartyCommitteeDecisionRecorded(Event, type="assignment.PartyCommitteeDecisionRecorded"):
    """党委研究决定: a party committee decided on a leader-owned case (包案), on a date; what it
    decided is free text, sealed like every act's."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    decided_on: date
    body: CommitteeBody
    content: PersonalText
    leader_id: str  # the leader owning the case when it was recorded


class ProgressRecorded(Event, type="assignment.ProgressRecorded"):
    """每周进展: one entry per open case per ISO week (``2026-W48``)."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    week: str
    note: PersonalText
    recorded_on: date


class CompletionReported(Event, type="assignment.CompletionReported"):
    """办结报告 from the responsible unit to the assigning one."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    summary: PersonalText
    reported_on: date


class CompletionAccepted(Event, type="assignment.CompletionAccepted"):
    subject_id: CaseTextSubject = None
    case_id: UUID
    note: PersonalText = ""


class CompletionSentBack(Event, type="assignment.CompletionSentBack"):
    """退回重办: the assigning unit is not satisfied with the completion report."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    reason: PersonalText


class ExtensionGranted(_Provisional, type="assignment.ExtensionGranted"):
    """延期: once, at most 30 days, approved by the unit head; the petitioner is told why."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    days: int
    reason: PersonalText
    approved_by: str
    handling_due: date  # the new deadline


class HearingStarted(Event, type="assignment.HearingStarted"):
    """听证. In re-review the clock stops (hearing time is not counted, Art. 36); in handling it
    keeps running (the handling period has no pause, Art. 34)."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    reason: PersonalText
    started_on: date


class HearingEnded(_Provisional, type="assignment.HearingEnded"):
    """The hearing is over. In re-review the clock runs again and the paused days move the
    re-review deadline. In handling nothing was paused: ``paused_days`` is 0 and ``due`` the
    handling deadline as it was. (Before issue 15 a handling hearing's days lengthened the
    handling deadline too; such an event still folds to the date it recorded, and a
    ``DeadlinesRecomputed`` corrects it.)"""

    case_id: UUID
    ended_on: date
    paused_days: int
    deadline: DeadlineKind
    due: date  # the running deadline after the pause


# -- the reply and after ---------------------------------------------------------------------


class ReplyIssued(_Provisional, type="assignment.ReplyIssued"):
    """信访处理意见书 issued: handling concluded (办结)."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    outcome: Outcome
    legal_basis: str
    summary: PersonalText
    replied_on: date
    on_time: bool
    review_request_until: date | None = None
    """Set only by events written before delivery was recorded (they counted the window from
    the reply): the window now runs from the delivery (``DeliveryRecorded``, Art. 35)."""


class SatisfactionRated(Event, type="assignment.SatisfactionRated"):
    case_id: UUID
    rating: Satisfaction
    rated_on: date


class ReviewRequested(_Provisional, type="assignment.ReviewRequested"):
    """复查 asked of the next-higher organ within 30 days of the reply (Art. 35)."""

    case_id: UUID
    requested_on: date
    organ: str
    review_due: date


class ReviewDecided(_Provisional, type="assignment.ReviewDecided"):
    subject_id: CaseTextSubject = None
    case_id: UUID
    decision: ReviewDecision
    outcome: Outcome
    summary: PersonalText
    decided_on: date
    re_review_request_until: date | None = None
    """Set only by events written before delivery was recorded; the window now runs from the
    decision's delivery (``DeliveryRecorded``, Art. 36)."""


class ReReviewRequested(_Provisional, type="assignment.ReReviewRequested"):
    """复核 within 30 days of the review decision (Art. 36)."""

    case_id: UUID
    requested_on: date
    organ: str
    re_review_due: date


class ReReviewDecided(Event, type="assignment.ReReviewDecided"):
    subject_id: CaseTextSubject = None
    case_id: UUID
    decision: ReviewDecision
    outcome: Outcome
    summary: PersonalText
    decided_on: date


class DeliveryMethod(StrEnum):
    """送达方式."""

    IN_PERSON = "in_person"  # 直接送达
    POST = "post"  # 邮寄送达 (with the tracking number)
    ELECTRONIC = "electronic"  # 电子送达

    @property
    def zh(self) -> str:
        return {"in_person": "直接送达", "post": "邮寄送达", "electronic": "电子送达"}[self.value]


class DeliveredDocument(StrEnum):
    """The written decisions whose delivery starts the petitioner's next window."""

    REPLY = "reply"  # 信访处理意见书 (Art. 35: review within 30 days of receiving it)
    REVIEW_DECISION = "review_decision"  # 复查意见书 (Art. 36: re-review within 30 days)
    RE_REVIEW_DECISION = "re_review_decision"  # 复核意见书 (final: no window)

    @property
    def zh(self) -> str:
        return {
            "reply": "信访处理意见书",
            "review_decision": "复查意见书",
            "re_review_decision": "复核意见书",
        }[self.value]


class DeliveryRecorded(_Provisional, type="assignment.DeliveryRecorded"):
    """送达: the petitioner received the written decision on ``delivered_on``; the window to
    ask the next organ (review after the reply, re-review after the review decision) runs from
    that day (自收到之日起, Arts. 35-36), not from the day the decision was signed."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    document: DeliveredDocument
    method: DeliveryMethod
    delivered_on: date
    tracking_number: str | None = None  # post only
    receipt: PersonalText = ""  # 送达回证 / 签收情况
    request_until: date | None = None  # the window it starts; none after the re-review


class CaseTerminated(Event, type="assignment.CaseTerminated"):
    """No further acceptance on the same facts (信访工作条例 Art. 36, after re-review)."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    reason: PersonalText


# -- the People's Congress -------------------------------------------------------------------


class CongressSupervisionStarted(Event, type="assignment.CongressSupervisionStarted"):
    """人大督办: the People's Congress supervises the case and expects a written report."""

    case_id: UUID
    document_number: str
    report_due: date | None = None


class CongressReportSent(Event, type="assignment.CongressReportSent"):
    """书面报告 back to the People's Congress on a referred or supervised case."""

    subject_id: CaseTextSubject = None
    case_id: UUID
    report: PersonalText
    sent_on: date


# -- time-driven ----------------------------------------------------------------------------


class DeadlineReminderSent(Event, type="assignment.DeadlineReminderSent"):
    """催办: 5 and 1 working days before a deadline."""

    case_id: UUID
    deadline: DeadlineKind
    due: date
    working_days_left: int
    unit: str
    officer: str | None


class SupervisionRaised(Event, type="assignment.SupervisionRaised"):
    """督办: a deadline passed unmet; names who answers for it."""

    case_id: UUID
    deadline: DeadlineKind
    due: date
    unit: str
    officer: str | None


# -- the work calendar changed ----------------------------------------------------------------


class DeadlineRedated(BaseModel):
    """One deadline of a case recomputed on a changed work calendar."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline: DatedDeadline
    old_due: date
    new_due: date
    provisional_before: bool
    provisional_after: bool
    calendar_files: tuple[str, ...]
    """The year files the new date rests on, each ``<name> sha256:<hex>`` (or ``<name>
    未配置 not configured`` for a year with no file)."""


class DeadlinesRecomputed(Event, type="assignment.DeadlinesRecomputed"):
    """A year's holiday arrangement was installed or changed, or the deadline rules were
    corrected (``rule_note``): the case's running deadlines that rested on them were
    recomputed. Appended only when a date or its provisional mark changed; reminders and
    supervision follow the new dates."""

    case_id: UUID
    changes: tuple[DeadlineRedated, ...]
    calendar_checksum: str  # of the whole calendar folder (WorkCalendar.checksum)
    recomputed_on: date
    calendar_note: str = ""  # why the deadlines still provisional after it are, zh / en
    # The deadline rules the new dates follow (assignment's DEADLINE_RULES_VERSION); events from
    # before issue 15 recomputed on a changed calendar only, under rules 1.
    rules_version: int = 1
    rule_note: str = ""  # a rule change behind the new dates, zh / en ("": the calendar's)
