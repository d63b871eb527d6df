"""Deciding a registration: a new case, or a repeat submission on an existing one. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from petitions.eventstore import RecordedEvent
from petitions.messages.assignment import CaseAssigned, CaseTerminated
from petitions.messages.intake import CaseRegistered, SubmissionReceived
from petitions.refusals import Refusal
from petitions.scope import CaseFacts

from intake.domain.commands import RegisterSubmission


@dataclass(frozen=True)
class CaseView:
    """What intake needs to know of an existing case to match a new submission to it."""

    case_id: UUID
    case_number: str
    bureau: str
    sub_bureau: str
    category: str
    petitioner_subjects: frozenset[UUID]
    version: int
    terminated: bool = False
    submissions: int = 0
    last_received_at: datetime | None = None
    unit: str | None = None
    accused_units: tuple[str, ...] = ()
    accused_officers: tuple[str, ...] = ()

    @property
    def facts(self) -> CaseFacts:
        """What the one scope rule (``petitions.scope``) decides on: a registrar is never
        matched to, linked to or shown a case they may not see."""
        return CaseFacts(
            bureau=self.bureau,
            sub_bureau=self.sub_bureau,
            unit=self.unit,
            accused_units=self.accused_units,
            accused_officers=self.accused_officers,
        )


def evolve(state: CaseView | None, event: RecordedEvent[Any]) -> CaseView | None:
    data = event.data
    if isinstance(data, CaseRegistered):
        return CaseView(
            case_id=data.case_id,
            case_number=data.case_number,
            bureau=data.bureau,
            sub_bureau=data.sub_bureau,
            category=data.category,
            petitioner_subjects=frozenset(p.subject_id for p in data.petitioners),
            version=event.version,
            accused_units=data.accused_units,
            accused_officers=data.accused_officers,
        )
    if state is None:
        return None
    changes: dict[str, Any] = {"version": event.version}
    if isinstance(data, SubmissionReceived):
        changes |= {
            "submissions": state.submissions + 1,
            "last_received_at": data.received_at,
            "petitioner_subjects": state.petitioner_subjects
            | set(data.petitioner_subjects)
            | {r.subject_id for r in data.representatives},
        }
    elif isinstance(data, CaseTerminated):
        changes["terminated"] = True
    elif isinstance(data, CaseAssigned):
        changes["unit"] = data.unit
    return _replace(state, changes)


def _replace(state: CaseView, changes: dict[str, Any]) -> CaseView:
    return replace(state, **changes)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Refused(Refusal):
    """Intake will not do it (the one refusal type): ``Refused(code, message, status)``, 409
    unless a status is given."""


@dataclass(frozen=True)
class Outcome:
    """A new case (``case`` is None) or a repeat on ``case``, and why."""

    case: CaseView | None
    reason: str | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)


def match(
    command: RegisterSubmission,
    subjects: frozenset[UUID],
    candidates: list[CaseView],
    linked: CaseView | None,
) -> Outcome:
    """Same petitioner, same sub-bureau, same category, not terminated: the same matter.

    A clerk may link to a named case (with a reason) or force a new case (with a reason). A
    matter terminated after re-review is not accepted again (信访工作条例 Art. 36).
    """
    if command.link_case_id is not None:
        if linked is None:
            raise Refused(
                "case_not_found",
                "关联的案件不存在或不在您的范围内 / no case to link to exists within your scope",
                404,
            )
        if linked.terminated:
            raise Refused(
                "case_terminated",
                f"案件 {linked.case_number} 已复核终结，同一事实不再受理"
                "（《信访工作条例》第三十六条） / terminated after re-review: not accepted "
                "again on the same facts (Art. 36)",
            )
        return Outcome(linked, command.link_reason)
    same = [
        c
        for c in candidates
        if c.sub_bureau == command.sub_bureau
        and c.category == command.category
        and c.petitioner_subjects & subjects
    ]
    if command.force_new_reason:
        return Outcome(None, command.force_new_reason, tuple(c.case_number for c in same))
    terminated = [c for c in same if c.terminated]
    live = [c for c in same if not c.terminated]
    if live:
        latest = max(live, key=lambda c: c.last_received_at or _EPOCH)
        return Outcome(
            latest,
            "同一信访人、同一分县局、同一类别的未终结事项 / same petitioner, sub-bureau and "
            "category as an open matter",
        )
    if terminated:
        raise Refused(
            "case_terminated",
            f"同一事项（案件 {terminated[0].case_number}）已复核终结，不再受理"
            "（《信访工作条例》第三十六条）；如确属新事实，请填写 force_new_reason / "
            "the same matter was terminated after "
            "re-review and is not accepted again (Art. 36); if the facts are new, give "
            "force_new_reason",
        )
    return Outcome(None)
