"""Deciders for what follows the reply: review and re-review (requested within their windows,
then decided), recording deliveries of the documents, and congress supervision. Pure;
``decisions.decide`` dispatches here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from petitions.messages import Event
from petitions.messages.assignment import (
    CaseTerminated,
    CongressReportSent,
    CongressSupervisionStarted,
    DatedDeadline,
    DeliveredDocument,
    DeliveryRecorded,
    ReReviewDecided,
    ReReviewRequested,
    ReviewDecided,
    ReviewRequested,
)

from assignment.domain import commands as c
from assignment.domain.refusals import Invalid, NotAllowed
from assignment.domain.rules import Context, allowed_commands
from assignment.domain.state import Case


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


DECIDERS: dict[type[c.Command], Callable[[Case, Any, Context], list[Event]]] = {
    c.RequestReview: _request_review,
    c.DecideReview: _decide_review,
    c.RequestReReview: _request_re_review,
    c.DecideReReview: _decide_re_review,
    c.RecordDelivery: _record_delivery,
    c.StartCongressSupervision: _congress_supervise,
    c.SendCongressReport: _congress_report,
}
"""The decider of each command of what follows the reply."""
