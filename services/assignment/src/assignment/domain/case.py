"""A case's workflow: its state folded from the case stream (``evolve``) and what a command or the
passing of time makes of it (``decide``, ``due_notices``). Pure: no I/O, no clock of its own.

Refusals are exceptions here, not events: a refused command writes nothing, and the caller is
told why (the state and what it allows, the role needed, the version it should have sent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from petitions.bureaus import BureauConfig, Dated, DepartmentRole, WorkCalendar
from petitions.identity import Principal, Role
from petitions.ids import keyed_event_id
from petitions.messages import Event
from petitions.messages.assignment import (
    AcceptanceDeclined,
    AssignmentObjected,
    CaseAccepted,
    CaseAssigned,
    CaseForwarded,
    CaseTerminated,
    CompletionAccepted,
    CompletionReported,
    CompletionSentBack,
    CongressReportSent,
    CongressSupervisionStarted,
    DatedDeadline,
    DeadlineKind,
    DeadlineRedated,
    DeadlineReminderSent,
    DeadlinesRecomputed,
    DeliveredDocument,
    DeliveryRecorded,
    DivertedToLegalProcedure,
    ExtensionGranted,
    HearingEnded,
    HearingStarted,
    LeaderOwnershipTaken,
    Outcome,
    ProgressRecorded,
    ReplyIssued,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
    SatisfactionRated,
    SupervisionRaised,
    WorkflowOpened,
)
from petitions.messages.case_state import CLOSED_STATES, CaseState
from petitions.messages.intake import CaseRegistered, Channel, SubmissionReceived
from petitions.scope import CaseFacts, normalise_parties, normalise_party

from assignment.domain import commands as c
from assignment.domain.deadlines import Deadlines
from assignment.domain.periods import (
    HANDLING_DAYS,
    REMINDER_WORKING_DAYS,
    REVIEW_DAYS,
    REVIEW_REQUEST_DAYS,
)

DEADLINE_RULES_VERSION = 2
"""The rules deadlines are computed by, beside the calendar: a running case is recomputed once
per (calendar, rules) pair. 1: a hearing paused the handling period too; 2 (issue 15): hearing
time is excluded only from the re-review period (Arts. 34, 36)."""
HEARING_RULE_NOTE = (
    "听证时间仅不计入复核期限，办理期限不因听证中止（《信访工作条例》第三十四条、第三十六条），"
    "原按听证顺延的办理期限予以更正 / hearing time is excluded only from the re-review period; "
    "the handling period has no pause (Arts. 34, 36): the handling deadline a hearing had "
    "lengthened is corrected"
)

# The states are the shared contract's (petitions.messages.case_state); the short names read
# better in the rules below.
REGISTERED = CaseState.REGISTERED
AWAITING_ACCEPTANCE = CaseState.AWAITING_ACCEPTANCE
HANDLING = CaseState.HANDLING
HEARING = CaseState.HEARING
COMPLETION_REPORTED = CaseState.COMPLETION_REPORTED
COMPLETION_ACCEPTED = CaseState.COMPLETION_ACCEPTED
REPLIED = CaseState.REPLIED
UNDER_REVIEW = CaseState.UNDER_REVIEW
REVIEWED = CaseState.REVIEWED
UNDER_RE_REVIEW = CaseState.UNDER_RE_REVIEW
RE_REVIEWED = CaseState.RE_REVIEWED
TERMINATED = CaseState.TERMINATED
DECLINED = CaseState.DECLINED
FORWARDED = CaseState.FORWARDED
DIVERTED = CaseState.DIVERTED
OBJECTED = CaseState.OBJECTED

STATE_LABELS: dict[str, str] = {state.value: state.description for state in CaseState} | {
    # What a hearing means for the clocks is this workflow's rule: the label says it.
    HEARING.value: f"{HEARING.description} (办理期限照常计算，复核期限不计听证时间 "
    "the handling deadline keeps running; hearing time is not counted in re-review)",
}
CLOSED = CLOSED_STATES
_CURRENT_DEADLINES: dict[str, frozenset[DatedDeadline]] = {
    AWAITING_ACCEPTANCE: frozenset({DatedDeadline.ACCEPTANCE, DatedDeadline.OBJECTION}),
    HANDLING: frozenset({DatedDeadline.HANDLING}),
    COMPLETION_REPORTED: frozenset({DatedDeadline.HANDLING}),
    COMPLETION_ACCEPTED: frozenset({DatedDeadline.HANDLING}),
    REPLIED: frozenset({DatedDeadline.REVIEW_REQUEST}),
    UNDER_REVIEW: frozenset({DatedDeadline.REVIEW}),
    REVIEWED: frozenset({DatedDeadline.RE_REVIEW_REQUEST}),
    UNDER_RE_REVIEW: frozenset({DatedDeadline.RE_REVIEW}),
}
OPEN_HANDLING = frozenset({HANDLING, HEARING, COMPLETION_REPORTED, COMPLETION_ACCEPTED})


class WorkflowError(Exception):
    """A command the workflow refuses; ``status`` is the HTTP status it maps to."""

    status = 409

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotAllowed(WorkflowError):
    """Not in this state (409): names the state and the commands it allows."""


class Forbidden(WorkflowError):
    """Not for this caller's role or unit (403)."""

    status = 403


class Invalid(WorkflowError):
    """The command's content is wrong for this case (422)."""

    status = 422


class StaleVersion(WorkflowError):
    """The caller saw an older version of the case (409): the current one is in details."""


