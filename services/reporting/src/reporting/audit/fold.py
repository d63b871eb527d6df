"""The audit's fold: a case's state from its events in stream order (pure), and the facts the
scope rule needs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from petitions.eventstore import RecordedEvent
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages.case_state import CaseState as S
from petitions.scope import CaseFacts

from reporting.audit.labels import STATES
from reporting.audit.models import CaseState

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
        case a.PartyCommitteeDecisionRecorded():
            return {"committee_decisions": state.committee_decisions + 1}
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
