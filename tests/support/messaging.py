"""NATS helpers for tests: what the deployment does for the tests' own consumers."""

from __future__ import annotations

import nats
from petitions.messaging import declare_consumer
from petitions.messaging.security import access


async def provision_durable(
    admin_url: str, name: str, filter_subject: str = "petitions.events.>", ack_wait: float = 30.0
) -> None:
    """Create a test consumer's durable as the deployment would (services only bind)."""
    client = await nats.connect(**access(admin_url).options())
    try:
        await declare_consumer(client.jetstream(), name, filter_subject, ack_wait=ack_wait)
    finally:
        await client.close()
