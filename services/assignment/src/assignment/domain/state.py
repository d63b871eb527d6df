"""A case's state, folded from its stream (``evolve``): pure, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID

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
    SupervisionRaised,
    WorkflowOpened,
)
from petitions.messages.case_state import CLOSED_STATES, CaseState
from petitions.messages.intake import CaseRegistered, Channel, SubmissionReceived
from petitions.messages.reception import InstructionAnswered, LeaderInstructionRecorded
from petitions.scope import CaseFacts, normalise_parties, normalise_party

from assignment.domain.deadlines import Deadlines
from assignment.domain.periods import (
    HANDLING_DAYS,
    REVIEW_DAYS,
    REVIEW_REQUEST_DAYS,
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


@dataclass(frozen=True)
class Case:
    """What the workflow needs to know of a case, folded from its stream."""

    case_id: UUID
    case_number: str = ""
    text_subject: UUID | None = None
    """Whose key seals the free text of this case's acts: its first petitioner (intake's
    ``CaseRegistered.subject_id``), so that erasing that person erases the notes about them."""
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
    sent_back: bool = False
    """The latest act on the case sent the completion report back: the officer must act again
    ("my work"). Notices and recomputations are time's doing, not acts, and leave it as it is."""

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

    def raised_on_running(self) -> tuple[bool, bool]:
        """(a reminder raised, supervision raised) for the statutory deadline running now, at
        its current due date: a notice for an earlier date or another deadline is spent."""
        running = self.running_deadline()
        if running is None:
            return False, False
        kind, due = str(running[0]), running[1].isoformat()
        lefts = {left for k, d, left in self.notices if (k, d) == (kind, due)}
        return any(left > 0 for left in lefts), 0 in lefts

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
            text_subject=event.subject_id,
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
    if type(event) not in _NOT_ACTS:
        changes["sent_back"] = isinstance(event, CompletionSentBack)
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


# Raised by the passing of time or a changed calendar, not by anyone acting on the case.
_NOT_ACTS: frozenset[type[Event]] = frozenset(
    # A leader's instruction (批示) and its answer sit on the case's stream too (intake writes
    # them): they are not the handling unit's redoing of a case sent back.
    {
        DeadlineReminderSent,
        SupervisionRaised,
        DeadlinesRecomputed,
        LeaderInstructionRecorded,
        InstructionAnswered,
    }
)

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
