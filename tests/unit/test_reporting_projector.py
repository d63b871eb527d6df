"""The reporting projector as a pure fold: workflow states, the latest-assessment rule for
"justified", erasure, and that folding event by event from stored rows (the live path) gives
what one fold of everything gives (a rebuild)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from petitions.messages import Event, PersonalDataErased
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messages.reporting import TimelineRead
from reporting.projections.projector import (
    ERASED,
    CaseRow,
    Changes,
    Projector,
    SessionRow,
    needs,
)

from bench.reporting import histories

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Env:
    stream_id: str
    version: int
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    recorded_at: datetime


class Case:
    """Writes one case's events into a projector, numbering its stream versions."""

    def __init__(self, projector: Projector, case_id: uuid.UUID | None = None) -> None:
        self.projector = projector
        self.case_id = case_id or uuid.uuid4()
        self.version = 0
        self.at = T0

    def __call__(self, event: Event, *, stream: str | None = None) -> None:
        self.version += 1
        self.at += timedelta(hours=1)
        env = Env(
            stream or f"case-{self.case_id}",
            self.version,
            uuid.uuid4(),
            event.event_type,
            self.at,
            self.at,
        )
        self.projector.apply(env, event)

    @property
    def row(self) -> CaseRow:
        return self.projector.cases[self.case_id]

    def register(
        self,
        *people: uuid.UUID,
        assessment: i.Assessment = i.Assessment.UNDETERMINED,
        channel: i.Channel = i.Channel.VISIT,
        head_count: int = 1,
    ) -> None:
        people = people or (uuid.uuid4(),)
        names = ("张*", "李*", "欧***")
        self(
            i.CaseRegistered(
                subject_id=people[0],
                case_id=self.case_id,
                case_number="330102-2026-000001",
                bureau="330102",
                responsible_officer="李警官",
                sub_bureau="330102",
                category="SQ01",
                category_kind="complaint_demand",
                petitioners=tuple(
                    i.PetitionerRecord(
                        subject_id=p, name=names[n], resident_id=f"110105********00{n}X"
                    )
                    for n, p in enumerate(people)
                ),
                first_submission_id=uuid.uuid4(),
            )
        )
        self.submit(assessment=assessment, channel=channel, head_count=head_count, people=people)

    def submit(
        self,
        *,
        repeat: bool = False,
        assessment: i.Assessment = i.Assessment.UNDETERMINED,
        channel: i.Channel = i.Channel.VISIT,
        head_count: int = 1,
        escalation: i.Escalation | None = None,
        received_at: datetime | None = None,
        people: tuple[uuid.UUID, ...] = (),
    ) -> uuid.UUID:
        submission_id = uuid.uuid4()
        self(
            i.SubmissionReceived(
                subject_id=people[0] if people else uuid.uuid4(),
                case_id=self.case_id,
                submission_id=submission_id,
                channel=channel,
                received_at=received_at or self.at,
                receiving_bureau="330102",
                receiving_officer="李警官",
                head_count=head_count,
                collective=head_count >= 5,
                petitioner_subjects=people,
                summary="〔10 字 characters, 已加密 encrypted〕",
                requests="〔4 字 characters, 已加密 encrypted〕",
                preliminary_assessment=assessment,
                is_repeat=repeat,
                escalation=escalation,
            )
        )
        return submission_id


def D(day: int) -> date:
    return date(2026, 3, day)


def reply(case: Case, outcome: a.Outcome) -> None:
    case(
        a.ReplyIssued(
            case_id=case.case_id,
            outcome=outcome,
            legal_basis="第三十二条",
            summary="答复",
            replied_on=D(20),
            on_time=True,
            review_request_until=D(30),
        )
    )


