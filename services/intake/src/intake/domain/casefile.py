"""A case as intake reads it back: who petitioned, what they raised, who handles it now and where
the statutory workflow stands. Folded from the whole case stream, intake's events and
assignment's alike (they share ``case-<id>``). Pure: no I/O.

Two readers use it: the dossier (people who handle the case read it in the clear) and the
petitioner's status lookup (what the petitioner may know, in plain words).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.eventstore import RecordedEvent
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages.case_state import CaseState as S
from petitions.messages.intake import CaseRegistered, PetitionerRecord, SubmissionReceived
from petitions.scope import CaseFacts


@dataclass(frozen=True)
class Submission:
    submission_id: UUID
    data: SubmissionReceived


@dataclass(frozen=True)
class CaseFile:
    """One case, folded. ``state`` uses assignment's state names."""

    case_id: UUID
    case_number: str
    bureau: str
    sub_bureau: str
    category: str
    category_kind: str
    first_receiver: str
    petitioners: tuple[PetitionerRecord, ...]
    accused_units: frozenset[str]
    accused_officers: frozenset[str]
    version: int
    submissions: tuple[Submission, ...] = ()
    state: str = S.REGISTERED
    before_hearing: str | None = None
    """The state a hearing interrupted: the petitioner is shown its phase meanwhile."""
    unit: str | None = None
    officer: str | None = None
    leader_id: str | None = None
    leader_name: str | None = None
    received_on: date | None = None
    acceptance_due: date | None = None
    accepted_on: date | None = None
    handling_due: date | None = None
    extended_days: int = 0
    closed_on: date | None = None
    replied_on: date | None = None
    outcome: str | None = None
    review_request_until: date | None = None
    review_requested_on: date | None = None
    review_due: date | None = None
    review_decided_on: date | None = None
    re_review_request_until: date | None = None
    re_review_requested_on: date | None = None
    re_review_due: date | None = None
    re_review_decided_on: date | None = None
    terminated: bool = False
    awaiting_delivery_of: str | None = None
    """The written decision issued and not recorded as delivered (its window has not
    started): ``reply``, ``review_decision`` or ``re_review_decision``."""
    acts: tuple[tuple[str, Any], ...] = ()
    """The latest event of each kind a written notice is made from (its type, the event):
    the notices quote the decision, its reason and legal basis as recorded."""

    def act(self, kind: type[Event]) -> Any:
        """The latest recorded event of this type, or None."""
        return next((e for t, e in reversed(self.acts) if t == kind.event_type), None)

    @property
    def handling_unit(self) -> str:
        """The unit answering for the case now: the assigned one, else the receiving bureau
        (assignment's own rule before its first assignment)."""
        return self.unit or self.bureau

    @property
    def facts(self) -> CaseFacts:
        """What the one scope rule (``petitions.scope``) decides on, Art. 30 included."""
        return CaseFacts(
            bureau=self.bureau,
            sub_bureau=self.sub_bureau,
            unit=self.unit,
            accused_units=tuple(self.accused_units),
            accused_officers=tuple(self.accused_officers),
        )


def evolve(state: CaseFile | None, event: RecordedEvent[Any]) -> CaseFile | None:
    data = event.data
    if isinstance(data, CaseRegistered):
        return CaseFile(
            case_id=data.case_id,
            case_number=data.case_number,
            bureau=data.bureau,
            sub_bureau=data.sub_bureau,
            category=data.category,
            category_kind=data.category_kind,
            first_receiver=data.responsible_officer,
            petitioners=data.petitioners,
            accused_units=frozenset(data.accused_units),
            accused_officers=frozenset(data.accused_officers),
            version=event.version,
        )
    if state is None:
        return None
    changes = _changes(state, data)
    if isinstance(data, _NOTICE_ACTS):
        changes["acts"] = (
            *(act for act in state.acts if act[0] != data.event_type),
            (data.event_type, data),
        )
    return replace(state, version=event.version, **changes)


# The acts a written notice is made from (intake.application.notices).
_NOTICE_ACTS: Final = (
    a.CaseAccepted,
    a.AcceptanceDeclined,
    a.CaseForwarded,
    a.CaseAssigned,
    a.ExtensionGranted,
    a.ReplyIssued,
    a.ReviewDecided,
    a.ReReviewDecided,
)


