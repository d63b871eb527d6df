"""Assignment's ``Workflow`` on its in-memory ports (``assignment.adapters.memory``): the use
cases of load, decide, append with the case row, without a database or NATS. The PostgreSQL
adapter runs the same use cases in tests/integration/test_assignment_*.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from assignment.adapters.memory import MemoryStorage
from assignment.application.ports import CaseRow, stream_of
from assignment.application.workflow import CaseNotFound, Workflow
from assignment.domain import commands as c
from assignment.domain.case import NotAllowed, StaleVersion
from petitions.bureaus import (
    BureauConfig,
    WorkCalendar,
    load_config,
    load_holiday_year,
    load_work_calendar,
)
from petitions.eventstore import Metadata, NewEvent, PersonalData, RawEvent, RecordedEvent
from petitions.eventstore.memory import InMemoryEventStore
from petitions.identity import Principal, Role
from petitions.messages.intake import (
    Assessment,
    CaseRegistered,
    Channel,
    PetitionerRecord,
    SubmissionReceived,
)
from petitions.messaging import Delivered
from petitions.messaging.envelope import decode, encode
from petitions.personal import MemoryDataKeys

from tests.conftest import TEST_NOW, Clock

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
CALENDAR: WorkCalendar = load_work_calendar(CONFIG)
KEY = b"the workflow unit tests' key"
OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")
HANDLER = Principal("handler-01", Role.HANDLER, "330102")
REGISTERED = Metadata(actor="registrar-01", service="intake")


class Interleaved(InMemoryEventStore):
    """Runs ``meanwhile`` once, the next time a stream is read: another writer acting between
    a use case's load and its append."""

    meanwhile: Callable[[], Awaitable[object]] | None = None

    async def decode_many(
        self, raws: Sequence[RawEvent], *, reveal: bool = True
    ) -> list[RecordedEvent[Any]]:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            await meanwhile()
        return await super().decode_many(raws, reveal=reveal)


class Setup:
    """One service's worth of in-memory storage, and workflows on it (a second one is a second
    process on the same storage)."""

    def __init__(self, calendar: WorkCalendar = CALENDAR) -> None:
        self.clock = Clock()
        self.store = Interleaved(personal=PersonalData(MemoryDataKeys()), clock=self.clock)
        self.storage = MemoryStorage(self.store)
        self.workflow = self.process(calendar)

    def process(self, calendar: WorkCalendar = CALENDAR) -> Workflow:
        return Workflow(self.storage, CONFIG, calendar, event_id_key=KEY, clock=self.clock)

    async def register(self, number: int = 1) -> tuple[uuid.UUID, Delivered]:
        """Intake's two events on a new case stream; the second as the consumer receives it."""
        subject, case_id = uuid.uuid4(), uuid.uuid4()
        events = [
            CaseRegistered(
                subject_id=subject,
                case_id=case_id,
                case_number=f"330102-2026-{number:06d}",
                bureau="330102",
                responsible_officer="handler-01",
                sub_bureau="330102",
                category="SQ01",
                category_kind="complaint_demand",
                petitioners=(
                    PetitionerRecord(
                        subject_id=subject, name="张三", resident_id="330102198001011234"
                    ),
                ),
                first_submission_id=uuid.uuid4(),
            ),
            SubmissionReceived(
                subject_id=subject,
                case_id=case_id,
                submission_id=uuid.uuid4(),
                channel=Channel.LETTER,
                received_at=TEST_NOW,
                receiving_bureau="330102",
                receiving_officer="handler-01",
                head_count=1,
                collective=False,
                petitioner_subjects=(subject,),
                summary="反映问题",
                requests="依法处理",
                preliminary_assessment=Assessment.UNDETERMINED,
                is_repeat=False,
            ),
        ]
        stream = stream_of(case_id)
        await self.store.append(
            stream, [NewEvent(e, bureau="330102") for e in events], 0, metadata=REGISTERED
        )
        raws = await self.store.read_stream_raw(stream)
        return case_id, decode(encode(raws[-1])[0])

    async def opened(self, number: int = 1) -> uuid.UUID:
        case_id, delivered = await self.register(number)
        await self.workflow.take_up(delivered)
        return case_id

    async def types(self, case_id: uuid.UUID) -> list[str]:
        return [r.event_type for r in await self.store.read_stream_raw(stream_of(case_id))]

    def row(self, case_id: uuid.UUID) -> CaseRow:
        return self.storage.cases.rows[case_id]


