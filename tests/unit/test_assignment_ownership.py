"""Leader ownership (包案) at every level and the party committee's decisions, in the pure core:
a sub-bureau's leader owns its cases, a city leader any case, a leader of another bureau never;
the committee's decision is a dated decision of a named body, only on an owned, open case."""

from __future__ import annotations

from datetime import date

import pytest
from assignment.domain import commands as c
from assignment.domain.case import Forbidden, Invalid, NotAllowed, allowed_commands, decide
from assignment.domain.ownership import case_bureaus
from petitions.identity import Principal, Role
from petitions.messages.assignment import (
    CommitteeBody,
    LeaderOwnershipTaken,
    PartyCommitteeDecisionRecorded,
)
from petitions.scope import sees

from tests.unit.test_assignment_case import (
    CONFIG,
    IMPORTER,
    LEADER,
    OFFICE,
    STATES,
    ctx,
    fold,
    opened,
    run,
)

D = date
HEAD_02 = Principal("head330102", Role.SUB_BUREAU_HEAD, "330102")
HEAD_03 = Principal("head330103", Role.SUB_BUREAU_HEAD, "330103")
DEPUTY_02 = Principal("330102-L3", Role.LEADER, "330102")


def own(leader_id: str) -> c.TakeOwnership:
    return c.TakeOwnership(leader_id=leader_id, team=["李所长", "王警官"], plan="一案一策")


MEETING = D(2026, 3, 12)


def decision(on: date | None = MEETING, **changes: object) -> c.RecordPartyCommitteeDecision:
    fields: dict[str, object] = {
        "decided_on": on,
        "body": CommitteeBody.SUB_BUREAU_COMMITTEE,
        "content": "同意专班化解方案，由分局局长牵头",
    } | changes
    return c.RecordPartyCommitteeDecision.model_validate(fields)


def test_the_demo_configuration_knows_each_sub_bureaus_leaders() -> None:
    for sub in CONFIG.sub_bureaus:
        (chief,) = [leader for leader in sub.leaders if leader.is_chief]
        assert chief.name == sub.head
        assert {CONFIG.leader_bureau(leader.id) for leader in sub.leaders} == {sub.code}
    assert CONFIG.leader_bureau("L01") == CONFIG.city.code
    assert CONFIG.leader("330102-head").name == "王建军"


def test_a_sub_bureau_head_owns_a_case_of_his_sub_bureau() -> None:
    case = STATES["handling"].case  # received by, attributed to and handled by 330102
    assert case_bureaus(case, CONFIG) == ["330102"]
    (taken,) = decide(case, own("330102-head"), ctx(HEAD_02, D(2026, 3, 10)))
    assert isinstance(taken, LeaderOwnershipTaken)
    assert (taken.leader_id, taken.leader_name) == ("330102-head", "王建军")
    assert taken.subject_id == case.text_subject  # the plan is sealed like every act's text
    # ... or names one of its other leaders, who then sees the case under the scope rule.
    owned = run(case, own("330102-L3"), HEAD_02, D(2026, 3, 10))
    assert owned.leader_id == "330102-L3"
    assert sees(DEPUTY_02, CONFIG, owned.facts)


def test_a_city_leader_may_own_any_case() -> None:
    case = STATES["handling"].case
    assert run(case, own("L01"), OFFICE, D(2026, 3, 10)).leader_id == "L01"
    assert run(case, own("L03"), LEADER, D(2026, 3, 10)).leader_id == "L03"


def test_a_leader_of_another_bureau_is_refused_naming_the_field() -> None:
    case = STATES["handling"].case
    for principal in (OFFICE, LEADER, IMPORTER):
        with pytest.raises(Invalid) as refused:
            decide(case, own("330103-head"), ctx(principal, D(2026, 3, 10)))
        error = refused.value
        assert (error.status, error.code) == (422, "leader_not_of_case")
        assert error.details["field"] == "leader_id"
        assert "330103" in error.message
        assert "鼓楼分局" in error.message  # zh: whose leader it is
        assert "江城分局" in error.message  # zh: whose leaders may
    with pytest.raises(Invalid) as unknown:
        decide(case, own("330199-head"), ctx(OFFICE, D(2026, 3, 10)))
    assert (unknown.value.code, unknown.value.details["field"]) == ("unknown_leader", "leader_id")


def test_a_case_reassigned_to_another_sub_bureau_may_be_owned_by_its_leader() -> None:
    case = run(
        STATES["handling"].case,
        c.Assign(unit="330103", reason="属地管辖"),
        OFFICE,
        D(2026, 3, 10),
    )
    assert case_bureaus(case, CONFIG) == ["330102", "330103"]
    assert run(case, own("330103-L2"), HEAD_03, D(2026, 3, 11)).leader_id == "330103-L2"
    with pytest.raises(Invalid):
        decide(case, own("330104-head"), ctx(OFFICE, D(2026, 3, 11)))


