"""How intake's events (registrations, submissions, reception days, erasures) change the rows."""

from __future__ import annotations

from petitions.identifiers import IdKind
from petitions.messages import PersonalDataErased
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messages.case_state import CaseState as S
from petitions.messages.intake import Assessment, Channel

from reporting.projections.base import FoldBase, _uuid_or_none
from reporting.projections.rows import (
    _ESCALATION_RANK,
    SEPARATOR,
    CaseRow,
    Envelope,
    SessionRow,
    SubmissionRow,
    local_date,
)


class IntakeFold(FoldBase):
    # -- intake -------------------------------------------------------------------------------

    def _registered(self, envelope: Envelope, e: i.CaseRegistered) -> None:
        if e.case_id.int in self._case_rows:
            return
        case = CaseRow(
            case_id=e.case_id,
            case_number=e.case_number,
            bureau=e.bureau,
            sub_bureau=e.sub_bureau,
            category=e.category,
            category_kind=e.category_kind,
            petitioners=SEPARATOR.join(p.name or ANONYMOUS for p in e.petitioners),
            petitioner_ids=SEPARATOR.join(_identifier(p) for p in e.petitioners),
            subjects=[p.subject_id for p in e.petitioners],
            # Until the first submission (the next event of the stream) says otherwise.
            head_count=0,
            channel="",
            first_received_at=envelope.occurred_at,
            registered_at=envelope.recorded_at,
            first_receiver=e.responsible_officer,
            state=S.REGISTERED.value,
            accused_units=list(e.accused_units),
            accused_officers=list(e.accused_officers),
        )
        self.load_case(case)
        for subject in case.subjects:
            if subject in self.erased:
                self._erase_in(case, subject)
        self._case(envelope, e.case_id)

    def _submission(self, envelope: Envelope, e: i.SubmissionReceived) -> None:
        case = self._case(envelope, e.case_id)
        if case is None:
            return
        escalation = None if e.escalation is None else e.escalation.value
        if case.submissions == 0:
            case.first_received_at = e.received_at
            case.head_count = e.head_count
            case.channel = e.channel.value
            case.preliminary_assessment = e.preliminary_assessment.value
            if case.outcome is None:
                case.justified = e.preliminary_assessment is Assessment.JUSTIFIED
        elif e.preliminary_assessment is not Assessment.UNDETERMINED and (
            case.last_received_at is None or e.received_at >= case.last_received_at
        ):
            # "Justified" follows the latest assessment: a repeat assessed anew replaces the
            # first one (an "undetermined" repeat says nothing new); an outcome still wins.
            case.preliminary_assessment = e.preliminary_assessment.value
            if case.outcome is None:
                case.justified = e.preliminary_assessment is Assessment.JUSTIFIED
        case.submissions += 1
        case.repeat_count += e.is_repeat
        received_on = local_date(e.received_at)
        case.received_days.append(received_on)
        if e.is_repeat:
            case.repeat_days.append(received_on)
        if case.replied_on is not None and received_on > case.replied_on:
            case.judge_after_reply()
        if case.last_received_at is None or e.received_at > case.last_received_at:
            case.last_received_at = e.received_at
        case.collective = case.collective or e.collective
        if _ESCALATION_RANK[escalation] > _ESCALATION_RANK[case.escalation]:
            case.escalation = escalation
        if e.channel is Channel.CONGRESS_REFERRAL:
            case.congress = True
        if e.submission_id.int in self._submission_rows:
            return
        row = self._submission_rows[e.submission_id.int] = SubmissionRow(
            submission_id=e.submission_id,
            case_id=e.case_id,
            received_at=e.received_at,
            received_on=received_on,
            receiving_bureau=e.receiving_bureau,
            sub_bureau=case.sub_bureau,
            category=case.category,
            head_count=e.head_count,
            channel=e.channel.value,
            is_repeat=e.is_repeat,
            collective=e.collective,
            escalation=escalation,
            reception_session_id=_uuid_or_none(e.reception_session_id),
        )
        self._changed(row)

    # -- reception ----------------------------------------------------------------------------

    def _scheduled(self, _: Envelope, e: r.ReceptionSessionScheduled) -> None:
        if e.session_id.int in self._session_rows:
            return
        row = self._session_rows[e.session_id.int] = SessionRow(
            session_id=e.session_id,
            bureau=e.bureau,
            day=e.day,
            leader_id=e.leader_id,
            leader_name=e.leader_name,
            chief_day=e.chief_day,
            state="scheduled",
        )
        self._changed(row)

    def _held(self, _: Envelope, e: r.ReceptionSessionHeld) -> None:
        if (session := self._session(e.session_id)) is not None:
            session.state = "held"
            session.held_by = e.held_by
            session.accompanied_by = list(e.accompanied_by)

    def _missed(self, _: Envelope, e: r.ReceptionSessionMissed) -> None:
        if (session := self._session(e.session_id)) is not None:
            session.state = "missed"
            # Counted by its code; the explanation is sealed (the masked text would count
            # nothing). Sessions missed before codes were given keep their reason as written.
            session.missed_reason = e.reason_code.label if e.reason_code else e.reason

    def _erased(self, _: Envelope, e: PersonalDataErased) -> None:
        subject = e.subject_id
        if subject not in self.erased:
            self.erased.add(subject)
            self._new_erased.add(subject)
        for case_id in sorted(self._by_subject.get(subject, ())):
            case = self._case_rows[case_id.int]
            self._erase_in(case, subject)
            self._changed(case)


ANONYMOUS = "匿名"


def _identifier(person: i.PetitionerRecord) -> str:
    """The ledger's ID column: the masked number as the store gives it to keyless readers
    (each kind masked its own way), labelled with its kind unless it is a resident ID, the
    column's only kind before other documents existed."""
    kind = person.id_kind
    if kind is IdKind.ANONYMOUS:
        return ANONYMOUS
    number = person.identifier or ""
    if kind is IdKind.RESIDENT_ID:
        return number
    if kind is IdKind.PASSPORT:
        return f"{kind.zh}({person.passport_country}) {number}"
    return f"{kind.zh} {number}"
