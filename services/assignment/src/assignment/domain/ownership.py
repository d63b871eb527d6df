"""Leader ownership (包案, 五个一) at every level, and the party committee's decisions on it.

A case belongs to the bureaus the one scope rule places it in (``petitions.scope``): the
receiving bureau, the sub-bureau it is attributed to and the bureau of its handling unit. A
leader of one of those sub-bureaus may own it, and so may any leader of the city bureau: hard,
long-running and skip-level cases go up to the city's leaders (domain brief, practice 5), and
the city covers every sub-bureau. A leader of any other bureau is refused (422 on
``leader_id``), so the owning leader always sees the case under the scope rule. Whoever names
the leader must cover the leader's bureau: a sub-bureau cannot put a city leader on a case
(403); the city's petition office or leaders do that.

The committee's decision is a decision of its own (date, body, content), recorded while a leader
owns the case and it is open; ``LeaderOwnershipTaken.needs_party_committee`` is only the intent.
"""

from __future__ import annotations

from typing import Any

from petitions.bureaus import BureauConfig, Leader
from petitions.identity import Role
from petitions.messages import Event
from petitions.messages.assignment import LeaderOwnershipTaken, PartyCommitteeDecisionRecorded

from assignment.domain.refusals import Forbidden, Invalid, NotAllowed
from assignment.domain.rules import Context, allowed_commands, unit_bureau
from assignment.domain.state import Case


def case_bureaus(case: Case, config: BureauConfig) -> list[str]:
    """The bureaus a case belongs to (receiving, attributed, handling), in code order."""
    bureaus = {case.bureau, case.sub_bureau, unit_bureau(config, case.unit or case.bureau)}
    return sorted(b for b in bureaus if b and config.is_bureau(b))


def may_own(case: Case, leader_bureau: str, config: BureauConfig) -> bool:
    """Whether a leader of ``leader_bureau`` may own the case: the city's leaders any case, a
    sub-bureau's the cases that are that sub-bureau's."""
    return leader_bureau == config.city.code or leader_bureau in case_bureaus(case, config)


def _leader(leader_id: str, ctx: Context) -> tuple[Leader, str]:
    try:
        return ctx.config.leader(leader_id), ctx.config.leader_bureau(leader_id)
    except LookupError:
        raise Invalid(
            "unknown_leader",
            f"未知局领导编号 leader_id {leader_id!r} / unknown leader id {leader_id!r}",
            field="leader_id",
        ) from None


def _caller_covers(ctx: Context, bureau: str | None, zh: str, en: str) -> None:
    """The caller's bureau must cover the leader's: a sub-bureau acts for its own leaders."""
    if ctx.principal.role is Role.IMPORTER or bureau is None:
        return  # replaying what each bureau did, in its name; or a leader no longer configured
    mine = ctx.principal.bureau
    if not (ctx.config.is_bureau(mine) and ctx.config.covers(mine, bureau)):
        name = ctx.config.bureau_name(bureau)
        raise Forbidden(
            "leader_out_of_scope",
            f"{zh}涉及{name}的领导，须由{name}或其上级办理 / {en} for a leader of {bureau} is "
            f"for that bureau or the one above it, not for {mine}",
            field="leader_id",
        )


def take_ownership(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    leader, bureau = _leader(cmd.leader_id, ctx)
    if not may_own(case, bureau, ctx.config):
        allowed = "、".join(
            ctx.config.bureau_name(b)
            for b in (ctx.config.city.code, *case_bureaus(case, ctx.config))
        )
        raise Invalid(
            "leader_not_of_case",
            f"包案领导须为本案所属单位或市局的领导（{allowed}），{leader.name}是"
            f"{ctx.config.bureau_name(bureau)}的领导 / leader_id {cmd.leader_id!r} is a leader "
            f"of {bureau}: the case's owner must lead one of its bureaus "
            f"({', '.join(case_bureaus(case, ctx.config))}) or the city bureau",
            field="leader_id",
        )
    _caller_covers(ctx, bureau, "包案", "ownership")
    accused = case.accuses(leader.id, leader.name, *cmd.team)
    if accused:
        raise Invalid(
            "accused_party",
            "被检举控告的人员不得包案或参加专班（《信访工作条例》第三十条）/ a person the "
            f"accusation names cannot own the case or join its team (Art. 30): {accused}",
        )
    return [
        LeaderOwnershipTaken(
            case_id=case.case_id,
            leader_id=leader.id,
            leader_name=leader.name,
            team=tuple(cmd.team),
            plan=cmd.plan,
            needs_party_committee=cmd.needs_party_committee,
        )
    ]


def record_committee_decision(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # ``rules`` offers the command only on an owned case; whoever sends it anyway is told why.
    if case.leader_id is None:
        raise NotAllowed(
            "not_owned",
            "只有领导包案的案件才登记党委研究决定，请先包案 / a party committee's decision is "
            "recorded on a leader-owned case: take ownership first",
            state=case.state,
            allowed=allowed_commands(case),
        )
    decided_on = cmd.decided_on or ctx.today
    if decided_on > ctx.today:
        raise Invalid(
            "decided_in_future",
            f"党委研究日期 {decided_on} 在将来（今天是 {ctx.today}）/ decided_on "
            f"{decided_on} is after today {ctx.today}",
            field="decided_on",
        )
    if case.received_on is not None and decided_on < case.received_on:
        raise Invalid(
            "decided_before_receipt",
            f"党委研究日期 {decided_on} 早于收到信访的日期 {case.received_on} / decided_on "
            f"{decided_on} is before the petition was received on {case.received_on}",
            field="decided_on",
        )
    try:
        owner_bureau: str | None = ctx.config.leader_bureau(case.leader_id)
    except LookupError:
        owner_bureau = None
    _caller_covers(ctx, owner_bureau, "登记党委研究决定", "recording the committee's decision")
    return [
        PartyCommitteeDecisionRecorded(
            case_id=case.case_id,
            decided_on=decided_on,
            body=cmd.body,
            content=cmd.content,
            leader_id=case.leader_id,
        )
    ]
