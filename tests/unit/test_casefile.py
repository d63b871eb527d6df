"""Intake's fold of a whole case stream (petitions it registered, workflow acts assignment
recorded) and what it tells the petitioner; and the configured read purposes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from intake.domain.casefile import fold, public_status
from petitions.bureaus import UnknownCodeError, load_config
from petitions.eventstore import RecordedEvent
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages.intake import Assessment, CaseRegistered, Channel, SubmissionReceived

from tests.unit.test_bureau_config import MINIMAL, problems_of, write

CASE = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
SUBJECT = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
T0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def recorded(events: list[Event]) -> list[RecordedEvent[Any]]:
    return [
        RecordedEvent(
            position=version,
            stream_id=f"case-{CASE}",
            version=version,
            event_id=uuid.uuid4(),
            event_type=data.event_type,
            stored_schema_version=data.schema_version,
            bureau="330102",
            data=data,
            actor="tests",
            service="tests",
            correlation_id=uuid.uuid4(),
            causation_id=None,
            occurred_at=T0,
            recorded_at=T0,
            tx_id=1,
            hash=b"\x00" * 32,
        )
        for version, data in enumerate(events, start=1)
    ]


def registration() -> list[Event]:
    return [
        CaseRegistered(
            subject_id=SUBJECT,
            case_id=CASE,
            case_number="330102-2026-000001",
            bureau="330102",
            responsible_officer="王警官",
            sub_bureau="330102",
            category="SQ01",
            category_kind="complaint_demand",
            petitioners=(),
            first_submission_id=uuid.uuid4(),
        ),
        SubmissionReceived(
            subject_id=SUBJECT,
            case_id=CASE,
            submission_id=uuid.uuid4(),
            channel=Channel.LETTER,
            received_at=T0,
            receiving_bureau="330102",
            receiving_officer="王警官",
            head_count=1,
            collective=False,
            petitioner_subjects=(SUBJECT,),
            summary="x",
            requests="y",
            preliminary_assessment=Assessment.UNDETERMINED,
            is_repeat=False,
        ),
    ]


def status_after(*events: Event) -> dict[str, Any]:
    case = fold(recorded([*registration(), *events]))
    assert case is not None
    return public_status(case)


def test_before_assignment_takes_it_up_the_case_is_received_on_its_local_date() -> None:
    shown = status_after()
    assert (shown["status"], shown["accepted"], shown["received_on"]) == (
        "received",
        None,
        date(2026, 11, 4),
    )


@pytest.mark.parametrize(
    ("event", "phase"),
    [
        (a.AcceptanceDeclined(case_id=CASE, reason="r", decided_on=date(2026, 11, 5)), "declined"),
        (
            a.CaseForwarded(case_id=CASE, organ="o", reason="r", decided_on=date(2026, 11, 5)),
            "forwarded",
        ),
        (
            a.DivertedToLegalProcedure(
                case_id=CASE, procedure="p", reason="r", decided_on=date(2026, 11, 5)
            ),
            "diverted",
        ),
        (a.AssignmentObjected(case_id=CASE, reason="r", objected_on=date(2026, 11, 5)), "returned"),
    ],
)
def test_a_case_not_accepted_says_how_and_when(event: Event, phase: str) -> None:
    shown = status_after(event)
    assert (shown["status"], shown["accepted"], shown["decided_on"]) == (
        phase,
        False,
        date(2026, 11, 5),
    )
    assert shown["handling_due"] is None


def test_a_hearing_moves_the_handling_deadline_the_petitioner_is_shown() -> None:
    accepted = a.CaseAccepted(
        case_id=CASE, accepted_on=date(2026, 11, 4), handling_due=date(2027, 1, 4)
    )
    started = a.HearingStarted(case_id=CASE, reason="听证", started_on=date(2026, 11, 10))
    ended = a.HearingEnded(
        case_id=CASE,
        ended_on=date(2026, 11, 20),
        paused_days=10,
        deadline=a.DeadlineKind.HANDLING,
        due=date(2027, 1, 14),
    )
    shown = status_after(accepted, started)
    assert (shown["status"], shown["handling_due"]) == ("handling", date(2027, 1, 4))
    assert status_after(accepted, started, ended)["handling_due"] == date(2027, 1, 14)


def test_read_purposes_default_and_configured(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, MINIMAL))
    assert [p.code for p in default.read_purposes] == [
        "handling",
        "reply",
        "review",
        "supervision",
        "audit",
    ]
    custom = load_config(
        write(
            tmp_path,
            MINIMAL
            + '\n[[read_purposes]]\ncode = "verify"\nname = "核查"\nname_en = "Verification"\n',
        )
    )
    assert custom.read_purpose("verify").name == "核查"
    with pytest.raises(UnknownCodeError):
        custom.read_purpose("handling")
    twice = MINIMAL + '\n[[read_purposes]]\ncode = "a"\nname = "甲"\nname_en = "A"\n' * 2
    assert any("read_purposes" in p and "'a'" in p for p in problems_of(tmp_path, twice))
