"""Deciders for handling a case to its reply: acceptance and declining, forwarding and
diverting, objections to a referral, assignment, progress and completion, extensions,
hearings, the reply and the satisfaction rating. Pure; ``decisions.decide`` dispatches here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from petitions.bureaus import Dated
from petitions.messages import Event
from petitions.messages.assignment import (
    AcceptanceDeclined,
    AssignmentObjected,
    CaseAccepted,
    CaseAssigned,
    CaseForwarded,
    CompletionAccepted,
    CompletionReported,
    CompletionSentBack,
    DatedDeadline,
    DeadlineKind,
    DivertedToLegalProcedure,
    ExtensionGranted,
    HearingEnded,
    HearingStarted,
    ProgressRecorded,
    ReplyIssued,
    SatisfactionRated,
)

from assignment.domain import commands as c
from assignment.domain.deadlines import Deadlines
from assignment.domain.refusals import Invalid, NotAllowed
from assignment.domain.rules import Context, allowed_commands
from assignment.domain.state import UNDER_RE_REVIEW, Case


def _accept(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    handling = ctx.deadlines.handling(ctx.today)
    return [
        CaseAccepted(
            case_id=case.case_id,
            accepted_on=ctx.today,
            handling_due=handling.due,
            notice=cmd.notice,
            **ctx.deadlines.marks({DatedDeadline.HANDLING: handling}),
        )
    ]


def _decline(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [AcceptanceDeclined(case_id=case.case_id, reason=cmd.reason, decided_on=ctx.today)]


def _forward(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        CaseForwarded(
            case_id=case.case_id, organ=cmd.organ, reason=cmd.reason, decided_on=ctx.today
        )
    ]


def _divert(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        DivertedToLegalProcedure(
            case_id=case.case_id, procedure=cmd.procedure, reason=cmd.reason, decided_on=ctx.today
        )
    ]


def _object(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.referral or case.objection_due is None:
        raise NotAllowed(
            "not_a_referral",
            "只有上级交办、转办的案件可以提出异议 / only a case assigned from above can be "
            "objected to",
            state=case.state,
            allowed=allowed_commands(case),
        )
    if ctx.today > case.objection_due:
        raise NotAllowed(
            "objection_window_closed",
            f"异议期限（收到后5个工作日，至 {case.objection_due}）已过 / the 5-working-day "
            f"window to object closed on {case.objection_due}",
            state=case.state,
            allowed=allowed_commands(case),
        )
    return [AssignmentObjected(case_id=case.case_id, reason=cmd.reason, objected_on=ctx.today)]


def _assign(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not ctx.config.is_unit(cmd.unit):
        raise Invalid("unknown_unit", f"未知单位代码 / unknown unit code {cmd.unit!r}")
    if case.accuses(cmd.unit, cmd.officer):
        raise Invalid(
            "accused_party",
            "检举控告件不得交由被检举控告的单位或人员办理（《信访工作条例》第三十条）/ an "
            "accusation is never assigned to the unit or person it accuses (Art. 30)",
        )
    if cmd.unit == case.unit and cmd.officer == case.officer:
        raise Invalid("same_assignment", "已是当前责任单位和承办人 / already assigned so")
    return [
        CaseAssigned(
            case_id=case.case_id,
            unit=cmd.unit,
            officer=cmd.officer,
            reason=cmd.reason,
            previous_unit=case.unit,
            previous_officer=case.officer,
        )
    ]


def _progress(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        ProgressRecorded(
            case_id=case.case_id,
            week=Deadlines.iso_week(ctx.today),
            note=cmd.note,
            recorded_on=ctx.today,
        )
    ]


def _report(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionReported(case_id=case.case_id, summary=cmd.summary, reported_on=ctx.today)]


def _accept_completion(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionAccepted(case_id=case.case_id, note=cmd.note)]


def _send_back(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [CompletionSentBack(case_id=case.case_id, reason=cmd.reason)]


def _extend(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.in_handling:
        # A hearing in re-review: the handling period, the only one extended, is over.
        raise NotAllowed(
            "not_in_handling",
            "复核阶段的听证中不能延长办理期限 / a hearing in re-review: there is no handling "
            "period to extend",
            state=case.state,
            allowed=allowed_commands(case),
        )
    if case.extended:
        raise NotAllowed(
            "extension_already_granted",
            "办理期限只能延长一次（《信访工作条例》第三十四条）/ the handling period may be "
            "extended only once (Art. 34)",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.GrantExtension.name],
        )
    assert case.handling_due is not None
    if ctx.today > case.handling_due:
        raise NotAllowed(
            "deadline_passed",
            f"办理期限已于 {case.handling_due} 届满，不能再延期 / the handling deadline passed on "
            f"{case.handling_due}: it can no longer be extended",
            state=case.state,
            allowed=allowed_commands(case),
        )
    handling = ctx.deadlines.extended(case.handling_end or case.handling_due, cmd.days)
    return [
        ExtensionGranted(
            case_id=case.case_id,
            days=cmd.days,
            reason=cmd.reason,
            approved_by=ctx.principal.user,
            handling_due=handling.due,
            **ctx.deadlines.marks({DatedDeadline.HANDLING: handling}),
        )
    ]


def _start_hearing(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # In handling a hearing stops nothing (Art. 34), so it may be held even after the deadline:
    # the case stays overdue and supervised. In re-review hearing time is not counted (Art. 36),
    # but a period that has already run out stays missed.
    due = case.re_review_due
    if case.state == UNDER_RE_REVIEW and due is not None and ctx.today > due:
        raise NotAllowed(
            "deadline_passed",
            f"复核期限已于 {due} 届满，不能再以听证停止计时 / the re-review deadline passed on "
            f"{due}: a hearing can no longer stop the clock",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.StartHearing.name],
        )
    return [HearingStarted(case_id=case.case_id, reason=cmd.reason, started_on=ctx.today)]


def _end_hearing(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    assert case.hearing_since is not None
    paused = (ctx.today - case.hearing_since).days
    if paused < 0:
        raise Invalid(
            "before_hearing_started",
            f"听证结束日早于开始日 {case.hearing_since} / the hearing cannot end before it "
            f"started on {case.hearing_since}",
        )
    if case.before_hearing == UNDER_RE_REVIEW:
        kind, due, end = DeadlineKind.RE_REVIEW, case.re_review_due, case.re_review_end
    else:
        # The handling period has no pause (Art. 34): the hearing's days change no deadline.
        kind, due, end = DeadlineKind.HANDLING, case.handling_due, case.handling_end
        paused = 0
    assert due is not None
    # The re-review's paused days lengthen the period itself: they are added to its own last
    # day, which then moves to a working day again (not to the already moved deadline).
    dated = (
        ctx.deadlines.extended(end or due, paused)
        if paused
        else Dated(due, ctx.deadlines.calendar.provisional_years(end or due, due))
    )
    return [
        HearingEnded(
            case_id=case.case_id,
            ended_on=ctx.today,
            paused_days=paused,
            deadline=kind,
            due=dated.due,
            **ctx.deadlines.marks({DatedDeadline(str(kind)): dated}),
        )
    ]


def _reply(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # No review window yet: it runs from the reply's delivery (DeliveryRecorded, Art. 35).
    assert case.handling_due is not None
    return [
        ReplyIssued(
            case_id=case.case_id,
            outcome=cmd.outcome,
            legal_basis=cmd.legal_basis,
            summary=cmd.summary,
            replied_on=ctx.today,
            on_time=ctx.today <= case.handling_due,
        )
    ]


def _rate(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [SatisfactionRated(case_id=case.case_id, rating=cmd.rating, rated_on=ctx.today)]


DECIDERS: dict[type[c.Command], Callable[[Case, Any, Context], list[Event]]] = {
    c.Accept: _accept,
    c.Decline: _decline,
    c.Forward: _forward,
    c.Divert: _divert,
    c.Object: _object,
    c.Assign: _assign,
    c.RecordProgress: _progress,
    c.ReportCompletion: _report,
    c.AcceptCompletion: _accept_completion,
    c.SendBack: _send_back,
    c.GrantExtension: _extend,
    c.StartHearing: _start_hearing,
    c.EndHearing: _end_hearing,
    c.IssueReply: _reply,
    c.RateSatisfaction: _rate,
}
"""The decider of each command of handling a case to its reply."""
