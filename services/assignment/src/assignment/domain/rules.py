"""Who may give which command, in which state, on which case (role, unit, windows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from petitions.bureaus import BureauConfig
from petitions.identity import Principal, Role

from assignment.domain import commands as c
from assignment.domain.deadlines import Deadlines
from assignment.domain.refusals import Forbidden, NotAllowed, StaleVersion
from assignment.domain.state import (
    AWAITING_ACCEPTANCE,
    CLOSED,
    COMPLETION_ACCEPTED,
    COMPLETION_REPORTED,
    HANDLING,
    HEARING,
    OPEN_HANDLING,
    RE_REVIEWED,
    REGISTERED,
    REPLIED,
    REVIEWED,
    STATE_LABELS,
    TERMINATED,
    UNDER_RE_REVIEW,
    UNDER_REVIEW,
    Case,
)

# -- who may do what, in which state ---------------------------------------------------------

_OFFICE = (Role.PETITION_OFFICE,)
_HANDLING_STAFF = (Role.HANDLER, Role.SUB_BUREAU_HEAD, Role.PETITION_OFFICE)
_ANY_STAFF = (*_HANDLING_STAFF, Role.LEADER, Role.REGISTRAR)
_OWNERS = (Role.LEADER, Role.PETITION_OFFICE, Role.SUB_BUREAU_HEAD)


@dataclass(frozen=True)
class Rule:
    states: frozenset[str]
    roles: tuple[Role, ...]


def _rule(states: Sequence[str] | frozenset[str], roles: Sequence[Role]) -> Rule:
    return Rule(frozenset(states), tuple(roles))


_AFTER_REPLY = (REPLIED, UNDER_REVIEW, REVIEWED, UNDER_RE_REVIEW, RE_REVIEWED, TERMINATED)
_NOT_CLOSED = frozenset(STATE_LABELS) - CLOSED - {REGISTERED}

RULES: dict[type[c.Command], Rule] = {
    c.Accept: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Decline: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Forward: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Divert: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    c.Object: _rule([AWAITING_ACCEPTANCE], (*_OFFICE, Role.SUB_BUREAU_HEAD)),
    # 只有信访科交办 only the petition office assigns.
    c.Assign: _rule([AWAITING_ACCEPTANCE, HANDLING, HEARING, COMPLETION_REPORTED], _OFFICE),
    # 包案 at every level: a sub-bureau's head names one of its leaders (or takes it himself).
    c.TakeOwnership: _rule(_NOT_CLOSED - {RE_REVIEWED}, _OWNERS),
    # 党委研究决定: only on a case a leader owns, while it is open (``_applies``).
    c.RecordPartyCommitteeDecision: _rule(_NOT_CLOSED - {RE_REVIEWED}, _OWNERS),
    c.RecordProgress: _rule(OPEN_HANDLING, _HANDLING_STAFF),
    c.ReportCompletion: _rule([HANDLING], (Role.HANDLER, Role.SUB_BUREAU_HEAD)),
    c.AcceptCompletion: _rule([COMPLETION_REPORTED], _OFFICE),
    c.SendBack: _rule([COMPLETION_REPORTED], _OFFICE),
    # 延期须经本单位负责人批准 only the unit head approves an extension.
    # A hearing in handling does not stop its clock, so the unit head may extend during it.
    c.GrantExtension: _rule(
        [HANDLING, HEARING, COMPLETION_REPORTED, COMPLETION_ACCEPTED],
        (Role.SUB_BUREAU_HEAD, Role.LEADER),
    ),
    c.StartHearing: _rule([HANDLING, UNDER_RE_REVIEW], _HANDLING_STAFF),
    c.EndHearing: _rule([HEARING], _HANDLING_STAFF),
    c.IssueReply: _rule([COMPLETION_ACCEPTED], _HANDLING_STAFF),
    c.RateSatisfaction: _rule(_AFTER_REPLY, (Role.PETITION_OFFICE, Role.REGISTRAR)),
    # Whoever hands over or posts the decision records it: often the handling unit delivers
    # the city's review decision too, so any handling role within the case's scope may.
    c.RecordDelivery: _rule(
        [REPLIED, REVIEWED, RE_REVIEWED, TERMINATED], (*_HANDLING_STAFF, Role.REGISTRAR)
    ),
    c.RequestReview: _rule([REPLIED], (Role.PETITION_OFFICE, Role.REGISTRAR)),
    c.DecideReview: _rule([UNDER_REVIEW], (Role.PETITION_OFFICE, Role.LEADER)),
    c.RequestReReview: _rule([REVIEWED], (Role.PETITION_OFFICE, Role.REGISTRAR)),
    c.DecideReReview: _rule([UNDER_RE_REVIEW], (Role.PETITION_OFFICE, Role.LEADER)),
    c.StartCongressSupervision: _rule(_NOT_CLOSED, _OFFICE),
    c.SendCongressReport: _rule(_NOT_CLOSED | CLOSED, _OFFICE),
}


def _role_ok(principal: Principal, rule: Rule) -> bool:
    # Importing history replays acts that others did: the import role may give any command.
    return principal.role in rule.roles or principal.role is Role.IMPORTER


def _applies(case: Case, command: type[c.Command], today: date | None = None) -> bool:
    """Whether a command the state allows can apply to this case at all: the one extension is
    granted once and before the deadline; only a referral is objected to, within its window;
    only a People's Congress case is reported on; a review is asked for within 30 days; a
    party committee's decision is recorded on a leader-owned case."""
    if command is c.GrantExtension:
        return case.in_handling and not case.extended and not _past(today, case.handling_due)
    if command is c.Object:
        return case.referral and not _past(today, case.objection_due)
    if command is c.SendCongressReport:
        return case.congress
    if command is c.RequestReview:
        return case.review_request_until is not None and not _past(today, case.review_request_until)
    if command is c.RequestReReview:
        return case.re_review_request_until is not None and not _past(
            today, case.re_review_request_until
        )
    if command is c.RecordDelivery:
        return case.awaiting_delivery
    if command is c.RecordPartyCommitteeDecision:
        return case.leader_id is not None
    if command is c.StartHearing:
        # Only the re-review clock stops for a hearing, and one that has run out stays missed.
        return case.state != UNDER_RE_REVIEW or not _past(today, case.re_review_due)
    return True


