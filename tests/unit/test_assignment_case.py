"""The assignment workflow's pure core: ``evolve``, ``decide``, ``open_workflow``, ``due_notices``
and ``next_check`` over in-memory events (no database, no clock of its own).

A case is built the way the service builds it: intake's two events folded, the workflow opened,
then each command decided and its events folded in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from assignment.domain import commands as c
from assignment.domain.case import (
    CLOSED,
    DEADLINE_RULES_VERSION,
    HEARING_RULE_NOTE,
    RULES,
    STATE_LABELS,
    Case,
    Context,
    Forbidden,
    Invalid,
    NotAllowed,
    StaleVersion,
    WorkflowError,
    allowed_commands,
    decide,
    due_notices,
    evolve,
    next_check,
    notice_event_id,
    notice_id,
    open_workflow,
    recompute,
)
from assignment.domain.deadlines import Deadlines
from petitions.bureaus import BureauConfig, WorkCalendar, load_config, load_work_calendar
from petitions.identity import Principal, Role
from petitions.messages import Event
from petitions.messages.assignment import (
    CaseAssigned,
    CommitteeBody,
    DatedDeadline,
    DeadlineKind,
    DeadlineReminderSent,
    DeadlinesRecomputed,
    DeliveredDocument,
    DeliveryMethod,
    DeliveryRecorded,
    ExtensionGranted,
    HearingEnded,
    Outcome,
    ReplyIssued,
    ReviewDecision,
    ReviewRequested,
    Satisfaction,
    SupervisionRaised,
    WorkflowOpened,
)
from petitions.messages.intake import (
    Assessment,
    CaseRegistered,
    Channel,
    PetitionerRecord,
    SubmissionReceived,
)
from petitions.scope import sees

ROOT = Path(__file__).resolve().parents[2]
D = date
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
CALENDAR: WorkCalendar = load_work_calendar(CONFIG)
DEADLINES = Deadlines(CALENDAR)

OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")
HANDLER = Principal("王警官", Role.HANDLER, "330102")
HEAD = Principal("head-02", Role.SUB_BUREAU_HEAD, "330102")
LEADER = Principal("L01", Role.LEADER, "3301")
REGISTRAR = Principal("clerk-01", Role.REGISTRAR, "330102")
CITY_HANDLER = Principal("李警官", Role.HANDLER, "3301")
IMPORTER = Principal("import-01", Role.IMPORTER, "3301")


# -- building cases --------------------------------------------------------------------------


def registration(
    *,
    received: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    channel: Channel = Channel.VISIT,
    category: str = "SQ01",
    kind: str = "complaint_demand",
    bureau: str = "330102",
    sub_bureau: str = "330102",
    officer: str = "王警官",
    accused_units: Sequence[str] = (),
    accused_officers: Sequence[str] = (),
) -> list[Event]:
    subject, case_id = uuid.uuid4(), uuid.uuid4()
    return [
        CaseRegistered(
            subject_id=subject,
            case_id=case_id,
            case_number=f"{bureau}-2026-000001",
            bureau=bureau,
            responsible_officer=officer,
            sub_bureau=sub_bureau,
            category=category,
            category_kind=kind,
            petitioners=(
                PetitionerRecord(subject_id=subject, name="张三", resident_id="330102198001011234"),
            ),
            first_submission_id=uuid.uuid4(),
            accused_units=tuple(accused_units),
            accused_officers=tuple(accused_officers),
        ),
        SubmissionReceived(
            subject_id=subject,
            case_id=case_id,
            submission_id=uuid.uuid4(),
            channel=channel,
            received_at=received,
            receiving_bureau=bureau,
            receiving_officer=officer,
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


def fold(events: Sequence[Event], case: Case | None = None) -> Case:
    version = 0 if case is None else case.version
    for event in events:
        version += 1
        case = evolve(case, event, version)
    assert case is not None
    return case


def opened(**registration_args: Any) -> Case:
    case = fold(registration(**registration_args))
    return fold(open_workflow(case, CONFIG, DEADLINES), case)


def ctx(principal: Principal, today: date) -> Context:
    return Context(principal, today, CONFIG, DEADLINES)


def run(case: Case, command: c.Command, principal: Principal, today: date) -> Case:
    return fold(decide(case, command, ctx(principal, today)), case)


def types(events: Sequence[Event]) -> list[str]:
    return [e.event_type for e in events]


REPLY = c.IssueReply(outcome=Outcome.SUPPORT, legal_basis="《治安管理处罚法》", summary="支持")
DECIDE = {"decision": ReviewDecision.UPHELD, "outcome": Outcome.EXPLAIN, "summary": "维持"}

# One valid body for every command.
SAMPLES: dict[str, c.Command] = {
    "accept": c.Accept(notice="予以受理"),
    "decline": c.Decline(reason="不属于公安机关职责范围"),
    "forward": c.Forward(organ="市信访局", reason="不属本机关职责"),
    "divert": c.Divert(procedure="行政复议", reason="应通过法定途径解决"),
    "object": c.Object(reason="不属本单位管辖"),
    "assign": c.Assign(unit="330103", officer="李警官", reason="属地管辖"),
    "take_ownership": c.TakeOwnership(leader_id="L02", team=["张科长"], plan="一案一策"),
    "record_committee_decision": c.RecordPartyCommitteeDecision(
        decided_on=D(2026, 3, 3), body=CommitteeBody.CITY_BUREAU_COMMITTEE, content="同意化解方案"
    ),
    "record_progress": c.RecordProgress(note="已约谈双方"),
    "report_completion": c.ReportCompletion(summary="已调解"),
    "accept_completion": c.AcceptCompletion(),
    "send_back": c.SendBack(reason="证据不全"),
    "grant_extension": c.GrantExtension(days=30, reason="情况复杂"),
    "start_hearing": c.StartHearing(reason="组织听证"),
    "end_hearing": c.EndHearing(),
    "reply": REPLY,
    "rate_satisfaction": c.RateSatisfaction(rating=Satisfaction.SATISFIED),
    "request_review": c.RequestReview(),
    "decide_review": c.DecideReview(**DECIDE),
    "request_re_review": c.RequestReReview(),
    "decide_re_review": c.DecideReReview(**DECIDE),
    "record_delivery": c.RecordDelivery(method=DeliveryMethod.IN_PERSON, receipt="本人签收"),
    "congress_supervise": c.StartCongressSupervision(document_number="临人大督〔2026〕3号"),
    "congress_report": c.SendCongressReport(report="办理情况的书面报告"),
}


@dataclass(frozen=True)
class At:
    case: Case
    today: date


def every_state() -> dict[str, At]:
    """A case in each state, reached by the commands that lead there (and the day it is)."""
    states: dict[str, At] = {}
    case = fold(registration())
    states["registered"] = At(case, D(2026, 3, 2))
    case = fold(open_workflow(case, CONFIG, DEADLINES), case)
    awaiting = case
    states["awaiting_acceptance"] = At(case, D(2026, 3, 3))
    states["declined"] = At(run(case, SAMPLES["decline"], OFFICE, D(2026, 3, 4)), D(2026, 3, 4))
    states["forwarded"] = At(run(case, SAMPLES["forward"], OFFICE, D(2026, 3, 4)), D(2026, 3, 4))
    states["diverted"] = At(run(case, SAMPLES["divert"], HEAD, D(2026, 3, 4)), D(2026, 3, 4))
    referral = opened(channel=Channel.HIGHER_REFERRAL)
    states["objected"] = At(run(referral, SAMPLES["object"], HEAD, D(2026, 3, 4)), D(2026, 3, 4))
    case = run(awaiting, SAMPLES["accept"], OFFICE, D(2026, 3, 5))
    handling = case
    states["handling"] = At(case, D(2026, 3, 10))
    states["hearing"] = At(
        run(case, SAMPLES["start_hearing"], HANDLER, D(2026, 3, 10)), D(2026, 3, 12)
    )
    case = run(case, SAMPLES["report_completion"], HANDLER, D(2026, 3, 20))
    states["completion_reported"] = At(case, D(2026, 3, 20))
    case = run(case, SAMPLES["accept_completion"], OFFICE, D(2026, 3, 23))
    states["completion_accepted"] = At(case, D(2026, 3, 23))
    case = run(case, REPLY, HANDLER, D(2026, 4, 10))
    # Handed over the day it was signed: the windows below count from these deliveries.
    case = run(case, SAMPLES["record_delivery"], HANDLER, D(2026, 4, 10))
    states["replied"] = At(case, D(2026, 4, 13))
    case = run(case, SAMPLES["request_review"], REGISTRAR, D(2026, 4, 20))
    states["under_review"] = At(case, D(2026, 4, 21))
    case = run(case, SAMPLES["decide_review"], LEADER, D(2026, 5, 11))
    case = run(case, SAMPLES["record_delivery"], HANDLER, D(2026, 5, 11))
    states["reviewed"] = At(case, D(2026, 5, 12))
    case = run(case, SAMPLES["request_re_review"], OFFICE, D(2026, 5, 20))
    states["under_re_review"] = At(case, D(2026, 5, 21))
    decided = decide(case, SAMPLES["decide_re_review"], ctx(LEADER, D(2026, 6, 10)))
    states["re_reviewed"] = At(fold(decided[:1], case), D(2026, 6, 10))
    states["terminated"] = At(fold(decided, case), D(2026, 6, 11))
    assert handling.state == "handling"
    return states


STATES = every_state()

# What each state allows, written out (not derived from RULES): the documented workflow.
_ANYTIME = ["take_ownership", "record_committee_decision", "congress_supervise", "congress_report"]
ALLOWED: dict[str, set[str]] = {
    "registered": set(),
    "awaiting_acceptance": {
        "accept", "decline", "forward", "divert", "object", "assign", *_ANYTIME,
    },
    "handling": {
        "assign", "record_progress", "report_completion", "grant_extension", "start_hearing",
        *_ANYTIME,
    },
    # A hearing in handling does not stop its clock: the unit head may still extend.
    "hearing": {"assign", "record_progress", "end_hearing", "grant_extension", *_ANYTIME},
    "completion_reported": {
        "assign", "record_progress", "accept_completion", "send_back", "grant_extension",
        *_ANYTIME,
    },
    "completion_accepted": {"record_progress", "grant_extension", "reply", *_ANYTIME},
    "replied": {"rate_satisfaction", "request_review", *_ANYTIME},
    "under_review": {"rate_satisfaction", "decide_review", *_ANYTIME},
    "reviewed": {"rate_satisfaction", "request_re_review", *_ANYTIME},
    "under_re_review": {"rate_satisfaction", "decide_re_review", "start_hearing", *_ANYTIME},
    "re_reviewed": {
        "rate_satisfaction", "record_delivery", "congress_supervise", "congress_report",
    },
    "terminated": {"rate_satisfaction", "record_delivery", "congress_report"},
    "declined": {"congress_report"},
    "forwarded": {"congress_report"},
    "diverted": {"congress_report"},
    "objected": {"congress_report"},
}  # fmt: skip

# Where each allowed command leads (a command absent here leaves the state as it is).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("awaiting_acceptance", "accept"): "handling",
    ("awaiting_acceptance", "decline"): "declined",
    ("awaiting_acceptance", "forward"): "forwarded",
    ("awaiting_acceptance", "divert"): "diverted",
    ("handling", "report_completion"): "completion_reported",
    ("handling", "start_hearing"): "hearing",
    ("hearing", "end_hearing"): "handling",
    ("completion_reported", "accept_completion"): "completion_accepted",
    ("completion_reported", "send_back"): "handling",
    ("completion_accepted", "reply"): "replied",
    ("replied", "request_review"): "under_review",
    ("under_review", "decide_review"): "reviewed",
    ("reviewed", "request_re_review"): "under_re_review",
    ("under_re_review", "decide_re_review"): "terminated",
    ("under_re_review", "start_hearing"): "hearing",
}
# Refusals on content in a state that allows the command (this sample case is no referral and
# no People's Congress case): its allowed commands leave them out.
CONTENT_REFUSALS = {
    "object": "not_a_referral",
    "congress_report": "not_a_congress_case",
    "record_committee_decision": "not_owned",  # no leader owns the sample case
}


def allowed_here(state: str) -> set[str]:
    return ALLOWED[state] - set(CONTENT_REFUSALS)


def permitted(command: str) -> Principal:
    """Someone whose role may give the command (not the importer, who may give any)."""
    rule = RULES[next(k for k in RULES if k.name == command)]
    role = rule.roles[0]
    return Principal(f"{role.value}-01", role, "3301" if role is not Role.HANDLER else "330102")


def test_the_samples_cover_every_command_and_the_states_every_state() -> None:
    assert set(SAMPLES) == {command.name for command in c.COMMANDS}
    assert set(STATES) == set(STATE_LABELS) == set(ALLOWED)
    assert {state: at.case.state for state, at in STATES.items()} == {s: s for s in STATES}


@pytest.mark.parametrize("state", sorted(ALLOWED))
def test_each_state_allows_exactly_its_commands(state: str) -> None:
    assert set(allowed_commands(STATES[state].case)) == allowed_here(state)


def test_allowed_commands_leave_out_what_cannot_apply_to_the_case() -> None:
    referral = opened(channel=Channel.CONGRESS_REFERRAL)
    assert set(allowed_commands(referral)) == ALLOWED["awaiting_acceptance"] - {
        "record_committee_decision"  # no leader owns it
    }
    case = run(STATES["handling"].case, SAMPLES["grant_extension"], HEAD, D(2026, 3, 10))
    assert set(allowed_commands(case)) == allowed_here("handling") - {"grant_extension"}
    # Given a caller: only what their role may give.
    assert allowed_commands(case, HANDLER) == [
        "record_progress", "report_completion", "start_hearing",
    ]  # fmt: skip
    assert allowed_commands(case, Principal("a-01", Role.AUDITOR, "3301")) == []


def _role_may(principal: Principal, name: str) -> bool:
    rule = next(rule for command, rule in RULES.items() if command.name == name)
    return principal.role in rule.roles or principal.role is Role.IMPORTER


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_every_command_in_every_state(state: str, command: str) -> None:
    at = STATES[state]
    principal = permitted(command)
    if command not in ALLOWED[state]:
        with pytest.raises(NotAllowed) as refused:
            decide(at.case, SAMPLES[command], ctx(principal, at.today))
        error = refused.value
        assert error.status == 409
        if state == "registered":
            assert error.code == "case_not_ready"
            return
        if command == "record_delivery" and state in ("replied", "reviewed"):
            # The state takes deliveries, but this case's decision was delivered already.
            assert error.code == "nothing_to_deliver"
            assert "record_delivery" not in error.details["allowed"]
            return
        # 409 names the state and the commands it allows, in both languages.
        assert error.code == "not_allowed_in_state"
        assert error.details["state"] == state
        # ... that the caller's role may give (a clerk is not sent to commands they cannot use).
        assert set(error.details["allowed"]) == {
            name for name in allowed_here(state) if _role_may(principal, name)
        }
        assert STATE_LABELS[state] in error.message
        assert state in error.message
        return
    if command in CONTENT_REFUSALS:
        with pytest.raises(NotAllowed) as content:
            decide(at.case, SAMPLES[command], ctx(principal, at.today))
        assert content.value.code == CONTENT_REFUSALS[command]
        assert set(content.value.details["allowed"]) == allowed_here(state)
        return
    events = decide(at.case, SAMPLES[command], ctx(principal, at.today))
    assert events, "an allowed command writes at least one event"
    after = fold(events, at.case)
    assert after.version == at.case.version + len(events)
    assert after.state == TRANSITIONS.get((state, command), state)


def test_the_happy_path_events() -> None:
    case = opened()
    assert (case.state, case.unit, case.officer) == ("awaiting_acceptance", "330102", "王警官")
    assert case.acceptance_due == D(2026, 3, 17)
    events = decide(case, c.Accept(), ctx(OFFICE, D(2026, 3, 5)))
    assert types(events) == ["assignment.CaseAccepted"]
    case = fold(events, case)
    assert (case.accepted_on, case.handling_due) == (D(2026, 3, 5), D(2026, 5, 6))  # 5/4 holiday
    case = run(case, c.RecordProgress(note="走访"), HANDLER, D(2026, 3, 11))
    assert case.progress_weeks == frozenset({"2026-W11"})
    case = run(case, c.ReportCompletion(summary="已调解"), HANDLER, D(2026, 4, 1))
    case = run(case, c.AcceptCompletion(), OFFICE, D(2026, 4, 2))
    events = decide(case, REPLY, ctx(HANDLER, D(2026, 4, 3)))
    (reply,) = events
    assert isinstance(reply, ReplyIssued)
    assert reply.on_time is True
    case = fold(events, case)
    assert (case.replied_on, case.outcome) == (D(2026, 4, 3), Outcome.SUPPORT)
    assert (case.review_request_until, case.awaiting_delivery) == (None, True)
    case = run(case, SAMPLES["record_delivery"], HANDLER, D(2026, 4, 3))
    assert case.review_request_until == D(2026, 5, 6)  # 5/3 in Labour Day -> 5/6
    case = run(case, c.RequestReview(), REGISTRAR, D(2026, 5, 6))  # the last day still counts
    assert case.review_due == D(2026, 6, 5)
    case = run(case, c.DecideReview(**DECIDE), LEADER, D(2026, 5, 20))
    assert case.re_review_request_until is None
    case = run(case, SAMPLES["record_delivery"], OFFICE, D(2026, 5, 20))
    assert case.re_review_request_until == D(2026, 6, 22)  # 6/19 Dragon Boat -> Mon 6/22
    case = run(case, c.RequestReReview(), OFFICE, D(2026, 6, 1))
    events = decide(case, c.DecideReReview(**DECIDE), ctx(LEADER, D(2026, 6, 15)))
    assert types(events) == ["assignment.ReReviewDecided", "assignment.CaseTerminated"]
    assert fold(events, case).state == "terminated"


def test_a_late_reply_is_recorded_as_late() -> None:
    case = STATES["completion_accepted"].case
    assert case.handling_due == D(2026, 5, 6)
    (on_time,) = decide(case, REPLY, ctx(HANDLER, D(2026, 5, 6)))
    (late,) = decide(case, REPLY, ctx(HANDLER, D(2026, 5, 7)))
    assert isinstance(on_time, ReplyIssued)
    assert isinstance(late, ReplyIssued)
    assert on_time.on_time is True
    assert late.on_time is False


# -- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("command", sorted(SAMPLES))
def test_every_command_needs_one_of_its_roles(command: str, role: Role) -> None:
    state = next(s for s in sorted(ALLOWED) if command in ALLOWED[s] and s != "re_reviewed")
    at = STATES[state]
    rule = RULES[type(SAMPLES[command])]
    principal = Principal("someone", role, "3301")
    if role in rule.roles or role is Role.IMPORTER:
        try:
            decide(at.case, SAMPLES[command], ctx(principal, at.today))
        except Forbidden:  # pragma: no cover - the failure itself
            pytest.fail(f"{role} may give {command}")
        except WorkflowError:
            pass  # a refusal on content, not on the role
        return
    with pytest.raises(Forbidden) as refused:
        decide(at.case, SAMPLES[command], ctx(principal, at.today))
    assert refused.value.status == 403
    assert refused.value.code == "role_forbidden"
    assert set(refused.value.details["required_roles"]) == set(rule.roles)
    assert role.label in refused.value.message


def test_only_the_petition_office_assigns() -> None:
    assert RULES[c.Assign].roles == (Role.PETITION_OFFICE,)
    case = STATES["handling"].case
    for principal in (HANDLER, HEAD, LEADER, REGISTRAR):
        with pytest.raises(Forbidden):
            decide(case, SAMPLES["assign"], ctx(principal, D(2026, 3, 10)))
    assert run(case, SAMPLES["assign"], OFFICE, D(2026, 3, 10)).unit == "330103"


def test_only_a_unit_head_approves_the_one_extension() -> None:
    case = STATES["handling"].case
    for principal in (HANDLER, OFFICE, REGISTRAR):
        with pytest.raises(Forbidden):
            decide(case, SAMPLES["grant_extension"], ctx(principal, D(2026, 3, 10)))
    (granted,) = decide(case, c.GrantExtension(days=30, reason="复杂"), ctx(HEAD, D(2026, 4, 1)))
    assert isinstance(granted, ExtensionGranted)
    assert granted.approved_by == "head-02"
    # 60 + 30 days from acceptance: the period ended on 5/4 (moved to 5/6 by Labour Day), so
    # the extension runs to 6/3, not 30 days after the moved 5/6.
    assert granted.handling_due == D(2026, 6, 3)
    extended = fold([granted], case)
    assert extended.extended
    assert extended.handling_due == D(2026, 6, 3)
    with pytest.raises(NotAllowed) as twice:
        decide(extended, c.GrantExtension(days=5, reason="再延"), ctx(LEADER, D(2026, 4, 2)))
    assert twice.value.code == "extension_already_granted"
    assert "grant_extension" not in twice.value.details["allowed"]
    assert "第三十四条" in twice.value.message
    assert "Art. 34" in twice.value.message


def test_no_extension_once_the_deadline_has_passed() -> None:
    case = STATES["handling"].case
    assert case.handling_due == D(2026, 5, 6)
    assert decide(case, SAMPLES["grant_extension"], ctx(HEAD, D(2026, 5, 6)))
    with pytest.raises(NotAllowed) as late:
        decide(case, SAMPLES["grant_extension"], ctx(HEAD, D(2026, 5, 7)))
    assert late.value.code == "deadline_passed"


def test_an_extension_is_at_most_30_days() -> None:
    with pytest.raises(ValueError, match="30"):
        c.GrantExtension(days=31, reason="太久")
    with pytest.raises(ValueError, match="1"):
        c.GrantExtension(days=0, reason="零")


# -- versions ---------------------------------------------------------------------------------


def test_a_stale_expected_version_is_refused_with_the_current_one() -> None:
    case = STATES["handling"].case
    stale = c.RecordProgress(note="旧页面", expected_version=case.version - 1)
    with pytest.raises(StaleVersion) as refused:
        decide(case, stale, ctx(HANDLER, D(2026, 3, 10)))
    assert refused.value.status == 409
    assert refused.value.details == {"current_version": case.version}
    fresh = c.RecordProgress(note="新页面", expected_version=case.version)
    assert decide(case, fresh, ctx(HANDLER, D(2026, 3, 10)))


# -- content refusals -------------------------------------------------------------------------


def test_objection_only_to_a_referral_within_5_working_days() -> None:
    referral = opened(
        channel=Channel.HIGHER_REFERRAL, received=datetime(2026, 2, 12, 2, 0, tzinfo=UTC)
    )
    assert referral.referral
    assert not referral.congress
    assert referral.objection_due == D(2026, 2, 26)  # make-up Sat 2/14 counts, the festival not
    assert run(referral, SAMPLES["object"], HEAD, D(2026, 2, 26)).state == "objected"
    with pytest.raises(NotAllowed) as late:
        decide(referral, SAMPLES["object"], ctx(HEAD, D(2026, 2, 27)))
    assert late.value.code == "objection_window_closed"
    with pytest.raises(NotAllowed) as not_referral:
        decide(opened(), SAMPLES["object"], ctx(HEAD, D(2026, 3, 3)))
    assert not_referral.value.code == "not_a_referral"


def test_a_congress_referral_takes_a_written_report() -> None:
    case = opened(channel=Channel.CONGRESS_REFERRAL)
    assert case.congress
    assert case.referral
    done = run(case, SAMPLES["congress_report"], OFFICE, D(2026, 3, 3))
    assert done.congress_report_on == D(2026, 3, 3)
    plain = STATES["handling"].case
    supervised = run(plain, SAMPLES["congress_supervise"], OFFICE, D(2026, 3, 10))
    assert supervised.congress
    assert run(supervised, SAMPLES["congress_report"], OFFICE, D(2026, 3, 11)).congress_report_on


def test_review_and_re_review_windows_close_after_30_days() -> None:
    replied = STATES["replied"].case
    assert replied.review_request_until == D(2026, 5, 11)  # 4/10 + 30 = Sun 5/10 -> Mon 5/11
    assert run(replied, c.RequestReview(), OFFICE, D(2026, 5, 11)).state == "under_review"
    with pytest.raises(NotAllowed) as late:
        decide(replied, c.RequestReview(), ctx(OFFICE, D(2026, 5, 12)))
    assert late.value.code == "request_window_closed"
    reviewed = STATES["reviewed"].case
    assert reviewed.re_review_request_until == D(2026, 6, 10)
    with pytest.raises(NotAllowed) as too_late:
        decide(reviewed, c.RequestReReview(), ctx(OFFICE, D(2026, 6, 11)))
    assert too_late.value.code == "request_window_closed"


def test_the_review_organ_is_the_next_higher_one() -> None:
    (sub,) = decide(STATES["replied"].case, c.RequestReview(), ctx(OFFICE, D(2026, 4, 20)))
    assert isinstance(sub, ReviewRequested)
    assert sub.organ == CONFIG.city.name
    city = run(
        run(
            run(
                run(opened(bureau="3301", sub_bureau="330102"), c.Accept(), OFFICE, D(2026, 3, 3)),
                c.ReportCompletion(summary="办结"),
                CITY_HANDLER,
                D(2026, 3, 4),
            ),
            c.AcceptCompletion(),
            OFFICE,
            D(2026, 3, 5),
        ),
        REPLY,
        CITY_HANDLER,
        D(2026, 3, 6),
    )
    city = run(city, SAMPLES["record_delivery"], CITY_HANDLER, D(2026, 3, 6))
    (up,) = decide(city, c.RequestReview(), ctx(OFFICE, D(2026, 3, 9)))
    assert isinstance(up, ReviewRequested)
    assert "省公安厅" in up.organ


def test_assignment_content_is_checked() -> None:
    case = STATES["handling"].case
    with pytest.raises(Invalid) as unknown:
        decide(case, c.Assign(unit="999999", reason="?"), ctx(OFFICE, D(2026, 3, 10)))
    assert (unknown.value.status, unknown.value.code) == (422, "unknown_unit")
    with pytest.raises(Invalid) as same:
        decide(
            case,
            c.Assign(unit="330102", officer="王警官", reason="同"),
            ctx(OFFICE, D(2026, 3, 10)),
        )
    assert same.value.code == "same_assignment"
    (moved,) = decide(case, c.Assign(unit="fazhi", reason="法制"), ctx(OFFICE, D(2026, 3, 10)))
    assert isinstance(moved, CaseAssigned)
    assert (moved.previous_unit, moved.previous_officer) == ("330102", "王警官")
    with pytest.raises(Invalid) as leader:
        decide(
            case,
            c.TakeOwnership(leader_id="L99", team=["x"], plan="p"),
            ctx(LEADER, D(2026, 3, 10)),
        )
    assert leader.value.code == "unknown_leader"
    owned = run(case, SAMPLES["take_ownership"], LEADER, D(2026, 3, 10))
    assert owned.leader_id == "L02"


def test_the_case_must_have_been_taken_up() -> None:
    with pytest.raises(NotAllowed) as none:
        decide(None, c.Accept(), ctx(OFFICE, D(2026, 3, 3)))
    assert none.value.code == "case_not_ready"
    assert none.value.details == {"state": None, "allowed": []}


def test_the_importer_may_give_any_command() -> None:
    case = STATES["handling"].case
    assert run(case, SAMPLES["assign"], IMPORTER, D(2026, 3, 10)).unit == "330103"
    assert run(case, SAMPLES["grant_extension"], IMPORTER, D(2026, 3, 10)).extended


# -- hearings: excluded from the re-review period only (Arts. 34, 36) ------------------------


def test_a_hearing_in_handling_does_not_stop_the_clock() -> None:
    case = STATES["handling"].case  # accepted Thu 2026-03-05
    # 60 days from 3/5 end on Mon 5/4, in the Labour Day holiday (5/1-5/5): due Wed 5/6.
    assert case.running_deadline() == (DeadlineKind.HANDLING, D(2026, 5, 6))
    hearing = run(case, c.StartHearing(reason="听证"), HANDLER, D(2026, 4, 13))
    assert hearing.state == "hearing"
    # The deadline keeps running through the hearing: reminders and supervision go on.
    assert hearing.running_deadline() == (DeadlineKind.HANDLING, D(2026, 5, 6))
    assert next_check(hearing, CALENDAR) == next_check(case, CALENDAR) is not None
    (supervision,) = due_notices(hearing, D(2026, 5, 7), CALENDAR)
    assert isinstance(supervision, SupervisionRaised)
    assert (supervision.deadline, supervision.due) == (DeadlineKind.HANDLING, D(2026, 5, 6))
    assert set(allowed_commands(hearing)) == allowed_here("hearing")
    # Ended a week later (4/13 to 4/20): the week is not added, the deadline stays Wed 5/6.
    ended = decide(hearing, c.EndHearing(), ctx(HANDLER, D(2026, 4, 20)))
    (event,) = ended
    assert isinstance(event, HearingEnded)
    assert (event.deadline, event.paused_days, event.due) == (
        DeadlineKind.HANDLING,
        0,
        D(2026, 5, 6),
    )
    after = fold(ended, hearing)
    assert after.state == "handling"
    assert (after.handling_due, after.handling_end) == (D(2026, 5, 6), D(2026, 5, 4))
    assert after.running_deadline() == (DeadlineKind.HANDLING, D(2026, 5, 6))


def test_a_re_review_hearing_moves_the_re_review_deadline() -> None:
    case = STATES["under_re_review"].case
    assert case.re_review_due == D(2026, 6, 22)  # 5/20 + 30 = 6/19, Dragon Boat -> 6/22
    hearing = run(case, c.StartHearing(reason="复核听证"), OFFICE, D(2026, 6, 1))
    # The re-review clock stops while the hearing lasts (Art. 36).
    assert hearing.running_deadline() is None
    assert due_notices(hearing, D(2026, 6, 30), CALENDAR) == []
    assert "grant_extension" not in allowed_commands(hearing)
    with pytest.raises(NotAllowed) as refused:
        decide(hearing, SAMPLES["grant_extension"], ctx(HEAD, D(2026, 6, 2)))
    assert refused.value.code == "not_in_handling"
    # Two days not counted: the period's own last day moves from 6/19 to Sun 6/21, still in
    # the festival: the deadline stays Mon 6/22 (not 6/22 + 2).
    after = run(hearing, c.EndHearing(), OFFICE, D(2026, 6, 3))
    assert after.state == "under_re_review"
    assert after.re_review_due == D(2026, 6, 22)
    assert after.handling_due == case.handling_due
    # Five days: 6/19 + 5 = Wed 6/24.
    assert run(hearing, c.EndHearing(), OFFICE, D(2026, 6, 6)).re_review_due == D(2026, 6, 24)
    # A second hearing adds to the same period: 6/21 + 3 = Wed 6/24.
    again = run(after, c.StartHearing(reason="再次听证"), OFFICE, D(2026, 6, 10))
    assert run(again, c.EndHearing(), OFFICE, D(2026, 6, 13)).re_review_due == D(2026, 6, 24)


def test_a_re_review_hearing_cannot_stop_a_clock_that_ran_out() -> None:
    case = STATES["under_re_review"].case  # re-review due Mon 2026-06-22
    assert run(case, c.StartHearing(reason="听证"), OFFICE, D(2026, 6, 22)).state == "hearing"
    with pytest.raises(NotAllowed) as late:
        decide(case, c.StartHearing(reason="听证"), ctx(OFFICE, D(2026, 6, 23)))
    assert late.value.code == "deadline_passed"
    assert "start_hearing" not in late.value.details["allowed"]


def test_a_handling_hearing_after_the_deadline_changes_nothing() -> None:
    case = STATES["handling"].case  # handling due Wed 2026-05-06
    late = run(case, c.StartHearing(reason="听证"), HANDLER, D(2026, 5, 7))
    assert late.running_deadline() == (DeadlineKind.HANDLING, D(2026, 5, 6))
    assert [type(n) for n in due_notices(late, D(2026, 5, 7), CALENDAR)] == [SupervisionRaised]
    assert run(late, c.EndHearing(), HANDLER, D(2026, 5, 12)).handling_due == D(2026, 5, 6)


def test_an_extension_during_a_hearing_and_the_hearing_adds_nothing_to_it() -> None:
    hearing = run(STATES["handling"].case, c.StartHearing(reason="听证"), HANDLER, D(2026, 4, 13))
    extended = run(hearing, c.GrantExtension(days=10, reason="复杂"), HEAD, D(2026, 4, 20))
    assert extended.state == "hearing"
    assert extended.handling_due == D(2026, 5, 14)  # period end 5/4 + 10 = Thu 5/14
    # Ended on 5/7 after 24 days: still Thu 5/14.
    assert run(extended, c.EndHearing(), HANDLER, D(2026, 5, 7)).handling_due == D(2026, 5, 14)


def test_a_hearing_ended_the_same_day_changes_nothing() -> None:
    case = STATES["handling"].case
    hearing = run(case, c.StartHearing(reason="听证"), HANDLER, D(2026, 4, 13))
    assert run(hearing, c.EndHearing(), HANDLER, D(2026, 4, 13)).handling_due == D(2026, 5, 6)


def _paused_the_old_way(days: int, due: date) -> Case:
    """A case stored before issue 15: a hearing 4/13 to 4/13 + ``days`` lengthened the handling
    period by those days (the event as the former rule wrote it)."""
    hearing = run(STATES["handling"].case, c.StartHearing(reason="听证"), HANDLER, D(2026, 4, 13))
    ended = HearingEnded(
        case_id=hearing.case_id,
        ended_on=D(2026, 4, 13) + timedelta(days=days),
        paused_days=days,
        deadline=DeadlineKind.HANDLING,
        due=due,
    )
    return fold([ended], hearing)


def test_an_old_stream_keeps_its_recorded_date_until_it_is_recomputed() -> None:
    # The former rule: 5/4 + 7 = Mon 5/11. Old streams still fold to what they recorded.
    old = _paused_the_old_way(7, D(2026, 5, 11))
    assert (old.state, old.handling_due, old.handling_hearing_days) == (
        "handling",
        D(2026, 5, 11),
        7,
    )
    (event,) = recompute(old, DEADLINES, D(2026, 4, 25))
    assert isinstance(event, DeadlinesRecomputed)
    assert event.rules_version == DEADLINE_RULES_VERSION == 2
    assert event.rule_note == HEARING_RULE_NOTE
    (change,) = event.changes
    assert (change.deadline, change.old_due, change.new_due) == (
        DatedDeadline.HANDLING,
        D(2026, 5, 11),
        D(2026, 5, 6),
    )
    redated = fold([event], old)
    assert (redated.handling_due, redated.handling_hearing_days) == (D(2026, 5, 6), 0)
    assert redated.running_deadline() == (DeadlineKind.HANDLING, D(2026, 5, 6))
    # Run again: nothing more.
    assert recompute(redated, DEADLINES, D(2026, 4, 26)) == []


def test_an_old_hearing_is_not_in_an_extension_granted_after_it() -> None:
    old = _paused_the_old_way(7, D(2026, 5, 11))
    # 60 + 10 days from acceptance: 5/4 + 10 = Thu 5/14, not 5/11 + 10.
    extended = run(old, c.GrantExtension(days=10, reason="复杂"), HEAD, D(2026, 4, 25))
    assert extended.handling_due == D(2026, 5, 14)
    assert recompute(extended, DEADLINES, D(2026, 4, 26)) == []


def test_recompute_leaves_a_case_no_hearing_lengthened_alone() -> None:
    # The calendar unchanged: neither a plain handling case nor a re-review hearing's pause
    # (still the law) is re-dated.
    assert recompute(STATES["handling"].case, DEADLINES, D(2026, 4, 25)) == []
    re_review = STATES["under_re_review"].case
    paused = run(
        run(re_review, c.StartHearing(reason="复核听证"), OFFICE, D(2026, 6, 1)),
        c.EndHearing(),
        OFFICE,
        D(2026, 6, 6),
    )
    assert paused.re_review_due == D(2026, 6, 24)
    assert recompute(paused, DEADLINES, D(2026, 6, 8)) == []


# -- taking a case up --------------------------------------------------------------------------


def test_a_case_goes_to_its_first_receiver() -> None:
    case = fold(registration())
    events = open_workflow(case, CONFIG, DEADLINES)
    opened_event, assigned = events
    assert isinstance(opened_event, WorkflowOpened)
    assert isinstance(assigned, CaseAssigned)
    assert opened_event.received_on == D(2026, 3, 2)
    assert opened_event.acceptance_due == D(2026, 3, 17)
    assert opened_event.objection_due is None
    assert not opened_event.referral
    assert (assigned.unit, assigned.officer, assigned.rule) == ("330102", "王警官", None)
    assert "谁接待谁处理" in assigned.reason
    after = fold(events, case)
    assert open_workflow(after, CONFIG, DEADLINES) == []  # taken up once


def test_nothing_to_take_up_before_the_first_submission() -> None:
    registered_only = fold(registration()[:1])
    assert registered_only.received_on is None
    assert open_workflow(registered_only, CONFIG, DEADLINES) == []
    assert open_workflow(None, CONFIG, DEADLINES) == []


def test_the_received_date_is_the_local_one() -> None:
    # 17:00 UTC on 3/6 is 01:00 on Saturday 3/7 in Shanghai.
    case = opened(received=datetime(2026, 3, 6, 17, 0, tzinfo=UTC))
    assert case.received_on == D(2026, 3, 7)
    assert case.acceptance_due == D(2026, 3, 23)


@pytest.mark.parametrize(
    ("category", "sub_bureau", "unit", "rule"),
    [
        ("JK01", "330102", "jijian", "民警违纪违法由纪检监察室办理"),
        ("JK02", "330103", "ducha", "辅警违纪违规、失职渎职由督察支队办理"),
        ("SQ0102", "330102", "fazhi", "治安处罚异议由法制支队复核办理"),
        ("SQ0101", "330102", "330102", None),  # no rule: the first receiver
        ("JK04", "330102", "330102", None),
    ],
)
def test_routing_rules_choose_the_first_unit(
    category: str, sub_bureau: str, unit: str, rule: str | None
) -> None:
    assert CONFIG.category(category).code == category
    case = opened(category=category, sub_bureau=sub_bureau)
    assert case.unit == unit
    assert case.officer == (None if rule else "王警官")


def test_routing_rules_name_the_rule() -> None:
    case = fold(registration(category="JK01", kind="accusation"))
    _, assigned = open_workflow(case, CONFIG, DEADLINES)
    assert isinstance(assigned, CaseAssigned)
    assert assigned.rule == "民警违纪违法由纪检监察室办理"
    assert assigned.unit == "jijian"
    assert assigned.officer is None


# -- accusations (Art. 30) ---------------------------------------------------------------------


def accusation(**args: Any) -> Case:
    return opened(category="JK01", kind="accusation", **args)


def test_an_accusation_is_never_assigned_to_the_accused() -> None:
    # The routing rule names jijian; jijian is accused: the first receiver's unit takes it.
    case = accusation(accused_units=["jijian"])
    assert case.unit == "330102"
    assert case.unit not in case.accused_units
    # The receiving unit accused: the discipline office.
    case = opened(accused_units=["330102"])
    assert case.unit == "jijian"
    # The first receiver accused: not them either.
    case = opened(accused_officers=["王警官"])
    assert case.unit == "jijian"
    assert case.officer is None
    # The routing rule's unit and the receiving unit both accused: neither.
    case = accusation(accused_units=["jijian", "330102"])
    assert case.unit not in {"jijian", "330102"}
    assert case.unit is not None
    assert CONFIG.is_unit(case.unit)
    # The discipline office and the first receiver accused.
    case = opened(accused_units=["jijian"], accused_officers=["王警官"])
    assert case.unit not in {"jijian"}
    assert case.officer != "王警官"


def test_an_accusation_cannot_be_reassigned_to_the_accused() -> None:
    case = run(
        accusation(accused_units=["330103"], accused_officers=["赵警官"]),
        c.Accept(),
        OFFICE,
        D(2026, 3, 3),
    )
    for command in (
        c.Assign(unit="330103", reason="属地"),
        c.Assign(unit="330104", officer="赵警官", reason="属地"),
    ):
        with pytest.raises(Invalid) as refused:
            decide(case, command, ctx(OFFICE, D(2026, 3, 4)))
        assert refused.value.code == "accused_party"
        assert "第三十条" in refused.value.message
        assert "Art. 30" in refused.value.message
    assert run(case, c.Assign(unit="330104", reason="异地"), OFFICE, D(2026, 3, 4)).unit == "330104"


def test_an_accusation_is_hidden_from_the_accused() -> None:
    case = accusation(accused_units=["330103"], accused_officers=["赵警官"])

    def hidden(who: Principal) -> bool:
        return not sees(who, CONFIG, case.facts)

    assert hidden(Principal("someone", Role.SUB_BUREAU_HEAD, "330103"))
    assert hidden(Principal("赵警官", Role.HANDLER, "3301"))
    assert not hidden(Principal("钱警官", Role.HANDLER, "330102"))
    assert not hidden(OFFICE)


def test_the_accused_are_matched_normalised_when_assigning() -> None:
    case = accusation(accused_units=[" 330103 "], accused_officers=["p330102007"])
    for command in (
        c.Assign(unit="330103", reason="属地"),
        c.Assign(unit="330104", officer=" P330102007", reason="属地"),
    ):
        with pytest.raises(Invalid) as refused:
            decide(case, command, ctx(OFFICE, D(2026, 3, 4)))
        assert refused.value.code == "accused_party"


# -- the passing of time ----------------------------------------------------------------------


def sweep(case: Case, today: date) -> tuple[Case, list[Event]]:
    notices = due_notices(case, today, CALENDAR)
    return (fold(notices, case) if notices else case), notices


def test_reminders_5_and_1_working_days_before_then_supervision_once_each() -> None:
    case = opened()  # received Mon 3/2: acceptance due Tue 3/17
    assert case.acceptance_due == D(2026, 3, 17)
    assert next_check(case, CALENDAR) == D(2026, 3, 10)
    raised: list[tuple[str, int]] = []
    day = D(2026, 3, 2)
    while day <= D(2026, 3, 31):
        case, notices = sweep(case, day)
        for notice in notices:
            left = notice.working_days_left if isinstance(notice, DeadlineReminderSent) else 0
            raised.append((day.isoformat(), left))
            assert isinstance(notice, DeadlineReminderSent | SupervisionRaised)
            assert notice.deadline == DeadlineKind.ACCEPTANCE
            assert notice.due == D(2026, 3, 17)
            assert (notice.unit, notice.officer) == ("330102", "王警官")
        # A second sweep the same day raises nothing.
        assert due_notices(case, day, CALENDAR) == []
        day += timedelta(days=1)
    assert raised == [("2026-03-10", 5), ("2026-03-16", 1), ("2026-03-18", 0)]
    assert next_check(case, CALENDAR) is None


def test_reminders_across_spring_festival_and_make_up_days() -> None:
    # Received Mon 2/9: 15 days = Tue 2/24, the first working day after the festival.
    case = opened(received=datetime(2026, 2, 9, 2, 0, tzinfo=UTC))
    assert case.acceptance_due == D(2026, 2, 24)
    checks = []
    raised = []
    day = D(2026, 2, 9)
    while day <= D(2026, 2, 28):
        checks.append(next_check(case, CALENDAR))
        case, notices = sweep(case, day)
        raised += [(day, n.event_type) for n in notices]
        day += timedelta(days=1)
    # 5 working days back from 2/24: 2/14 (make-up Sat), 2/13, 2/12, 2/11, 2/10.
    # 1 working day back: the make-up Saturday 2/14.
    assert raised == [
        (D(2026, 2, 10), "assignment.DeadlineReminderSent"),
        (D(2026, 2, 14), "assignment.DeadlineReminderSent"),
        (D(2026, 2, 25), "assignment.SupervisionRaised"),
    ]
    assert D(2026, 2, 14) in checks
    assert D(2026, 2, 25) in checks


def test_a_late_sweep_raises_only_the_most_urgent_notice() -> None:
    case = opened()
    (one_day,) = due_notices(case, D(2026, 3, 16), CALENDAR)
    assert isinstance(one_day, DeadlineReminderSent)
    assert one_day.working_days_left == 1
    after = fold([one_day], case)
    assert next_check(after, CALENDAR) == D(2026, 3, 18)
    assert due_notices(after, D(2026, 3, 17), CALENDAR) == []
    (missed,) = due_notices(case, D(2026, 4, 1), CALENDAR)
    assert isinstance(missed, SupervisionRaised)
    assert (missed.deadline, missed.due, missed.unit) == (
        DeadlineKind.ACCEPTANCE,
        D(2026, 3, 17),
        "330102",
    )
    assert next_check(fold([missed], case), CALENDAR) is None


def test_each_stage_of_each_deadline_is_reminded() -> None:
    handling = STATES["handling"].case  # handling due 5/6 (Labour Day moved it)
    assert next_check(handling, CALENDAR) == D(2026, 4, 24)
    (reminder,) = due_notices(handling, D(2026, 4, 24), CALENDAR)
    assert isinstance(reminder, DeadlineReminderSent)
    assert reminder.deadline == DeadlineKind.HANDLING
    assert reminder.working_days_left == 5
    under_review = STATES["under_review"].case  # review due 5/20
    assert under_review.running_deadline() == (DeadlineKind.REVIEW, D(2026, 5, 20))
    (missed,) = due_notices(under_review, D(2026, 5, 21), CALENDAR)
    assert isinstance(missed, SupervisionRaised)
    assert missed.deadline == DeadlineKind.REVIEW
    under_re_review = STATES["under_re_review"].case
    assert under_re_review.running_deadline() == (DeadlineKind.RE_REVIEW, D(2026, 6, 22))
    for state in ("replied", "reviewed", "terminated", "declined", "objected", "registered"):
        assert STATES[state].case.running_deadline() is None, state
        assert due_notices(STATES[state].case, D(2026, 12, 1), CALENDAR) == [], state
        assert next_check(STATES[state].case, CALENDAR) is None, state


def test_an_extension_starts_the_reminders_again_for_the_new_deadline() -> None:
    case = STATES["handling"].case
    case, notices = sweep(case, D(2026, 4, 24))
    assert len(notices) == 1
    case = run(case, c.GrantExtension(days=30, reason="复杂"), HEAD, D(2026, 4, 27))
    assert case.handling_due == D(2026, 6, 3)
    assert due_notices(case, D(2026, 5, 7), CALENDAR) == []  # the old deadline is gone
    assert next_check(case, CALENDAR) == D(2026, 5, 27)  # 5 working days before Wed 6/3
    (again,) = due_notices(case, D(2026, 5, 27), CALENDAR)
    assert isinstance(again, DeadlineReminderSent)
    assert again.due == D(2026, 6, 3)


KEY = b"a deployment's event id key"


def test_notice_ids_are_fixed_by_what_they_say_under_the_deployment_key() -> None:
    case = opened()
    first = due_notices(case, D(2026, 3, 10), CALENDAR)
    again = due_notices(case, D(2026, 3, 11), CALENDAR)
    assert [notice_id(KEY, n) for n in first] == [notice_id(KEY, n) for n in again]
    (reminder,) = first
    assert notice_id(KEY, reminder) == notice_event_id(
        KEY, case.case_id, "acceptance", D(2026, 3, 17), 5
    )
    (later,) = due_notices(case, D(2026, 3, 16), CALENDAR)
    (missed,) = due_notices(case, D(2026, 3, 18), CALENDAR)
    assert len({notice_id(KEY, reminder), notice_id(KEY, later), notice_id(KEY, missed)}) == 3
    other = opened()
    assert notice_id(KEY, due_notices(other, D(2026, 3, 10), CALENDAR)[0]) != notice_id(
        KEY, reminder
    )
    with pytest.raises(TypeError):
        notice_id(KEY, registration()[0])


def test_notice_ids_cannot_be_told_without_the_key() -> None:
    """Anyone who can publish on NATS could otherwise publish first under a coming notice's id
    and have JetStream drop the genuine one as a duplicate."""
    (reminder,) = due_notices(opened(), D(2026, 3, 10), CALENDAR)
    assert isinstance(reminder, DeadlineReminderSent)
    assert notice_id(KEY, reminder) != notice_id(b"another deployment's key", reminder)
    # Not the unkeyed uuid5 the ids used to be, which anyone could compute.
    unkeyed = uuid.uuid5(
        uuid.UUID("0b8f6c52-3f8e-4c55-9d0e-6d2a1a4f7c31"),
        f"{reminder.case_id}|acceptance|2026-03-17|5",
    )
    assert notice_id(KEY, reminder) != unkeyed
    with pytest.raises(ValueError, match="16 bytes"):
        notice_id(b"short", reminder)


def test_closed_states_are_closed() -> None:
    for state in CLOSED - {"terminated"}:
        assert allowed_commands(STATES[state].case) == [], state
    # Terminated after re-review: only the rating, and the final decision's delivery.
    terminated = STATES["terminated"].case
    assert allowed_commands(terminated) == ["rate_satisfaction", "record_delivery"]
    delivered = run(terminated, SAMPLES["record_delivery"], OFFICE, D(2026, 6, 11))
    assert delivered.re_review_decision_delivered_on == D(2026, 6, 11)
    assert allowed_commands(delivered) == ["rate_satisfaction"]


def test_an_act_cannot_be_dated_before_the_receipt() -> None:
    case = opened()  # received 3/2
    with pytest.raises(Invalid) as early:
        decide(case, c.Accept(), ctx(IMPORTER, D(2026, 3, 1)))
    assert early.value.code == "before_receipt"
    assert run(case, c.Accept(), IMPORTER, D(2026, 3, 2)).accepted_on == D(2026, 3, 2)


# -- acting on a case belongs to a unit, not to everyone who may see it ----------------------


def test_only_the_handling_unit_or_above_handles_and_extends() -> None:
    handling = STATES["handling"].case  # received by 330102, handled there
    other_head = Principal("head-03", Role.SUB_BUREAU_HEAD, "330103")
    with pytest.raises(Forbidden) as refused:
        decide(handling, SAMPLES["grant_extension"], ctx(other_head, D(2026, 3, 10)))
    assert refused.value.code == "not_your_unit"
    # Reassigned to 330103: now 330103's head extends, and 330102's may no longer.
    moved = run(
        handling, c.Assign(unit="330103", officer="赵警官", reason="属地"), OFFICE, D(2026, 3, 10)
    )
    assert run(moved, SAMPLES["grant_extension"], other_head, D(2026, 3, 11)).extended
    with pytest.raises(Forbidden):
        decide(moved, SAMPLES["grant_extension"], ctx(HEAD, D(2026, 3, 11)))
    # The city is above every unit.
    city_leader = run(handling, SAMPLES["grant_extension"], LEADER, D(2026, 3, 11))
    assert city_leader.extended


def test_only_the_receiving_bureau_decides_acceptance_and_assigns_within_its_scope() -> None:
    awaiting = STATES["awaiting_acceptance"].case  # received by 330102
    other_office = Principal("office-03", Role.PETITION_OFFICE, "330103")
    with pytest.raises(Forbidden) as refused:
        decide(awaiting, SAMPLES["accept"], ctx(other_office, D(2026, 3, 3)))
    assert refused.value.code == "not_your_unit"
    own_office = Principal("office-02", Role.PETITION_OFFICE, "330102")
    with pytest.raises(Forbidden) as outside:
        decide(
            awaiting,
            c.Assign(unit="330103", officer=None, reason="改派"),
            ctx(own_office, D(2026, 3, 3)),
        )
    assert outside.value.code == "unit_out_of_scope"
    with pytest.raises(Forbidden):  # a city department is the city's to assign to
        decide(awaiting, c.Assign(unit="fazhi", reason="法制"), ctx(own_office, D(2026, 3, 3)))
    assert (
        run(awaiting, c.Assign(unit="fazhi", reason="法制"), OFFICE, D(2026, 3, 3)).unit == "fazhi"
    )


def test_a_review_is_decided_by_the_city_not_by_the_sub_bureau_itself() -> None:
    under_review = STATES["under_review"].case  # a case of 330102
    own_leader = Principal("head-02", Role.LEADER, "330102")
    with pytest.raises(Forbidden) as refused:
        decide(under_review, SAMPLES["decide_review"], ctx(own_leader, D(2026, 5, 11)))
    assert refused.value.code == "not_the_reviewing_organ"
    assert run(under_review, SAMPLES["decide_review"], LEADER, D(2026, 5, 11)).state == "reviewed"


def test_review_deadlines_are_the_reviewing_organs() -> None:
    under_review = STATES["under_review"].case
    assert under_review.review_due is not None
    late = date.fromordinal(under_review.review_due.toordinal() + 1)
    (supervision,) = due_notices(under_review, late, CALENDAR)
    assert isinstance(supervision, SupervisionRaised)
    assert supervision.unit == CONFIG.city.name
    assert supervision.officer is None


def test_the_accused_never_own_the_accusation() -> None:
    case = opened(category="JK01", kind="accusation", accused_officers=("L03",))
    with pytest.raises(Invalid) as refused:
        decide(
            case,
            c.TakeOwnership(leader_id="L03", team=["信访科"], plan="化解"),
            ctx(OFFICE, D(2026, 3, 3)),
        )
    assert refused.value.code == "accused_party"


def test_a_role_that_may_never_give_a_command_is_told_so_first() -> None:
    with pytest.raises(Forbidden):  # not a 409 about the state: handlers never accept
        decide(STATES["handling"].case, SAMPLES["accept"], ctx(HANDLER, D(2026, 3, 10)))


def test_allowed_commands_on_a_day_leave_out_closed_windows() -> None:
    handling = STATES["handling"].case
    assert handling.handling_due is not None
    after = date.fromordinal(handling.handling_due.toordinal() + 1)
    assert "grant_extension" in allowed_commands(handling, HEAD, handling.handling_due)
    assert "grant_extension" not in allowed_commands(handling, HEAD, after)
    # A handling hearing stops no clock, so it may still be held once the deadline passed.
    assert "start_hearing" in allowed_commands(handling, HANDLER, after)
    re_review = STATES["under_re_review"].case
    assert re_review.re_review_due is not None
    late = date.fromordinal(re_review.re_review_due.toordinal() + 1)
    assert "start_hearing" in allowed_commands(re_review, OFFICE, re_review.re_review_due)
    assert "start_hearing" not in allowed_commands(re_review, OFFICE, late)
    replied = STATES["replied"].case
    assert replied.review_request_until is not None
    closed = date.fromordinal(replied.review_request_until.toordinal() + 1)
    assert "request_review" not in allowed_commands(replied, OFFICE, closed)


def test_a_people_s_congress_report_date_is_reminded_and_supervised_beside_handling() -> None:
    handling = STATES["handling"].case  # handling due 2026-05-06
    supervised = run(
        handling,
        c.StartCongressSupervision(
            document_number="临人大督〔2026〕3号", report_due=D(2026, 3, 31)
        ),
        OFFICE,
        D(2026, 3, 10),
    )
    assert supervised.running_deadlines() == [
        (DeadlineKind.HANDLING, D(2026, 5, 6)),
        (DeadlineKind.CONGRESS_REPORT, D(2026, 3, 31)),
    ]
    # 5 working days before Tue 3/31 is Tue 3/24.
    assert next_check(supervised, CALENDAR) == D(2026, 3, 24)
    (reminder,) = due_notices(supervised, D(2026, 3, 24), CALENDAR)
    assert isinstance(reminder, DeadlineReminderSent)
    assert (reminder.deadline, reminder.working_days_left, reminder.unit) == (
        DeadlineKind.CONGRESS_REPORT, 5, "330102",
    )  # fmt: skip
    supervised = fold([reminder], supervised)
    (missed,) = due_notices(supervised, D(2026, 4, 1), CALENDAR)
    assert isinstance(missed, SupervisionRaised)
    assert missed.deadline is DeadlineKind.CONGRESS_REPORT
    # Once the report is sent, that clock stops; the handling one runs on.
    reported = run(supervised, c.SendCongressReport(report="书面报告"), OFFICE, D(2026, 3, 30))
    assert reported.running_deadlines() == [(DeadlineKind.HANDLING, D(2026, 5, 6))]
    assert due_notices(reported, D(2026, 4, 1), CALENDAR) == []


# -- delivery (送达) starts the petitioner's windows -----------------------------------------


def _replied_on(day: date) -> Case:
    """The sample case replied to on ``day``, the reply not yet delivered."""
    case = STATES["completion_accepted"].case
    return run(case, REPLY, HANDLER, day)


def test_the_review_window_runs_from_the_reply_s_delivery_not_its_date() -> None:
    # Reply signed Fri 2026-09-25, posted, received Mon 2026-09-28. 30 days from the receipt is
    # Wed 10-28, a working day: the window ends then. Counted from the reply it would have
    # ended Sun 10-25 -> Mon 10-26 (National Day, 10-01..10-07, sits inside either way).
    case = _replied_on(D(2026, 9, 25))
    assert case.awaiting_delivery_of is DeliveredDocument.REPLY
    assert case.review_request_until is None
    assert "request_review" not in allowed_commands(case, OFFICE, D(2026, 9, 28))
    with pytest.raises(NotAllowed) as early:
        decide(case, c.RequestReview(), ctx(OFFICE, D(2026, 9, 28)))
    assert early.value.code == "awaiting_delivery"
    assert early.value.details["awaiting_delivery"] == "reply"
    assert "尚未登记送达" in early.value.message

    posted = c.RecordDelivery(
        method=DeliveryMethod.POST, tracking_number="1234567890123", delivered_on=D(2026, 9, 28)
    )
    (event,) = decide(case, posted, ctx(HANDLER, D(2026, 9, 29)))
    assert isinstance(event, DeliveryRecorded)
    assert (event.document, event.delivered_on) == (DeliveredDocument.REPLY, D(2026, 9, 28))
    assert event.request_until == D(2026, 10, 28)
    delivered = fold([event], case)
    assert (delivered.awaiting_delivery, delivered.reply_delivered_on) == (False, D(2026, 9, 28))
    assert delivered.review_request_until == D(2026, 10, 28)
    assert run(delivered, c.RequestReview(), OFFICE, D(2026, 10, 28)).state == "under_review"
    with pytest.raises(NotAllowed) as late:
        decide(delivered, c.RequestReview(), ctx(OFFICE, D(2026, 10, 29)))
    assert late.value.code == "request_window_closed"
    # Nothing is left to deliver.
    with pytest.raises(NotAllowed) as again:
        decide(delivered, posted, ctx(HANDLER, D(2026, 9, 29)))
    assert again.value.code == "nothing_to_deliver"


def test_a_delivery_on_a_day_whose_30th_is_in_national_day_moves_past_it() -> None:
    # Received Wed 2026-09-02: the 30th day is Fri 10-02, inside National Day (10-01..10-07
    # in the configured 2026 calendar); the window ends on the first working day after it.
    case = _replied_on(D(2026, 9, 1))
    delivered = run(
        case,
        c.RecordDelivery(method=DeliveryMethod.IN_PERSON, delivered_on=D(2026, 9, 2)),
        HANDLER,
        D(2026, 9, 2),
    )
    assert delivered.review_request_until == DEADLINES.window_end(D(2026, 9, 2))
    assert delivered.review_request_until == D(2026, 10, 8)


def test_the_re_review_window_runs_from_the_review_decision_s_delivery() -> None:
    reviewed = run(STATES["under_review"].case, SAMPLES["decide_review"], LEADER, D(2026, 5, 11))
    assert (reviewed.re_review_request_until, reviewed.awaiting_delivery) == (None, True)
    with pytest.raises(NotAllowed) as early:
        decide(reviewed, c.RequestReReview(), ctx(OFFICE, D(2026, 5, 12)))
    assert early.value.code == "awaiting_delivery"
    # Received Fri 5/15 by email: 30 days -> Sun 6/14 -> Mon 6/15.
    delivered = run(
        reviewed,
        c.RecordDelivery(method=DeliveryMethod.ELECTRONIC, delivered_on=D(2026, 5, 15)),
        HANDLER,
        D(2026, 5, 18),
    )
    assert delivered.review_decision_delivered_on == D(2026, 5, 15)
    assert delivered.re_review_request_until == D(2026, 6, 15)


def test_a_delivery_cannot_predate_the_decision_nor_lie_in_the_future() -> None:
    case = _replied_on(D(2026, 9, 25))
    before = c.RecordDelivery(method=DeliveryMethod.IN_PERSON, delivered_on=D(2026, 9, 24))
    with pytest.raises(Invalid) as early:
        decide(case, before, ctx(HANDLER, D(2026, 9, 28)))
    assert early.value.code == "delivered_before_issued"
    later = c.RecordDelivery(method=DeliveryMethod.IN_PERSON, delivered_on=D(2026, 9, 30))
    with pytest.raises(Invalid) as future:
        decide(case, later, ctx(HANDLER, D(2026, 9, 28)))
    assert future.value.code == "delivered_in_future"
    wrong = c.RecordDelivery(
        method=DeliveryMethod.IN_PERSON, document=DeliveredDocument.REVIEW_DECISION
    )
    with pytest.raises(NotAllowed) as other:
        decide(case, wrong, ctx(HANDLER, D(2026, 9, 28)))
    assert other.value.code == "wrong_document"


def test_post_needs_a_tracking_number() -> None:
    with pytest.raises(ValueError, match="tracking_number"):
        c.RecordDelivery(method=DeliveryMethod.POST)
    with pytest.raises(ValueError, match="tracking_number"):
        c.RecordDelivery(method=DeliveryMethod.IN_PERSON, tracking_number="123")


def test_a_legacy_reply_keeps_the_window_it_was_given() -> None:
    # Written before deliveries were recorded: ReplyIssued carried the window from the reply.
    case = STATES["completion_accepted"].case
    legacy = ReplyIssued(
        case_id=case.case_id,
        outcome=Outcome.SUPPORT,
        legal_basis="《治安管理处罚法》",
        summary="支持",
        replied_on=D(2026, 4, 10),
        on_time=True,
        review_request_until=D(2026, 5, 11),
    )
    replied = fold([legacy], case)
    assert (replied.review_request_until, replied.awaiting_delivery) == (D(2026, 5, 11), False)
    assert "request_review" in allowed_commands(replied, OFFICE, D(2026, 5, 11))
    assert "record_delivery" not in allowed_commands(replied, OFFICE, D(2026, 5, 11))
