"""How leaders' instructions (批示) and their answers change the rows (issue 15).

An instruction counts on its session's row (as it always did) and, if it is followed up (it has
an id, an answering unit and a due day: those recorded since), becomes a row of its own that
its answer completes. Both events sit on the case's stream, so the case's version moves too.
"""

from __future__ import annotations

from petitions.messages import reception as r

from reporting.projections.base import FoldBase
from reporting.projections.rows import Envelope, InstructionRow


class InstructionFold(FoldBase):
    def _instruction(self, envelope: Envelope, e: r.LeaderInstructionRecorded) -> None:
        if (session := self._session(e.session_id)) is not None:
            session.instructions += 1
        case = self._case(envelope, e.case_id)
        if (
            case is None
            or e.instruction_id is None
            or e.instructed_on is None
            or e.answering_unit is None
            or e.due_on is None
            or e.instruction_id.int in self._instruction_rows
        ):
            return
        row = self._instruction_rows[e.instruction_id.int] = InstructionRow(
            instruction_id=e.instruction_id,
            case_id=e.case_id,
            case_number=case.case_number,
            bureau=case.bureau,
            sub_bureau=case.sub_bureau,
            session_id=e.session_id,
            instructed_on=e.instructed_on,
            unit=e.answering_unit,
            due_on=e.due_on,
            due_set_by=e.due_set_by or "default",
            instruction=e.instruction,
            needs_party_committee=e.needs_party_committee,
        )
        self._changed(row)

    def _instruction_answered(self, envelope: Envelope, e: r.InstructionAnswered) -> None:
        self._case(envelope, e.case_id)
        row = self._instruction_rows.get(e.instruction_id.int)
        if row is None or row.answered_on is not None:
            return
        row.answered_on = e.answered_on
        row.on_time = e.on_time
        row.answer = e.answer
        self._changed(row)

    def load_instruction(self, row: InstructionRow) -> None:
        self._instruction_rows[row.instruction_id.int] = row

    def holds_instruction(self, instruction_id: object) -> bool:
        return getattr(instruction_id, "int", None) in self._instruction_rows
