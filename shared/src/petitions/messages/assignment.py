"""Assignment's events that other services already rely on (the workflow adds the rest)."""

from __future__ import annotations

from uuid import UUID

from petitions.messages.base import Event


class CaseTerminated(Event, type="assignment.CaseTerminated"):
    """No further acceptance on the same facts (信访工作条例 Art. 36, after re-review)."""

    case_id: UUID
    reason: str