@dataclass(frozen=True)
class Case:
    """What the workflow needs to know of a case, folded from its stream."""

    case_id: UUID
    case_number: str = ""
    bureau: str = ""
    sub_bureau: str = ""
    category: str = ""
    category_kind: str = ""
    first_receiver: str = ""
    version: int = 0
    state: str = REGISTERED
    received_on: date | None = None
    channel: Channel | None = None
    referral: bool = False
    congress: bool = False
    accused_units: frozenset[str] = frozenset()
    accused_officers: frozenset[str] = frozenset()
    unit: str | None = None
    officer: str | None = None
    leader_id: str | None = None
    acceptance_due: date | None = None
    objection_due: date | None = None
    accepted_on: date | None = None
    handling_due: date | None = None
    handling_end: date | None = None
    """The handling period's own last day, before a non-working day moves it (``handling_due``):
    60 days from acceptance plus an extension. Never a hearing's days (Art. 34 has no pause)."""
    extended: bool = False
    handling_hearing_days: int = 0
    """Days a hearing added to the recorded ``handling_due`` under the former rule (streams from
    before issue 15), until a ``DeadlinesRecomputed`` re-dates it: the reason it names."""
    hearing_since: date | None = None
    before_hearing: str | None = None
    replied_on: date | None = None
    outcome: Outcome | None = None
    review_request_until: date | None = None
    review_request_end: date | None = None
    review_due: date | None = None
    review_end: date | None = None
    re_review_request_until: date | None = None
    re_review_request_end: date | None = None
    re_review_due: date | None = None
    re_review_end: date | None = None
    """Likewise for the re-review period (its hearing time is not counted, Art. 36). Every
    ``*_end`` is a period's own last day: a changed calendar re-dates the deadline from it."""
    provisional: tuple[tuple[DatedDeadline, str], ...] = ()
    """The deadlines dated on a provisional or missing year, with the reason (zh / en)."""
    review_organ: str | None = None
    awaiting_delivery_of: DeliveredDocument | None = None
    """The written decision issued and not yet recorded as delivered: until it is, the
    petitioner's window to ask the next organ has not started (Arts. 35-36)."""
    review_decided_on: date | None = None
    re_review_decided_on: date | None = None
    reply_delivered_on: date | None = None
    review_decision_delivered_on: date | None = None
    re_review_decision_delivered_on: date | None = None
    progress_weeks: frozenset[str] = frozenset()
    congress_report_on: date | None = None
    congress_report_due: date | None = None
    notices: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)
    """(deadline, due ISO date, working days left; 0 = supervision) already raised."""

    @property
    def opened(self) -> bool:
        return self.state != REGISTERED

    @property
    def awaiting_delivery(self) -> bool:
        return self.awaiting_delivery_of is not None

    @property
    def is_accusation(self) -> bool:
        return self.category_kind == "accusation"

    def running_deadline(self) -> tuple[DeadlineKind, date] | None:
        """The statutory clock running now, if any. A hearing in re-review stops that clock
        (Art. 36); a hearing in handling does not (Art. 34): reminders and supervision go on."""
        if self.state == AWAITING_ACCEPTANCE and self.acceptance_due:
            return DeadlineKind.ACCEPTANCE, self.acceptance_due
        if self.in_handling and self.handling_due:
            return DeadlineKind.HANDLING, self.handling_due
        if self.state == UNDER_REVIEW and self.review_due:
            return DeadlineKind.REVIEW, self.review_due
        if self.state == UNDER_RE_REVIEW and self.re_review_due:
            return DeadlineKind.RE_REVIEW, self.re_review_due
        return None

    @property
    def in_handling(self) -> bool:
        """In the handling period, a hearing held during it included."""
        if self.state == HEARING:
            return self.before_hearing != UNDER_RE_REVIEW
        return self.state in (HANDLING, COMPLETION_REPORTED, COMPLETION_ACCEPTED)

    def running_deadlines(self) -> list[tuple[DeadlineKind, date]]:
        """Every clock running now: the statutory one, and the written report the People's
        Congress asked for by a date (it runs beside the handling, until the report is sent)."""
        running = self.running_deadline()
        clocks = [] if running is None else [running]
        if self.congress_report_due is not None and self.congress_report_on is None:
            clocks.append((DeadlineKind.CONGRESS_REPORT, self.congress_report_due))
        return clocks

    @property
    def facts(self) -> CaseFacts:
        """What the one scope rule (``petitions.scope``) decides visibility on, Art. 30
        included."""
        return CaseFacts(
            bureau=self.bureau,
            sub_bureau=self.sub_bureau,
            unit=self.unit,
            accused_units=self.accused_units,
            accused_officers=self.accused_officers,
        )

    def accuses(self, *parties: str | None) -> str | None:
        """The first of ``parties`` (unit codes, officer ids) this case accuses, compared
        normalised as the scope rule compares them (Art. 30)."""
        accused = set(normalise_parties((*self.accused_units, *self.accused_officers)))
        return next((p for p in parties if p and normalise_party(p) in accused), None)

    def provisional_marks(self) -> dict[DatedDeadline, str]:
        return dict(self.provisional)

    def provisional_now(self) -> list[DatedDeadline]:
        """The marked deadlines that still matter in the case's state (the lists, the warning):
        an acceptance deadline once the case is accepted no longer does."""
        state = self.before_hearing if self.state == HEARING else self.state
        current = _CURRENT_DEADLINES.get(state or "", frozenset())
        return [kind for kind, _ in self.provisional if kind in current]


def evolve(state: Case | None, event: Event, version: int) -> Case | None:
    """Fold one stored event of the case stream (intake's and assignment's) into the state."""
    if isinstance(event, CaseRegistered):
        return Case(
            case_id=event.case_id,
            case_number=event.case_number,
            bureau=event.bureau,
            sub_bureau=event.sub_bureau,
            category=event.category,
            category_kind=event.category_kind,
            first_receiver=event.responsible_officer,
            accused_units=frozenset(event.accused_units),
            accused_officers=frozenset(event.accused_officers),
            version=version,
        )
    if state is None:
        return None
    change = _CHANGES.get(type(event))
    changes: dict[str, Any] = {"version": version}
    if change is not None:
        changes |= change(state, event)
    return replace(state, **changes)


def _submission(s: Case, e: Any) -> dict[str, Any]:
    if s.received_on is not None:
        return {}
    assert isinstance(e, SubmissionReceived)
    return {"received_on": Deadlines.local_date(e.received_at), "channel": e.channel}


def _marked(s: Case, e: Any, *dated: DatedDeadline) -> dict[str, Any]:
    """The marks after an event that dated these deadlines: each is provisional now exactly
    when the event says so (an older event, with no such field, dated them on final years)."""
    marks = {k: v for k, v in s.provisional if k not in dated}
    for kind in e.provisional_deadlines:
        if kind in dated:
            marks[kind] = e.calendar_note
    return {"provisional": tuple(sorted(marks.items()))}


def _opened(s: Case, e: Any) -> dict[str, Any]:
    return {
        "state": AWAITING_ACCEPTANCE,
        "referral": e.referral,
        "congress": e.congress,
        "acceptance_due": e.acceptance_due,
        "objection_due": e.objection_due,
        "received_on": e.received_on,
        **_marked(s, e, DatedDeadline.ACCEPTANCE, DatedDeadline.OBJECTION),
    }


def _hearing_started(s: Case, e: Any) -> dict[str, Any]:
    return {"state": HEARING, "hearing_since": e.started_on, "before_hearing": s.state}


def _later(end: date | None, due: date | None, days: int) -> date | None:
    base = end or due
    return None if base is None else base + timedelta(days=days)


def _hearing_ended(s: Case, e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "state": s.before_hearing or HANDLING,
        "hearing_since": None,
        "before_hearing": None,
    }
    if e.deadline == DeadlineKind.HANDLING:
        # Since issue 15 a handling hearing pauses nothing (paused_days 0, the same due). An
        # older event's lengthened date stays what was recorded, but not the period's own last
        # day: ``recompute`` then re-dates the deadline with an event of its own.
        changes["handling_due"] = e.due
        changes["handling_hearing_days"] = s.handling_hearing_days + e.paused_days
    elif e.deadline == DeadlineKind.RE_REVIEW:
        changes["re_review_due"] = e.due
        changes["re_review_end"] = _later(s.re_review_end, s.re_review_due, e.paused_days)
    elif e.deadline == DeadlineKind.REVIEW:
        changes["review_due"] = e.due
        changes["review_end"] = _later(s.review_end, s.review_due, e.paused_days)
    return changes | _marked(s, e, DatedDeadline(str(e.deadline)))


