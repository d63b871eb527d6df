"""One line per event for a person to read, and a timeline entry per stored event (labels,
backdating, masked data only)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from petitions.eventstore import RawEvent, RecordedEvent
from petitions.messages import Event
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.messages import reception as r
from petitions.messages.personal import PersonalDataErased
from petitions.messages.reporting import TimelineRead

from reporting.audit.labels import BACKDATE_TOLERANCE, CHANNELS, as_shanghai, label_for
from reporting.audit.models import ReadRecord, TimelineEntry

# ---------------------------------------------------------------------------------- summaries


def _join(values: Iterable[str]) -> str:
    return "、".join(values) or "-"


def summarize(data: Event) -> str:
    """A line a person reads: the event's gist, in the masked form the store gives keyless
    readers. Identity numbers and phones are left out even masked: an audit line needs who,
    not how to reach them."""
    match data:
        case i.CaseRegistered():
            names = _join(p.name or "匿名 anonymous" for p in data.petitioners)
            accused = ""
            if data.accused_units or data.accused_officers:
                accused = (
                    f"；被控告 accused: {_join((*data.accused_units, *data.accused_officers))}"
                )
            return (
                f"案号 {data.case_number}；受理单位 bureau {data.bureau}；所涉 sub-bureau "
                f"{data.sub_bureau}；分类 category {data.category} ({data.category_kind})；"
                f"首接 first receiver {data.responsible_officer}；信访人 petitioners {names}"
                f"{accused}"
            )
        case i.SubmissionReceived():
            extra = []
            if data.is_repeat:
                extra.append("重复访 repeat")
            if data.collective:
                extra.append("集体访 collective")
            if data.escalation is not None:
                extra.append(f"越级 escalation {data.escalation}")
            if data.document_number:
                extra.append(f"文号 {data.document_number}")
            received = as_shanghai(data.received_at).isoformat(timespec="minutes")
            return (
                f"{CHANNELS.get(str(data.channel), str(data.channel))} {data.channel}；"
                f"收到 received {received} by {data.receiving_bureau}/{data.receiving_officer}；"
                f"人数 head count {data.head_count}；初判 assessment "
                f"{data.preliminary_assessment}" + "".join(f"；{e}" for e in extra)
            )
        case a.WorkflowOpened():
            kind = (
                "人大交办 congress referral"
                if data.congress
                else ("上级转办 referral" if data.referral else "本级 own")
            )
            return (
                f"收到日 received {data.received_on}；受理期限 acceptance due "
                f"{data.acceptance_due}；{kind}"
            )
        case a.CaseAccepted():
            return f"受理日 accepted {data.accepted_on}；办理期限 handling due {data.handling_due}"
        case a.AcceptanceDeclined() | a.AssignmentObjected():
            return f"理由 reason: {data.reason}"
        case a.CaseForwarded():
            return f"转送 to {data.organ}；理由 reason: {data.reason}"
        case a.DivertedToLegalProcedure():
            return f"程序 procedure {data.procedure}；理由 reason: {data.reason}"
        case a.CaseAssigned():
            previous = ""
            if data.previous_unit:
                previous = f"（原 previously {data.previous_unit}/{data.previous_officer or '-'}）"
            return (
                f"承办 to {data.unit}/{data.officer or '-'}{previous}；理由 reason: {data.reason}"
            )
        case a.LeaderOwnershipTaken():
            committee = "；需党委研究 needs party committee" if data.needs_party_committee else ""
            return f"包案领导 leader {data.leader_name}；专班 team {_join(data.team)}{committee}"
        case a.PartyCommitteeDecisionRecorded():
            return (
                f"{data.decided_on} {data.body.zh} {data.body}；包案领导 leader {data.leader_id}；"
                f"决定 decision: {data.content}"
            )
        case a.ProgressRecorded():
            return f"{data.week}：{data.note}"
        case a.CompletionReported():
            return f"{data.reported_on}：{data.summary}"
        case a.CompletionAccepted():
            return data.note or "-"
        case a.CompletionSentBack():
            return f"理由 reason: {data.reason}"
        case a.ExtensionGranted():
            return (
                f"延期 {data.days} 天 days，新期限 new due {data.handling_due}；"
                f"批准 approved by {data.approved_by}；理由 reason: {data.reason}"
            )
        case a.HearingStarted():
            return f"{data.started_on} 起 from；理由 reason: {data.reason}"
        case a.HearingEnded():
            return (
                f"{data.ended_on} 止 until；暂停 paused {data.paused_days} 天 days；"
                f"{data.deadline.zh} {data.deadline} due {data.due}"
            )
        case a.ReplyIssued():
            on_time = "按期 on time" if data.on_time else "超期 late"
            return (
                f"{data.outcome.zh} {data.outcome}；答复日 replied {data.replied_on}（{on_time}）；"
                f"依据 basis: {data.legal_basis}"
            )
        case a.SatisfactionRated():
            return f"{data.rating}（{data.rated_on}）"
        case a.DeliveryRecorded():
            post = f"（单号 tracking {data.tracking_number}）" if data.tracking_number else ""
            window = f"；申请期限至 window until {data.request_until}" if data.request_until else ""
            return (
                f"{data.document.zh} {data.document}：{data.method.zh} {data.method}{post}，"
                f"{data.delivered_on} 收到 received{window}"
            )
        case a.ReviewRequested():
            return f"向 to {data.organ}；复查期限 review due {data.review_due}"
        case a.ReReviewRequested():
            return f"向 to {data.organ}；复核期限 re-review due {data.re_review_due}"
        case a.ReviewDecided() | a.ReReviewDecided():
            return f"{data.decision}；{data.outcome.zh} {data.outcome}；{data.summary}"
        case a.CaseTerminated():
            return f"理由 reason: {data.reason}"
        case a.CongressSupervisionStarted():
            return f"文号 document {data.document_number}；报告期限 report due {data.report_due}"
        case a.CongressReportSent():
            return f"{data.sent_on}：{data.report}"
        case a.DeadlineReminderSent():
            return (
                f"{data.deadline.zh} {data.deadline} due {data.due}；剩 "
                f"{data.working_days_left} 个工作日 working days left；{data.unit}/"
                f"{data.officer or '-'}"
            )
        case a.SupervisionRaised():
            return (
                f"{data.deadline.zh} {data.deadline} due {data.due} 逾期 missed；"
                f"责任 answerable {data.unit}/{data.officer or '-'}"
            )
        case a.DeadlinesRecomputed():
            redated = "；".join(
                f"{c.deadline.zh} {c.deadline}: {c.old_due} → {c.new_due}"
                f"{'（暂定 provisional）' if c.provisional_after else ''}"
                f"；{', '.join(c.calendar_files)}"
                for c in data.changes
            )
            return f"{redated}；{data.rule_note}" if data.rule_note else redated
        case r.LeaderInstructionRecorded():
            committee = "；需党委研究 needs party committee" if data.needs_party_committee else ""
            due = (
                f"；{data.answering_unit} 于 {data.due_on} 前答复 answer by {data.due_on}"
                if data.due_on is not None
                else ""
            )
            return f"批示 instruction: {data.instruction}{committee}{due}"
        case r.InstructionAnswered():
            late = "按期 on time" if data.on_time else "逾期 late"
            return f"{data.unit} 答复 answered {data.answered_on}（{late}）: {data.answer}"
        case PersonalDataErased():
            return f"数据主体 subject {data.subject_id}；理由 reason: {data.reason}"
        case TimelineRead():
            return f"{data.reader} ({data.role}, {data.via})；目的 purpose: {data.purpose or '-'}"
        case _:
            return _generic(data.model_dump(mode="json"))


def _generic(tree: dict[str, Any], limit: int = 160) -> str:
    def show(value: Any) -> str:
        return (
            json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
        )

    text = "；".join(f"{key}: {show(value)}" for key, value in tree.items() if key != "$vault")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _raw_summary(text: str, limit: int = 160) -> str:
    try:
        tree = json.loads(text)
    except ValueError:
        tree = None
    if isinstance(tree, dict):
        return _generic(tree, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry_for(raw: RawEvent, data: Event | None) -> TimelineEntry:
    """A timeline line; ``data`` is None when the event cannot be read as its type (shown from
    the raw, masked JSON instead)."""
    occurred = as_shanghai(raw.occurred_at)
    recorded = as_shanghai(raw.recorded_at)
    if data is not None:
        summary = summarize(data)
    else:
        summary = "〔无法按类型读取 not readable as its type〕 " + _raw_summary(raw.data)
    return TimelineEntry(
        version=raw.version,
        event_type=raw.event_type,
        label=label_for(raw.event_type),
        occurred_at=occurred,
        recorded_at=recorded,
        backdated=recorded - occurred > BACKDATE_TOLERANCE,
        actor=raw.actor,
        service=raw.service,
        bureau=raw.bureau,
        correlation_id=raw.correlation_id,
        causation_id=raw.causation_id,
        summary=summary,
        hash_alg=raw.hash_alg,
        hash=raw.hash.hex(),
    )


def read_record(event: RecordedEvent[Any]) -> ReadRecord:
    data: TimelineRead = event.data
    return ReadRecord(
        version=event.version,
        reader=data.reader,
        role=data.role,
        bureau=data.reader_bureau,
        purpose=data.purpose,
        via=data.via,
        view=data.view,
        as_of=None if data.as_of is None else as_shanghai(data.as_of),
        by=data.by,
        verified=data.verified,
        read_at=as_shanghai(event.recorded_at),
        correlation_id=event.correlation_id,
    )