def fold(events: list[RecordedEvent[Any]]) -> CaseFile | None:
    state: CaseFile | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _changes(state: CaseFile, data: Any) -> dict[str, Any]:
    match data:
        case SubmissionReceived():
            return {"submissions": (*state.submissions, Submission(data.submission_id, data))}
        case a.WorkflowOpened():
            return {
                "state": S.AWAITING_ACCEPTANCE,
                "received_on": data.received_on,
                "acceptance_due": data.acceptance_due,
            }
        case a.CaseAccepted():
            return {
                "state": S.HANDLING,
                "accepted_on": data.accepted_on,
                "handling_due": data.handling_due,
            }
        case a.AcceptanceDeclined():
            return {"state": S.DECLINED, "closed_on": data.decided_on}
        case a.CaseForwarded():
            return {"state": S.FORWARDED, "closed_on": data.decided_on}
        case a.DivertedToLegalProcedure():
            return {"state": S.DIVERTED, "closed_on": data.decided_on}
        case a.AssignmentObjected():
            return {"state": S.OBJECTED, "closed_on": data.objected_on}
        case a.CaseAssigned():
            return {"unit": data.unit, "officer": data.officer}
        case a.LeaderOwnershipTaken():
            return {"leader_id": data.leader_id, "leader_name": data.leader_name}
        case a.CompletionReported():
            return {"state": S.COMPLETION_REPORTED}
        case a.CompletionAccepted():
            return {"state": S.COMPLETION_ACCEPTED}
        case a.CompletionSentBack():
            return {"state": S.HANDLING}
        case a.ExtensionGranted():
            return {"handling_due": data.handling_due, "extended_days": data.days}
        case a.HearingStarted():
            return {"state": S.HEARING, "before_hearing": state.state}
        case a.HearingEnded():
            due = {
                a.DeadlineKind.HANDLING: "handling_due",
                a.DeadlineKind.REVIEW: "review_due",
                a.DeadlineKind.RE_REVIEW: "re_review_due",
            }.get(data.deadline)
            return {"state": state.before_hearing or S.HANDLING, "before_hearing": None} | (
                {} if due is None else {due: data.due}
            )
        case a.DeadlinesRecomputed():
            # A changed calendar or corrected rule (a hearing no longer lengthens handling)
            # re-dates what the petitioner is shown, too.
            return {
                _REDATED[ch.deadline]: ch.new_due for ch in data.changes if ch.deadline in _REDATED
            }
        case a.ReplyIssued():
            return {
                "state": S.REPLIED,
                "replied_on": data.replied_on,
                "outcome": str(data.outcome),
                "review_request_until": data.review_request_until,
                # A reply written with its window (before deliveries were recorded) had it.
                "awaiting_delivery_of": None if data.review_request_until else "reply",
            }
        case a.DeliveryRecorded():
            window = {
                a.DeliveredDocument.REPLY: "review_request_until",
                a.DeliveredDocument.REVIEW_DECISION: "re_review_request_until",
            }.get(data.document)
            done = {"awaiting_delivery_of": None}
            if state.awaiting_delivery_of != str(data.document):
                done = {}
            return done | ({} if window is None else {window: data.request_until})
        case a.ReviewRequested():
            return {
                "state": S.UNDER_REVIEW,
                "review_requested_on": data.requested_on,
                "review_due": data.review_due,
            }
        case a.ReviewDecided():
            return {
                "state": S.REVIEWED,
                "outcome": str(data.outcome),
                "review_decided_on": data.decided_on,
                "re_review_request_until": data.re_review_request_until,
                "awaiting_delivery_of": None if data.re_review_request_until else "review_decision",
            }
        case a.ReReviewRequested():
            return {
                "state": S.UNDER_RE_REVIEW,
                "re_review_requested_on": data.requested_on,
                "re_review_due": data.re_review_due,
            }
        case a.ReReviewDecided():
            return {
                "state": S.RE_REVIEWED,
                "outcome": str(data.outcome),
                "re_review_decided_on": data.decided_on,
                "awaiting_delivery_of": "re_review_decision",
            }
        case a.CaseTerminated():
            return {"state": S.TERMINATED, "terminated": True}
        case _:
            return {}