# Where each recomputable deadline's date lives in the case.
_DUE_FIELD: dict[DatedDeadline, str] = {
    DatedDeadline.ACCEPTANCE: "acceptance_due",
    DatedDeadline.OBJECTION: "objection_due",
    DatedDeadline.HANDLING: "handling_due",
    DatedDeadline.REVIEW_REQUEST: "review_request_until",
    DatedDeadline.REVIEW: "review_due",
    DatedDeadline.RE_REVIEW_REQUEST: "re_review_request_until",
    DatedDeadline.RE_REVIEW: "re_review_due",
}


def _recomputed(s: Case, e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {_DUE_FIELD[c.deadline]: c.new_due for c in e.changes}
    if any(c.deadline == DatedDeadline.HANDLING for c in e.changes):
        changes["handling_hearing_days"] = 0
    marks = {k: v for k, v in s.provisional if k not in {c.deadline for c in e.changes}}
    for change in e.changes:
        if change.provisional_after:
            marks[change.deadline] = e.calendar_note
    return changes | {"provisional": tuple(sorted(marks.items()))}


def _notice(s: Case, e: Any) -> dict[str, Any]:
    left = e.working_days_left if isinstance(e, DeadlineReminderSent) else 0
    return {"notices": s.notices | {(str(e.deadline), e.due.isoformat(), left)}}


def _replied(s: Case, e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {"state": REPLIED, "replied_on": e.replied_on, "outcome": e.outcome}
    if e.review_request_until is None:
        # The window runs from the day the petitioner receives the reply (Art. 35): not yet.
        return changes | {
            "review_request_until": None,
            "review_request_end": None,
            "awaiting_delivery_of": DeliveredDocument.REPLY,
        }
    # An event written before deliveries were recorded counted the window from the reply
    # itself: its case keeps the window it was given.
    return changes | {
        "review_request_until": e.review_request_until,
        "review_request_end": e.replied_on + timedelta(days=REVIEW_REQUEST_DAYS),
        **_marked(s, e, DatedDeadline.REVIEW_REQUEST),
    }


def _review_decided(s: Case, e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "state": REVIEWED,
        "outcome": e.outcome,
        "review_decided_on": e.decided_on,
    }
    if e.re_review_request_until is None:
        return changes | {
            "re_review_request_until": None,
            "re_review_request_end": None,
            "awaiting_delivery_of": DeliveredDocument.REVIEW_DECISION,
        }
    return changes | {  # legacy: the window counted from the decision (see _replied)
        "re_review_request_until": e.re_review_request_until,
        "re_review_request_end": e.decided_on + timedelta(days=REVIEW_REQUEST_DAYS),
        **_marked(s, e, DatedDeadline.RE_REVIEW_REQUEST),
    }


def _delivered(s: Case, e: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if s.awaiting_delivery_of == e.document:
        changes["awaiting_delivery_of"] = None
    end = e.delivered_on + timedelta(days=REVIEW_REQUEST_DAYS)
    if e.document == DeliveredDocument.REPLY:
        return changes | {
            "reply_delivered_on": e.delivered_on,
            "review_request_until": e.request_until,
            "review_request_end": end,
            **_marked(s, e, DatedDeadline.REVIEW_REQUEST),
        }
    if e.document == DeliveredDocument.REVIEW_DECISION:
        return changes | {
            "review_decision_delivered_on": e.delivered_on,
            "re_review_request_until": e.request_until,
            "re_review_request_end": end,
            **_marked(s, e, DatedDeadline.RE_REVIEW_REQUEST),
        }
    return changes | {"re_review_decision_delivered_on": e.delivered_on}


_CHANGES: dict[type[Event], Callable[[Case, Any], dict[str, Any]]] = {
    SubmissionReceived: _submission,
    WorkflowOpened: _opened,
    CaseAssigned: lambda s, e: {"unit": e.unit, "officer": e.officer},
    CaseAccepted: lambda s, e: {
        "state": HANDLING,
        "accepted_on": e.accepted_on,
        "handling_due": e.handling_due,
        "handling_end": e.accepted_on + timedelta(days=HANDLING_DAYS),
        **_marked(s, e, DatedDeadline.HANDLING),
    },
    AcceptanceDeclined: lambda s, e: {"state": DECLINED},
    CaseForwarded: lambda s, e: {"state": FORWARDED},
    DivertedToLegalProcedure: lambda s, e: {"state": DIVERTED},
    AssignmentObjected: lambda s, e: {"state": OBJECTED},
    LeaderOwnershipTaken: lambda s, e: {"leader_id": e.leader_id},
    ProgressRecorded: lambda s, e: {"progress_weeks": s.progress_weeks | {e.week}},
    CompletionReported: lambda s, e: {"state": COMPLETION_REPORTED},
    CompletionAccepted: lambda s, e: {"state": COMPLETION_ACCEPTED},
    CompletionSentBack: lambda s, e: {"state": HANDLING},
    # At most 30 days more for the period itself (60 + 30 from acceptance): the
    # days a holiday moved the old last day by are not a bonus on top of the extension.
    ExtensionGranted: lambda s, e: {
        "extended": True,
        "handling_due": e.handling_due,
        "handling_end": _later(s.handling_end, s.handling_due, e.days),
        **_marked(s, e, DatedDeadline.HANDLING),
    },
    HearingStarted: _hearing_started,
    HearingEnded: _hearing_ended,
    ReplyIssued: _replied,
    ReviewRequested: lambda s, e: {
        "state": UNDER_REVIEW,
        "review_due": e.review_due,
        "review_end": e.requested_on + timedelta(days=REVIEW_DAYS),
        "review_organ": e.organ,
        **_marked(s, e, DatedDeadline.REVIEW),
    },
    ReviewDecided: _review_decided,
    ReReviewRequested: lambda s, e: {
        "state": UNDER_RE_REVIEW,
        "re_review_due": e.re_review_due,
        "re_review_end": e.requested_on + timedelta(days=REVIEW_DAYS),
        "review_organ": e.organ,
        **_marked(s, e, DatedDeadline.RE_REVIEW),
    },
    ReReviewDecided: lambda s, e: {
        "state": RE_REVIEWED,
        "outcome": e.outcome,
        "re_review_decided_on": e.decided_on,
        "awaiting_delivery_of": DeliveredDocument.RE_REVIEW_DECISION,
    },
    DeliveryRecorded: _delivered,
    CaseTerminated: lambda s, e: {"state": TERMINATED},
    CongressSupervisionStarted: lambda s, e: {
        "congress": True,
        "congress_report_due": e.report_due or s.congress_report_due,
    },
    CongressReportSent: lambda s, e: {"congress_report_on": e.sent_on},
    DeadlineReminderSent: _notice,
    SupervisionRaised: _notice,
    DeadlinesRecomputed: _recomputed,
}


# -- who may do what, in which state ---------------------------------------------------------

_OFFICE = (Role.PETITION_OFFICE,)
_HANDLING_STAFF = (Role.HANDLER, Role.SUB_BUREAU_HEAD, Role.PETITION_OFFICE)
_ANY_STAFF = (*_HANDLING_STAFF, Role.LEADER, Role.REGISTRAR)


@dataclass(frozen=True)
class Rule:
    states: frozenset[str]
    roles: tuple[Role, ...]


def _rule(states: Sequence[str] | frozenset[str], roles: Sequence[Role]) -> Rule:
    return Rule(frozenset(states), tuple(roles))


_AFTER_REPLY = (REPLIED, UNDER_REVIEW, REVIEWED, UNDER_RE_REVIEW, RE_REVIEWED, TERMINATED)
_NOT_CLOSED = frozenset(STATE_LABELS) - CLOSED - {REGISTERED}

RULES: dict[type[c.Command], Rule] = {
    c.Accept: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Decline: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Forward: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Divert: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Object: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    # 只有信访科交办 only the petition office assigns.
    c.Assign: _rule([AWAITING_ACCEPTANCE, HANDLING, HEARING, COMPLETION_REPORTED], _OFFICE),
    c.TakeOwnership: _rule(_NOT_CLOSED - {RE_REVIEWED}, (Role.LEADER, Role.PETITION_OFFICE)),
    c.RecordProgress: _rule(OPEN_HANDLING, _HANDLING_STAFF),
    c.ReportCompletion: _rule([HANDLING], (Role.HANDLER, Role.SUB_BUREAU_HEAD)),
    c.AcceptCompletion: _rule([COMPLETION_REPORTED], _OFFICE),
    c.SendBack: _rule([COMPLETION_REPORTED], _OFFICE),
    # 延期须经本单位负责人批准 only the unit head approves an extension.
    # A hearing in handling does not stop its clock, so the unit head may extend during it.
    c.GrantExtension: _rule(
        [HANDLING, HEARING, COMPLETION_REPORTED, COMPLETION_ACCEPTED],
        (Role.SUB_BUREAU_HEAD, Role.LEADER),
    ),
    c.StartHearing: _rule([HANDLING, UNDER_RE_REVIEW], _HANDLING_STAFF),
    c.EndHearing: _rule([HEARING], _HANDLING_STAFF),
    c.IssueReply: _rule([COMPLETION_ACCEPTED], _HANDLING_STAFF),
    c.RateSatisfaction: _rule(_AFTER_REPLY, (Role.PETITION_OFFICE, Role.REGISTRAR)),
    # Whoever hands over or posts the decision records it: often the handling unit delivers
    # the city's review decision too, so any handling role within the case's scope may.
    c.RecordDelivery: _rule(
        [REPLIED, REVIEWED, RE_REVIEWED, TERMINATED], (*_HANDLING_STAFF, Role.REGISTRAR)
    ),
    c.RequestReview: _rule([REPLIED], (Role.PETITION_OFFICE, Role.REGISTRAR)),
    c.DecideReview: _rule([UNDER_REVIEW], (Role.PETITION_OFFICE, Role.LEADER)),
    c.RequestReReview: _rule([REVIEWED], (Role.PETITION_OFFICE, Role.REGISTRAR)),
    c.DecideReReview: _rule([UNDER_RE_REVIEW], (Role.PETITION_OFFICE, Role.LEADER)),
    c.StartCongressSupervision: _rule(_NOT_CLOSED, _OFFICE),
    c.SendCongressReport: _rule(_NOT_CLOSED | CLOSED, _OFFICE),
}


def _role_ok(principal: Principal, rule: Rule) -> bool:
    # Importing history replays acts that others did: the import role may give any command.
    return principal.role in rule.roles or principal.role is Role.IMPORTER


def _applies(case: Case, command: type[c.Command], today: date | None = None) -> bool:
    """Whether a command the state allows can apply to this case at all: the one extension is
    granted once and before the deadline; only a referral is objected to, within its window;
    only a People's Congress case is reported on; a review is asked for within 30 days."""
    if command is c.GrantExtension:
        return case.in_handling and not case.extended and not _past(today, case.handling_due)
    if command is c.Object:
        return case.referral and not _past(today, case.objection_due)
    if command is c.SendCongressReport:
        return case.congress
    if command is c.RequestReview:
        return case.review_request_until is not None and not _past(today, case.review_request_until)
    if command is c.RequestReReview:
        return case.re_review_request_until is not None and not _past(
            today, case.re_review_request_until
        )
    if command is c.RecordDelivery:
        return case.awaiting_delivery
    if command is c.StartHearing:
        # Only the re-review clock stops for a hearing, and one that has run out stays missed.
        return case.state != UNDER_RE_REVIEW or not _past(today, case.re_review_due)
    return True


def _past(today: date | None, until: date | None) -> bool:
    return today is not None and until is not None and today > until


def allowed_commands(
    case: Case, principal: Principal | None = None, today: date | None = None
) -> list[str]:
    """The commands the case's state allows (given a caller: that their role may give; given a
    day: whose windows are still open on it)."""
    return [
        command.name
        for command, rule in RULES.items()
        if case.state in rule.states
        and _applies(case, command, today)
        and (principal is None or _role_ok(principal, rule))
    ]


def check(case: Case | None, command: c.Command, principal: Principal) -> Case:
    """Version, state and role: the same for every command."""
    if case is None or not case.opened:
        raise NotAllowed(
            "case_not_ready",
            "案件尚未进入办理流程（登记后由消息送达，通常数秒内），请稍后重试 / the case has not "
            "reached the workflow yet (it arrives from intake within seconds); try again shortly",
            state=REGISTERED if case else None,
            allowed=[],
        )
    if command.expected_version is not None and command.expected_version != case.version:
        raise StaleVersion(
            "stale_version",
            f"案件已被他人更新（当前版本 {case.version}，您提交的是 {command.expected_version}），"
            f"请刷新后重试 / the case changed since you loaded it (now version {case.version}, "
            f"you sent {command.expected_version}): reload and try again",
            current_version=case.version,
        )
    rule = RULES[type(command)]
    # The role first: someone who may never give this command is told so, not sent to
    # commands they could not give either.
    if not _role_ok(principal, rule):
        roles = ", ".join(rule.roles)
        raise Forbidden(
            "role_forbidden",
            f"「{command.title}」需要以下角色之一：{'、'.join(r.label for r in rule.roles)}；"
            f"您的角色是{principal.role.label} / '{command.name}' needs one of: {roles}",
            required_roles=list(rule.roles),
        )
    if case.state not in rule.states:
        allowed = allowed_commands(case, principal)
        raise NotAllowed(
            "not_allowed_in_state",
            f"案件当前状态为「{STATE_LABELS[case.state]}」，不能执行「{command.title}」；"
            f"可执行：{', '.join(allowed) or '无 none'} / "
            f"'{command.name}' is not allowed while the case is {case.state}",
            state=case.state,
            allowed=allowed,
        )
    return case


@dataclass(frozen=True)
class Context:
    """What a decision may consult besides the case: the caller, the day, the configuration."""

    principal: Principal
    today: date
    config: BureauConfig
    deadlines: Deadlines


def decide(case: Case | None, command: c.Command, ctx: Context) -> list[Event]:
    """The events a command produces on this case, or a refusal."""
    case = check(case, command, ctx.principal)
    if case.received_on is not None and ctx.today < case.received_on:
        # Only an import can date an act; it cannot come before the matter was received.
        raise Invalid(
            "before_receipt",
            f"办理行为的日期 {ctx.today} 早于收到信访的日期 {case.received_on} / the act is dated "
            f"{ctx.today}, before the petition was received on {case.received_on}",
        )
    _check_unit(case, command, ctx)
    handler = _DECIDERS[type(command)]
    return handler(case, command, ctx)


# Which unit a command belongs to. Seeing a case (its sub-bureau, its receiving bureau or its
# handling unit) is not enough to act on it: the receiving bureau decides on acceptance and
# assigns; the handling unit handles (and only its head extends); the next-higher organ reviews.
_RECEIVING_BUREAU = frozenset(
    {
        c.Accept,
        c.Decline,
        c.Forward,
        c.Divert,
        c.Object,
        c.Assign,
        c.AcceptCompletion,
        c.SendBack,
        c.RateSatisfaction,
        c.RequestReview,
        c.RequestReReview,
        c.StartCongressSupervision,
        c.SendCongressReport,
    }
)
_HANDLING_UNIT = frozenset(
    {
        c.RecordProgress,
        c.ReportCompletion,
        c.GrantExtension,
        c.StartHearing,
        c.EndHearing,
        c.IssueReply,
    }
)
_REVIEWING_ORGAN = frozenset({c.DecideReview, c.DecideReReview})


def unit_bureau(config: BureauConfig, unit: str) -> str:
    """The bureau a unit belongs to: itself, or the city for a city department."""
    return unit if config.is_bureau(unit) else config.city.code


def _covers(ctx: Context, bureau: str) -> bool:
    return ctx.config.is_bureau(ctx.principal.bureau) and ctx.config.covers(
        ctx.principal.bureau, bureau
    )


def _check_unit(case: Case, command: c.Command, ctx: Context) -> None:
    if ctx.principal.role is Role.IMPORTER:
        return  # replaying what each unit did, in its name
    kind = type(command)
    if kind in _RECEIVING_BUREAU and not _covers(ctx, case.bureau):
        raise Forbidden(
            "not_your_unit",
            f"「{command.title}」由受理单位 {ctx.config.unit_name(case.bureau)} 或其上级办理 / "
            f"'{command.name}' belongs to the receiving bureau {case.bureau} or a bureau above it",
        )
    if kind in _HANDLING_UNIT:
        unit = unit_bureau(ctx.config, case.unit or case.bureau)
        if not _covers(ctx, unit):
            name = ctx.config.unit_name(case.unit or case.bureau)
            raise Forbidden(
                "not_your_unit",
                f"「{command.title}」由责任单位 {name} 或其上级办理 / '{command.name}' belongs "
                f"to the responsible unit {case.unit or case.bureau} or a bureau above it",
            )
    # A sub-bureau's case is reviewed by the city; the city also records the province's
    # decisions (re-review, and review of its own cases).
    if kind in _REVIEWING_ORGAN and ctx.principal.bureau != ctx.config.city.code:
        raise Forbidden(
            "not_the_reviewing_organ",
            "复查、复核由上一级机关决定，请由市局录入 / review and re-review are decided by "
            "the next-higher organ: the city bureau records them",
        )
    if isinstance(command, c.Assign) and not _covers(ctx, unit_bureau(ctx.config, command.unit)):
        raise Forbidden(
            "unit_out_of_scope",
            f"不能交办给本单位范围以外的单位 {command.unit} / you can only assign within your "
            f"own bureau's scope, not to {command.unit}",
        )


def _accept(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    handling = ctx.deadlines.handling(ctx.today)
    return [
        CaseAccepted(
            case_id=case.case_id,
            accepted_on=ctx.today,
            handling_due=handling.due,
            notice=cmd.notice,
            **ctx.deadlines.marks({DatedDeadline.HANDLING: handling}),
        )
    ]


def _decline(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [AcceptanceDeclined(case_id=case.case_id, reason=cmd.reason, decided_on=ctx.today)]


def _forward(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        CaseForwarded(
            case_id=case.case_id, organ=cmd.organ, reason=cmd.reason, decided_on=ctx.today
        )
    ]


def _divert(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        DivertedToLegalProcedure(
            case_id=case.case_id, procedure=cmd.procedure, reason=cmd.reason, decided_on=ctx.today
        )
    ]


def _object(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.referral or case.objection_due is None:
        raise NotAllowed(
            "not_a_referral",
            "只有上级交办、转办的案件可以提出异议 / only a case assigned from above can be "
            "objected to",
            state=case.state,
            allowed=allowed_commands(case),
        )
    if ctx.today > case.objection_due:
        raise NotAllowed(
            "objection_window_closed",
            f"异议期限（收到后5个工作日，至 {case.objection_due}）已过 / the 5-working-day "
            f"window to object closed on {case.objection_due}",
            state=case.state,
            allowed=allowed_commands(case),
        )
    return [AssignmentObjected(case_id=case.case_id, reason=cmd.reason, objected_on=ctx.today)]


def _assign(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not ctx.config.is_unit(cmd.unit):
        raise Invalid("unknown_unit", f"未知单位代码 / unknown unit code {cmd.unit!r}")
    if case.accuses(cmd.unit, cmd.officer):
        raise Invalid(
            "accused_party",
            "检举控告件不得交由被检举控告的单位或人员办理（《信访工作条例》第三十条）/ an "
            "accusation is never assigned to the unit or person it accuses (Art. 30)",
        )
    if cmd.unit == case.unit and cmd.officer == case.officer:
        raise Invalid("same_assignment", "已是当前责任单位和承办人 / already assigned so")
    return [
        CaseAssigned(
            case_id=case.case_id,
            unit=cmd.unit,
            officer=cmd.officer,
            reason=cmd.reason,
            previous_unit=case.unit,
            previous_officer=case.officer,
        )
    ]


def _own(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    try:
        leader = ctx.config.leader(cmd.leader_id)
    except LookupError:
        raise Invalid(
            "unknown_leader", f"未知局领导编号 / unknown leader id {cmd.leader_id!r}"
        ) from None
    accused = case.accuses(leader.id, leader.name, *cmd.team)
    if accused:
        raise Invalid(
            "accused_party",
            "被检举控告的人员不得包案或参加专班（《信访工作条例》第三十条）/ a person the "
            f"accusation names cannot own the case or join its team (Art. 30): {accused}",
        )
    return [
        LeaderOwnershipTaken(
            case_id=case.case_id,
            leader_id=leader.id,
            leader_name=leader.name,
            team=tuple(cmd.team),
            plan=cmd.plan,
            needs_party_committee=cmd.needs_party_committee,
        )
    ]


def _progress(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        ProgressRecorded(
            case_id=case.case_id,
            week=Deadlines.iso_week(ctx.today),
            note=cmd.note,
            recorded_on=ctx.today,
        )
    ]


def _report(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionReported(case_id=case.case_id, summary=cmd.summary, reported_on=ctx.today)]


def _accept_completion(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionAccepted(case_id=case.case_id, note=cmd.note)]


def _send_back(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionSentBack(case_id=case.case_id, reason=cmd.reason)]


def _extend(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.in_handling:
        # A hearing in re-review: the handling period, the only one extended, is over.
        raise NotAllowed(
            "not_in_handling",
            "复核阶段的听证中不能延长办理期限 / a hearing in re-review: there is no handling "
            "period to extend",
            state=case.state,
            allowed=allowed_commands(case),
        )
    if case.extended:
        raise NotAllowed(
            "extension_already_granted",
            "办理期限只能延长一次（《信访工作条例》第三十四条）/ the handling period may be "
            "extended only once (Art. 34)",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.GrantExtension.name],
        )
    assert case.handling_due is not None
    if ctx.today > case.handling_due:
        raise NotAllowed(
            "deadline_passed",
            f"办理期限已于 {case.handling_due} 届满，不能再延期 / the handling deadline passed on "
            f"{case.handling_due}: it can no longer be extended",
            state=case.state,
            allowed=allowed_commands(case),
        )
    handling = ctx.deadlines.extended(case.handling_end or case.handling_due, cmd.days)
    return [
        ExtensionGranted(
            case_id=case.case_id,
            days=cmd.days,
            reason=cmd.reason,
            approved_by=ctx.principal.user,
            handling_due=handling.due,
            **ctx.deadlines.marks({DatedDeadline.HANDLING: handling}),
        )
    ]


def _start_hearing(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # In handling a hearing stops nothing (Art. 34), so it may be held even after the deadline:
    # the case stays overdue and supervised. In re-review hearing time is not counted (Art. 36),
    # but a period that has already run out stays missed.
    due = case.re_review_due
    if case.state == UNDER_RE_REVIEW and due is not None and ctx.today > due:
        raise NotAllowed(
            "deadline_passed",
            f"复核期限已于 {due} 届满，不能再以听证停止计时 / the re-review deadline passed on "
            f"{due}: a hearing can no longer stop the clock",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.StartHearing.name],
        )
    return [HearingStarted(case_id=case.case_id, reason=cmd.reason, started_on=ctx.today)]


def _end_hearing(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    assert case.hearing_since is not None
    paused = (ctx.today - case.hearing_since).days
    if paused < 0:
        raise Invalid(
            "before_hearing_started",
            f"听证结束日早于开始日 {case.hearing_since} / the hearing cannot end before it "
            f"started on {case.hearing_since}",
        )
    if case.before_hearing == UNDER_RE_REVIEW:
        kind, due, end = DeadlineKind.RE_REVIEW, case.re_review_due, case.re_review_end
    else:
        # The handling period has no pause (Art. 34): the hearing's days change no deadline.
        kind, due, end = DeadlineKind.HANDLING, case.handling_due, case.handling_end
        paused = 0
    assert due is not None
    # The re-review's paused days lengthen the period itself: they are added to its own last
    # day, which then moves to a working day again (not to the already moved deadline).
    dated = (
        ctx.deadlines.extended(end or due, paused)
        if paused
        else Dated(due, ctx.deadlines.calendar.provisional_years(end or due, due))
    )
    return [
        HearingEnded(
            case_id=case.case_id,
            ended_on=ctx.today,
            paused_days=paused,
            deadline=kind,
            due=dated.due,
            **ctx.deadlines.marks({DatedDeadline(str(kind)): dated}),
        )
    ]


def _reply(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # No review window yet: it runs from the reply's delivery (DeliveryRecorded, Art. 35).
    assert case.handling_due is not None
    return [
        ReplyIssued(
            case_id=case.case_id,
            outcome=cmd.outcome,
            legal_basis=cmd.legal_basis,
            summary=cmd.summary,
            replied_on=ctx.today,
            on_time=ctx.today <= case.handling_due,
        )
    ]


def _rate(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [SatisfactionRated(case_id=case.case_id, rating=cmd.rating, rated_on=ctx.today)]


def _window_closed(case: Case, until: date | None, what: str) -> NotAllowed:
    if until is None:
        document = case.awaiting_delivery_of or DeliveredDocument.REPLY
        zh, en = what.split(" ", 1)
        return NotAllowed(
            "awaiting_delivery",
            f"{document.zh}尚未登记送达，{zh}申请期限（自收到之日起30日）尚未起算 / the "
            f"{document} has not been recorded as delivered: the 30-day window to ask for "
            f"{en} starts only when the petitioner receives it",
            state=case.state,
            awaiting_delivery=str(document),
            allowed=allowed_commands(case),
        )
    return NotAllowed(
        "request_window_closed",
        f"{what}申请期限（30日）已于 {until} 届满 / the 30-day window to ask for {what} "
        f"closed on {until}",
        state=case.state,
        allowed=allowed_commands(case),
    )


def _higher_organ(case: Case, ctx: Context) -> str:
    if case.bureau == ctx.config.city.code:
        return "省公安厅 provincial public security department"
    return ctx.config.city.name


def _request_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if case.review_request_until is None or ctx.today > case.review_request_until:
        raise _window_closed(case, case.review_request_until, "复查 review")
    review = ctx.deadlines.window(ctx.today)
    return [
        ReviewRequested(
            case_id=case.case_id,
            requested_on=ctx.today,
            organ=cmd.organ or _higher_organ(case, ctx),
            review_due=review.due,
            **ctx.deadlines.marks({DatedDeadline.REVIEW: review}),
        )
    ]


def _decide_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # The re-review window runs from the decision's delivery (DeliveryRecorded, Art. 36).
    return [
        ReviewDecided(
            case_id=case.case_id,
            decision=cmd.decision,
            outcome=cmd.outcome,
            summary=cmd.summary,
            decided_on=ctx.today,
        )
    ]


def _request_re_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if case.re_review_request_until is None or ctx.today > case.re_review_request_until:
        raise _window_closed(case, case.re_review_request_until, "复核 re-review")
    re_review = ctx.deadlines.window(ctx.today)
    return [
        ReReviewRequested(
            case_id=case.case_id,
            requested_on=ctx.today,
            organ=cmd.organ or "省公安厅 provincial public security department",
            re_review_due=re_review.due,
            **ctx.deadlines.marks({DatedDeadline.RE_REVIEW: re_review}),
        )
    ]


def _decide_re_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        ReReviewDecided(
            case_id=case.case_id,
            decision=cmd.decision,
            outcome=cmd.outcome,
            summary=cmd.summary,
            decided_on=ctx.today,
        ),
        CaseTerminated(
            case_id=case.case_id,
            reason="复核终结，同一事实不再受理（《信访工作条例》第三十六条）/ terminated after "
            "re-review (Art. 36)",
        ),
    ]


def _issued_on(case: Case, document: DeliveredDocument) -> date | None:
    return {
        DeliveredDocument.REPLY: case.replied_on,
        DeliveredDocument.REVIEW_DECISION: case.review_decided_on,
        DeliveredDocument.RE_REVIEW_DECISION: case.re_review_decided_on,
    }[document]


def _record_delivery(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    waiting = case.awaiting_delivery_of
    document = cmd.document or waiting
    if waiting is None or document != waiting:
        shown = waiting.zh if waiting else "无 none"
        raise NotAllowed(
            "nothing_to_deliver" if waiting is None else "wrong_document",
            f"待送达的文书为：{shown}，不能登记{DeliveredDocument(document).zh if document else ''}"
            f"送达 / the document awaiting delivery is {waiting or 'none'}, not {document}",
            state=case.state,
            awaiting_delivery=None if waiting is None else str(waiting),
            allowed=[n for n in allowed_commands(case) if n != c.RecordDelivery.name],
        )
    delivered_on = cmd.delivered_on or ctx.today
    if delivered_on > ctx.today:
        raise Invalid(
            "delivered_in_future",
            f"送达日期 {delivered_on} 在将来（今天是 {ctx.today}）/ delivered_on {delivered_on} "
            f"is after today {ctx.today}",
            field="delivered_on",
        )
    issued = _issued_on(case, document)
    if issued is not None and delivered_on < issued:
        raise Invalid(
            "delivered_before_issued",
            f"送达日期 {delivered_on} 早于{document.zh}的出具日期 {issued} / delivered_on "
            f"{delivered_on} is before the {document} was issued on {issued}",
            field="delivered_on",
        )
    window = (
        None
        if document is DeliveredDocument.RE_REVIEW_DECISION
        else ctx.deadlines.request_window(delivered_on)
    )
    kind = {
        DeliveredDocument.REPLY: DatedDeadline.REVIEW_REQUEST,
        DeliveredDocument.REVIEW_DECISION: DatedDeadline.RE_REVIEW_REQUEST,
    }.get(document)
    return [
        DeliveryRecorded(
            case_id=case.case_id,
            document=document,
            method=cmd.method,
            delivered_on=delivered_on,
            tracking_number=cmd.tracking_number,
            receipt=cmd.receipt,
            request_until=None if window is None else window.due,
            **ctx.deadlines.marks({} if kind is None else {kind: window}),
        )
    ]


def _congress_supervise(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        CongressSupervisionStarted(
            case_id=case.case_id, document_number=cmd.document_number, report_due=cmd.report_due
        )
    ]


def _congress_report(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.congress:
        raise NotAllowed(
            "not_a_congress_case",
            "只有人大交办或督办的案件需要书面报告 / only a case referred or supervised by the "
            "People's Congress takes a written report",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.SendCongressReport.name],
        )
    return [CongressReportSent(case_id=case.case_id, report=cmd.report, sent_on=ctx.today)]


_DECIDERS: dict[type[c.Command], Callable[[Case, Any, Context], list[Event]]] = {
    c.Accept: _accept,
    c.Decline: _decline,
    c.Forward: _forward,
    c.Divert: _divert,
    c.Object: _object,
    c.Assign: _assign,
    c.TakeOwnership: _own,
    c.RecordProgress: _progress,
    c.ReportCompletion: _report,
    c.AcceptCompletion: _accept_completion,
    c.SendBack: _send_back,
    c.GrantExtension: _extend,
    c.StartHearing: _start_hearing,
    c.EndHearing: _end_hearing,
    c.IssueReply: _reply,
    c.RateSatisfaction: _rate,
    c.RequestReview: _request_review,
    c.DecideReview: _decide_review,
    c.RequestReReview: _request_re_review,
    c.DecideReReview: _decide_re_review,
    c.RecordDelivery: _record_delivery,
    c.StartCongressSupervision: _congress_supervise,
    c.SendCongressReport: _congress_report,
}


# -- taking a case up (from intake's events) -------------------------------------------------


def open_workflow(case: Case | None, config: BureauConfig, deadlines: Deadlines) -> list[Event]:
    """Take up a registered case once its first submission is known: start the acceptance
    clock and give it to its first receiver (谁接待谁处理) or the unit a routing rule names.
    Empty when there is nothing to do (not registered yet, or taken up already)."""
    if case is None or case.opened or case.received_on is None or case.channel is None:
        return []
    referral = case.channel.is_referral
    acceptance = deadlines.acceptance(case.received_on)
    objection = deadlines.objection(case.received_on) if referral else None
    opened = WorkflowOpened(
        case_id=case.case_id,
        case_number=case.case_number,
        bureau=case.bureau,
        sub_bureau=case.sub_bureau,
        category=case.category,
        category_kind=case.category_kind,
        received_on=case.received_on,
        acceptance_due=acceptance.due,
        referral=referral,
        congress=case.channel is Channel.CONGRESS_REFERRAL,
        objection_due=None if objection is None else objection.due,
        accused_units=tuple(sorted(case.accused_units)),
        accused_officers=tuple(sorted(case.accused_officers)),
        **deadlines.marks(
            {DatedDeadline.ACCEPTANCE: acceptance, DatedDeadline.OBJECTION: objection}
        ),
    )
    return [opened, _first_assignment(case, config)]


def _first_assignment(case: Case, config: BureauConfig) -> CaseAssigned:
    rule = config.route(case.sub_bureau, case.category)
    if rule is not None and not case.accuses(rule.unit):
        return CaseAssigned(
            case_id=case.case_id, unit=rule.unit, officer=None, reason=rule.name, rule=rule.name
        )
    if case.accuses(case.bureau, case.first_receiver):
        # Art. 30: the accused never handle the accusation; the city's discipline office does,
        # or, when it is accused itself, the inspection office, the petition office, the city.
        candidates = [
            config.department_for(role).code
            for role in (
                DepartmentRole.DISCIPLINE,
                DepartmentRole.INSPECTION,
                DepartmentRole.PETITION_OFFICE,
            )
        ]
        unit = next(
            (u for u in (*candidates, config.city.code) if not case.accuses(u)),
            config.city.code,
        )
        return CaseAssigned(
            case_id=case.case_id,
            unit=unit,
            officer=None,
            reason="检举控告涉及受理单位或接待人，改由纪检（督察）部门办理（第三十条）/ the "
            "accusation names the receiving unit or officer: the discipline (or inspection) "
            "office handles it (Art. 30)",
        )
    return CaseAssigned(
        case_id=case.case_id,
        unit=case.bureau,
        officer=case.first_receiver,
        reason="谁接待谁处理 the first receiver handles it",
    )


# -- the passing of time --------------------------------------------------------------------


def notice_event_id(key: bytes, case_id: UUID, deadline: str, due: date, left: int) -> UUID:
    """The same notice always gets the same id under the deployment's ``key``: a sweep run
    twice appends it once. Keyed, so that no one can publish under it first."""
    return keyed_event_id(key, f"notice|{case_id}|{deadline}|{due.isoformat()}|{left}")


def notice_id(key: bytes, event: Event) -> UUID:
    """The fixed id of a reminder or supervision event."""
    if isinstance(event, DeadlineReminderSent):
        left = event.working_days_left
    elif isinstance(event, SupervisionRaised):
        left = 0
    else:
        raise TypeError(f"not a deadline notice: {event.event_type}")
    return notice_event_id(key, event.case_id, str(event.deadline), event.due, left)


def due_notices(case: Case, today: date, calendar: WorkCalendar) -> list[Event]:
    """Reminders at 5 and 1 working days before each running deadline, and supervision once it
    has passed. Each is raised once (the case remembers them). A sweep that first looks late
    raises only the most urgent one: a 5-day reminder on the last day would only confuse."""
    notices: list[Event] = []
    for kind, due in case.running_deadlines():
        notice = _due_notice(case, kind, due, today, calendar)
        if notice is not None:
            notices.append(notice)
    return notices


def _due_notice(
    case: Case, kind: DeadlineKind, due: date, today: date, calendar: WorkCalendar
) -> Event | None:
    if kind in (DeadlineKind.REVIEW, DeadlineKind.RE_REVIEW):
        # The reviewing organ answers for a review's deadline, not the unit that handled it.
        unit, officer = case.review_organ or case.bureau, None
    elif kind is DeadlineKind.CONGRESS_REPORT:
        # The receiving bureau reports to the People's Congress.
        unit, officer = case.bureau, None
    else:
        unit, officer = case.unit or case.bureau, case.officer
    if today > due:
        if (str(kind), due.isoformat(), 0) in case.notices:
            return None
        return SupervisionRaised(
            case_id=case.case_id, deadline=kind, due=due, unit=unit, officer=officer
        )
    for left in sorted(REMINDER_WORKING_DAYS):  # the most urgent first
        if today >= calendar.working_days_before(due, left):
            if any(
                (str(kind), due.isoformat(), n) in case.notices
                for n in REMINDER_WORKING_DAYS
                if n <= left
            ):
                return None
            return DeadlineReminderSent(
                case_id=case.case_id,
                deadline=kind,
                due=due,
                working_days_left=left,
                unit=unit,
                officer=officer,
            )
    return None


def next_check(case: Case, calendar: WorkCalendar) -> date | None:
    """The first day the sweep has anything to raise for this case (None: nothing running)."""
    days = [
        day
        for kind, due in case.running_deadlines()
        if (day := _next_stage(case, kind, due, calendar)) is not None
    ]
    return min(days) if days else None


def _next_stage(case: Case, kind: DeadlineKind, due: date, calendar: WorkCalendar) -> date | None:
    # Stages from least to most urgent: 5 working days before, 1 before, missed (0).
    stages = [
        (calendar.working_days_before(due, n), n)
        for n in sorted(REMINDER_WORKING_DAYS, reverse=True)
    ]
    stages.append((date.fromordinal(due.toordinal() + 1), 0))
    raised = [
        i for i, (_, n) in enumerate(stages) if (str(kind), due.isoformat(), n) in case.notices
    ]
    later = stages[max(raised) + 1 :] if raised else stages
    return later[0][0] if later else None


# -- a changed work calendar -----------------------------------------------------------------


def current_deadlines(case: Case, deadlines: Deadlines) -> dict[DatedDeadline, tuple[date, Dated]]:
    """The deadlines that still matter in the case's state, each with its recorded date and
    what the calendar makes of it now (from the period's own start or last day, as when it was
    first computed). A re-review hearing's paused clock counts: it runs again from the same last
    day. The handling period's last day never holds a hearing's days (Art. 34)."""
    state = case.before_hearing if case.state == HEARING else case.state
    found: dict[DatedDeadline, tuple[date, Dated]] = {}
    if state == AWAITING_ACCEPTANCE and case.received_on is not None:
        if case.acceptance_due is not None:
            found[DatedDeadline.ACCEPTANCE] = (
                case.acceptance_due,
                deadlines.acceptance(case.received_on),
            )
        if case.objection_due is not None:
            found[DatedDeadline.OBJECTION] = (
                case.objection_due,
                deadlines.objection(case.received_on),
            )
    periods: dict[str, tuple[DatedDeadline, date | None, date | None]] = {
        HANDLING: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        COMPLETION_REPORTED: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        COMPLETION_ACCEPTED: (DatedDeadline.HANDLING, case.handling_due, case.handling_end),
        REPLIED: (
            DatedDeadline.REVIEW_REQUEST,
            case.review_request_until,
            case.review_request_end,
        ),
        UNDER_REVIEW: (DatedDeadline.REVIEW, case.review_due, case.review_end),
        REVIEWED: (
            DatedDeadline.RE_REVIEW_REQUEST,
            case.re_review_request_until,
            case.re_review_request_end,
        ),
        UNDER_RE_REVIEW: (DatedDeadline.RE_REVIEW, case.re_review_due, case.re_review_end),
    }
    if state in periods:
        kind, due, end = periods[state]
        if due is not None and end is not None:
            found[kind] = (due, deadlines.rolled(end))
    return found


def _file_refs(calendar: WorkCalendar, first: date, last: date) -> tuple[str, ...]:
    """The year files behind the dates from ``first`` to ``last``, as recorded."""
    refs: list[str] = []
    for year in range(first.year, last.year + 1):
        f = calendar.file_for(year)
        refs.append(
            f"{year}.toml 未配置 not configured" if f is None else f"{f.name} sha256:{f.sha256}"
        )
    return tuple(refs)


def recompute(case: Case, deadlines: Deadlines, today: date) -> list[Event]:
    """The ``DeadlinesRecomputed`` a changed calendar or changed rules make of this case: every
    deadline whose date or provisional mark differs from what the case recorded; nothing when
    none does (so a second run appends nothing). Pure: the caller gives the calendar and the
    day. A handling deadline a hearing lengthened under the former rule is re-dated here, with
    ``rule_note`` saying why."""
    if case.state in CLOSED or not case.opened:
        return []
    marks = case.provisional_marks()
    changes: list[DeadlineRedated] = []
    years: set[int] = set()
    calendar = deadlines.calendar
    for kind, (old, new) in current_deadlines(case, deadlines).items():
        if new.due == old and new.provisional == (kind in marks):
            continue
        years.update(new.provisional_years)
        changes.append(
            DeadlineRedated(
                deadline=kind,
                old_due=old,
                new_due=new.due,
                provisional_before=kind in marks,
                provisional_after=new.provisional,
                calendar_files=_file_refs(calendar, min(old, new.due), max(old, new.due)),
            )
        )
    if not changes:
        return []
    rule = case.handling_hearing_days and any(
        ch.deadline == DatedDeadline.HANDLING for ch in changes
    )
    return [
        DeadlinesRecomputed(
            case_id=case.case_id,
            changes=tuple(changes),
            calendar_checksum=calendar.checksum,
            recomputed_on=today,
            calendar_note=calendar.note(years) if years else "",
            rules_version=DEADLINE_RULES_VERSION,
            rule_note=HEARING_RULE_NOTE if rule else "",
        )
    ]
