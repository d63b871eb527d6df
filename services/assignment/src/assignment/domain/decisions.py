"""What a command makes of a case (one decide per command) and taking a case up from intake's
events (``open_workflow``). Pure: the day and configuration come in the ``Context``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from petitions.bureaus import BureauConfig, Dated, DepartmentRole
from petitions.messages import Event
from petitions.messages.assignment import (
    AcceptanceDeclined,
    AssignmentObjected,
    CaseAccepted,
    CaseAssigned,
    CaseForwarded,
    CaseTerminated,
    CompletionAccepted,
    CompletionReported,
    CompletionSentBack,
    CongressReportSent,
    CongressSupervisionStarted,
    DatedDeadline,
    DeadlineKind,
    DeliveredDocument,
    DeliveryRecorded,
    DivertedToLegalProcedure,
    ExtensionGranted,
    HearingEnded,
    HearingStarted,
    ProgressRecorded,
    ReplyIssued,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
    SatisfactionRated,
    WorkflowOpened,
)
from petitions.messages.intake import Channel

from assignment.domain import commands as c
from assignment.domain import ownership
from assignment.domain.deadlines import Deadlines
from assignment.domain.refusals import Invalid, NotAllowed
from assignment.domain.rules import Context, allowed_commands, check, check_unit
from assignment.domain.state import UNDER_RE_REVIEW, Case


def decide(case: Case | None, command: c.Command, ctx: Context) -> list[Event]:
    """The events a command produces on this case, or a refusal."""
    case = check(case, command, ctx.principal)
    if case.received_on is not None and ctx.today < case.received_on:
        # Only an import can date an act; it cannot come before the matter was received.
        raise Invalid(
            "before_receipt",
            f"办理行为的日期 {ctx.today} 早于收到信访的日期 {case.received_on} / the act is dated "
            f"{ctx.today}, before the petition was received on {case.received_on}",
        )
    check_unit(case, command, ctx)
    handler = _DECIDERS[type(command)]
    return sealed_under(case, handler(case, command, ctx))


def sealed_under(case: Case, events: list[Event]) -> list[Event]:
    """The events with their free text's data subject set to the case's first petitioner: the
    store seals every ``PersonalText`` under that person's key (``petitions.messages.assignment``).
    One place, so no decider can forget it."""
    return [
        e.model_copy(update={"subject_id": case.text_subject})
        if "subject_id" in type(e).model_fields and getattr(e, "subject_id", None) is None
        else e
        for e in events
    ]


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


def _window_closed(case: Case, until: date | None, what: str) -> NotAllowed:
    if until is None:
        document = case.awaiting_delivery_of or DeliveredDocument.REPLY
        zh, en = what.split(" ", 1)
        return NotAllowed(
            "awaiting_delivery",
            f"{document.zh}尚未登记送达，{zh}申请期限（自收到之日起30日）尚未起算 / the "
            f"{document} has not been recorded as delivered: the 30-day window to ask for "
            f"{en} starts only when the petitioner receives it",
            state=case.state,
            awaiting_delivery=str(document),
            allowed=allowed_commands(case),
        )
    return NotAllowed(
        "request_window_closed",
        f"{what}申请期限（30日）已于 {until} 届满 / the 30-day window to ask for {what} "
        f"closed on {until}",
        state=case.state,
        allowed=allowed_commands(case),
    )


def _higher_organ(case: Case, ctx: Context) -> str:
    if case.bureau == ctx.config.city.code:
        return "省公安厅 provincial public security department"
    return ctx.config.city.name


def _request_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if case.review_request_until is None or ctx.today > case.review_request_until:
        raise _window_closed(case, case.review_request_until, "复查 review")
    review = ctx.deadlines.window(ctx.today)
    return [
        ReviewRequested(
            case_id=case.case_id,
            requested_on=ctx.today,
            organ=cmd.organ or _higher_organ(case, ctx),
            review_due=review.due,
            **ctx.deadlines.marks({DatedDeadline.REVIEW: review}),
        )
    ]


def _decide_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    # The re-review window runs from the decision's delivery (DeliveryRecorded, Art. 36).
    return [
        ReviewDecided(
            case_id=case.case_id,
            decision=cmd.decision,
            outcome=cmd.outcome,
            summary=cmd.summary,
            decided_on=ctx.today,
        )
    ]


def _request_re_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if case.re_review_request_until is None or ctx.today > case.re_review_request_until:
        raise _window_closed(case, case.re_review_request_until, "复核 re-review")
    re_review = ctx.deadlines.window(ctx.today)
    return [
        ReReviewRequested(
            case_id=case.case_id,
            requested_on=ctx.today,
            organ=cmd.organ or "省公安厅 provincial public security department",
            re_review_due=re_review.due,
            **ctx.deadlines.marks({DatedDeadline.RE_REVIEW: re_review}),
        )
    ]


def _decide_re_review(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        ReReviewDecided(
            case_id=case.case_id,
            decision=cmd.decision,
            outcome=cmd.outcome,
            summary=cmd.summary,
            decided_on=ctx.today,
        ),
        CaseTerminated(
            case_id=case.case_id,
            reason="复核终结，同一事实不再受理（《信访工作条例》第三十六条）/ terminated after "
            "re-review (Art. 36)",
        ),
    ]


def _issued_on(case: Case, document: DeliveredDocument) -> date | None:
    return {
        DeliveredDocument.REPLY: case.replied_on,
        DeliveredDocument.REVIEW_DECISION: case.review_decided_on,
        DeliveredDocument.RE_REVIEW_DECISION: case.re_review_decided_on,
    }[document]


def _record_delivery(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    waiting = case.awaiting_delivery_of
    document = cmd.document or waiting
    if waiting is None or document != waiting:
        shown = waiting.zh if waiting else "无 none"
        raise NotAllowed(
            "nothing_to_deliver" if waiting is None else "wrong_document",
            f"待送达的文书为：{shown}，不能登记{DeliveredDocument(document).zh if document else ''}"
            f"送达 / the document awaiting delivery is {waiting or 'none'}, not {document}",
            state=case.state,
            awaiting_delivery=None if waiting is None else str(waiting),
            allowed=[n for n in allowed_commands(case) if n != c.RecordDelivery.name],
        )
    delivered_on = cmd.delivered_on or ctx.today
    if delivered_on > ctx.today:
        raise Invalid(
            "delivered_in_future",
            f"送达日期 {delivered_on} 在将来（今天是 {ctx.today}）/ delivered_on {delivered_on} "
            f"is after today {ctx.today}",
            field="delivered_on",
        )
    issued = _issued_on(case, document)
    if issued is not None and delivered_on < issued:
        raise Invalid(
            "delivered_before_issued",
            f"送达日期 {delivered_on} 早于{document.zh}的出具日期 {issued} / delivered_on "
            f"{delivered_on} is before the {document} was issued on {issued}",
            field="delivered_on",
        )
    window = (
        None
        if document is DeliveredDocument.RE_REVIEW_DECISION
        else ctx.deadlines.request_window(delivered_on)
    )
    kind = {
        DeliveredDocument.REPLY: DatedDeadline.REVIEW_REQUEST,
        DeliveredDocument.REVIEW_DECISION: DatedDeadline.RE_REVIEW_REQUEST,
    }.get(document)
    return [
        DeliveryRecorded(
            case_id=case.case_id,
            document=document,
            method=cmd.method,
            delivered_on=delivered_on,
            tracking_number=cmd.tracking_number,
            receipt=cmd.receipt,
            request_until=None if window is None else window.due,
            **ctx.deadlines.marks({} if kind is None else {kind: window}),
        )
    ]


def _congress_supervise(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    return [
        CongressSupervisionStarted(
            case_id=case.case_id, document_number=cmd.document_number, report_due=cmd.report_due
        )
    ]


def _congress_report(case: Case, cmd: Any, ctx: Context) -> list[Event]:
    if not case.congress:
        raise NotAllowed(
            "not_a_congress_case",
            "只有人大交办或督办的案件需要书面报告 / only a case referred or supervised by the "
            "People's Congress takes a written report",
            state=case.state,
            allowed=[n for n in allowed_commands(case) if n != c.SendCongressReport.name],
        )
    return [CongressReportSent(case_id=case.case_id, report=cmd.report, sent_on=ctx.today)]


_DECIDERS: dict[type[c.Command], Callable[[Case, Any, Context], list[Event]]] = {
    c.Accept: _accept,
    c.Decline: _decline,
    c.Forward: _forward,
    c.Divert: _divert,
    c.Object: _object,
    c.Assign: _assign,
    c.TakeOwnership: ownership.take_ownership,
    c.RecordPartyCommitteeDecision: ownership.record_committee_decision,
    c.RecordProgress: _progress,
    c.ReportCompletion: _report,
    c.AcceptCompletion: _accept_completion,
    c.SendBack: _send_back,
    c.GrantExtension: _extend,
    c.StartHearing: _start_hearing,
    c.EndHearing: _end_hearing,
    c.IssueReply: _reply,
    c.RateSatisfaction: _rate,
    c.RequestReview: _request_review,
    c.DecideReview: _decide_review,
    c.RequestReReview: _request_re_review,
    c.DecideReReview: _decide_re_review,
    c.RecordDelivery: _record_delivery,
    c.StartCongressSupervision: _congress_supervise,
    c.SendCongressReport: _congress_report,
}


# -- taking a case up (from intake's events) -------------------------------------------------


def open_workflow(case: Case | None, config: BureauConfig, deadlines: Deadlines) -> list[Event]:
    """Take up a registered case once its first submission is known: start the acceptance
    clock and give it to its first receiver (谁接待谁处理) or the unit a routing rule names.
    Empty when there is nothing to do (not registered yet, or taken up already)."""
    if case is None or case.opened or case.received_on is None or case.channel is None:
        return []
    referral = case.channel.is_referral
    acceptance = deadlines.acceptance(case.received_on)
    objection = deadlines.objection(case.received_on) if referral else None
    opened = WorkflowOpened(
        case_id=case.case_id,
        case_number=case.case_number,
        bureau=case.bureau,
        sub_bureau=case.sub_bureau,
        category=case.category,
        category_kind=case.category_kind,
        received_on=case.received_on,
        acceptance_due=acceptance.due,
        referral=referral,
        congress=case.channel is Channel.CONGRESS_REFERRAL,
        objection_due=None if objection is None else objection.due,
        accused_units=tuple(sorted(case.accused_units)),
        accused_officers=tuple(sorted(case.accused_officers)),
        **deadlines.marks(
            {DatedDeadline.ACCEPTANCE: acceptance, DatedDeadline.OBJECTION: objection}
        ),
    )
    return sealed_under(case, [opened, _first_assignment(case, config)])


def _first_assignment(case: Case, config: BureauConfig) -> CaseAssigned:
    rule = config.route(case.sub_bureau, case.category)
    if rule is not None and not case.accuses(rule.unit):
        return CaseAssigned(
            case_id=case.case_id, unit=rule.unit, officer=None, reason=rule.name, rule=rule.name
        )
    if case.accuses(case.bureau, case.first_receiver):
        # Art. 30: the accused never handle the accusation; the city's discipline office does,
        # or, when it is accused itself, the inspection office, the petition office, the city.
        candidates = [
            config.department_for(role).code
            for role in (
                DepartmentRole.DISCIPLINE,
                DepartmentRole.INSPECTION,
                DepartmentRole.PETITION_OFFICE,
            )
        ]
        unit = next(
            (u for u in (*candidates, config.city.code) if not case.accuses(u)),
            config.city.code,
        )
        return CaseAssigned(
            case_id=case.case_id,
            unit=unit,
            officer=None,
            reason="检举控告涉及受理单位或接待人，改由纪检（督察）部门办理（第三十条）/ the "
            "accusation names the receiving unit or officer: the discipline (or inspection) "
            "office handles it (Art. 30)",
        )
    return CaseAssigned(
        case_id=case.case_id,
        unit=case.bureau,
        officer=case.first_receiver,
        reason="谁接待谁处理 the first receiver handles it",
    )