def test_registration_and_first_submission_make_the_ledger_row() -> None:
    case = Case(Projector())
    received = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 2 March in Shanghai
    case(
        i.CaseRegistered(
            subject_id=(p := uuid.uuid4()),
            case_id=case.case_id,
            case_number="330102-2026-000007",
            bureau="3301",
            responsible_officer="王警官",
            sub_bureau="330103",
            category="JK01",
            category_kind="accusation",
            petitioners=(i.PetitionerRecord(subject_id=p, name="王*", resident_id="1101**1234"),),
            first_submission_id=uuid.uuid4(),
            accused_units=("330103",),
        )
    )
    assert case.row.state == "registered"
    assert case.row.submissions == 0
    sid = case.submit(
        channel=i.Channel.CONGRESS_REFERRAL,
        head_count=6,
        assessment=i.Assessment.JUSTIFIED,
        received_at=received,
        escalation=i.Escalation.PROVINCE,
    )
    row = case.row
    assert (row.petitioners, row.petitioner_ids, row.subjects) == ("王*", "1101**1234", [p])
    assert (row.head_count, row.channel, row.first_received_at) == (
        6,
        "congress_referral",
        received,
    )
    assert (row.first_receiver, row.bureau, row.sub_bureau) == ("王警官", "3301", "330103")
    assert row.accused_units == ["330103"]
    assert row.justified
    assert row.preliminary_assessment == "justified"
    assert row.collective
    assert row.congress
    assert row.escalation == "province"
    assert (row.submissions, row.repeat_count, row.version) == (1, 0, 2)
    submission = case.projector.submissions[sid]
    assert submission.received_on == date(2026, 3, 2)
    assert (submission.sub_bureau, submission.category) == ("330103", "JK01")

    # A repeat: counted, but the first submission still describes the matter.
    case.submit(repeat=True, head_count=2, assessment=i.Assessment.NOT_JUSTIFIED)
    case.submit(repeat=True, escalation=i.Escalation.BEIJING)
    last = case.submit(repeat=True, escalation=i.Escalation.PROVINCE)
    row = case.row
    assert (row.submissions, row.repeat_count, row.head_count) == (4, 3, 6)
    # ... except the assessment: the repeat assessed anew ("not justified") is the latest one.
    assert not row.justified
    assert row.escalation == "beijing"
    assert row.last_received_at == case.projector.submissions[last].received_at


def test_the_workflow_states_follow_the_events() -> None:
    case = Case(Projector())
    cid = case.case_id
    case.register()
    steps: list[tuple[Event, str]] = [
        (
            a.WorkflowOpened(
                case_id=cid,
                case_number="330102-2026-000001",
                bureau="330102",
                sub_bureau="330102",
                category="SQ01",
                category_kind="complaint_demand",
                received_on=D(2),
                acceptance_due=D(17),
                referral=False,
                congress=False,
            ),
            "awaiting_acceptance",
        ),
        (a.CaseAccepted(case_id=cid, accepted_on=D(3), handling_due=D(31)), "handling"),
        (
            a.CompletionReported(case_id=cid, summary="办结", reported_on=D(10)),
            "completion_reported",
        ),
        (a.CompletionSentBack(case_id=cid, reason="事实不清"), "handling"),
        (
            a.CompletionReported(case_id=cid, summary="办结", reported_on=D(12)),
            "completion_reported",
        ),
        (a.CompletionAccepted(case_id=cid), "completion_accepted"),
        (
            a.ReplyIssued(
                case_id=cid,
                outcome=a.Outcome.EXPLAIN,
                legal_basis="第三十二条",
                summary="答复",
                replied_on=D(14),
                on_time=True,
                review_request_until=D(30),
            ),
            "replied",
        ),
        (
            a.ReviewRequested(case_id=cid, requested_on=D(15), organ="3301", review_due=D(31)),
            "under_review",
        ),
        (
            a.ReviewDecided(
                case_id=cid,
                decision=a.ReviewDecision.UPHELD,
                outcome=a.Outcome.EXPLAIN,
                summary="维持",
                decided_on=D(20),
                re_review_request_until=D(31),
            ),
            "reviewed",
        ),
        (
            a.ReReviewRequested(case_id=cid, requested_on=D(21), organ="33", re_review_due=D(31)),
            "under_re_review",
        ),
        (
            a.ReReviewDecided(
                case_id=cid,
                decision=a.ReviewDecision.UPHELD,
                outcome=a.Outcome.NOT_SUPPORTED,
                summary="维持",
                decided_on=D(25),
            ),
            "re_reviewed",
        ),
        (a.CaseTerminated(case_id=cid, reason="复核终结"), "terminated"),
    ]
    for event, state in steps:
        case(event)
        assert case.row.state == state, event.event_type
    row = case.row
    assert (row.acceptance_due, row.accepted_on, row.handling_due) == (D(17), D(3), D(31))
    assert (row.replied_on, row.on_time, row.review_due, row.re_review_due) == (
        D(14),
        True,
        D(31),
        D(31),
    )
    assert row.outcome == "not_supported"
    # The first review request's date: the first-petition resolution rate asks about it by D.
    assert row.review_requested_on == D(15)
    assert row.terminated_on == (case.at + timedelta(hours=8)).date()
    assert row.version == case.version


