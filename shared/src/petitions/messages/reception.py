"""Leader reception days (领导接访日): scheduled, held or missed (with why), and the leader's
instruction on each visit received, followed up until the unit it names answers.

Streams: a session's own events on ``reception-<session id>``; an instruction (批示) and its
answer on the case's stream (``case-<case id>``), since they are part of the case's history (its
audit timeline, its dossier) and sealed under the case's first petitioner's key. Instructions
recorded before they were followed up sit on the session's stream, with no id, due date or
answering unit: they stay decodable and are not followed up (neither due nor overdue).

Free text may name people, so it is sealed (``PersonalText``):

* an instruction's text and its answer: under the case's first petitioner (erasing that person
  erases them), like assignment's acts;
* a session's note and a missed session's explanation: no case, so no data subject. They are
  sealed under a reception-records key per bureau and year (:func:`reception_text_subject`):
  the key exists so that the text is never stored, relayed or reported in the clear, and so a
  bureau can erase a whole year of reception notes when their retention ends; erasing one
  petitioner cannot reach them (nothing links a note to a person), which is why the reason a
  session was missed is also recorded as a code from a closed list (:class:`MissedReason`):
  the figures count codes, never the sealed text.

Events stored before sealing carry no ``subject_id`` and keep their text as it was written.
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from petitions.messages.base import Event
from petitions.personal.fields import PersonalText, Subject

TextSubject = Annotated[UUID | None, Subject()]
"""Whose key seals the event's free text; None only on events stored before it was sealed."""

_RECEPTION_TEXT = uuid.UUID("5d0c1f4e-8a3b-4f7e-9c2a-1b6e0d9f7a31")


def reception_text_subject(bureau: str, year: int) -> UUID:
    """The data subject sealing a bureau's session notes and missed explanations of one year."""
    return uuid.uuid5(_RECEPTION_TEXT, f"reception-text/{bureau}/{year}")


class MissedReason(StrEnum):
    """Why a session was missed, as the figures count it (the seed: meetings, illness)."""

    MEETING = "meeting"  # 参加会议
    ILLNESS = "illness"  # 病假
    BUSINESS_TRIP = "business_trip"  # 出差
    LEAVE = "leave"  # 休假、事假
    OTHER = "other"  # 其他

    @property
    def zh(self) -> str:
        return {
            "meeting": "参加会议",
            "illness": "病假",
            "business_trip": "出差",
            "leave": "休假",
            "other": "其他",
        }[self.value]

    @property
    def label(self) -> str:
        return f"{self.zh} {self.value.replace('_', ' ')}"

    @classmethod
    def named(cls, text: str) -> MissedReason | None:
        """The code a reason written as exactly one of the names stands for (``参加会议``,
        ``meeting`` or ``参加会议 meeting``), as clients that knew no codes sent it."""
        text = " ".join(text.split()).lower()
        for reason in cls:
            if text in (
                reason.zh,
                reason.value,
                reason.label.lower(),
                reason.value.replace("_", " "),
            ):
                return reason
        return None


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
    subject_id: TextSubject = None  # reception_text_subject(bureau, year of the day)
    session_id: UUID
    held_by: str  # the leader who actually received (may stand in for the scheduled one)
    note: PersonalText = ""
    # 陪同接访: the sub-bureaus whose heads sat beside the city's chief at this session (codes;
    # only on the city bureau's sessions). Empty on sessions recorded before it was asked.
    accompanied_by: tuple[str, ...] = ()


class ReceptionSessionMissed(Event, type="intake.ReceptionSessionMissed"):
    subject_id: TextSubject = None  # reception_text_subject(bureau, year of the day)
    session_id: UUID
    # The explanation as written (may name people: sealed); before codes it was the only reason
    # and was stored in the clear, so old events are counted by it.
    reason: PersonalText = ""
    reason_code: MissedReason | None = None  # None only on events stored before codes


class LeaderInstructionRecorded(Event, type="intake.LeaderInstructionRecorded"):
    """The receiving leader's instruction (批示) on a visit registered at the session, with who
    must answer it and by when (on the case's stream; see the module's note on older ones)."""

    subject_id: TextSubject = None  # the case's first petitioner
    session_id: UUID
    case_id: UUID
    instruction: PersonalText
    needs_party_committee: bool = False  # decisions that need the party committee (党委研究)
    instruction_id: UUID | None = None  # None: recorded before follow-up, not answerable
    instructed_on: date | None = None  # the session's day
    answering_unit: str | None = None  # a bureau or city department code, within the case's scope
    due_on: date | None = None  # answer by this day (included)
    due_set_by: Literal["leader", "default"] | None = None  # the leader's date, or configured


class InstructionAnswered(Event, type="intake.InstructionAnswered"):
    """The answering unit's (or the petition office's) answer to an instruction: once."""

    subject_id: TextSubject = None  # the case's first petitioner
    case_id: UUID
    instruction_id: UUID
    unit: str  # the unit that had to answer
    answer: PersonalText
    answered_on: date
    on_time: bool  # answered by the due day
