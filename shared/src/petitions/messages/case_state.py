"""The case's workflow states and their labels, defined once for every service.

Assignment decides the state; intake (the dossier, the petitioner's status), reporting (the
ledger's state column, the audit's "state as of") and the web front end fold or show the same
states from the same events. One vocabulary here means a state cannot be spelt or labelled two
ways; ``tests/unit/test_fold_agreement.py`` checks that the folds also agree on the state.

The workflow, with the state names the API reports::

    registered --(taken up from NATS)--> awaiting_acceptance
    awaiting_acceptance --accept--> handling
                        --decline / forward / divert / object--> a closed state
    handling --report completion--> completion_reported --accept--> completion_accepted
                                                         --send back--> handling
    completion_accepted --reply--> replied --request review--> under_review --decide--> reviewed
    reviewed --request re-review--> under_re_review --decide--> re_reviewed --> terminated
    handling / under_re_review --start hearing--> hearing --end hearing--> the state before
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class CaseState(StrEnum):
    """流程状态 a case's workflow state (the value is the name the APIs report)."""

    REGISTERED = "registered"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    HANDLING = "handling"
    HEARING = "hearing"
    COMPLETION_REPORTED = "completion_reported"
    COMPLETION_ACCEPTED = "completion_accepted"
    REPLIED = "replied"
    UNDER_REVIEW = "under_review"
    REVIEWED = "reviewed"
    UNDER_RE_REVIEW = "under_re_review"
    RE_REVIEWED = "re_reviewed"
    TERMINATED = "terminated"
    DECLINED = "declined"
    FORWARDED = "forwarded"
    DIVERTED = "diverted"
    OBJECTED = "objected"

    @property
    def zh(self) -> str:
        """The short Chinese name (ledgers, lists)."""
        return _LABELS[self][0]

    @property
    def en(self) -> str:
        return _LABELS[self][1]

    @property
    def label(self) -> str:
        """Chinese, then English: what a person reads beside the name (the audit)."""
        return f"{self.zh} {self.en}"

    @property
    def description(self) -> str:
        """The longer label the workflow's API gives, saying what the case waits for."""
        return _LABELS[self][2]

    @property
    def closed(self) -> bool:
        """No further step of the workflow applies (the case may still be reported on)."""
        return self in CLOSED_STATES


# zh, en, description.
_LABELS: Final[dict[CaseState, tuple[str, str, str]]] = {
    CaseState.REGISTERED: ("已登记", "registered", "已登记，待流转 registered, not yet taken up"),
    CaseState.AWAITING_ACCEPTANCE: (
        "待受理",
        "awaiting acceptance",
        "待受理 awaiting the acceptance decision",
    ),
    CaseState.HANDLING: ("办理中", "handling", "办理中 being handled"),
    CaseState.HEARING: ("听证中", "in a hearing", "听证中 in a hearing"),
    CaseState.COMPLETION_REPORTED: (
        "已报办结",
        "completion reported",
        "已报办结，待审核 completion reported, awaiting review",
    ),
    CaseState.COMPLETION_ACCEPTED: (
        "办结已审核",
        "completion accepted",
        "办结报告已通过，待答复 completion accepted, reply due",
    ),
    CaseState.REPLIED: ("已答复", "replied", "已答复 replied"),
    CaseState.UNDER_REVIEW: ("复查中", "under review", "复查中 under review"),
    CaseState.REVIEWED: ("已复查", "reviewed", "已复查 reviewed"),
    CaseState.UNDER_RE_REVIEW: ("复核中", "under re-review", "复核中 under re-review"),
    CaseState.RE_REVIEWED: ("已复核", "re-reviewed", "已复核 re-reviewed"),
    CaseState.TERMINATED: ("已终结", "terminated", "已终结 terminated"),
    CaseState.DECLINED: ("不予受理", "declined", "不予受理 declined"),
    CaseState.FORWARDED: ("已转送", "forwarded", "已转送 forwarded"),
    CaseState.DIVERTED: (
        "已导入法定程序",
        "diverted",
        "已导入法定程序 diverted to a legal procedure",
    ),
    CaseState.OBJECTED: ("已提出交办异议", "objected", "已提出交办异议 returned with an objection"),
}

CLOSED_STATES: Final = frozenset(
    {
        CaseState.TERMINATED,
        CaseState.DECLINED,
        CaseState.FORWARDED,
        CaseState.DIVERTED,
        CaseState.OBJECTED,
    }
)