def test_not_accepted_closes_the_case_with_how_and_when() -> None:
    for event_of, how in (
        (lambda c: a.AcceptanceDeclined(case_id=c, reason="不属于", decided_on=D(5)), "declined"),
        (
            lambda c: a.CaseForwarded(case_id=c, organ="法院", reason="r", decided_on=D(5)),
            "forwarded",
        ),
        (
            lambda c: a.DivertedToLegalProcedure(
                case_id=c, procedure="复议", reason="r", decided_on=D(5)
            ),
            "diverted",
        ),
        (lambda c: a.AssignmentObjected(case_id=c, reason="r", objected_on=D(5)), "objected"),
    ):
        case = Case(Projector())
        case.register()
        case(event_of(case.case_id))
        assert (case.row.state, case.row.not_accepted, case.row.not_accepted_on) == (
            how,
            how,
            D(5),
        )


def test_a_hearing_pauses_and_returns_to_the_state_before_it() -> None:
    case = Case(Projector())
    cid = case.case_id
    case.register()
    case(a.CaseAccepted(case_id=cid, accepted_on=D(3), handling_due=D(31)))
    case(a.CompletionReported(case_id=cid, summary="办结", reported_on=D(10)))
    case(a.HearingStarted(case_id=cid, reason="争议", started_on=D(11)))
    assert case.row.state == "hearing"
    case(
        a.HearingEnded(
            case_id=cid,
            ended_on=D(16),
            paused_days=5,
            deadline=a.DeadlineKind.HANDLING,
            due=date(2026, 4, 5),
        )
    )
    assert (case.row.state, case.row.handling_due) == ("completion_reported", date(2026, 4, 5))
    assert case.row.state_before_hearing is None
    case(
        a.ExtensionGranted(
            case_id=cid, days=30, reason="复杂", approved_by="局长", handling_due=date(2026, 5, 5)
        )
    )
    assert (case.row.handling_due, case.row.extended_days) == (date(2026, 5, 5), 30)


def test_justified_is_the_latest_outcome_else_the_preliminary_assessment() -> None:
    case = Case(Projector())
    cid = case.case_id
    case.register(assessment=i.Assessment.JUSTIFIED)
    assert case.row.justified
    reply(case, a.Outcome.EXPLAIN)
    assert not case.row.justified
    assert case.row.outcome == "explain"
    case(
        a.ReviewDecided(
            case_id=cid,
            decision=a.ReviewDecision.REVISED,
            outcome=a.Outcome.SUPPORT,
            summary="撤销",
            decided_on=D(25),
            re_review_request_until=D(31),
        )
    )
    assert case.row.justified
    assert case.row.outcome == "support"
    # A later repeat submission's preliminary view changes nothing once an outcome exists.
    case.submit(repeat=True, assessment=i.Assessment.NOT_JUSTIFIED)
    assert case.row.justified
    case(
        a.ReReviewDecided(
            case_id=cid,
            decision=a.ReviewDecision.REVISED,
            outcome=a.Outcome.NOT_SUPPORTED,
            summary="撤销",
            decided_on=D(28),
        )
    )
    assert not case.row.justified

    unjustified = Case(Projector())
    unjustified.register(assessment=i.Assessment.UNDETERMINED)
    assert not unjustified.row.justified
    reply(unjustified, a.Outcome.SUPPORT)
    assert unjustified.row.justified


