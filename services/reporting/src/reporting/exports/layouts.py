"""The ledger and the weekly bulletin laid out as sheets for export, and the pieces the monthly
analysis's layout (``reporting.exports.analysis``) shares with them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from petitions.messages.assignment import DatedDeadline

from reporting.exports.tables import Cell, Column, Percent, Report, Sheet
from reporting.queries.common import (
    ASSESSMENT_ZH,
    CHANNEL_ZH,
    ESCALATION_ZH,
    SATISFACTION_ZH,
    label,
)
from reporting.queries.models import (
    AssessedRates,
    BureauRef,
    CaseBrief,
    Figures,
    InstructionBrief,
    LedgerRow,
    Rate,
    WeeklyBulletin,
)
from reporting.queries.ownership import decisions_text

LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("案件编号", "Case number", 22),
    Column("受理单位", "Receiving bureau", 16),
    Column("所属分县局", "Sub-bureau", 16),
    Column("问题分类", "Category", 24),
    Column("信访类别", "Kind", 10),
    Column("信访人", "Petitioners", 14),
    Column("身份证号", "Resident ID (masked)", 22),
    Column("人数", "Head count", 8),
    Column("渠道", "Channel", 10),
    Column("首次信访时间", "First received", 18),
    Column("首接责任人", "First receiver", 12),
    Column("状态", "State", 12),
    Column("承办单位", "Responsible unit", 16),
    Column("承办人", "Responsible officer", 12),
    Column("包案领导", "Owning leader", 12),
    Column("专班成员", "Team", 18),
    Column("党委研究决定次数", "Committee decisions", 8),
    Column("党委研究决定（日期 机关：内容）", "Committee decisions (date body: content)", 40),
    Column("受理告知期限", "Acceptance due", 12),
    Column("受理日期", "Accepted on", 12),
    Column("办理期限", "Handling due", 12),
    Column("延期天数", "Extension days", 8),
    Column("未受理情形", "Not accepted", 14),
    Column("初步判断", "Preliminary assessment", 10),
    Column("处理意见", "Outcome", 10),
    Column("有理访", "Justified", 8),
    Column("答复日期", "Replied on", 12),
    Column("按期答复", "On time", 8),
    Column("满意度", "Satisfaction", 10),
    Column("终结日期", "Terminated on", 12),
    Column("件次", "Submissions", 8),
    Column("重复访次数", "Repeats", 8),
    Column("集体访", "Collective", 8),
    Column("越级访", "Skip-level", 8),
    Column("人大交办督办", "People's Congress", 10),
    Column("人大书面报告日期", "Congress report sent", 12),
    Column("督办", "Supervised", 8),
    Column("当前期限", "Running deadline due", 12),
    Column("期限暂定（原因）", "Provisional deadlines (why)", 40),
    Column("超期", "Overdue", 8),
    Column("最近进展周", "Latest progress week", 12),
    Column("最近进展", "Latest progress", 30),
)

BRIEF_COLUMNS: tuple[Column, ...] = (
    Column("案件编号", "Case number", 22),
    Column("所属分县局", "Sub-bureau", 16),
    Column("问题分类", "Category", 24),
    Column("状态", "State", 12),
    Column("首次信访时间", "First received", 18),
    Column("承办单位", "Responsible unit", 16),
    Column("承办人", "Responsible officer", 12),
    Column("期限类型", "Deadline", 12),
    Column("期限", "Due", 12),
    Column("工作日", "Working days", 8),
    Column("最近进展周", "Latest progress week", 12),
    Column("件次", "Submissions", 8),
    Column("重复访次数", "Repeats", 8),
    Column("越级访", "Skip-level", 8),
    Column("人大书面报告日期", "Congress report sent", 12),
    Column("答复日期", "Replied on", 12),
    Column("处理意见", "Outcome", 10),
)


def _scope_notes(bureau: BureauRef, *lines: str, today: date) -> list[str]:
    """``today``: the service's day (its clock, in Shanghai), not the machine's."""
    return [
        f"单位 Bureau: {bureau.name} ({bureau.code})",
        *lines,
        f"生成日期 Generated on: {today.isoformat()} (北京时间 Asia/Shanghai)",
    ]


def _rate_row(text: str, value: Rate) -> list[Cell]:
    """A rate as a number (0.0%) beside its numerator and denominator, each in its column."""
    return [text, Percent(value.ratio), value.numerator, value.denominator]


def _assessed_rows(rates: AssessedRates | Figures) -> list[list[Cell]]:
    return [
        _rate_row("及时受理率 Timely acceptance rate", rates.timely_acceptance_rate),
        _rate_row("满意率 Satisfaction rate", rates.satisfaction_rate),
        _rate_row(
            "初信初访化解率 First-petition resolution rate", rates.first_petition_resolution_rate
        ),
        _rate_row("重复信访率 Repeat-petition rate", rates.repeat_petition_rate),
    ]


_FIGURE_VALUE_COLUMNS = (
    Column("指标", "Figure", 36),
    Column("数值", "Value", 12),
    Column("分子", "Numerator", 10),
    Column("分母", "Denominator", 10),
)


def _provisional(row: LedgerRow) -> str:
    """Beside the dates: which are provisional (holiday year not final) and why, zh and en."""
    if not row.provisional_deadlines:
        return ""
    names = "、".join(DatedDeadline(d).zh for d in row.provisional_deadlines)
    return (
        f"暂定：{names}（{row.provisional_reason_zh}） / provisional: "
        f"{', '.join(row.provisional_deadlines)} ({row.provisional_reason_en})"
    )


def ledger_report(
    bureau: BureauRef, rows: Sequence[LedgerRow], notes: Sequence[str], *, today: date
) -> Report:
    cells: list[list[Cell]] = [
        [
            r.case_number,
            r.bureau_name,
            r.sub_bureau_name,
            r.category_name,
            r.category_kind_name,
            r.petitioners,
            r.petitioner_ids,
            r.head_count,
            label(CHANNEL_ZH, r.channel),
            r.first_received_at,
            r.first_receiver,
            r.state_name,
            r.responsible_unit_name,
            r.responsible_officer,
            r.owning_leader,
            "、".join(r.leader_team),
            len(r.committee_decisions),
            decisions_text(r.committee_decisions),
            r.acceptance_due,
            r.accepted_on,
            r.handling_due,
            r.extended_days,
            r.not_accepted_name,
            label(ASSESSMENT_ZH, r.preliminary_assessment),
            r.outcome_name,
            r.justified,
            r.replied_on,
            r.on_time,
            label(SATISFACTION_ZH, r.satisfaction),
            r.terminated_on,
            r.submissions,
            r.repeat_count,
            r.collective,
            label(ESCALATION_ZH, r.escalation),
            r.congress,
            r.congress_report_on,
            r.supervised,
            r.running_due,
            _provisional(r),
            r.overdue,
            r.latest_progress_week,
            r.latest_progress_note,
        ]
        for r in rows
    ]
    title = f"信访台帐 Petition ledger · {bureau.name}"
    return Report(
        title=title,
        filename=f"信访台帐_{bureau.name}_{today.isoformat()}",
        ascii_filename=f"ledger_{bureau.code}_{today.isoformat()}",
        sheets=[
            Sheet(
                name="台帐 Ledger",
                title=title,
                columns=LEDGER_COLUMNS,
                rows=cells,
                notes=_scope_notes(bureau, *notes, today=today),
            )
        ],
    )


def _brief_rows(cases: Sequence[CaseBrief]) -> list[list[Cell]]:
    return [
        [
            c.case_number,
            c.sub_bureau.name,
            c.category_name,
            c.state_name,
            c.first_received_at,
            c.responsible_unit_name,
            c.responsible_officer,
            c.deadline_name,
            c.due,
            c.working_days,
            c.latest_progress_week,
            c.submissions,
            c.repeat_count,
            label(ESCALATION_ZH, c.escalation),
            c.congress_report_on,
            c.replied_on,
            c.outcome_name,
        ]
        for c in cases
    ]


def _brief_sheet(name: str, title: str, cases: Sequence[CaseBrief], notes: list[str]) -> Sheet:
    return Sheet(
        name=name, title=title, columns=BRIEF_COLUMNS, rows=_brief_rows(cases), notes=notes
    )


def bulletin_report(bulletin: WeeklyBulletin, *, today: date) -> Report:
    b = bulletin.bureau
    notes = _scope_notes(
        b,
        f"周次 Week: {bulletin.week} ({bulletin.period_start} ~ {bulletin.period_end})",
        f"超期与临期判断日 Judged on: {bulletin.as_of}",
        today=today,
    )
    title = f"一周一通报 Weekly bulletin · {b.name} · {bulletin.week}"
    summary: list[list[Cell]] = [
        ["新增件 New matters", bulletin.new_cases, None, None],
        ["件次 Submissions", bulletin.submissions, None, None],
        ["人次 Person-visits", bulletin.person_visits, None, None],
        ["本周答复 Replied this week", bulletin.replied, None, None],
        ["超期 Overdue", bulletin.overdue.total, None, None],
        ["5个工作日内到期 Due within 5 working days", bulletin.due_soon.total, None, None],
        ["本周缺进展 Missing this week's progress", bulletin.missing_progress.total, None, None],
        *_assessed_rows(bulletin.rates),
    ]
    late = bulletin.overdue_instructions
    if late is not None:
        summary.append(["逾期未答复的领导批示 Overdue instructions", late.total, None, None])
    by_sub: list[list[Cell]] = [
        [
            r.sub_bureau.name,
            r.new_cases,
            r.submissions,
            r.replied,
            r.open_cases,
            r.overdue,
            r.due_soon,
            r.missing_progress,
        ]
        for r in bulletin.by_sub_bureau
    ]
    return Report(
        title=title,
        filename=f"一周一通报_{b.name}_{bulletin.week}",
        ascii_filename=f"weekly_bulletin_{b.code}_{bulletin.week}",
        sheets=[
            Sheet("概况 Summary", title, _FIGURE_VALUE_COLUMNS, summary, notes),
            Sheet(
                "分县局 By sub-bureau",
                "分县局情况 By sub-bureau",
                (
                    Column("分县局", "Sub-bureau", 18),
                    Column("新增件", "New matters", 10),
                    Column("件次", "Submissions", 10),
                    Column("答复", "Replied", 10),
                    Column("在办", "Open", 10),
                    Column("超期", "Overdue", 10),
                    Column("临期", "Due soon", 10),
                    Column("缺进展", "Missing progress", 10),
                ),
                by_sub,
                notes,
            ),
            _brief_sheet("超期 Overdue", "超期案件 Overdue cases", bulletin.overdue.rows, notes),
            _brief_sheet(
                "临期 Due soon",
                "5个工作日内到期 Due within 5 working days",
                bulletin.due_soon.rows,
                notes,
            ),
            _brief_sheet(
                "缺进展 Missing progress",
                "本周未报进展的在办案件 Open cases without this week's progress",
                bulletin.missing_progress.rows,
                notes,
            ),
            *([] if late is None else [_instruction_sheet(late.rows, notes)]),
        ],
    )


_INSTRUCTION_COLUMNS = (
    Column("案件编号", "Case number", 20),
    Column("分县局", "Sub-bureau", 14),
    Column("须答复单位", "Must answer", 14),
    Column("批示日", "Given on", 12),
    Column("答复期限", "Due", 12),
    Column("逾期工作日", "Working days overdue", 12),
    Column("需党委研究", "Party committee", 10),
    Column("批示（脱敏）", "Instruction (masked)", 30),
)


def _instruction_sheet(rows: Sequence[InstructionBrief], notes: list[str]) -> Sheet:
    """The leaders' instructions overdue on the bulletin's day, every row, the text masked."""
    return Sheet(
        name="逾期批示 Instructions",
        title="逾期未答复的领导批示 Leaders' instructions not answered by their due day",
        columns=_INSTRUCTION_COLUMNS,
        rows=[
            [
                i.case_number,
                i.sub_bureau.name,
                i.unit.name,
                i.instructed_on,
                i.due_on,
                i.working_days,
                i.needs_party_committee,
                i.instruction,
            ]
            for i in rows
        ],
        notes=notes,
    )
