"""Leaders' instructions (批示) followed up (issue 15): the due day on the bureau's calendar, who
may be named to answer, and who may answer, once. Pure rules, the demo configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from assignment.domain.state import evolve
from intake.domain.instructions import (
    Instruction,
    answer,
    check_answering_unit,
    default_unit,
    due_date,
    instructions_of,
)
from intake.domain.registration import Refused
from petitions.bureaus import BureauConfig, WorkCalendar, load_config, load_work_calendar
from petitions.eventstore import RecordedEvent
from petitions.identity import Principal, Role
from petitions.messages import Event
from petitions.messages.assignment import CompletionSentBack
from petitions.messages.intake import CaseRegistered
from petitions.messages.reception import (
    InstructionAnswered,
    LeaderInstructionRecorded,
    MissedReason,
)
from petitions.scope import CaseFacts

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def config() -> BureauConfig:
    return load_config(ROOT / "deploy/config/bureaus.demo.toml")


@pytest.fixture(scope="module")
def calendar(config: BureauConfig) -> WorkCalendar:
    return load_work_calendar(config)


def test_the_default_due_day_counts_working_days_over_national_day_and_a_make_up_saturday(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    # Instructed Wed 30 Sep 2026; 1-7 Oct off; Sat 10 Oct is a make-up working day. Ten working
    # days, counted by hand: Oct 8, 9, 10 (Sat), 12, 13, 14, 15, 16, 19, 20.
    assert config.instruction_due_working_days == 10
    assert due_date(config, calendar, date(2026, 9, 30), None) == (date(2026, 10, 20), "default")


def test_the_default_due_day_over_the_spring_festival(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    # Fri 13 Feb 2026: Sat 14 Feb works (1); 15-23 Feb off; 24, 25, 26, 27 (5); Sat 28 Feb
    # works (6); Mar 2, 3, 4, 5 (10).
    assert due_date(config, calendar, date(2026, 2, 13), None) == (date(2026, 3, 5), "default")


def test_the_leaders_own_date_wins_if_it_is_after_the_session(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    assert due_date(config, calendar, date(2026, 9, 30), date(2026, 10, 9)) == (
        date(2026, 10, 9),
        "leader",
    )
    with pytest.raises(Refused) as refused:
        due_date(config, calendar, date(2026, 9, 30), date(2026, 9, 30))
    assert (refused.value.code, refused.value.status) == ("bad_due_on", 422)
    assert "due_on" in refused.value.message


def test_a_year_with_no_holiday_file_is_refused_unless_the_leader_names_a_date(
    config: BureauConfig, calendar: WorkCalendar
) -> None:
    with pytest.raises(Refused) as refused:
        due_date(config, calendar, date(2027, 12, 27), None)  # runs into 2028: no file
    assert refused.value.code == "year_not_configured"
    assert due_date(config, calendar, date(2027, 12, 27), date(2028, 1, 10))[1] == "leader"


CASE = CaseFacts(bureau="3301", sub_bureau="330102", unit="330102")
ACCUSATION = CaseFacts(
    bureau="3301", sub_bureau="330102", unit="3301", accused_units=("zhian", "330103")
)


def test_who_may_be_named_to_answer(config: BureauConfig) -> None:
    assert default_unit(CASE) == "330102"
    assert default_unit(CaseFacts(bureau="3301", sub_bureau="330105")) == "330105"
    assert check_answering_unit(config, CASE, " 330102 ") == "330102"
    assert check_answering_unit(config, CASE, "3301") == "3301"
    assert check_answering_unit(config, CASE, "ducha") == "ducha"  # a city department, city case
    for unit, code in (("330103", "unit_out_of_scope"), ("nope", "unknown_unit")):
        with pytest.raises(Refused) as refused:
            check_answering_unit(config, CASE, unit)
        assert (refused.value.code, refused.value.status) == (code, 422)
        assert "answering_unit" in refused.value.message
    # Art. 30: never a unit the accusation names, even one otherwise in scope.
    with pytest.raises(Refused):
        check_answering_unit(config, ACCUSATION, "ZHIAN")
    # A sub-bureau's own case is not a city department's to answer.
    with pytest.raises(Refused):
        check_answering_unit(config, CaseFacts(bureau="330102", sub_bureau="330102"), "ducha")


def _recorded(data: Event, version: int) -> RecordedEvent[Event]:
    moment = datetime(2026, 10, 1, tzinfo=UTC)
    return RecordedEvent(
        position=version,
        stream_id=f"case-{CASE_ID}",
        version=version,
        event_id=uuid4(),
        event_type=data.event_type,
        stored_schema_version=1,
        bureau="3301",
        data=data,
        actor="test",
        service="intake",
        correlation_id=uuid4(),
        causation_id=None,
        occurred_at=moment,
        recorded_at=moment,
        tx_id=version,
        hash=b"",
    )


CASE_ID = UUID("00000000-0000-4000-8000-000000000001")
SESSION = UUID("00000000-0000-4000-8000-000000000002")
FIRST = UUID("00000000-0000-4000-8000-000000000003")
OLD = LeaderInstructionRecorded(session_id=SESSION, case_id=CASE_ID, instruction="旧批示")


def _instructed() -> dict[UUID, Instruction]:
    new = LeaderInstructionRecorded(
        session_id=SESSION,
        case_id=CASE_ID,
        instruction="请核查",
        instruction_id=FIRST,
        instructed_on=date(2026, 9, 30),
        answering_unit="330102",
        due_on=date(2026, 10, 20),
        due_set_by="default",
    )
    return instructions_of([_recorded(OLD, 2), _recorded(new, 3)])


HANDLER = Principal("h-02", Role.HANDLER, "330102")
OTHER = Principal("h-03", Role.HANDLER, "330103")
CITY_OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")
AUDITOR = Principal("a-01", Role.AUDITOR, "330102")


def test_instructions_recorded_before_follow_up_are_not_followed_up() -> None:
    assert list(_instructed()) == [FIRST]  # the old one has no id, unit or due day


def test_only_the_named_unit_or_the_petition_office_answers_once() -> None:
    found = _instructed()

    def attempt(who: Principal, today: date, oversees: bool = False) -> InstructionAnswered:
        return answer(who, found, FIRST, "已核查", today, case_id=CASE_ID, oversees=oversees)

    for who in (OTHER, AUDITOR):
        with pytest.raises(Refused) as refused:
            attempt(who, date(2026, 10, 9))
        assert (refused.value.code, refused.value.status) == ("not_answering_unit", 403)
    with pytest.raises(Refused) as refused:
        answer(HANDLER, found, uuid4(), "x", date(2026, 10, 9), case_id=CASE_ID, oversees=False)
    assert refused.value.status == 404

    on_time = attempt(HANDLER, date(2026, 10, 20))  # the due day itself is on time
    assert (on_time.unit, on_time.answered_on, on_time.on_time) == (
        "330102",
        date(2026, 10, 20),
        True,
    )
    late = attempt(CITY_OFFICE, date(2026, 10, 21), oversees=True)
    assert late.on_time is False

    answered = instructions_of(
        [
            _recorded(OLD, 2),
            *(
                _recorded(e, v)
                for e, v in (
                    (
                        LeaderInstructionRecorded(
                            session_id=SESSION,
                            case_id=CASE_ID,
                            instruction="请核查",
                            instruction_id=FIRST,
                            instructed_on=date(2026, 9, 30),
                            answering_unit="330102",
                            due_on=date(2026, 10, 20),
                        ),
                        3,
                    ),
                    (on_time, 4),
                )
            ),
        ]
    )
    assert answered[FIRST].answered_on == date(2026, 10, 20)
    with pytest.raises(Refused) as refused:
        answer(
            HANDLER, answered, FIRST, "again", date(2026, 10, 21), case_id=CASE_ID, oversees=False
        )
    assert (refused.value.code, refused.value.status) == ("instruction_answered", 409)
    with pytest.raises(Refused) as refused:
        answer(HANDLER, found, FIRST, "  ", date(2026, 10, 9), case_id=CASE_ID, oversees=False)
    assert refused.value.code == "answer_required"


def test_a_missed_reason_written_as_a_codes_name_is_that_code() -> None:
    assert MissedReason.named("病假 illness") is MissedReason.ILLNESS
    assert MissedReason.named(" 参加会议 ") is MissedReason.MEETING
    assert MissedReason.named("business trip") is MissedReason.BUSINESS_TRIP
    assert MissedReason.named("参加全省公安工作会议") is None  # an explanation, not a code


def test_an_instruction_on_a_case_sent_back_leaves_it_sent_back() -> None:
    """Instructions and answers share the case's stream with the workflow (intake writes them):
    they are not the unit's redoing of a case the assigning unit sent back."""
    subject = uuid4()
    case = evolve(
        None,
        CaseRegistered(
            subject_id=subject,
            case_id=CASE_ID,
            case_number="3301-2026-000001",
            bureau="3301",
            responsible_officer="王警官",
            sub_bureau="330102",
            category="SQ01",
            category_kind="complaint_demand",
            petitioners=(),
            first_submission_id=uuid4(),
        ),
        1,
    )
    case = evolve(case, CompletionSentBack(case_id=CASE_ID, reason="材料不全"), 2)
    assert case is not None
    assert case.sent_back
    for version, event in enumerate(
        (
            OLD.model_copy(update={"instruction_id": FIRST}),
            InstructionAnswered(
                case_id=CASE_ID,
                instruction_id=FIRST,
                unit="330102",
                answer="已答复",
                answered_on=date(2026, 10, 9),
                on_time=True,
            ),
        ),
        start=3,
    ):
        case = evolve(case, event, version)
        assert case is not None
        assert case.sent_back, event.event_type