def test_justified_follows_a_repeats_fresh_assessment_until_an_outcome() -> None:
    case = Case(Projector())
    case.register(assessment=i.Assessment.NOT_JUSTIFIED)
    assert not case.row.justified
    case.submit(repeat=True, assessment=i.Assessment.JUSTIFIED)  # assessed anew: justified
    assert case.row.justified
    assert case.row.preliminary_assessment == "justified"
    case.submit(repeat=True, assessment=i.Assessment.UNDETERMINED)  # says nothing new
    assert case.row.justified
    reply(case, a.Outcome.NOT_SUPPORTED)  # the outcome wins
    assert not case.row.justified


def test_assignment_details_notices_and_progress() -> None:
    projector = Projector()
    case = Case(projector)
    cid = case.case_id
    case.register()
    case(a.CaseAssigned(case_id=cid, unit="330102", officer="赵警官", reason="属地"))
    case(
        a.LeaderOwnershipTaken(
            case_id=cid, leader_id="L01", leader_name="陈局长", team=("赵",), plan="一月化解"
        )
    )
    case(a.ProgressRecorded(case_id=cid, week="2026-W11", note="约谈", recorded_on=D(10)))
    case(a.ProgressRecorded(case_id=cid, week="2026-W11", note="约谈后核实", recorded_on=D(12)))
    case(a.ProgressRecorded(case_id=cid, week="2026-W10", note="补录", recorded_on=D(13)))
    case(
        a.DeadlineReminderSent(
            case_id=cid,
            deadline=a.DeadlineKind.HANDLING,
            due=D(31),
            working_days_left=5,
            unit="330102",
            officer="赵警官",
        )
    )
    assert not case.row.supervised
    case(
        a.SupervisionRaised(
            case_id=cid, deadline=a.DeadlineKind.HANDLING, due=D(31), unit="330102", officer=None
        )
    )
    case(a.CongressSupervisionStarted(case_id=cid, document_number="人大督〔2026〕1号"))
    case(a.CongressReportSent(case_id=cid, report="报告", sent_on=D(30)))
    case(a.SatisfactionRated(case_id=cid, rating=a.Satisfaction.DISSATISFIED, rated_on=D(28)))
    case(a.SatisfactionRated(case_id=cid, rating=a.Satisfaction.SATISFIED, rated_on=D(30)))
    row = case.row
    # Every rating kept with its date (the satisfaction rate takes the latest by D).
    assert (row.rated_on, row.ratings) == ([D(28), D(30)], ["dissatisfied", "satisfied"])
    assert (row.responsible_unit, row.responsible_officer) == ("330102", "赵警官")
    assert (row.owning_leader, row.leader_plan) == ("陈局长", "一月化解")
    assert (row.latest_progress_week, row.latest_progress_note) == ("2026-W11", "约谈后核实")
    assert {(p.week, p.note) for p in projector.progress.values()} == {
        ("2026-W11", "约谈后核实"),
        ("2026-W10", "补录"),
    }
    assert sorted(n.kind for n in projector.notices.values()) == ["reminder", "supervision"]
    assert row.supervised
    assert row.congress
    assert row.congress_report_on == D(30)
    assert row.satisfaction == "satisfied"


def test_reception_sessions() -> None:
    projector = Projector()
    sid = uuid.uuid4()
    session = Case(projector, sid)
    stream = f"reception-{sid}"
    session(
        r.ReceptionSessionScheduled(
            session_id=sid,
            bureau="3301",
            day=D(4),
            leader_id="L01",
            leader_name="陈局长",
            leader_title="局长",
            chief_day=True,
            place="大厅",
            attending_departments=("信访科",),
        ),
        stream=stream,
    )
    assert projector.sessions[sid].state == "scheduled"
    session(r.ReceptionSessionHeld(session_id=sid, held_by="王副局长"), stream=stream)
    for _ in range(2):
        session(
            r.LeaderInstructionRecorded(session_id=sid, case_id=uuid.uuid4(), instruction="限期"),
            stream=stream,
        )
    row = projector.sessions[sid]
    assert (row.state, row.held_by, row.instructions, row.chief_day) == (
        "held",
        "王副局长",
        2,
        True,
    )
    other = uuid.uuid4()
    missed = Case(projector, other)
    stream = f"reception-{other}"
    missed(
        r.ReceptionSessionScheduled(
            session_id=other,
            bureau="330102",
            day=D(5),
            leader_id="L02",
            leader_name="李局长",
            leader_title="副局长",
            chief_day=False,
            place="大厅",
            attending_departments=(),
        ),
        stream=stream,
    )
    missed(r.ReceptionSessionMissed(session_id=other, reason="病假"), stream=stream)
    assert (projector.sessions[other].state, projector.sessions[other].missed_reason) == (
        "missed",
        "病假",
    )