async def test_take_up_opens_the_case_and_writes_its_row_once() -> None:
    s = Setup()
    case_id, delivered = await s.register()
    await s.workflow.take_up(delivered)
    opened = await s.types(case_id)
    assert opened[2:] == ["assignment.WorkflowOpened", "assignment.CaseAssigned"]
    # The store seals personal data as the PostgreSQL one does: no name in the clear.
    assert all("张三" not in r.data for r in await s.store.read_stream_raw(stream_of(case_id)))
    row = s.row(case_id)
    assert (row.state, row.unit, row.officer, row.version) == (
        "awaiting_acceptance",
        "330102",
        "handler-01",
        4,
    )
    assert (row.deadline, row.imported) == ("acceptance", False)
    assert row.due is not None
    # NATS delivers again (or a second replica takes the same event up): nothing more.
    await s.process().take_up(delivered)
    assert await s.types(case_id) == opened


async def test_a_command_appends_and_moves_the_row_in_step() -> None:
    s = Setup()
    case_id = await s.opened()
    done = await s.workflow.execute(case_id, c.Accept(notice="予以受理"), OFFICE)
    assert done.events == ("assignment.CaseAccepted",)
    assert done.case.state == "handling"
    assert (await s.types(case_id))[-1] == "assignment.CaseAccepted"
    row = s.row(case_id)
    assert (row.state, row.version, row.deadline) == ("handling", 5, "handling")
    assert await s.workflow.resolve("330102-2026-000001") == case_id
    assert [r["case_id"] for r in await s.workflow.list_cases(OFFICE, state="handling")] == [
        case_id
    ]


async def test_a_refused_command_writes_nothing() -> None:
    s = Setup()
    case_id = await s.opened()
    before = (await s.types(case_id), s.row(case_id))
    with pytest.raises(NotAllowed) as refused:
        await s.workflow.execute(case_id, c.IssueReply.model_validate({
            "outcome": "support", "legal_basis": "《信访工作条例》", "summary": "支持",
        }), OFFICE)  # fmt: skip
    assert refused.value.status == 409
    assert refused.value.details["state"] == "awaiting_acceptance"
    with pytest.raises(StaleVersion) as stale:
        await s.workflow.execute(case_id, c.Accept(notice="予以受理", expected_version=3), OFFICE)
    assert stale.value.details == {"current_version": 4}
    # Out of the caller's reach: as if the case did not exist.
    stranger = Principal("office-9", Role.PETITION_OFFICE, "330106")
    with pytest.raises(CaseNotFound):
        await s.workflow.execute(case_id, c.Accept(notice="予以受理"), stranger)
    assert (await s.types(case_id), s.row(case_id)) == before


async def test_a_case_that_moved_on_meanwhile_is_decided_again_or_refused_as_stale() -> None:
    s = Setup()
    case_id = await s.opened()
    officers = iter(["李警官", "王警官"])

    def another_process() -> Awaitable[object]:
        reassign = c.Assign(unit="330103", officer=next(officers), reason="属地管辖")
        return s.process().execute(case_id, reassign, OFFICE)

    # The caller named the version it saw: 409 with the current one, and nothing of theirs.
    s.store.meanwhile = another_process
    with pytest.raises(StaleVersion) as stale:
        await s.workflow.execute(case_id, c.Accept(notice="予以受理", expected_version=4), OFFICE)
    assert stale.value.details == {"current_version": 5}
    assert (await s.types(case_id))[-1] == "assignment.CaseAssigned"
    # Without a version the command is decided again on the case as it is now.
    s.store.meanwhile = another_process
    done = await s.workflow.execute(case_id, c.Accept(notice="予以受理"), OFFICE)
    assert (done.case.version, done.case.unit) == (7, "330103")
    assert (await s.types(case_id))[-2:] == ["assignment.CaseAssigned", "assignment.CaseAccepted"]
    assert (s.row(case_id).version, s.row(case_id).state) == (7, "handling")


