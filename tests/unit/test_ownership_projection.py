"""The ledger's leader ownership as a pure fold: the owning leader, the team and each party
committee decision in order; a later owner replaces the earlier, decisions accumulate; a row
reloaded from the table (the live path) folds on as the whole fold does."""

from __future__ import annotations

import dataclasses
from datetime import date

from petitions.messages import assignment as a
from reporting.projections.projector import CaseRow, Projector

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