def test_erasure_replaces_only_that_subjects_names_in_either_order() -> None:
    projector = Projector()
    first, second = uuid.uuid4(), uuid.uuid4()
    case = Case(projector)
    case.register(first, second)
    other = Case(projector)
    other.register(second)
    untouched = Case(projector)
    untouched.register(first)
    erasure = Case(projector, second)
    erasure(PersonalDataErased(subject_id=second, reason="本人申请"), stream=f"subject-{second}")
    assert (case.row.petitioners, case.row.petitioner_ids) == (
        f"张*、{ERASED}",
        f"110105********000X、{ERASED}",
    )
    assert other.row.petitioners == ERASED
    assert untouched.row.petitioners == "张*"
    # Versions follow each case's own stream only.
    assert case.row.version == 2

    # The erasure projected before the case (they travel on different streams).
    late = Projector()
    late.load_erased([second])
    case = Case(late)
    case.register(first, second)
    assert case.row.petitioners == f"张*、{ERASED}"


def test_unknown_and_unprojected_event_types_are_ignored() -> None:
    projector = Projector()
    case = Case(projector)
    case.register()
    projector.take_changes()
    assert not Projector.handles("reporting.TimelineRead")
    assert not Projector.handles("test.SomethingElse")
    case(
        TimelineRead(
            case_id=case.case_id,
            reader="审计员",
            role="auditor",
            purpose="",
            as_of=None,
            verified=None,
        ),
        stream=f"audit-{case.case_id}",
    )
    assert not projector.take_changes()
    assert case.row.version == 2


def test_changes_name_only_the_rows_touched() -> None:
    projector = Projector()
    one, two = Case(projector), Case(projector)
    one.register()
    two.register()
    projector.take_changes()
    two(a.CaseAccepted(case_id=two.case_id, accepted_on=D(3), handling_due=D(31)))
    changes = projector.take_changes()
    assert [c.case_id for c in changes.cases] == [two.case_id]
    assert not changes.submissions
    assert not projector.take_changes()


# -- live (row by row, from stored rows) equals rebuild (one fold) --------------------------


def _stored(row: Any) -> Any:
    """A row as it comes back from the table (by column name, as asyncpg gives it)."""
    return type(row).from_record(dict(zip(type(row).COLUMNS, row.record(), strict=True)))


def test_folding_event_by_event_from_stored_rows_equals_one_fold() -> None:
    stories, erase = histories(6000, seed=11)
    events: list[tuple[Env, Event]] = []
    for story in stories:
        for version, new in enumerate((n for batch in story.appends for n in batch), start=1):
            at = new.occurred_at or T0
            events.append(
                (Env(story.stream_id, version, new.event_id, new.data.event_type, at, at), new.data)
            )
    for n, subject in enumerate(erase):
        events.insert(
            len(events) // 2 + n,
            (
                Env(f"subject-{subject}", 1, uuid.uuid4(), PersonalDataErased.event_type, T0, T0),
                PersonalDataErased(subject_id=subject, reason="本人申请"),
            ),
        )

    whole = Projector()
    for env, event in events:
        whole.apply(env, event)

    # The live path: a fresh projector per event, given only the stored rows it needs.
    tables: dict[str, dict[Any, Any]] = {"cases": {}, "sessions": {}, "other": {}}
    erased: set[uuid.UUID] = set()
    for env, event in events:
        projector = Projector()
        need = needs(event)
        if need.case_id in tables["cases"]:
            projector.load_case(_stored(tables["cases"][need.case_id]))
        if need.session_id in tables["sessions"]:
            projector.load_session(_stored(tables["sessions"][need.session_id]))
        instruction = tables["other"].get(("instructions", (need.instruction_id,)))
        if instruction is not None:  # an instruction being answered
            projector.load_instruction(_stored(instruction))
        projector.load_erased(s for s in need.erased_check if s in erased)
        if need.erase is not None:
            for row in tables["cases"].values():
                if need.erase in row.subjects:
                    projector.load_case(_stored(row))
        projector.apply(env, event)
        changes: Changes = projector.take_changes()
        for row in changes.cases:
            tables["cases"][row.case_id] = row
        for session in changes.sessions:
            tables["sessions"][session.session_id] = session
        for cls, rows in changes.by_table():
            if cls not in (CaseRow, SessionRow):
                for item in rows:
                    tables["other"][(cls.TABLE, item.record()[: len(cls.KEY)])] = item
        erased.update(changes.erased)

    assert tables["cases"] == whole.cases
    assert tables["sessions"] == whole.sessions
    everything = whole.rows()
    assert {
        (cls.TABLE, item.record()[: len(cls.KEY)]): item
        for cls, rows in everything.by_table()
        if cls not in (CaseRow, SessionRow)
        for item in rows
    } == tables["other"]
    assert erased == whole.erased
    assert any(ERASED in row.petitioners for row in whole.cases.values())


