"""Events about personal data itself."""

from __future__ import annotations

from uuid import UUID

from petitions.messages.base import Event


class PersonalDataErased(Event, type="personal.PersonalDataErased"):
    """A data subject's key was destroyed (PIPL Art. 47): their fields read as erased from now on.
    Who erased them is the event's actor."""

    subject_id: UUID
    reason: str