def _past(today: date | None, until: date | None) -> bool:
    return today is not None and until is not None and today > until


def allowed_commands(
    case: Case, principal: Principal | None = None, today: date | None = None
) -> list[str]:
    """The commands the case's state allows (given a caller: that their role may give; given a
    day: whose windows are still open on it)."""
    return [
        command.name
        for command, rule in RULES.items()
        if case.state in rule.states
        and _applies(case, command, today)
        and (principal is None or _role_ok(principal, rule))
    ]


def check(case: Case | None, command: c.Command, principal: Principal) -> Case:
    """Version, state and role: the same for every command."""
    if case is None or not case.opened:
        raise NotAllowed(
            "case_not_ready",
            "案件尚未进入办理流程（登记后由消息送达，通常数秒内），请稍后重试 / the case has not "
            "reached the workflow yet (it arrives from intake within seconds); try again shortly",
            state=REGISTERED if case else None,
            allowed=[],
        )
    if command.expected_version is not None and command.expected_version != case.version:
        raise StaleVersion(
            "stale_version",
            f"案件已被他人更新（当前版本 {case.version}，您提交的是 {command.expected_version}），"
            f"请刷新后重试 / the case changed since you loaded it (now version {case.version}, "
            f"you sent {command.expected_version}): reload and try again",
            current_version=case.version,
        )
    rule = RULES[type(command)]
    # The role first: someone who may never give this command is told so, not sent to
    # commands they could not give either.
    if not _role_ok(principal, rule):
        roles = ", ".join(rule.roles)
        raise Forbidden(
            "role_forbidden",
            f"「{command.title}」需要以下角色之一：{'、'.join(r.label for r in rule.roles)}；"
            f"您的角色是{principal.role.label} / '{command.name}' needs one of: {roles}",
            required_roles=list(rule.roles),
        )
    if case.state not in rule.states:
        allowed = allowed_commands(case, principal)
        raise NotAllowed(
            "not_allowed_in_state",
            f"案件当前状态为「{STATE_LABELS[case.state]}」，不能执行「{command.title}」；"
            f"可执行：{', '.join(allowed) or '无 none'} / "
            f"'{command.name}' is not allowed while the case is {case.state}",
            state=case.state,
            allowed=allowed,
        )
    return case


