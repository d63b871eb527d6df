"""Audit replay (审计回放): a case's whole timeline, its state as of any moment, and the
verification of its hash chain, for auditors (纪检, 督察). The package by role: ``labels``
(names and times shown), ``models`` (the answers), ``fold`` (state as of), ``summaries`` (one line
per event), ``replay`` (the use case: reads, verification, the record of reading).

The event store is the only source here, never the read models: an audit must show what was
recorded, not what a projection made of it (the read models serve only to find a case by its
number, and the store answers that too). Personal data is read masked, whatever keys the given
store holds.

Every read is itself recorded: a ``reporting.TimelineRead`` is appended to ``audit-<case id>``
before anything is returned, so the record of looking is as tamper-evident as the case.

Who may read which case is the one scope rule's (``petitions.scope``): the API passes the
reader's :class:`~petitions.scope.Reach`, and a case outside it, or accusing the reader, is
answered exactly like a case that does not exist. The operator command passes none.
"""

from __future__ import annotations

from reporting.audit.fold import NOT_REGISTERED, evolve, facts_of, fold
from reporting.audit.labels import (
    BACKDATE_TOLERANCE,
    LABELS,
    SERVICE,
    SHANGHAI,
    STATES,
    By,
    Via,
    as_shanghai,
    label_for,
)
from reporting.audit.models import (
    CaseState,
    ReadRecord,
    Reads,
    StateAsOf,
    Timeline,
    TimelineEntry,
    UnknownCaseError,
    Verification,
)
from reporting.audit.replay import Audit, Reader
from reporting.audit.summaries import entry_for, read_record, summarize

__all__ = [
    "BACKDATE_TOLERANCE",
    "LABELS",
    "NOT_REGISTERED",
    "SERVICE",
    "SHANGHAI",
    "STATES",
    "Audit",
    "By",
    "CaseState",
    "ReadRecord",
    "Reader",
    "Reads",
    "StateAsOf",
    "Timeline",
    "TimelineEntry",
    "UnknownCaseError",
    "Verification",
    "Via",
    "as_shanghai",
    "entry_for",
    "evolve",
    "facts_of",
    "fold",
    "label_for",
    "read_record",
    "summarize",
]
