"""Leader ownership as pure folds: the ledger's row keeps the owning leader, the team and each
party committee decision in order (a later owner replaces the earlier, decisions accumulate, also
on a row reloaded from the table: the live path); the audit's state counts the decisions."""

from __future__ import annotations

import dataclasses
from datetime import date

from petitions.messages import assignment as a
from reporting.audit import fold, label_for, summarize
from reporting.projections.projector import CaseRow, Projector

from tests.unit.test_audit_timeline import CASE, recorded, registered, submission
from tests.unit.test_reporting_projector import Case


def decided(case: Case, on: date, body: a.CommitteeBody, content: str) -> None:
    case(
        a.PartyCommitteeDecisionRecorded(
            case_id=case.case_id, decided_on=on, body=body, content=content, leader_id="330102-L3"
        )
    )


def test_owner_team_and_decisions_in_the_row() -> None:
    case = Case(Projector())
    case.register()
    case(
        a.LeaderOwnershipTaken(
            case_id=case.case_id,
            leader_id="L02",
            leader_name="朱宏伟",
            team=("信访科",),
            plan="市局包案",
        )
    )
    case(
        a.LeaderOwnershipTaken(
            case_id=case.case_id,
            leader_id="330102-L3",
            leader_name="赵卫国",
            team=("李所长", "王警官"),
            plan="分局包案",
        )
    )
    assert (case.row.owning_leader, case.row.owning_leader_id) == ("赵卫国", "330102-L3")
    assert case.row.leader_team == ["李所长", "王警官"]
    assert case.row.committee_decided_on == []

    decided(case, date(2026, 3, 12), a.CommitteeBody.SUB_BUREAU_COMMITTEE, "同*")
    # The live path: the next event folds onto the row as stored, in a fresh projector.
    stored = CaseRow.from_record(dataclasses.asdict(case.row))
    live = Projector()
    live.load_case(stored)
    case.projector = live
    decided(case, date(2026, 3, 20), a.CommitteeBody.POLITICAL_LEGAL_COMMITTEE, "报*")
    row = live.cases[case.case_id]
    assert row.committee_decided_on == [date(2026, 3, 12), date(2026, 3, 20)]
    assert row.committee_bodies == ["sub_bureau_committee", "political_legal_committee"]
    assert row.committee_contents == ["同*", "报*"]
    assert row in live.take_changes().cases


def test_the_audit_state_counts_the_committee_decisions() -> None:
    events = [registered(), submission()]
    events.append(
        a.LeaderOwnershipTaken(
            case_id=CASE, leader_id="330102-head", leader_name="王建军", team=("李所长",), plan="包"
        )
    )
    for on in (date(2026, 2, 12), date(2026, 2, 20)):
        events.append(
            a.PartyCommitteeDecisionRecorded(
                case_id=CASE,
                decided_on=on,
                body=a.CommitteeBody.SUB_BUREAU_COMMITTEE,
                content="同意",
                leader_id="330102-head",
            )
        )
    state = fold(recorded(data, version) for version, data in enumerate(events, start=1))
    assert (state.owning_leader, state.committee_decisions) == ("王建军", 2)
    line = summarize(events[-1])
    assert line.startswith("2026-02-20 分局党委 sub_bureau_committee；包案领导 leader 330102-head")
    assert label_for(events[-1].event_type) == "党委研究决定 party committee decision recorded"
