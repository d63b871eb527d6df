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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.identifiers import IdKind
from petitions.messages import Event, PersonalDataErased
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messages.case_state import CaseState as S
from petitions.messages.intake import Assessment, Channel, Escalation
from petitions.personal import ERASED as PERSONAL_ERASED

SHANGHAI = ZoneInfo("Asia/Shanghai")
ERASED = PERSONAL_ERASED  # the same marker the event store shows for an erased field
"""What the ledger shows instead of an erased data subject's (masked) name and ID number."""
SEPARATOR = "、"
_ESCALATION_RANK = {None: 0, Escalation.PROVINCE.value: 1, Escalation.BEIJING.value: 2}


class Envelope(Protocol):
    """What the projector reads besides the event itself: both a relayed ``Delivered`` and a
    ``RecordedEvent`` read from the store have it."""

    @property
    def stream_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def event_id(self) -> UUID: ...
    @property
    def event_type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


# ---------------------------------------------------------------------------------------- rows
# Rows are accumulators of the fold, changed in place (copying a 48-field row per event would
# cost more than the rest of the fold). Field order is the table's column order.


class _Row:
    __slots__ = ()
    TABLE: ClassVar[str]
    KEY: ClassVar[tuple[str, ...]]
    COLUMNS: ClassVar[tuple[str, ...]]
    # Every row class is a dataclass (see _columns); declared so dataclasses.fields() accepts it.
    __dataclass_fields__: ClassVar[dict[str, Any]]
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def record(self) -> tuple[Any, ...]:
        """The row's values in column order (for COPY and upserts)."""
        return type(self)._values(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Any:
        return cls(**{name: record[name] for name in cls.COLUMNS})


R = TypeVar("R", bound=type["_Row"])


def _columns(cls: R) -> R:
    cls.COLUMNS = tuple(f.name for f in fields(cls))
    cls._values = staticmethod(attrgetter(*cls.COLUMNS))
    return cls


@_columns
@dataclass(slots=True, eq=True)
class CaseRow(_Row):
    TABLE = "cases"
    KEY = ("case_id",)

    case_id: UUID
    case_number: str
    bureau: str
    sub_bureau: str
    category: str
    category_kind: str
    petitioners: str
    petitioner_ids: str
    subjects: list[UUID]
    head_count: int
    channel: str
    first_received_at: datetime
    registered_at: datetime
    first_receiver: str
    state: str
    responsible_unit: str | None = None
    responsible_officer: str | None = None
    owning_leader: str | None = None
    leader_plan: str | None = None
    acceptance_due: date | None = None
    accepted_on: date | None = None
    handling_due: date | None = None
    extended_days: int = 0
    review_due: date | None = None
    re_review_due: date | None = None
    not_accepted: str | None = None
    not_accepted_on: date | None = None
    preliminary_assessment: str = Assessment.UNDETERMINED.value
    outcome: str | None = None
    justified: bool = False
    replied_on: date | None = None
    on_time: bool | None = None
    satisfaction: str | None = None
    terminated_on: date | None = None
    submissions: int = 0
    repeat_count: int = 0
    last_received_at: datetime | None = None
    collective: bool = False
    escalation: str | None = None
    congress: bool = False
    congress_report_on: date | None = None
    supervised: bool = False
    accused_units: list[str] = field(default_factory=list)
    accused_officers: list[str] = field(default_factory=list)
    latest_progress_week: str | None = None
    latest_progress_note: str | None = None
    version: int = 0
    state_before_hearing: str | None = None
    provisional_deadlines: list[str] = field(default_factory=list)
    calendar_note: str | None = None
    review_requested_on: date | None = None
    rated_on: list[date] = field(default_factory=list)
    ratings: list[str] = field(default_factory=list)


@_columns
@dataclass(slots=True, eq=True)
class SubmissionRow(_Row):
    TABLE = "submissions"
    KEY = ("submission_id",)

    submission_id: UUID
    case_id: UUID
    received_at: datetime
    received_on: date
    receiving_bureau: str
    sub_bureau: str
    category: str
    head_count: int
    channel: str
    is_repeat: bool
    collective: bool
    escalation: str | None
    reception_session_id: UUID | None


@_columns
@dataclass(slots=True, eq=True)
class ProgressRow(_Row):
    TABLE = "progress"
    KEY = ("case_id", "week")

    case_id: UUID
    week: str
    note: str
    recorded_on: date


@_columns
@dataclass(slots=True, eq=True)
class SessionRow(_Row):
    TABLE = "reception_sessions"
    KEY = ("session_id",)

    session_id: UUID
    bureau: str
    day: date
    leader_id: str
    leader_name: str
    chief_day: bool
    state: str
    held_by: str | None = None
    missed_reason: str | None = None
    instructions: int = 0
    accompanied_by: list[str] = field(default_factory=list)


@_columns
@dataclass(slots=True, eq=True)
class NoticeRow(_Row):
    TABLE = "deadline_notices"
    KEY = ("event_id",)

    event_id: UUID
    case_id: UUID
    kind: str
    deadline: str
    due: date
    unit: str
    officer: str | None
    raised_at: datetime


ROW_TYPES: tuple[type[_Row], ...] = (CaseRow, SubmissionRow, ProgressRow, SessionRow, NoticeRow)


# ------------------------------------------------------------------------------------ changes


@dataclass(frozen=True, slots=True)
class Changes:
    """Rows to upsert, and data subjects newly erased, since the last :meth:`take_changes`."""

    cases: tuple[CaseRow, ...] = ()
    submissions: tuple[SubmissionRow, ...] = ()
    progress: tuple[ProgressRow, ...] = ()
    sessions: tuple[SessionRow, ...] = ()
    notices: tuple[NoticeRow, ...] = ()
    erased: tuple[UUID, ...] = ()

    def by_table(self) -> Iterable[tuple[type[_Row], tuple[_Row, ...]]]:
        yield CaseRow, self.cases
        yield SubmissionRow, self.submissions
        yield ProgressRow, self.progress
        yield SessionRow, self.sessions
        yield NoticeRow, self.notices

    def __bool__(self) -> bool:
        return any(rows for _, rows in self.by_table()) or bool(self.erased)


@dataclass(frozen=True, slots=True)
class Needs:
    """The stored rows an event's effect depends on (what the live path loads first)."""

    case_id: UUID | None = None
    session_id: UUID | None = None
    erased_check: tuple[UUID, ...] = ()
    """Subjects whose erasure must be known (a case registered after its petitioner's erasure
    was projected)."""
    erase: UUID | None = None
    """Every case naming this subject (an erasure)."""


# ---------------------------------------------------------------------------------- projector


class Projector:
    """Folds events into rows. Pure: no I/O; what it has not been given, it does not know."""

    def __init__(self) -> None:
        # Keyed by the ids' integers: a UUID hashes and compares in Python, an int in C, and a
        # rebuild looks rows up several times per event.
        self._case_rows: dict[int, CaseRow] = {}
        self._submission_rows: dict[int, SubmissionRow] = {}
        self._progress_rows: dict[tuple[int, str], ProgressRow] = {}
        self._session_rows: dict[int, SessionRow] = {}
        self._notice_rows: dict[int, NoticeRow] = {}
        self._streams: dict[int, str] = {}  # case -> its stream id, formatted once
        self.erased: set[UUID] = set()
        self._by_subject: dict[UUID, set[UUID]] = {}
        # Changed rows by identity (rows are never replaced, only changed in place).
        self._dirty: dict[int, _Row] = {}
        self._new_erased: set[UUID] = set()

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

    def _changed(self, row: _Row) -> None:
        self._dirty[id(row)] = row

    # -- what it handles ----------------------------------------------------------------------

    @staticmethod
    def handles(event_type: str) -> bool:
        """Whether events of this type change any table (others are skipped undecoded)."""
        return event_type in _HANDLERS

    # -- loading stored rows (the live path) ------------------------------------------------

    def load_case(self, row: CaseRow) -> None:
        self._case_rows[row.case_id.int] = row
        self._streams[row.case_id.int] = f"case-{row.case_id}"
        for subject in row.subjects:
            self._by_subject.setdefault(subject, set()).add(row.case_id)

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
        dirty = list(self._dirty.values())
        changes = Changes(
            cases=tuple(r for r in dirty if isinstance(r, CaseRow)),
            submissions=tuple(r for r in dirty if isinstance(r, SubmissionRow)),
            progress=tuple(r for r in dirty if isinstance(r, ProgressRow)),
            sessions=tuple(r for r in dirty if isinstance(r, SessionRow)),
            notices=tuple(r for r in dirty if isinstance(r, NoticeRow)),
            erased=tuple(self._new_erased),
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

    def rows(self) -> Changes:
        """Every row it holds, whether changed or not (what a rebuild copies out)."""
        return Changes(
            cases=tuple(self._case_rows.values()),
            submissions=tuple(self._submission_rows.values()),
            progress=tuple(self._progress_rows.values()),
            sessions=tuple(self._session_rows.values()),
            notices=tuple(self._notice_rows.values()),
            erased=tuple(self.erased),
        )

    # -- helpers ------------------------------------------------------------------------------

    def _case(self, envelope: Envelope, case_id: UUID) -> CaseRow | None:
        """The case an event changes, marked changed; its version follows the case's own
        stream (events about the case on other streams do not move it)."""
        key = case_id.int
        case = self._case_rows.get(key)
        if case is None:
            return None
        self._dirty[id(case)] = case
        if envelope.stream_id == self._streams[key]:
            case.version = envelope.version
        return case

    def _session(self, session_id: UUID) -> SessionRow | None:
        session = self._session_rows.get(session_id.int)
        if session is not None:
            self._changed(session)
        return session

    @staticmethod
    def _state(case: CaseRow, state: str) -> None:
        case.state = str(state)  # the column holds the plain name
        case.state_before_hearing = None

    @staticmethod
    def _outcome(case: CaseRow, outcome: a.Outcome) -> None:
        case.outcome = outcome.value
        case.justified = outcome.justified

    def _erase_in(self, case: CaseRow, subject: UUID) -> None:
        names = case.petitioners.split(SEPARATOR)
        ids = case.petitioner_ids.split(SEPARATOR)
        for index, who in enumerate(case.subjects):
            if who == subject:
                if index < len(names):
                    names[index] = ERASED
                if index < len(ids):
                    ids[index] = ERASED
        case.petitioners = SEPARATOR.join(names)
        case.petitioner_ids = SEPARATOR.join(ids)

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
            received_on=local_date(e.received_at),
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
            session.missed_reason = e.reason

    def _instruction(self, _: Envelope, e: r.LeaderInstructionRecorded) -> None:
        if (session := self._session(e.session_id)) is not None:
            session.instructions += 1

    # -- assignment: acceptance ---------------------------------------------------------------

    @staticmethod
    def _mark(case: CaseRow, e: Any, *dated: a.DatedDeadline) -> None:
        """The deadlines an event dated are provisional exactly when it says so."""
        names = {str(d) for d in dated}
        marked = [d for d in case.provisional_deadlines if d not in names]
        marked += [str(d) for d in e.provisional_deadlines if str(d) in names]
        case.provisional_deadlines = sorted(set(marked))
        if e.calendar_note:
            case.calendar_note = e.calendar_note
        elif not case.provisional_deadlines:
            case.calendar_note = None

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

    def _owned(self, envelope: Envelope, e: a.LeaderOwnershipTaken) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.owning_leader = e.leader_name
            case.leader_plan = e.plan

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

    def _erased(self, _: Envelope, e: PersonalDataErased) -> None:
        subject = e.subject_id
        if subject not in self.erased:
            self.erased.add(subject)
            self._new_erased.add(subject)
        for case_id in sorted(self._by_subject.get(subject, ())):
            case = self._case_rows[case_id.int]
            self._erase_in(case, subject)
            self._changed(case)


def needs(event: Event) -> Needs:
    """Which stored rows applying ``event`` reads (the live path loads exactly these)."""
    if isinstance(event, i.CaseRegistered):
        return Needs(erased_check=tuple(p.subject_id for p in event.petitioners))
    if isinstance(event, PersonalDataErased):
        return Needs(erase=event.subject_id)
    if isinstance(
        event, r.ReceptionSessionHeld | r.ReceptionSessionMissed | r.LeaderInstructionRecorded
    ):
        return Needs(session_id=event.session_id)
    if isinstance(event, r.ReceptionSessionScheduled):
        return Needs(session_id=event.session_id)
    case_id = getattr(event, "case_id", None)
    return Needs(case_id=case_id if isinstance(case_id, UUID) else None)


def _uuid_or_none(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        return None


_Handler = Callable[[Projector, Envelope, Any], None]
_HANDLERS: dict[str, _Handler] = {
    i.CaseRegistered.event_type: Projector._registered,
    i.SubmissionReceived.event_type: Projector._submission,
    r.ReceptionSessionScheduled.event_type: Projector._scheduled,
    r.ReceptionSessionHeld.event_type: Projector._held,
    r.ReceptionSessionMissed.event_type: Projector._missed,
    r.LeaderInstructionRecorded.event_type: Projector._instruction,
    a.WorkflowOpened.event_type: Projector._opened,
    a.CaseAccepted.event_type: Projector._accepted,
    a.AcceptanceDeclined.event_type: Projector._declined,
    a.CaseForwarded.event_type: Projector._forwarded,
    a.DivertedToLegalProcedure.event_type: Projector._diverted,
    a.AssignmentObjected.event_type: Projector._objected,
    a.CaseAssigned.event_type: Projector._assigned,
    a.LeaderOwnershipTaken.event_type: Projector._owned,
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
