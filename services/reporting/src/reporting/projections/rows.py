"""The read models' rows, and what the fold hands out and asks for (see schema.sql).

Rows are plain slotted dataclasses changed in place by the fold; their field order is their table's
column order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from petitions.messages.intake import Assessment, Escalation
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
    owning_leader_id: str | None = None
    leader_team: list[str] = field(default_factory=list)
    committee_decided_on: list[date] = field(default_factory=list)
    committee_bodies: list[str] = field(default_factory=list)
    committee_contents: list[str] = field(default_factory=list)
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
    received_days: list[date] = field(default_factory=list)
    repeat_days: list[date] = field(default_factory=list)
    resubmitted_on: date | None = None
    repeated_after_reply_on: date | None = None

    def judge_after_reply(self) -> None:
        """The first days after the reply date a submission, and a repeat, came: the cessation
        and first-petition resolution rates judge "none by D" on these instead of searching
        the case's submissions per report (issue 17)."""
        replied = self.replied_on
        if replied is None:
            self.resubmitted_on = self.repeated_after_reply_on = None
            return
        self.resubmitted_on = min((d for d in self.received_days if d > replied), default=None)
        self.repeated_after_reply_on = min(
            (d for d in self.repeat_days if d > replied), default=None
        )


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


@_columns
@dataclass(slots=True, eq=True)
class InstructionRow(_Row):
    """A leader's instruction (批示) followed up: who answers, by when, answered when. The
    case's facts the reports filter on (bureau, sub-bureau) are copied in, like a submission's;
    the texts are kept masked, as every keyless reader gets them."""

    TABLE = "instructions"
    KEY = ("instruction_id",)

    instruction_id: UUID
    case_id: UUID
    case_number: str
    bureau: str
    sub_bureau: str
    session_id: UUID
    instructed_on: date
    unit: str
    due_on: date
    due_set_by: str
    instruction: str
    needs_party_committee: bool = False
    answered_on: date | None = None
    on_time: bool | None = None
    answer: str | None = None


ROW_TYPES: tuple[type[_Row], ...] = (
    CaseRow,
    SubmissionRow,
    ProgressRow,
    SessionRow,
    NoticeRow,
    InstructionRow,
)


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
    instructions: tuple[InstructionRow, ...] = ()

    def by_table(self) -> Iterable[tuple[type[_Row], tuple[_Row, ...]]]:
        yield CaseRow, self.cases
        yield SubmissionRow, self.submissions
        yield ProgressRow, self.progress
        yield SessionRow, self.sessions
        yield NoticeRow, self.notices
        yield InstructionRow, self.instructions

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
    instruction_id: UUID | None = None
    """A leader's instruction being answered."""
