"""reporting's AsyncAPI document, from the event classes (see petitions.messaging.asyncapi)."""

from __future__ import annotations

from faststream.specification import AsyncAPI
from petitions.messages.reporting import TimelineRead
from petitions.messaging.asyncapi import specification


def spec() -> AsyncAPI:
    # Reporting projects every event type there is (its figures, ledger and audit need all).
    return specification(
        service="reporting",
        title="台帐统计 Reporting — events",
        description=(
            "Reporting consumes every event; it publishes only the record of each audit read "
            "(reporting.TimelineRead, on the stream audit-<case id>)."
        ),
        publishes=[TimelineRead],
    )
