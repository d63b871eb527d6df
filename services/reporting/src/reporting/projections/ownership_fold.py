"""How leader ownership (包案) and the party committee's decisions change the case rows: the
ledger shows the owning leader, the team and every decision (date, body, masked content)."""

from __future__ import annotations

from petitions.messages import assignment as a

from reporting.projections.base import FoldBase
from reporting.projections.rows import Envelope


class OwnershipFold(FoldBase):
    def _owned(self, envelope: Envelope, e: a.LeaderOwnershipTaken) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            case.owning_leader = e.leader_name
            case.leader_plan = e.plan
            case.owning_leader_id = e.leader_id
            case.leader_team = list(e.team)

    def _committee_decision(self, envelope: Envelope, e: a.PartyCommitteeDecisionRecorded) -> None:
        if (case := self._case(envelope, e.case_id)) is not None:
            # New lists, not appends: a row loaded from the table must not share them.
            case.committee_decided_on = [*case.committee_decided_on, e.decided_on]
            case.committee_bodies = [*case.committee_bodies, str(e.body)]
            case.committee_contents = [*case.committee_contents, e.content]
