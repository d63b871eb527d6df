"""What a command makes of a case (one decide per command) and taking a case up from intake's
events (``open_workflow``). Pure: the day and configuration come in the ``Context``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from petitions.bureaus import BureauConfig, DepartmentRole
from petitions.messages import Event
from petitions.messages.assignment import (
    CaseAssigned,
    DatedDeadline,
    WorkflowOpened,
)
from petitions.messages.intake import Channel

from assignment.domain import commands as c
from assignment.domain import handling, ownership, redress
from assignment.domain.deadlines import Deadlines
from assignment.domain.refusals import Invalid
from assignment.domain.rules import Context, check, check_unit
from assignment.domain.state import Case


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


_DECIDERS: dict[type[c.Command], Callable[[Case, Any, Context], list[Event]]] = {
    **handling.DECIDERS,
    c.TakeOwnership: ownership.take_ownership,
    c.RecordPartyCommitteeDecision: ownership.record_committee_decision,
    **redress.DECIDERS,
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
