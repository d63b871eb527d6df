"""A case's workflow: its state folded from the case stream (``evolve``) and what a command or the
passing of time makes of it (``decide``, ``due_notices``). Pure: no I/O, no clock of its own.

The modules by role (this one re-exports their public names, so callers import from here):

* :mod:`assignment.domain.state`: the ``Case`` and its fold (``evolve``)
* :mod:`assignment.domain.rules`: who may give which command, in which state, on which case
* :mod:`assignment.domain.refusals`: the refusals a command meets (exceptions: nothing is written)
* :mod:`assignment.domain.decisions`: one decision per command, and taking a case up
* :mod:`assignment.domain.notices`: reminders and supervision as time passes
* :mod:`assignment.domain.recompute`: re-dating deadlines on a changed calendar or rules
* :mod:`assignment.domain.periods`: the statutory periods
"""

from __future__ import annotations

from assignment.domain.decisions import decide, open_workflow
from assignment.domain.notices import due_notices, next_check, notice_event_id, notice_id
from assignment.domain.periods import (
    ACCEPTANCE_DAYS,
    HANDLING_DAYS,
    MAX_EXTENSION_DAYS,
    OBJECTION_WORKING_DAYS,
    REMINDER_WORKING_DAYS,
    REVIEW_DAYS,
    REVIEW_REQUEST_DAYS,
)
from assignment.domain.recompute import (
    DEADLINE_RULES_VERSION,
    HEARING_RULE_NOTE,
    current_deadlines,
    recompute,
)
from assignment.domain.refusals import Forbidden, Invalid, NotAllowed, StaleVersion, WorkflowError
from assignment.domain.rules import (
    RULES,
    Context,
    Rule,
    allowed_commands,
    check,
    check_unit,
    unit_bureau,
)
from assignment.domain.state import (
    AWAITING_ACCEPTANCE,
    CLOSED,
    COMPLETION_ACCEPTED,
    COMPLETION_REPORTED,
    DECLINED,
    DIVERTED,
    FORWARDED,
    HANDLING,
    HEARING,
    OBJECTED,
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
    evolve,
)

__all__ = [
    "ACCEPTANCE_DAYS",
    "AWAITING_ACCEPTANCE",
    "CLOSED",
    "COMPLETION_ACCEPTED",
    "COMPLETION_REPORTED",
    "DEADLINE_RULES_VERSION",
    "DECLINED",
    "DIVERTED",
    "FORWARDED",
    "HANDLING",
    "HANDLING_DAYS",
    "HEARING",
    "HEARING_RULE_NOTE",
    "MAX_EXTENSION_DAYS",
    "OBJECTED",
    "OBJECTION_WORKING_DAYS",
    "OPEN_HANDLING",
    "REGISTERED",
    "REMINDER_WORKING_DAYS",
    "REPLIED",
    "REVIEWED",
    "REVIEW_DAYS",
    "REVIEW_REQUEST_DAYS",
    "RE_REVIEWED",
    "RULES",
    "STATE_LABELS",
    "TERMINATED",
    "UNDER_REVIEW",
    "UNDER_RE_REVIEW",
    "Case",
    "Context",
    "Forbidden",
    "Invalid",
    "NotAllowed",
    "Rule",
    "StaleVersion",
    "WorkflowError",
    "allowed_commands",
    "check",
    "check_unit",
    "current_deadlines",
    "decide",
    "due_notices",
    "evolve",
    "next_check",
    "notice_event_id",
    "notice_id",
    "open_workflow",
    "recompute",
    "unit_bureau",
]
