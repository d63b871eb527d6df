"""Leader ownership (包案) in the ledger: the owning leader, the team and the party committee's
decisions (date, body, content as stored: masked, like all free text in reporting)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from petitions.bureaus import BureauConfig, UnknownCodeError
from petitions.messages.assignment import CommitteeBody
from pydantic import BaseModel, ConfigDict, Field

OWNERSHIP_COLUMNS = (
    "c.owning_leader_id, c.leader_team, c.committee_decided_on, c.committee_bodies, "
    "c.committee_contents"
)
"""The ledger query's columns for this (``reporting.queries.ledger``)."""


class CommitteeDecision(BaseModel):
    """党委研究决定: one decision of a party committee on a leader-owned case."""

    model_config = ConfigDict(frozen=True)

    decided_on: date
    body: str = Field(description="决定机关 CommitteeBody code")
    body_name: str = Field(description="决定机关 party_committee_meeting 党委会 / ...")
    content: str = Field(description="决定内容，脱敏 the decision, masked as stored")


class Ownership(BaseModel):
    """What a ledger row says of its leader ownership, beside ``owning_leader`` (the name)."""

    model_config = ConfigDict(frozen=True)

    owning_leader_id: str | None = None
    owning_leader_bureau: str | None = Field(
        default=None, description="包案领导所属单位 the owning leader's bureau code"
    )
    owning_leader_bureau_name: str = ""
    leader_team: list[str] = Field(default_factory=list, description="专班成员 the team")
    committee_decisions: list[CommitteeDecision] = Field(
        default_factory=list, description="党委研究决定 the committee's decisions, in order"
    )


def body_name(code: str) -> str:
    try:
        return CommitteeBody(code).zh
    except ValueError:
        return code


def ownership(config: BureauConfig, row: Any) -> dict[str, Any]:
    """The ledger row's ownership fields from a query row with :data:`OWNERSHIP_COLUMNS`."""
    leader_id = row["owning_leader_id"]
    bureau: str | None = None
    if leader_id is not None:
        try:
            bureau = config.leader_bureau(leader_id)
        except LookupError:  # a leader no longer configured keeps the name the event gave
            bureau = None
    decisions = [
        CommitteeDecision(decided_on=on, body=body, body_name=body_name(body), content=content)
        for on, body, content in zip(
            row["committee_decided_on"] or (),
            row["committee_bodies"] or (),
            row["committee_contents"] or (),
            strict=True,
        )
    ]
    return {
        "owning_leader_id": leader_id,
        "owning_leader_bureau": bureau,
        "owning_leader_bureau_name": "" if bureau is None else config.bureau_name(bureau),
        # Members are whatever the office wrote: a configured unit's code reads as its name.
        "leader_team": [_member(config, member) for member in row["leader_team"] or ()],
        "committee_decisions": decisions,
    }


def _member(config: BureauConfig, member: str) -> str:
    """A team member as written, or a configured unit's name for its code (the common module's
    unit_name, which imports this one)."""
    try:
        return config.unit_name(member)
    except UnknownCodeError:
        return member


def decisions_text(decisions: Sequence[CommitteeDecision]) -> str:
    """The decisions in one export cell: ``2026-03-12 分局党委：<content>``, one per line."""
    return "\n".join(f"{d.decided_on} {d.body_name}：{d.content}" for d in decisions)
