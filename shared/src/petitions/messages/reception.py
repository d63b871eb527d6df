"""Leader reception days (领导接访日): scheduled, held or missed (with why), and the leader's
instruction on each visit received. One stream per session: ``reception-<session id>``."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from petitions.messages.base import Event


class ReceptionSessionScheduled(Event, type="intake.ReceptionSessionScheduled"):
    session_id: UUID
    bureau: str
    day: date
    leader_id: str
    leader_name: str
    leader_title: str
    chief_day: bool  # Wednesday: the chief (or the sub-bureau head) receives
    place: str
    attending_departments: tuple[str, ...]  # petition office, legal, discipline, inspection
    accompanying_sub_bureaus: tuple[str, ...] = ()


class ReceptionSessionHeld(Event, type="intake.ReceptionSessionHeld"):
    session_id: UUID
    held_by: str  # the leader who actually received (may stand in for the scheduled one)
    note: str = ""
    # 陪同接访: the sub-bureaus whose heads sat beside the city's chief at this session (codes;
    # only on the city bureau's sessions). Empty on sessions recorded before it was asked.
    accompanied_by: tuple[str, ...] = ()


class ReceptionSessionMissed(Event, type="intake.ReceptionSessionMissed"):
    session_id: UUID
    reason: str  # e.g. 参加会议 meeting, 病假 illness


class LeaderInstructionRecorded(Event, type="intake.LeaderInstructionRecorded"):
    """The receiving leader's instruction (批示) on a visit registered at the session."""

    session_id: UUID
    case_id: UUID
    instruction: str
    needs_party_committee: bool = False  # decisions that need the party committee (党委研究)
