"""Reporting's fold of followed-up instructions (issue 15): a row per instruction, completed by
its answer once; older instructions only counted on their session; missed sessions counted by
their reason code, the sealed explanation never."""

from __future__ import annotations

import uuid
from datetime import date

from petitions.messages import reception as r
from reporting.projections.projector import Projector, needs

from tests.unit.test_reporting_projector import Case


def _session(projector: Projector, sid: uuid.UUID) -> Case:
    session = Case(projector, sid)
    session(
        r.ReceptionSessionScheduled(
            session_id=sid,
            bureau="3301",
            day=date(2026, 9, 30),
            leader_id="L01",
            leader_name="陈局长",
            leader_title="局长",
            chief_day=True,
            place="大厅",
            attending_departments=(),
        ),
        stream=f"reception-{sid}",
    )
    session(r.ReceptionSessionHeld(session_id=sid, held_by="L01"), stream=f"reception-{sid}")
    return session


def test_an_instruction_becomes_a_row_its_answer_completes() -> None:
    projector = Projector()
    sid, iid = uuid.uuid4(), uuid.uuid4()
    _session(projector, sid)
    case = Case(projector)
    case.register()
    instructed = r.LeaderInstructionRecorded(
        session_id=sid,
        case_id=case.case_id,
        instruction="〔6 字 characters, 已加密 encrypted〕",
        instruction_id=iid,
        instructed_on=date(2026, 9, 30),
        answering_unit="330102",
        due_on=date(2026, 10, 20),
        due_set_by="default",
    )
    assert needs(instructed).case_id == case.case_id
    assert needs(instructed).session_id == sid
    case(instructed)
    row = projector.instructions[iid]
    assert (row.case_number, row.unit, row.due_on, row.answered_on) == (
        "330102-2026-000001",
        "330102",
        date(2026, 10, 20),
        None,
    )
    assert projector.sessions[sid].instructions == 1
    assert case.row.version == case.version  # on the case's stream: the case's version moves

    answered = r.InstructionAnswered(
        case_id=case.case_id,
        instruction_id=iid,
        unit="330102",
        answer="〔4 字 characters, 已加密 encrypted〕",
        answered_on=date(2026, 10, 21),
        on_time=False,
    )
    assert needs(answered).instruction_id == iid
    case(answered)
    case(answered.model_copy(update={"answered_on": date(2026, 10, 30)}))  # a second: ignored
    assert (row.answered_on, row.on_time) == (date(2026, 10, 21), False)
    assert projector.take_changes().instructions == (row,)


def test_older_instructions_count_on_the_session_only_and_missed_reasons_by_code() -> None:
    projector = Projector()
    sid = uuid.uuid4()
    session = _session(projector, sid)
    session(
        r.LeaderInstructionRecorded(session_id=sid, case_id=uuid.uuid4(), instruction="限期"),
        stream=f"reception-{sid}",
    )
    assert projector.sessions[sid].instructions == 1
    assert projector.instructions == {}

    other = uuid.uuid4()
    _session(projector, other)  # (held; a missed one is judged the same way below)
    projector.sessions[other].state = "scheduled"
    Case(projector, other)(
        r.ReceptionSessionMissed(
            session_id=other,
            reason_code=r.MissedReason.ILLNESS,
            reason="〔5 字 characters, 已加密 encrypted〕",
        ),
        stream=f"reception-{other}",
    )
    assert projector.sessions[other].missed_reason == "病假 illness"
