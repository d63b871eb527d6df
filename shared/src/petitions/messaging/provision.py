"""What the deployment creates on NATS, with the operator's identity: the stream and every
service's durable consumer. Services only bind to them (their users may not create or delete
consumers: a consumer with a filter of one's choosing reads any subject).

Run at every start of a deployment (idempotent): ``python -m petitions.messaging provision``
with ``PETITIONS_NATS_USER=petitions-admin`` and its password; devstack does it itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError

from petitions.log import get_logger
from petitions.messaging.security import SERVICES, Durable, NatsAccess
from petitions.messaging.subjects import STREAM, stream_config

log = get_logger(__name__)

DEFAULT_ACK_WAIT = 30.0


async def declare_stream(js: JetStreamContext, replicas: int = 1) -> None:
    """Create the stream, or bring an existing one's settings up to date. ``replicas``: copies
    of every message on a JetStream cluster (3 on 3 nodes; 1 on a single server)."""
    config = stream_config(replicas=replicas)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def consumer_config(
    name: str, filter_subject: str, *, ack_wait: float = DEFAULT_ACK_WAIT
) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        filter_subject=filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        # The consumer counts deliveries itself and dead-letters; JetStream must not drop.
        max_deliver=-1,
    )


async def declare_consumer(
    js: JetStreamContext, name: str, filter_subject: str, *, ack_wait: float = DEFAULT_ACK_WAIT
) -> None:
    """Create a durable pull consumer (the same config again is a no-op). An existing one with
    other settings is updated where the server allows it (the ack wait, on newer servers);
    otherwise it is kept, with a warning: changing a filter under running replicas is an
    operator's decision (delete it, then provision again)."""
    try:
        await js.add_consumer(STREAM, consumer_config(name, filter_subject, ack_wait=ack_wait))
    except BadRequestError as exc:
        log.warning("provision.consumer_kept", consumer=name, error=str(exc))


def all_durables() -> list[Durable]:
    return [d for identity in SERVICES.values() for d in identity.durables]


async def provision(
    admin: NatsAccess,
    durables: Iterable[Durable] | None = None,
    *,
    ack_wait: Mapping[str, float] | None = None,
    replicas: int = 1,
) -> None:
    """Declare the stream and the durables (every service's by default), as the operator.
    ``ack_wait``: seconds by durable name, where not the default. ``replicas``: the stream's
    (its durables follow it)."""
    client = await nats.connect(**admin.options(), name="petitions-provision")
    try:
        js = client.jetstream()
        await declare_stream(js, replicas)
        for d in all_durables() if durables is None else durables:
            wait = (ack_wait or {}).get(d.name, DEFAULT_ACK_WAIT)
            await declare_consumer(js, d.name, d.filter_subject, ack_wait=wait)
        log.info("provision.done", stream=STREAM)
    finally:
        await client.close()