def test_provisional_deadlines_are_marked_and_re_dated_in_the_ledger_row() -> None:
    from dataclasses import asdict
    from pathlib import Path

    from petitions.bureaus import load_config
    from reporting.exports import ledger_report, to_csv
    from reporting.queries.ledger import ledger_row
    from reporting.queries.models import BureauRef

    note = "2027 年节假日安排为暂定（未发布） / the 2027 holiday arrangement is provisional"
    projector = Projector()
    case = Case(projector)
    case.register()
    case(
        a.WorkflowOpened(
            case_id=case.case_id,
            case_number="330102-2026-000001",
            bureau="330102",
            sub_bureau="330102",
            category="SQ01",
            category_kind="complaint_demand",
            received_on=date(2026, 12, 1),
            acceptance_due=date(2026, 12, 16),
            referral=False,
            congress=False,
        )
    )
    assert case.row.provisional_deadlines == []
    case(
        a.CaseAccepted(
            case_id=case.case_id,
            accepted_on=date(2026, 12, 1),
            handling_due=date(2027, 2, 1),
            provisional_deadlines=(a.DatedDeadline.HANDLING,),
            calendar_note=note,
        )
    )
    assert case.row.provisional_deadlines == ["handling"]
    assert case.row.calendar_note == note

    # The ledger and its export show the mark beside the dates, in Chinese and English.
    config = load_config(Path(__file__).resolve().parents[2] / "deploy/config/bureaus.demo.toml")
    stored = {**asdict(case.row), "running_deadline": "handling", "running_due": date(2027, 2, 1)}
    row = ledger_row(config, stored, date(2026, 12, 1))
    assert row.provisional_deadlines == ["handling"]
    assert row.provisional_reason_zh == "2027 年节假日安排为暂定（未发布）"
    assert row.provisional_reason_en == "the 2027 holiday arrangement is provisional"
    report = ledger_report(
        BureauRef(code="330102", name="江城分局"), [row], [], today=date(2026, 12, 1)
    )
    text = to_csv(report).decode("utf-8-sig")
    header = next(line for line in text.splitlines() if line.startswith("案件编号"))
    assert "期限暂定（原因） Provisional deadlines (why)" in header
    assert "暂定：办理期限（2027 年节假日安排为暂定（未发布））" in text
    assert "provisional: handling (the 2027 holiday arrangement is provisional)" in text

    # The official file re-dates it: the row follows, and the mark goes.
    case(
        a.DeadlinesRecomputed(
            case_id=case.case_id,
            changes=(
                a.DeadlineRedated(
                    deadline=a.DatedDeadline.HANDLING,
                    old_due=date(2027, 2, 1),
                    new_due=date(2027, 2, 4),
                    provisional_before=True,
                    provisional_after=False,
                    calendar_files=("2027.toml sha256:ab",),
                ),
            ),
            calendar_checksum="cd",
            recomputed_on=date(2026, 12, 15),
        )
    )
    assert case.row.handling_due == date(2027, 2, 4)
    assert case.row.provisional_deadlines == []
    assert case.row.calendar_note is None
    stored = {**asdict(case.row), "running_deadline": "handling", "running_due": date(2027, 2, 4)}
    assert ledger_row(config, stored, date(2026, 12, 15)).provisional_deadlines == []