@dataclass(frozen=True)
class Context:
    """What a decision may consult besides the case: the caller, the day, the configuration."""

    principal: Principal
    today: date
    config: BureauConfig
    deadlines: Deadlines


# Which unit a command belongs to. Seeing a case (its sub-bureau, its receiving bureau or its
# handling unit) is not enough to act on it: the receiving bureau decides on acceptance and
# assigns; the handling unit handles (and only its head extends); the next-higher organ reviews.
_RECEIVING_BUREAU = frozenset(
    {
        c.Accept,
        c.Decline,
        c.Forward,
        c.Divert,
        c.Object,
        c.Assign,
        c.AcceptCompletion,
        c.SendBack,
        c.RateSatisfaction,
        c.RequestReview,
        c.RequestReReview,
        c.StartCongressSupervision,
        c.SendCongressReport,
    }
)
_HANDLING_UNIT = frozenset(
    {
        c.RecordProgress,
        c.ReportCompletion,
        c.GrantExtension,
        c.StartHearing,
        c.EndHearing,
        c.IssueReply,
    }
)
_REVIEWING_ORGAN = frozenset({c.DecideReview, c.DecideReReview})


def unit_bureau(config: BureauConfig, unit: str) -> str:
    """The bureau a unit belongs to: itself, or the city for a city department."""
    return unit if config.is_bureau(unit) else config.city.code


def _covers(ctx: Context, bureau: str) -> bool:
    return ctx.config.is_bureau(ctx.principal.bureau) and ctx.config.covers(
        ctx.principal.bureau, bureau
    )


def check_unit(case: Case, command: c.Command, ctx: Context) -> None:
    if ctx.principal.role is Role.IMPORTER:
        return  # replaying what each unit did, in its name
    kind = type(command)
    if kind in _RECEIVING_BUREAU and not _covers(ctx, case.bureau):
        raise Forbidden(
            "not_your_unit",
            f"「{command.title}」由受理单位 {ctx.config.unit_name(case.bureau)} 或其上级办理 / "
            f"'{command.name}' belongs to the receiving bureau {case.bureau} or a bureau above it",
        )
    if kind in _HANDLING_UNIT:
        unit = unit_bureau(ctx.config, case.unit or case.bureau)
        if not _covers(ctx, unit):
            name = ctx.config.unit_name(case.unit or case.bureau)
            raise Forbidden(
                "not_your_unit",
                f"「{command.title}」由责任单位 {name} 或其上级办理 / '{command.name}' belongs "
                f"to the responsible unit {case.unit or case.bureau} or a bureau above it",
            )
    # A sub-bureau's case is reviewed by the city; the city also records the province's
    # decisions (re-review, and review of its own cases).
    if kind in _REVIEWING_ORGAN and ctx.principal.bureau != ctx.config.city.code:
        raise Forbidden(
            "not_the_reviewing_organ",
            "复查、复核由上一级机关决定，请由市局录入 / review and re-review are decided by "
            "the next-higher organ: the city bureau records them",
        )
    if isinstance(command, c.Assign) and not _covers(ctx, unit_bureau(ctx.config, command.unit)):
        raise Forbidden(
            "unit_out_of_scope",
            f"不能交办给本单位范围以外的单位 {command.unit} / you can only assign within your "
            f"own bureau's scope, not to {command.unit}",
        )
