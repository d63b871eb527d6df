"""How assignment's workflow events change the case rows, progress and deadline notices."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from petitions.messages import assignment as a
from petitions.messages.case_state import CaseState as S

from reporting.projections.base import FoldBase
from reporting.projections.rows import Envelope, NoticeRow, ProgressRow, local_date


class WorkflowFold(FoldBase):
    # -- assignment: acceptance ---------------------------------------------------------------

    def _opened(self, envelope: Envelope, e: a.WorkflowOpened) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.AWAITING_ACCEPTANCE)
            case.acceptance_due = e.acceptance_due
            case.congress = case.congress or e.congress
            self._mark(case, e, a.DatedDeadline.ACCEPTANCE, a.DatedDeadline.OBJECTION)

    def _accepted(self, envelope: Envelope, e: a.CaseAccepted) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.HANDLING)
            case.accepted_on = e.accepted_on
            case.handling_due = e.handling_due
            self._mark(case, e, a.DatedDeadline.HANDLING)

    def _not_accepted(self, envelope: Envelope, case_id: UUID, how: str, on: date) -> None:
        if (case := self._case(envelope, case_id)) is not None:
            self._state(case, how)
            case.not_accepted = str(how)
            case.not_accepted_on = on

    def _declined(self, envelope: Envelope, e: a.AcceptanceDeclined) -> None:
        self._not_accepted(envelope, e.case_id, S.DECLINED, e.decided_on)

    def _forwarded(self, envelope: Envelope, e: a.CaseForwarded) -> None:
        self._not_accepted(envelope, e.case_id, S.FORWARDED, e.decided_on)

    def _diverted(self, envelope: Envelope, e: a.DivertedToLegalProcedure) -> None:
        self._not_accepted(envelope, e.case_id, S.DIVERTED, e.decided_on)

    def _objected(self, envelope: Envelope, e: a.AssignmentObjected) -> None:
        self._not_accepted(envelope, e.case_id, S.OBJECTED, e.objected_on)

    # -- assignment: who handles it -----------------------------------------------------------

    def _assigned(self, envelope: Envelope, e: a.CaseAssigned) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.responsible_unit = e.unit
            case.responsible_officer = e.officer

    def _progress(self, envelope: Envelope, e: a.ProgressRecorded) -> None:
        key = (e.case_id.int, e.week)
        row = self._progress_rows.get(key)
        if row is None:
            row = self._progress_rows[key] = ProgressRow(e.case_id, e.week, e.note, e.recorded_on)
        else:
            row.note, row.recorded_on = e.note, e.recorded_on
        self._changed(row)
        if (case := self._case(envelope, e.case_id)) is not None and (
            case.latest_progress_week is None or e.week >= case.latest_progress_week
        ):
            case.latest_progress_week = e.week
            case.latest_progress_note = e.note

    def _completion_reported(self, envelope: Envelope, e: a.CompletionReported) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.COMPLETION_REPORTED)

    def _completion_accepted(self, envelope: Envelope, e: a.CompletionAccepted) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.COMPLETION_ACCEPTED)

    def _sent_back(self, envelope: Envelope, e: a.CompletionSentBack) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.HANDLING)

    def _extended(self, envelope: Envelope, e: a.ExtensionGranted) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.handling_due = e.handling_due
            case.extended_days += e.days
            self._mark(case, e, a.DatedDeadline.HANDLING)

    def _hearing_started(self, envelope: Envelope, e: a.HearingStarted) -> None:
        if (case := self._case(envelope, e.case_id)) is not None and case.state != S.HEARING:
            case.state_before_hearing = case.state
            case.state = S.HEARING.value

    def _hearing_ended(self, envelope: Envelope, e: a.HearingEnded) -> None:
        if (case := self._case(envelope, e.case_id)) is None:
            return
        kind = e.deadline
        if kind is a.DeadlineKind.ACCEPTANCE:
            case.acceptance_due = e.due
        elif kind is a.DeadlineKind.HANDLING:
            case.handling_due = e.due
        elif kind is a.DeadlineKind.REVIEW:
            case.review_due = e.due
        elif kind is a.DeadlineKind.RE_REVIEW:
            case.re_review_due = e.due
        self._mark(case, e, a.DatedDeadline(str(kind)))
        if case.state == S.HEARING:
            self._state(case, case.state_before_hearing or S.HANDLING)

    # -- assignment: the reply and after ------------------------------------------------------

    def _replied(self, envelope: Envelope, e: a.ReplyIssued) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.REPLIED)
            self._outcome(case, e.outcome)
            case.replied_on = e.replied_on
            case.judge_after_reply()
            case.on_time = e.on_time
            self._mark(case, e, a.DatedDeadline.REVIEW_REQUEST)

    def _rated(self, envelope: Envelope, e: a.SatisfactionRated) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.satisfaction = e.rating.value
            # Every rating with its date: the satisfaction rate takes the latest one by D.
            case.rated_on.append(e.rated_on)
            case.ratings.append(e.rating.value)

    def _review_requested(self, envelope: Envelope, e: a.ReviewRequested) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.UNDER_REVIEW)
            case.review_due = e.review_due
            if case.review_requested_on is None:
                # The first one is what the first-petition resolution rate asks about.
                case.review_requested_on = e.requested_on
            self._mark(case, e, a.DatedDeadline.REVIEW)

    def _review_decided(self, envelope: Envelope, e: a.ReviewDecided) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.REVIEWED)
            self._outcome(case, e.outcome)
            self._mark(case, e, a.DatedDeadline.RE_REVIEW_REQUEST)

    def _re_review_requested(self, envelope: Envelope, e: a.ReReviewRequested) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.UNDER_RE_REVIEW)
            case.re_review_due = e.re_review_due
            self._mark(case, e, a.DatedDeadline.RE_REVIEW)

    def _re_review_decided(self, envelope: Envelope, e: a.ReReviewDecided) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.RE_REVIEWED)
            self._outcome(case, e.outcome)

    def _terminated(self, envelope: Envelope, e: a.CaseTerminated) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            self._state(case, S.TERMINATED)
            # The event carries no date of its own: the local day it happened.
            case.terminated_on = local_date(envelope.occurred_at)

    # -- assignment: the People's Congress ----------------------------------------------------

    def _congress_supervision(self, envelope: Envelope, e: a.CongressSupervisionStarted) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.congress = True

    def _congress_report(self, envelope: Envelope, e: a.CongressReportSent) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.congress_report_on = e.sent_on

    # -- assignment: time-driven --------------------------------------------------------------

    def _notice(
        self,
        envelope: Envelope,
        e: a.DeadlineReminderSent | a.SupervisionRaised,
        kind: str,
    ) -> None:
        if envelope.event_id.int in self._notice_rows:
            return
        row = self._notice_rows[envelope.event_id.int] = NoticeRow(
            event_id=envelope.event_id,
            case_id=e.case_id,
            kind=kind,
            deadline=e.deadline.value,
            due=e.due,
            unit=e.unit,
            officer=e.officer,
            raised_at=envelope.occurred_at,
        )
        self._changed(row)

    def _reminded(self, envelope: Envelope, e: a.DeadlineReminderSent) -> None:
        self._notice(envelope, e, "reminder")
        self._case(envelope, e.case_id)

    def _supervised(self, envelope: Envelope, e: a.SupervisionRaised) -> None:
        self._notice(envelope, e, "supervision")
        if (case := self._case(envelope, e.case_id)) is not None:
            case.supervised = True

    # -- personal data ------------------------------------------------------------------------

    def _recomputed(self, envelope: Envelope, e: a.DeadlinesRecomputed) -> None:
        """A changed holiday calendar re-dated deadlines (the windows to ask for review are
        not columns here: only their marks change)."""
        if (case := self._case(envelope, e.case_id)) is None:
            return
        for change in e.changes:
            if change.deadline is a.DatedDeadline.ACCEPTANCE:
                case.acceptance_due = change.new_due
            elif change.deadline is a.DatedDeadline.HANDLING:
                case.handling_due = change.new_due
            elif change.deadline is a.DatedDeadline.REVIEW:
                case.review_due = change.new_due
            elif change.deadline is a.DatedDeadline.RE_REVIEW:
                case.re_review_due = change.new_due
        after = {str(c.deadline) for c in e.changes if c.provisional_after}
        names = {str(c.deadline) for c in e.changes}
        kept = [d for d in case.provisional_deadlines if d not in names]
        case.provisional_deadlines = sorted({*kept, *after})
        if e.calendar_note:
            case.calendar_note = e.calendar_note
        elif not case.provisional_deadlines:
            case.calendar_note = None
