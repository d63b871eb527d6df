"""assignment's AsyncAPI document, from the event classes (see petitions.messaging.asyncapi)."""

from __future__ import annotations

from faststream.specification import AsyncAPI
from petitions.messages.assignment import CaseTerminated
from petitions.messages.intake import CaseRegistered, SubmissionReceived
from petitions.messaging.asyncapi import specification


def spec() -> AsyncAPI:
    return specification(
        service="assignment",
        title="交办督办 Assignment — events",
        description="Cases come in from intake; the workflow events go out (more to come).",
        publishes=[CaseTerminated],
        consumes=[CaseRegistered, SubmissionReceived],
    )
