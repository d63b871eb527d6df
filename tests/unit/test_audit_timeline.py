"""The pure parts of audit replay: labels, the state fold, summaries, times in Asia/Shanghai."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from petitions.eventstore import RawEvent, RecordedEvent
from petitions.eventstore.model import VerificationResult
from petitions.messages import Event, registry
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages.reporting import TimelineRead
from reporting.audit import (
    LABELS,
    NOT_REGISTERED,
    STATES,
    Verification,
    entry_for,
    evolve,
    fold,
    label_for,
    summarize,
)
from reporting.cli import _parse_as_of

CASE = uuid.uuid4()
SUBJECT = uuid.uuid4()
RESIDENT_ID = "110101199003071234"
PHONE = "13812345678"
T0 = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)


def recorded(data: Event, version: int, at: datetime = T0) -> RecordedEvent[Any]:
    return RecordedEvent(
        position=version,
        stream_id=f"case-{CASE}",
        version=version,
        event_id=uuid.uuid4(),
        event_type=data.event_type,
        stored_schema_version=data.schema_version,
        bureau="3301",
        data=data,
        actor="officer",
        service="tests",
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=at,
        recorded_at=at,
        tx_id=1,
        hash=b"\x00" * 32,
    )


def registered(**changes: Any) -> i.CaseRegistered:
    fields: dict[str, Any] = {
        "subject_id": SUBJECT,
        "case_id": CASE,
        "case_number": "3301-2026-000001",
        "bureau": "3301",
        "responsible_officer": "clerk-01",
        "sub_bureau": "330102",
        "category": "C01",
        "category_kind": "complaint_demand",
        "petitioners": (
            i.PetitionerRecord(
                subject_id=SUBJECT, name="张三", resident_id=RESIDENT_ID, phone=PHONE
            ),
        ),
        "first_submission_id": uuid.uuid4(),
    }
    return i.CaseRegistered(**(fields | changes))


def submission(*, repeat: bool = False) -> i.SubmissionReceived:
    return i.SubmissionReceived(
        subject_id=SUBJECT,
        case_id=CASE,
        submission_id=uuid.uuid4(),
        channel=i.Channel.VISIT,
        received_at=T0,
        receiving_bureau="3301",
        receiving_officer="clerk-01",
        head_count=2,
        collective=False,
        petitioner_subjects=(SUBJECT,),
        summary="拆迁补偿 电话13812345678",
        requests="补偿",
        preliminary_assessment=i.Assessment.UNDETERMINED,
        is_repeat=repeat,
    )


def workflow() -> list[Event]:
    return [
        registered(),
        submission(),
        a.WorkflowOpened(
            case_id=CASE,
            case_number="3301-2026-000001",
            bureau="3301",
            sub_bureau="330102",
            category="C01",
            category_kind="complaint_demand",
            received_on=date(2026, 2, 10),
            acceptance_due=date(2026, 2, 25),
            referral=False,
            congress=False,
        ),
        a.CaseAccepted(case_id=CASE, accepted_on=date(2026, 2, 12), handling_due=date(2026, 4, 13)),
        a.CaseAssigned(case_id=CASE, unit="330102", officer="handler-7", reason="属地 territorial"),
        a.ExtensionGranted(
            case_id=CASE,
            days=30,
            reason="需补充调查",
            approved_by="head-1",
            handling_due=date(2026, 5, 13),
        ),
        a.ReplyIssued(
            case_id=CASE,
            outcome=a.Outcome.SUPPORT,
            legal_basis="条例第32条",
            summary="支持",
            replied_on=date(2026, 5, 1),
            on_time=True,
            review_request_until=date(2026, 5, 31),
        ),
    ]


def test_every_contract_event_type_has_a_bilingual_label() -> None:
    contract = [c for c in registry.all_classes() if c.__module__.startswith("petitions.messages")]
    assert {c.event_type for c in contract} <= LABELS.keys()
    assert "reporting.TimelineRead" in {c.event_type for c in contract}
    for event_type in LABELS:
        zh, _, en = label_for(event_type).partition(" ")
        assert not zh.isascii(), event_type
        assert en.isascii(), event_type
    assert label_for("nobody.Knows") == "nobody.Knows"


def test_fold_walks_the_workflow_states() -> None:
    states = []
    state = NOT_REGISTERED
    for version, data in enumerate(workflow(), start=1):
        state = evolve(state, recorded(data, version))
        states.append(state.state)
    assert states == [
        "registered",
        "registered",
        "awaiting_acceptance",
        "handling",
        "handling",
        "handling",
        "replied",
    ]
    assert state.state_label == STATES["replied"]
    assert (state.responsible_unit, state.responsible_officer) == ("330102", "handler-7")
    assert state.first_receiver == "clerk-01"
    assert (state.handling_due, state.extended_days) == (date(2026, 5, 13), 30)
    assert (state.outcome, state.justified, state.on_time) == ("support", True, True)
    assert state.version == 7
    assert state.submissions == 1


def test_fold_is_pure_and_a_prefix_is_the_state_then() -> None:
    events = [recorded(d, v) for v, d in enumerate(workflow(), start=1)]
    then = fold(events[:4])
    assert (then.state, then.handling_due, then.outcome) == ("handling", date(2026, 4, 13), None)
    assert then.responsible_unit is None
    before = fold(events[:3])
    fold(events)  # folding on must not change a state already taken
    assert before.state == "awaiting_acceptance"
    assert fold([]).state == "not_registered"


DECIDED = date(2026, 2, 11)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (a.AcceptanceDeclined(case_id=CASE, reason="不属受理范围", decided_on=DECIDED), "declined"),
        (
            a.CaseForwarded(case_id=CASE, organ="人社局", reason="职责", decided_on=DECIDED),
            "forwarded",
        ),
        (a.AssignmentObjected(case_id=CASE, reason="非本单位", objected_on=DECIDED), "objected"),
    ],
)
def test_closed_states_keep_their_reason(tail: Event, expected: str) -> None:
    events = [recorded(d, v) for v, d in enumerate([*workflow()[:3], tail], start=1)]
    state = fold(events)
    assert state.state == expected
    assert state.closed_reason
    assert state.closed_on == date(2026, 2, 11)


def test_review_and_re_review_end_in_terminated() -> None:
    tail: list[Event] = [
        a.ReviewRequested(
            case_id=CASE, requested_on=date(2026, 5, 5), organ="3301", review_due=date(2026, 6, 4)
        ),
        a.ReviewDecided(
            case_id=CASE,
            decision=a.ReviewDecision.REVISED,
            outcome=a.Outcome.EXPLAIN,
            summary="变更",
            decided_on=date(2026, 6, 1),
            re_review_request_until=date(2026, 7, 1),
        ),
        a.ReReviewRequested(
            case_id=CASE, requested_on=date(2026, 6, 5), organ="33", re_review_due=date(2026, 7, 5)
        ),
    ]
    events = [recorded(d, v) for v, d in enumerate([*workflow(), *tail], start=1)]
    state = fold(events)
    assert (state.state, state.outcome, state.justified) == ("under_re_review", "explain", False)
    assert state.re_review_due == date(2026, 7, 5)


def test_summaries_carry_no_identity_number_or_phone() -> None:
    text = summarize(registered()) + summarize(submission(repeat=True))
    assert RESIDENT_ID not in text
    assert PHONE not in text
    assert "3301-2026-000001" in text
    assert "重复访 repeat" in text


def test_entry_shows_both_times_in_shanghai_and_flags_backdated() -> None:
    occurred = datetime(2025, 11, 3, 2, 0, tzinfo=UTC)
    raw = RawEvent(
        position=1,
        stream_id=f"case-{CASE}",
        version=1,
        event_id=uuid.uuid4(),
        event_type="assignment.CaseAccepted",
        schema_version=1,
        bureau="3301",
        data="{}",
        actor="importer-01",
        service="intake",
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=occurred,
        recorded_at=T0,
        tx_id=1,
        hash_alg="sm3",
        hash=bytes(range(32)),
    )
    accepted = a.CaseAccepted(
        case_id=CASE, accepted_on=date(2025, 11, 4), handling_due=date(2026, 1, 3)
    )
    entry = entry_for(raw, accepted)
    assert entry.occurred_at.isoformat() == "2025-11-03T10:00:00+08:00"
    assert entry.recorded_at.isoformat() == "2026-02-10T09:00:00+08:00"
    assert entry.backdated
    assert entry.label == "受理 case accepted"
    assert entry.hash == bytes(range(32)).hex()
    live = dataclasses.replace(raw, occurred_at=T0 - timedelta(seconds=2))
    assert not entry_for(live, accepted).backdated


def test_unknown_type_is_shown_from_its_json() -> None:
    raw = RawEvent(
        1, "case-x", 1, uuid.uuid4(), "future.Thing", 1, "3301", '{"a": 1, "$vault": {}}',
        "x", "y", uuid.uuid4(), None, T0, T0, 1, "sm3", b"\x01",
    )  # fmt: skip
    entry = entry_for(raw, None)
    assert entry.label == "future.Thing"
    assert "a: 1" in entry.summary
    assert "vault" not in entry.summary


def test_verification_result_is_carried_over() -> None:
    broken = Verification.of(VerificationResult("case-x", False, 3, 4, 17, "哈希不符 hash"))
    assert (broken.ok, broken.events_checked, broken.first_bad_version) == (False, 3, 4)


def test_timeline_read_event_round_trips() -> None:
    read = TimelineRead(
        case_id=CASE,
        reader="auditor-1",
        role="auditor",
        purpose="专项检查",
        as_of=T0,
        verified=True,
    )
    assert TimelineRead.model_validate_json(read.model_dump_json()) == read
    assert "auditor-1" in summarize(read)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T09:00", "2026-03-01T09:00:00+08:00"),
        ("2026-03-01 09:00", "2026-03-01T09:00:00+08:00"),
        ("2026-03-01T01:00+00:00", "2026-03-01T09:00:00+08:00"),
        ("2026-03-01T01:00Z", "2026-03-01T09:00:00+08:00"),
    ],
)
def test_naive_as_of_means_shanghai(text: str, expected: str) -> None:
    assert _parse_as_of(text).isoformat() == expected