async def test_the_sweep_raises_each_reminder_once_whoever_sweeps() -> None:
    s = Setup()
    case_id = await s.opened()
    due = s.row(case_id).due
    assert due is not None
    reminder_day = CALENDAR.working_days_before(due, 5)
    # The day before it nothing is due, and a sweep of that day raises nothing.
    assert (await s.workflow.sweep(reminder_day - timedelta(days=1))).events == 0
    first = await s.workflow.sweep(reminder_day)
    assert (first.cases, first.events) == (1, 1)
    assert (await s.types(case_id))[-1] == "assignment.DeadlineReminderSent"
    assert s.row(case_id).reminded
    # Run again, or by another process (a restart): the fixed ids write nothing twice.
    assert (await s.workflow.sweep(reminder_day)).events == 0
    assert (await s.process().sweep(reminder_day)).events == 0
    assert (await s.types(case_id)).count("assignment.DeadlineReminderSent") == 1
    assert (s.workflow.sweeps, s.workflow.notices_raised) == (3, 1)


async def test_an_open_import_batch_holds_imported_cases_back() -> None:
    s = Setup()
    case_id = await s.opened()
    s.storage.cases.rows[case_id] = CaseRow(**{**s.row(case_id).__dict__, "imported": True})
    due = s.row(case_id).due
    assert due is not None
    day = CALENDAR.working_days_before(due, 5)
    importer = Principal("import-01", Role.IMPORTER, "3301")
    batch = await s.workflow.open_import(importer, "2025 台帐")
    assert (await s.workflow.sweep(day)).cases == 0
    closed = await s.workflow.close_import(batch.batch_id, importer)
    assert closed.closed_at == TEST_NOW
    assert await s.workflow.close_import(batch.batch_id, importer) == closed
    assert await s.workflow.import_batches(open_only=True) == []
    assert (await s.workflow.sweep(day)).events == 1
    with pytest.raises(CaseNotFound):
        await s.workflow.close_import(uuid.uuid4(), importer)


async def test_a_calendar_that_changes_re_dates_running_deadlines_once() -> None:
    # Taken up while this year's holiday file is missing: its deadline rests on weekends alone
    # and is marked provisional.
    without = WorkCalendar(
        [load_holiday_year(ROOT / f"deploy/config/holidays/{y}.toml") for y in (2024, 2025)]
    )
    s = Setup(without)
    case_id = await s.opened()
    assert s.row(case_id).provisional_deadlines == ("acceptance",)
    assert await s.workflow.provisional_running() == 1
    assert (await s.workflow.recompute_deadlines()).cases == 0  # nothing moves on its own
    official = s.process(CALENDAR)
    result = await official.recompute_deadlines()
    assert result.cases == 1
    assert (await s.types(case_id))[-1] == "assignment.DeadlinesRecomputed"
    assert s.row(case_id).provisional_deadlines == ()
    assert (await official.recompute_deadlines()).cases == 0
    assert (await official.recompute_deadlines(once=True)).skipped


async def test_my_work_puts_the_overdue_first_and_shows_the_handler_only_theirs() -> None:
    s = Setup()
    first, second = await s.opened(1), await s.opened(2)
    await s.workflow.execute(second, c.Accept(notice="予以受理"), OFFICE)
    due = s.row(first).due
    assert due is not None
    s.clock.now = TEST_NOW + (due - date(2026, 11, 4)) + timedelta(days=3)  # past its due day
    mine = await s.workflow.my_cases(HANDLER)
    assert [r["case_id"] for r in mine] == [first, second]
    assert "overdue" in mine[0]["urgency"]
    assert mine[0]["working_days_left"] < 0
    colleague = Principal("handler-02", Role.HANDLER, "330102")
    assert await s.workflow.my_cases(colleague) == []