SHANGHAI: Final = ZoneInfo("Asia/Shanghai")


# -- what the petitioner is told ------------------------------------------------------------

# Public phases: coarser than the workflow's states (a completion report or a hearing is the
# bureau's own business) and worded for the petitioner, in Chinese and English.
PHASES: Final[dict[str, tuple[str, str]]] = {
    "received": ("已收到，待决定是否受理", "received, awaiting the decision whether to accept it"),
    "handling": ("已受理，正在办理", "accepted and being handled"),
    "replied": ("已出具书面答复意见", "a written reply has been issued"),
    "under_review": ("复查中", "under review"),
    "reviewed": ("已作出复查意见", "the review decision has been issued"),
    "under_re_review": ("复核中", "under re-review"),
    "re_reviewed": ("已作出复核意见", "the re-review decision has been issued"),
    "terminated": ("已终结，同一事实不再受理", "terminated: the same matter is not accepted again"),
    "declined": ("不予受理", "not accepted"),
    "forwarded": ("已转送其他有权处理机关", "forwarded to the organ competent to handle it"),
    "diverted": ("已告知通过法定途径解决", "referred to the legal procedure that applies"),
    "returned": ("已退回交办机关", "returned to the organ that referred it"),
}

# Where a recomputed deadline lives in the case file: a changed calendar or a corrected rule
# re-dates what the petitioner is shown as well.
_REDATED: Final = {
    a.DatedDeadline.ACCEPTANCE: "acceptance_due",
    a.DatedDeadline.HANDLING: "handling_due",
    a.DatedDeadline.REVIEW_REQUEST: "review_request_until",
    a.DatedDeadline.REVIEW: "review_due",
    a.DatedDeadline.RE_REVIEW_REQUEST: "re_review_request_until",
    a.DatedDeadline.RE_REVIEW: "re_review_due",
}

_PHASE_OF_STATE: Final[dict[str, str]] = {
    S.REGISTERED: "received",
    S.AWAITING_ACCEPTANCE: "received",
    S.HANDLING: "handling",
    S.HEARING: "handling",
    S.COMPLETION_REPORTED: "handling",
    S.COMPLETION_ACCEPTED: "handling",
    S.OBJECTED: "returned",
}


def phase(case: CaseFile) -> str:
    # A hearing is the bureau's own business: the petitioner sees the period it is held in.
    state = case.before_hearing or S.HANDLING if case.state == S.HEARING else case.state
    return _PHASE_OF_STATE.get(state, state)


def public_status(case: CaseFile) -> dict[str, Any]:
    """What the petitioner may know of their case: dates and phases, no names, no personal data
    and nothing internal (units, officers, leaders, outcomes before they are told)."""
    name = phase(case)
    zh, en = PHASES[name]
    first = case.submissions[0].data.received_at if case.submissions else None
    accepted: bool | None = None
    if case.accepted_on is not None:
        accepted = True
    elif name in ("declined", "forwarded", "diverted", "returned"):
        accepted = False
    return {
        "case_number": case.case_number,
        "status": name,
        "status_zh": zh,
        "status_en": en,
        "submissions": len(case.submissions),
        "received_on": case.received_on or _local_date(first),
        "acceptance_due": case.acceptance_due if name == "received" else None,
        "accepted": accepted,
        "accepted_on": case.accepted_on,
        "decided_on": case.closed_on,
        "handling_due": case.handling_due if case.accepted_on is not None else None,
        "extended": case.extended_days > 0,
        "extended_days": case.extended_days,
        "replied_on": case.replied_on,
        "review_request_until": case.review_request_until if name == "replied" else None,
        "review_requested_on": case.review_requested_on,
        "review_due": case.review_due if name == "under_review" else None,
        "review_decided_on": case.review_decided_on,
        "re_review_request_until": case.re_review_request_until if name == "reviewed" else None,
        "re_review_requested_on": case.re_review_requested_on,
        "re_review_due": case.re_review_due if name == "under_re_review" else None,
        "re_review_decided_on": case.re_review_decided_on,
        "terminated": case.terminated,
    }


def _local_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(SHANGHAI).date()
