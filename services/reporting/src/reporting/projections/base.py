"""The fold's state and the helpers every event handler uses (no handlers here)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from petitions.messages import assignment as a

from reporting.projections.rows import (
    ERASED,
    SEPARATOR,
    CaseRow,
    Envelope,
    InstructionRow,
    NoticeRow,
    ProgressRow,
    SessionRow,
    SubmissionRow,
    _Row,
)


class FoldBase:
    """The rows a projector holds, keyed for speed, and the helpers its handlers share."""

    def __init__(self) -> None:
        # Keyed by the ids' integers: a UUID hashes and compares in Python, an int in C, and a
        # rebuild looks rows up several times per event.
        self._case_rows: dict[int, CaseRow] = {}
        self._submission_rows: dict[int, SubmissionRow] = {}
        self._progress_rows: dict[tuple[int, str], ProgressRow] = {}
        self._session_rows: dict[int, SessionRow] = {}
        self._notice_rows: dict[int, NoticeRow] = {}
        self._instruction_rows: dict[int, InstructionRow] = {}
        self._streams: dict[int, str] = {}  # case -> its stream id, formatted once
        self.erased: set[UUID] = set()
        self._by_subject: dict[UUID, set[UUID]] = {}
        # Changed rows by identity (rows are never replaced, only changed in place).
        self._dirty: dict[int, _Row] = {}
        self._new_erased: set[UUID] = set()

    def _changed(self, row: _Row) -> None:
        self._dirty[id(row)] = row

    def load_case(self, row: CaseRow) -> None:
        self._case_rows[row.case_id.int] = row
        self._streams[row.case_id.int] = f"case-{row.case_id}"
        for subject in row.subjects:
            self._by_subject.setdefault(subject, set()).add(row.case_id)

    # -- helpers ------------------------------------------------------------------------------

    def _case(self, envelope: Envelope, case_id: UUID) -> CaseRow | None:
        """The case an event changes, marked changed; its version follows the case's own
        stream (events about the case on other streams do not move it)."""
        key = case_id.int
        case = self._case_rows.get(key)
        if case is None:
            return None
        self._dirty[id(case)] = case
        if envelope.stream_id == self._streams[key]:
            case.version = envelope.version
        return case

    def _session(self, session_id: UUID) -> SessionRow | None:
        session = self._session_rows.get(session_id.int)
        if session is not None:
            self._changed(session)
        return session

    @staticmethod
    def _state(case: CaseRow, state: str) -> None:
        case.state = str(state)  # the column holds the plain name
        case.state_before_hearing = None

    @staticmethod
    def _outcome(case: CaseRow, outcome: a.Outcome) -> None:
        case.outcome = outcome.value
        case.justified = outcome.justified

    def _erase_in(self, case: CaseRow, subject: UUID) -> None:
        names = case.petitioners.split(SEPARATOR)
        ids = case.petitioner_ids.split(SEPARATOR)
        for index, who in enumerate(case.subjects):
            if who == subject:
                if index < len(names):
                    names[index] = ERASED
                if index < len(ids):
                    ids[index] = ERASED
        case.petitioners = SEPARATOR.join(names)
        case.petitioner_ids = SEPARATOR.join(ids)

    @staticmethod
    def _mark(case: CaseRow, e: Any, *dated: a.DatedDeadline) -> None:
        """The deadlines an event dated are provisional exactly when it says so."""
        names = {str(d) for d in dated}
        marked = [d for d in case.provisional_deadlines if d not in names]
        marked += [str(d) for d in e.provisional_deadlines if str(d) in names]
        case.provisional_deadlines = sorted(set(marked))
        if e.calendar_note:
            case.calendar_note = e.calendar_note
        elif not case.provisional_deadlines:
            case.calendar_note = None


def _uuid_or_none(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        return None