def test_a_sub_bureau_cannot_put_a_city_leader_on_its_case() -> None:
    case = STATES["handling"].case
    with pytest.raises(Forbidden) as refused:
        decide(case, own("L01"), ctx(HEAD_02, D(2026, 3, 10)))
    assert (refused.value.status, refused.value.code) == (403, "leader_out_of_scope")
    assert refused.value.details["field"] == "leader_id"


def test_a_committee_decision_is_recorded_on_an_owned_open_case() -> None:
    case = run(STATES["handling"].case, own("330102-head"), HEAD_02, D(2026, 3, 10))
    assert "record_committee_decision" in allowed_commands(case, HEAD_02, D(2026, 3, 12))
    (recorded,) = decide(case, decision(), ctx(HEAD_02, D(2026, 3, 12)))
    assert isinstance(recorded, PartyCommitteeDecisionRecorded)
    assert recorded.decided_on == D(2026, 3, 12)
    assert recorded.body is CommitteeBody.SUB_BUREAU_COMMITTEE
    assert recorded.leader_id == "330102-head"
    assert recorded.subject_id == case.text_subject
    after = fold([recorded], case)
    assert (after.state, after.leader_id) == (case.state, "330102-head")
    # A second decision later on the same case is another decision, not a correction.
    assert decide(after, decision(D(2026, 3, 20)), ctx(OFFICE, D(2026, 3, 20)))


def test_no_committee_decision_without_a_leader_owning_the_case() -> None:
    case = STATES["handling"].case
    assert "record_committee_decision" not in allowed_commands(case, OFFICE, D(2026, 3, 12))
    with pytest.raises(NotAllowed) as refused:
        decide(case, decision(), ctx(OFFICE, D(2026, 3, 12)))
    assert (refused.value.status, refused.value.code) == (409, "not_owned")
    assert "record_committee_decision" not in refused.value.details["allowed"]


def test_no_committee_decision_once_the_case_is_closed() -> None:
    owned = run(opened(), own("330102-head"), HEAD_02, D(2026, 3, 3))
    declined = run(owned, c.Decline(reason="不属于公安机关职责范围"), OFFICE, D(2026, 3, 4))
    assert declined.state == "declined"
    assert "record_committee_decision" not in allowed_commands(declined)
    with pytest.raises(NotAllowed) as refused:
        decide(declined, decision(D(2026, 3, 4)), ctx(OFFICE, D(2026, 3, 4)))
    assert refused.value.code == "not_allowed_in_state"
    terminated = STATES["terminated"].case
    with pytest.raises(NotAllowed):
        decide(terminated, decision(D(2026, 6, 11)), ctx(OFFICE, D(2026, 6, 11)))


def test_the_decision_date_is_checked() -> None:
    case = run(STATES["handling"].case, own("330102-head"), HEAD_02, D(2026, 3, 10))
    with pytest.raises(Invalid) as future:
        decide(case, decision(D(2026, 3, 13)), ctx(OFFICE, D(2026, 3, 12)))
    assert (future.value.code, future.value.details["field"]) == ("decided_in_future", "decided_on")
    with pytest.raises(Invalid) as early:
        decide(case, decision(D(2026, 3, 1)), ctx(OFFICE, D(2026, 3, 12)))
    assert early.value.code == "decided_before_receipt"
    (today,) = decide(case, decision(None), ctx(OFFICE, D(2026, 3, 12)))
    assert isinstance(today, PartyCommitteeDecisionRecorded)
    assert today.decided_on == D(2026, 3, 12)  # no date given: today
    with pytest.raises(ValueError, match="body"):
        decision(body="town_meeting")


def test_another_sub_bureau_cannot_record_a_decision_on_a_city_owned_case() -> None:
    case = run(STATES["handling"].case, own("L02"), OFFICE, D(2026, 3, 10))
    with pytest.raises(Forbidden) as refused:
        decide(case, decision(), ctx(HEAD_02, D(2026, 3, 12)))
    assert refused.value.code == "leader_out_of_scope"
    assert decide(
        case, decision(body=CommitteeBody.CITY_BUREAU_COMMITTEE), ctx(LEADER, D(2026, 3, 12))
    )


def test_the_old_flag_still_decodes_and_means_intent_only() -> None:
    old = LeaderOwnershipTaken.model_validate(
        {
            "case_id": "00000000-0000-0000-0000-000000000001",
            "leader_id": "L01",
            "leader_name": "陈卫东",
            "team": ["信访科"],
            "plan": "化解",
        }
    )
    assert old.needs_party_committee is False
