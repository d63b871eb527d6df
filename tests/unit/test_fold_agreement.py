"""Every fold that derives a case's workflow state from its stream says the same state.

Four folds read the same ``case-<id>`` stream: assignment's ``evolve`` (what the API answers and
the workflow decides on), reporting's projector (the ledger's state column), reporting's audit
replay (an auditor's "state as of") and intake's case file (the dossier and the petitioner's
status). Generated workflows, built the way the service builds them (intake's two events,
``open_workflow``, then commands through assignment's pure ``decide`` on advancing days, with the
sweep's notices between), are folded by all four, and after every event the states must match
in the shared vocabulary (``petitions.messages.case_state``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from assignment.domain import case as workflow
from assignment.domain import commands as c
from assignment.domain.deadlines import Deadlines
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from intake.domain import casefile
from petitions.bureaus import BureauConfig, WorkCalendar, load_config, load_work_calendar
from petitions.eventstore import RecordedEvent
from petitions.identity import Principal, Role
from petitions.messages import Event
from petitions.messages.assignment import (
    CommitteeBody,
    DeliveryMethod,
    Outcome,
    ReviewDecision,
    Satisfaction,
)
from petitions.messages.case_state import CaseState
from petitions.messages.intake import (
    Assessment,
    CaseRegistered,
    Channel,
    PetitionerRecord,
    SubmissionReceived,
)
from petitions.personal.codec import plan_for
from reporting import audit
from reporting.projections.projector import Projector

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
CALENDAR: WorkCalendar = load_work_calendar(CONFIG)
DEADLINES = Deadlines(CALENDAR)
# The import role may give every command in its name (no unit checks): the generator explores
# the workflow's states, not who may act (test_assignment_case covers that).
ACTOR = Principal("import-01", Role.IMPORTER, "3301")
RECEIVED = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
RECEIVED_ON = RECEIVED.date()
DECIDE = {"decision": ReviewDecision.UPHELD, "outcome": Outcome.EXPLAIN, "summary": "维持"}

# One valid body per command (a refusal on content is fine: it writes nothing).
BODIES: dict[str, list[c.Command]] = {
    "accept": [c.Accept(notice="予以受理")],
    "decline": [c.Decline(reason="不属于公安机关职责范围")],
    "forward": [c.Forward(organ="市信访局", reason="不属本机关职责")],
    "divert": [c.Divert(procedure="行政复议", reason="应通过法定途径解决")],
    "object": [c.Object(reason="不属本单位管辖")],
    "assign": [
        c.Assign(unit="330103", officer="李警官", reason="属地管辖"),
        c.Assign(unit="330102", officer="王警官", reason="退回原单位"),
    ],
    "take_ownership": [
        c.TakeOwnership(leader_id="L02", team=["张科长"], plan="一案一策"),
        c.TakeOwnership(leader_id="330102-head", team=["李所长"], plan="分局包案"),
    ],
    "record_committee_decision": [
        c.RecordPartyCommitteeDecision(
            decided_on=RECEIVED_ON, body=CommitteeBody.SUB_BUREAU_COMMITTEE, content="同意方案"
        )
    ],
    "record_progress": [c.RecordProgress(note="已约谈双方")],
    "report_completion": [c.ReportCompletion(summary="已调解")],
    "accept_completion": [c.AcceptCompletion()],
    "send_back": [c.SendBack(reason="证据不全")],
    "grant_extension": [
        c.GrantExtension(days=30, reason="情况复杂"),
        c.GrantExtension(days=10, reason="待鉴定"),
    ],
    "start_hearing": [c.StartHearing(reason="组织听证")],
    "end_hearing": [c.EndHearing()],
    "reply": [
        c.IssueReply(outcome=Outcome.SUPPORT, legal_basis="《治安管理处罚法》", summary="支持"),
        c.IssueReply(outcome=Outcome.NOT_SUPPORTED, legal_basis="《信访工作条例》", summary="否"),
    ],
    "rate_satisfaction": [c.RateSatisfaction(rating=Satisfaction.SATISFIED)],
    "request_review": [c.RequestReview()],
    "decide_review": [c.DecideReview(**DECIDE)],
    "request_re_review": [c.RequestReReview()],
    "decide_re_review": [c.DecideReReview(**DECIDE)],
    "record_delivery": [c.RecordDelivery(method=DeliveryMethod.IN_PERSON, receipt="本人签收")],
    "congress_supervise": [c.StartCongressSupervision(document_number="临人大督〔2026〕3号")],
    "congress_report": [c.SendCongressReport(report="办理情况的书面报告")],
}


def registration(channel: Channel) -> list[Event]:
    subject, case_id = uuid.uuid4(), uuid.uuid4()
    return [
        CaseRegistered(
            subject_id=subject,
            case_id=case_id,
            case_number="330102-2026-000001",
            bureau="330102",
            responsible_officer="王警官",
            sub_bureau="330102",
            category="SQ01",
            category_kind="complaint_demand",
            petitioners=(
                PetitionerRecord(subject_id=subject, name="张三", resident_id="330102198001011234"),
            ),
            first_submission_id=uuid.uuid4(),
        ),
        SubmissionReceived(
            subject_id=subject,
            case_id=case_id,
            submission_id=uuid.uuid4(),
            channel=channel,
            received_at=RECEIVED,
            receiving_bureau="330102",
            receiving_officer="王警官",
            document_number="浙公信转〔2026〕1号" if channel.is_referral else None,
            head_count=1,
            collective=False,
            petitioner_subjects=(subject,),
            summary="反映问题",
            requests="依法处理",
            preliminary_assessment=Assessment.UNDETERMINED,
            is_repeat=False,
        ),
    ]


@dataclass
class Folds:
    """The four folds, fed the same stored events one by one."""

    case: workflow.Case | None = None
    audit_state: audit.CaseState = audit.NOT_REGISTERED
    file: casefile.CaseFile | None = None
    projector: Projector | None = None
    version: int = 0
    today: date = RECEIVED_ON

    def __post_init__(self) -> None:
        self.projector = Projector()

    def append(self, events: list[Event]) -> None:
        for data in events:
            self.version += 1
            at = datetime.combine(self.today, time(2, 0), tzinfo=UTC)
            stored: RecordedEvent[Any] = RecordedEvent(
                position=self.version,
                # Every event folded here is a case event; the base Event has no case_id.
                stream_id=f"case-{data.case_id}",  # type: ignore[attr-defined]
                version=self.version,
                event_id=uuid.uuid4(),
                event_type=data.event_type,
                stored_schema_version=data.schema_version,
                bureau="330102",
                data=data,
                actor="import-01",
                service="tests",
                correlation_id=uuid.uuid4(),
                causation_id=None,
                occurred_at=at,
                recorded_at=at,
                tx_id=self.version,
                hash=b"\x00" * 32,
            )
            self.case = workflow.evolve(self.case, data, self.version)
            self.audit_state = audit.evolve(self.audit_state, stored)
            self.file = casefile.evolve(self.file, stored)
            assert self.projector is not None
            self.projector.apply(stored, data)
            self.check(data)

    def check(self, after: Event) -> None:
        assert self.case is not None
        assert self.file is not None
        assert self.projector is not None
        states = {
            "assignment": CaseState(self.case.state),
            "reporting projector": CaseState(self.projector.cases[self.case.case_id].state),
            "reporting audit": CaseState(self.audit_state.state),
            "intake case file": CaseState(self.file.state),
        }
        assert len(set(states.values())) == 1, f"after {after.event_type}: {states}"


# A step: how many days pass first (the sweep raises what falls due meanwhile), whether to take
# the workflow's next step forward when one is allowed, else which of the commands allowed now
# to give (an index, taken modulo their number) and with which body. Drawn uniformly, four of
# the six commands on a new case close it and the states after the reply go unvisited; so the
# closing ones are drawn only now and then, and the walk is pushed forward half the time.
steps = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 3), st.integers(4, 40)),
        st.booleans(),
        st.integers(0, 50),
        st.integers(0, 1),
        st.integers(0, 9).map(lambda n: n == 0),
    ),
    min_size=1,
    max_size=40,
)
CLOSING = frozenset({"decline", "forward", "divert", "object"})
FORWARD = (
    "accept",
    "end_hearing",
    "report_completion",
    "accept_completion",
    "reply",
    "record_delivery",
    "request_review",
    "decide_review",
    "request_re_review",
    "decide_re_review",
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    channel=st.sampled_from([Channel.VISIT, Channel.HIGHER_REFERRAL, Channel.CONGRESS_REFERRAL]),
    steps=steps,
)
def test_every_fold_says_the_same_state(
    channel: Channel, steps: list[tuple[int, bool, int, int, bool]]
) -> None:
    folds = Folds()
    folds.append(registration(channel))
    folds.append(_sealed(folds, workflow.open_workflow(folds.case, CONFIG, DEADLINES)))
    for days, advance, pick, body, may_close in steps:
        for day in range(days):
            folds.today += timedelta(days=1)
            assert folds.case is not None
            if day == days - 1 or folds.today.weekday() == 0:
                folds.append(workflow.due_notices(folds.case, folds.today, CALENDAR))
        assert folds.case is not None
        allowed = workflow.allowed_commands(folds.case, ACTOR, folds.today)
        if not may_close:
            allowed = [name for name in allowed if name not in CLOSING] or allowed
        if not allowed:
            break
        ahead = [name for name in FORWARD if name in allowed]
        name = ahead[0] if advance and ahead else allowed[pick % len(allowed)]
        options = BODIES[name]
        command = options[body % len(options)]
        context = workflow.Context(ACTOR, folds.today, CONFIG, DEADLINES)
        try:
            events = workflow.decide(folds.case, command, context)
        except workflow.WorkflowError:
            continue  # refused: nothing written
        folds.append(_sealed(folds, events))
        event(f"reached {folds.case.state}")  # --hypothesis-show-statistics shows the spread


def _sealed(folds: Folds, events: list[Event]) -> list[Event]:
    """Every event the workflow writes with free text names the case's first petitioner as
    the subject its text is sealed under (else the store refuses it, or worse, a later
    change stores it in the clear)."""
    assert folds.case is not None
    for e in events:
        if not plan_for(type(e)).empty:
            assert getattr(e, "subject_id", None) == folds.case.text_subject, e
    return events


def test_the_generator_reaches_every_state() -> None:
    """The property above is only as good as the states it visits: a fixed walk through the
    generator's own machinery reaches the hearing in both periods and the end of re-review."""
    seen: set[str] = set()

    def walk(names: list[str], channel: Channel = Channel.VISIT) -> None:
        folds = Folds()
        folds.append(registration(channel))
        folds.append(workflow.open_workflow(folds.case, CONFIG, DEADLINES))
        for name in names:
            folds.today += timedelta(days=3)
            assert folds.case is not None
            context = workflow.Context(ACTOR, folds.today, CONFIG, DEADLINES)
            folds.append(workflow.decide(folds.case, BODIES[name][0], context))
            seen.add(folds.case.state)
            if folds.case.state == CaseState.HEARING:
                # The petitioner is shown the period the hearing is held in, not the hearing.
                assert folds.file is not None
                assert folds.case.before_hearing is not None
                expected = {"handling": "handling", "under_re_review": "under_re_review"}
                assert casefile.phase(folds.file) == expected[folds.case.before_hearing]

    walk(["object"], Channel.HIGHER_REFERRAL)
    walk(["decline"])
    walk(["forward"])
    walk(["divert"])
    walk(
        [
            "accept",
            "start_hearing",
            "end_hearing",
            "report_completion",
            "send_back",
            "report_completion",
            "accept_completion",
            "reply",
            "record_delivery",
            "request_review",
            "decide_review",
            "record_delivery",
            "request_re_review",
            "start_hearing",
            "end_hearing",
            "decide_re_review",
        ]
    )
    assert seen == {s.value for s in CaseState} - {"registered", "awaiting_acceptance"} - {
        "re_reviewed"  # decided and terminated in one command: checked between its two events
    }
