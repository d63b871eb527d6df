"""intake's AsyncAPI document, from the event classes (see petitions.messaging.asyncapi)."""

from __future__ import annotations

from faststream.specification import AsyncAPI
from petitions.messages.intake import (
    AttachmentAdded,
    CaseRegistered,
    PersonalDataRead,
    SubmissionReceived,
)
from petitions.messages.reception import (
    InstructionAnswered,
    LeaderInstructionRecorded,
    ReceptionSessionHeld,
    ReceptionSessionMissed,
    ReceptionSessionScheduled,
)
from petitions.messaging.asyncapi import specification


def spec() -> AsyncAPI:
    return specification(
        service="intake",
        title="受理登记 Intake — events",
        description="Events intake writes to the event store; the relay publishes each once.",
        publishes=[
            CaseRegistered,
            SubmissionReceived,
            ReceptionSessionScheduled,
            ReceptionSessionHeld,
            ReceptionSessionMissed,
            LeaderInstructionRecorded,
            InstructionAnswered,
            PersonalDataRead,
            AttachmentAdded,
        ],
    )
