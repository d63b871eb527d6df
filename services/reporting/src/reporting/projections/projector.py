"""The read models as a pure fold: events in, table rows out (see schema.sql for the tables).

One :class:`Projector` serves both ways the tables are filled, so a rebuild equals the live
tables by construction:

* live, per event: the consumer loads the few rows the event touches (:func:`needs` says which)
  into a fresh projector, applies the event, and upserts what changed (:meth:`take_changes`);
* rebuild: one projector folds the log in store order, its changed rows written out in batches
  and forgotten (:meth:`retain`), the rows of a later event reloaded as the live path loads
  them, so memory stays bounded whatever the size of the log.

Events come typed with personal fields masked, the way the store keeps them for keyless
readers: the ledger shows masked names and ID numbers, never the clear ones.

Everything a row needs must be in the row itself (or in the small ``erased_subjects`` table):
live, the projector knows nothing but what it loaded for this one event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from petitions.messages import Event, PersonalDataErased
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r

from reporting.projections.instruction_fold import InstructionFold
from reporting.projections.intake_fold import ANONYMOUS, IntakeFold, _identifier
from reporting.projections.ownership_fold import OwnershipFold
from reporting.projections.rows import (
    ERASED,
    ROW_TYPES,
    SEPARATOR,
    SHANGHAI,
    CaseRow,
    Changes,
    Envelope,
    InstructionRow,
    Needs,
    NoticeRow,
    ProgressRow,
    SessionRow,
    SubmissionRow,
    _Row,
    local_date,
)
from reporting.projections.workflow_fold import WorkflowFold

__all__ = [
    "ANONYMOUS",
    "ERASED",
    "ROW_TYPES",
    "SEPARATOR",
    "SHANGHAI",
    "CaseRow",
    "Changes",
    "Envelope",
    "InstructionRow",
    "Needs",
    "NoticeRow",
    "ProgressRow",
    "Projector",
    "SessionRow",
    "SubmissionRow",
    "_Row",
    "_identifier",
    "case_only",
    "erased_only",
    "local_date",
    "needs",
]


class Projector(IntakeFold, WorkflowFold, OwnershipFold, InstructionFold):
    """Folds events into rows. Pure: no I/O; what it has not been given, it does not know.

    The handlers live by origin in :mod:`.intake_fold`, :mod:`.workflow_fold`,
    :mod:`.ownership_fold` (包案 and the committee's decisions) and :mod:`.instruction_fold`
    (leaders' instructions followed up), the state and shared helpers in :mod:`.base`; this
    class is the fold's public face."""

    @property
    def cases(self) -> dict[UUID, CaseRow]:
        return {row.case_id: row for row in self._case_rows.values()}

    @property
    def submissions(self) -> dict[UUID, SubmissionRow]:
        return {row.submission_id: row for row in self._submission_rows.values()}

    @property
    def progress(self) -> dict[tuple[UUID, str], ProgressRow]:
        return {(row.case_id, row.week): row for row in self._progress_rows.values()}

    @property
    def sessions(self) -> dict[UUID, SessionRow]:
        return {row.session_id: row for row in self._session_rows.values()}

    @property
    def notices(self) -> dict[UUID, NoticeRow]:
        return {row.event_id: row for row in self._notice_rows.values()}

    @property
    def instructions(self) -> dict[UUID, InstructionRow]:
        return {row.instruction_id: row for row in self._instruction_rows.values()}

    # -- what it handles ----------------------------------------------------------------------

    @staticmethod
    def handles(event_type: str) -> bool:
        """Whether events of this type change any table (others are skipped undecoded)."""
        return event_type in _HANDLERS

    @staticmethod
    def handler(event_type: str) -> Callable[[Projector, Envelope, Any], None] | None:
        """What :meth:`apply` calls for events of this type (a rebuild looks it up once per
        type, not once per event), or None."""
        return _HANDLERS.get(event_type)

    # -- loading stored rows (the live path) ------------------------------------------------

    def load_session(self, row: SessionRow) -> None:
        self._session_rows[row.session_id.int] = row

    def load_erased(self, subjects: Iterable[UUID]) -> None:
        self.erased.update(subjects)

    # -- applying -----------------------------------------------------------------------------

    def apply(self, envelope: Envelope, event: Event) -> None:
        """Apply one event (typed, personal fields masked). Types it does not project are
        ignored."""
        handler = _HANDLERS.get(envelope.event_type)
        if handler is not None:
            handler(self, envelope, event)

    def take_changes(self) -> Changes:
        """The rows changed since the last call (and forget that they changed)."""
        # One pass, by exact class (the row classes have no subclasses): a rebuild's flush
        # takes tens of thousands of rows.
        by_type: dict[type, list[Any]] = {cls: [] for cls in ROW_TYPES}
        for row in self._dirty.values():
            by_type[type(row)].append(row)
        changes = Changes(
            cases=tuple(by_type[CaseRow]),
            submissions=tuple(by_type[SubmissionRow]),
            progress=tuple(by_type[ProgressRow]),
            sessions=tuple(by_type[SessionRow]),
            notices=tuple(by_type[NoticeRow]),
            erased=tuple(self._new_erased),
            instructions=tuple(by_type[InstructionRow]),
        )
        self.forget_changes()
        return changes

    def forget_changes(self) -> None:
        self._dirty.clear()
        self._new_erased.clear()

    def holds_case(self, case_id: UUID) -> bool:
        return case_id.int in self._case_rows

    def holds_session(self, session_id: UUID) -> bool:
        return session_id.int in self._session_rows

    def retain(self, changes: Changes) -> None:
        """Forget every row but those of ``changes`` (a bounded rebuild: the rows of the last
        :meth:`take_changes`, now written out, are those likely to change again soon; the
        others are reloaded from the written tables if an event touches them again).
        Submissions and deadline notices are never changed after they are made, so none is
        kept. Erased subjects are kept: there are few, and a registration needs them all."""
        cases = {row.case_id.int: row for row in changes.cases}
        self._case_rows = cases
        self._streams = {key: self._streams[key] for key in cases}
        self._by_subject = {}
        for row in cases.values():
            for subject in row.subjects:
                self._by_subject.setdefault(subject, set()).add(row.case_id)
        self._submission_rows = {}
        self._notice_rows = {}
        self._progress_rows = {(row.case_id.int, row.week): row for row in changes.progress}
        self._session_rows = {row.session_id.int: row for row in changes.sessions}
        self._instruction_rows = {row.instruction_id.int: row for row in changes.instructions}

    def rows(self) -> Changes:
        """Every row it holds, whether changed or not (what a rebuild copies out)."""
        return Changes(
            cases=tuple(self._case_rows.values()),
            submissions=tuple(self._submission_rows.values()),
            progress=tuple(self._progress_rows.values()),
            sessions=tuple(self._session_rows.values()),
            notices=tuple(self._notice_rows.values()),
            erased=tuple(self.erased),
            instructions=tuple(self._instruction_rows.values()),
        )


def needs(event: Event) -> Needs:
    """Which stored rows applying ``event`` reads (the live path loads exactly these)."""
    if isinstance(event, i.CaseRegistered):
        return Needs(erased_check=tuple(p.subject_id for p in event.petitioners))
    if isinstance(event, PersonalDataErased):
        return Needs(erase=event.subject_id)
    if isinstance(event, r.LeaderInstructionRecorded):
        # On the case's stream since instructions are followed up (before: the session's).
        return Needs(case_id=event.case_id, session_id=event.session_id)
    if isinstance(event, r.InstructionAnswered):
        return Needs(case_id=event.case_id, instruction_id=event.instruction_id)
    if isinstance(event, r.ReceptionSessionHeld | r.ReceptionSessionMissed):
        return Needs(session_id=event.session_id)
    if isinstance(event, r.ReceptionSessionScheduled):
        return Needs(session_id=event.session_id)
    case_id = getattr(event, "case_id", None)
    return Needs(case_id=case_id if isinstance(case_id, UUID) else None)


def case_only(cls: type[Event]) -> bool:
    """Whether :func:`needs` of every event of this class is its case and nothing else (so a
    rebuild holding the case need not ask)."""
    special = (
        i.CaseRegistered,
        PersonalDataErased,
        r.LeaderInstructionRecorded,
        r.InstructionAnswered,
        r.ReceptionSessionHeld,
        r.ReceptionSessionMissed,
        r.ReceptionSessionScheduled,
    )
    field = cls.model_fields.get("case_id")
    return not issubclass(cls, special) and field is not None and field.annotation is UUID


def erased_only(cls: type[Event]) -> bool:
    """Whether :func:`needs` of every event of this class names erased subjects and no row
    (a rebuild holds every erased subject, so it loads nothing for them)."""
    return issubclass(cls, i.CaseRegistered)


_Handler = Callable[[Projector, Envelope, Any], None]
_HANDLERS: dict[str, _Handler] = {
    i.CaseRegistered.event_type: Projector._registered,
    i.SubmissionReceived.event_type: Projector._submission,
    r.ReceptionSessionScheduled.event_type: Projector._scheduled,
    r.ReceptionSessionHeld.event_type: Projector._held,
    r.ReceptionSessionMissed.event_type: Projector._missed,
    r.LeaderInstructionRecorded.event_type: Projector._instruction,
    r.InstructionAnswered.event_type: Projector._instruction_answered,
    a.WorkflowOpened.event_type: Projector._opened,
    a.CaseAccepted.event_type: Projector._accepted,
    a.AcceptanceDeclined.event_type: Projector._declined,
    a.CaseForwarded.event_type: Projector._forwarded,
    a.DivertedToLegalProcedure.event_type: Projector._diverted,
    a.AssignmentObjected.event_type: Projector._objected,
    a.CaseAssigned.event_type: Projector._assigned,
    a.LeaderOwnershipTaken.event_type: Projector._owned,
    a.PartyCommitteeDecisionRecorded.event_type: Projector._committee_decision,
    a.ProgressRecorded.event_type: Projector._progress,
    a.CompletionReported.event_type: Projector._completion_reported,
    a.CompletionAccepted.event_type: Projector._completion_accepted,
    a.CompletionSentBack.event_type: Projector._sent_back,
    a.ExtensionGranted.event_type: Projector._extended,
    a.HearingStarted.event_type: Projector._hearing_started,
    a.HearingEnded.event_type: Projector._hearing_ended,
    a.ReplyIssued.event_type: Projector._replied,
    a.SatisfactionRated.event_type: Projector._rated,
    a.ReviewRequested.event_type: Projector._review_requested,
    a.ReviewDecided.event_type: Projector._review_decided,
    a.ReReviewRequested.event_type: Projector._re_review_requested,
    a.ReReviewDecided.event_type: Projector._re_review_decided,
    a.CaseTerminated.event_type: Projector._terminated,
    a.CongressSupervisionStarted.event_type: Projector._congress_supervision,
    a.CongressReportSent.event_type: Projector._congress_report,
    a.DeadlineReminderSent.event_type: Projector._reminded,
    a.SupervisionRaised.event_type: Projector._supervised,
    a.DeadlinesRecomputed.event_type: Projector._recomputed,
    PersonalDataErased.event_type: Projector._erased,
}
