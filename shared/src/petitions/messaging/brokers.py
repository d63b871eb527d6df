"""FastStream wiring, in one place: the broker a process connects with (its own NATS identity and
inbox), the JetStream pull subscriber that binds a consumer to its provisioned durable, and the
relay's publishers. The consumers (consumer.py), the relay (relay.py) and the AsyncAPI documents
(asyncapi.py) all build through here, so a document shows the subscribers and publishers that run.

Pitfalls of FastStream 0.7 with these identities, checked against its source:

* A subscriber's ``inbox_prefix`` does not follow the broker's: it defaults to ``_INBOX.``, where a
  service may not subscribe (it may only below ``_INBOX_<user>``), so every pull would time out.
  :func:`subscribe` passes the identity's prefix.
* ``pull_sub`` with ``durable=`` and ``stream=`` makes nats-py look the durable up
  (``CONSUMER.INFO``, allowed) and bind to it; it creates one only when the lookup says "not
  found", and a service's identity may not create (the request is refused). The consumer therefore
  looks its durable up first and waits, logging ``consumer.not_provisioned``, until the operator
  has provisioned it. Without ``stream=`` nats-py would ask ``STREAM.NAMES``, also refused.
* ``JStream(..., declare=False)``: the stream is the deployment's (provision.py); a declaring
  broker would try ``STREAM.CREATE`` at start.
* ``apply_types=False`` and a decoder that hands over the raw ``nats.aio.msg.Msg``: nothing on the
  wire is parsed into models or believed; the consumer looks every event up in the store. The
  handler's annotation is what the AsyncAPI document shows.
* ``PullSub(batch=True)`` keeps fetching until the batch is full or its timeout passes (0.7.8),
  which would hold each event back up to the timeout; the single-message pull subscriber fetches
  once a round and returns as soon as messages are there, but runs a batch's messages
  concurrently. The consumer serialises them (see Consumer.on_message): per-case order and a
  pool that cannot starve.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.publisher.usecase import LogicPublisher
from faststream.nats.subscriber.usecases.basic import LogicSubscriber
from faststream.security import SASLPlaintext
from nats.aio.msg import Msg
from pydantic import BaseModel

from petitions.log import describe_error, get_logger
from petitions.messages import Event
from petitions.messaging.security import Durable, NatsAccess, access, inbox_prefix
from petitions.messaging.subjects import PREFIX, STREAM

OnMessage = Callable[[Msg], Awaitable[None]]


log = get_logger(__name__)


class _NoConnectionNoise(logging.Filter):
    """FastStream reports a broken connection with the exception's traceback, and on a handler
    of its own that bypasses the log's format and masking. Its logger here is ours (it
    propagates to the configured root) and this filter drops that report: the connection
    callbacks below log it as one structured line.

    Its subscriber supervisor also logs, as an error with a traceback and a request to file an
    issue, each kind of exception that ends a subscriber's task before it restarts the task: on
    a loaded machine nats-py's pull fetch times out that way (seen during the demo load). The
    restart is the remedy, so that is one warning line naming the exception; a task that keeps
    failing is caught by our own consumer's failure count and supervision."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Connection broken"):
            return False
        if "raised an exception, retrying" in message:
            error = record.exc_info[1] if record.exc_info else None
            kind = "unknown" if error is None else type(error).__name__
            record.msg = (
                f"faststream.task_restarted: a subscriber task ended with {kind}, restarted"
            )
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = "WARNING"
        return True


FASTSTREAM_LOGGER = logging.getLogger("petitions.faststream")
FASTSTREAM_LOGGER.addFilter(_NoConnectionNoise())


ERROR_REPEAT_SECONDS = 30.0
_last_reported: dict[tuple[str, str], float] = {}


def connection_callbacks(name: str) -> dict[str, Any]:
    """nats-py's error, disconnect and reconnect callbacks for the connection ``name``, each one
    structured log line without a traceback (a dying cluster node printed 34 lines of them), and
    FastStream's logger (see _NoConnectionNoise). For NatsBroker(..., **connection_callbacks())."""

    async def error_cb(exc: Exception) -> None:
        error = describe_error(exc)
        # Every failed (re)connect attempt calls it, every 2 s or faster while a server is away:
        # the same error of the same connection once per ERROR_REPEAT_SECONDS.
        now = time.monotonic()
        if now - _last_reported.get((name, error), -ERROR_REPEAT_SECONDS) >= ERROR_REPEAT_SECONDS:
            _last_reported[(name, error)] = now
            log.warning("nats.connection_error", connection=name, error=error)

    async def disconnected_cb() -> None:
        # Info: a close at shutdown calls it too; a lost connection logged its error above.
        log.info("nats.disconnected", connection=name)

    async def reconnected_cb() -> None:
        for key in [k for k in _last_reported if k[0] == name]:
            del _last_reported[key]  # a new outage is reported at once
        log.info("nats.reconnected", connection=name)

    return {
        "error_cb": error_cb,
        "disconnected_cb": disconnected_cb,
        "reconnected_cb": reconnected_cb,
        "logger": FASTSTREAM_LOGGER,
    }


def nats_broker(nats: str | NatsAccess, *, name: str, **connect: Any) -> NatsBroker:
    """A broker connecting as ``nats``'s identity with that identity's inbox prefix. ``connect``:
    further nats-py connection options (``allow_reconnect``, ``connect_timeout``)."""
    identity = access(nats)
    options = identity.options()
    return NatsBroker(
        identity.servers,
        name=name,
        security=(
            SASLPlaintext(username=identity.user, password=options["password"])
            if identity.user is not None
            else None
        ),
        inbox_prefix=options.get("inbox_prefix", "_INBOX"),
        # The messages are notices, looked up in the store: never validated into models here.
        apply_types=False,
        # FastStream logs every message at INFO by default: the consumer logs what matters.
        log_level=logging.DEBUG,
        **{**connection_callbacks(name), **connect},
    )


async def _raw(message: StreamMessage[Any]) -> Any:
    """The decoder: the handler gets nats-py's own message (data, subject, metadata, ack)."""
    return message.raw_message


def subscribe(
    broker: NatsBroker,
    durable: Durable,
    on_message: OnMessage,
    *,
    user: str | None,
    documented: type[BaseModel],
    batch_size: int = 100,
    fetch_timeout: float = 1.0,
    description: str | None = None,
) -> LogicSubscriber[Any]:
    """Register a JetStream pull subscriber bound to the provisioned ``durable`` (manual acks:
    ``on_message`` acks, naks or dead-letters each message itself). ``user``: the identity the
    broker connects as (its inbox prefix); ``documented``: the message model the AsyncAPI
    document shows."""

    async def handler(message: Any) -> None:
        await on_message(message)

    # Set as an object, not a string: FastStream reads it for the document (it validates nothing
    # with apply_types off), and a local class cannot be found by name.
    handler.__annotations__ = {"message": documented, "return": None}
    prefix = (inbox_prefix(user) if user is not None else "_INBOX") + "."
    subscriber = broker.subscriber(
        durable.filter_subject,
        stream=JStream(STREAM, declare=False),
        durable=durable.name,
        pull_sub=PullSub(batch_size=batch_size, timeout=fetch_timeout),
        inbox_prefix=prefix.encode(),
        ack_policy=AckPolicy.MANUAL,
        decoder=_raw,
        title=f"{durable.name}:consume",
        description=description or f"持久消费者 durable pull consumer {durable.name!r}",
    )
    subscriber(handler)
    return subscriber


def address(event_type: str) -> str:
    """The documented address of one event type: any bureau, any partition."""
    return f"{PREFIX}.*.*.{event_type}"


def event_publisher(
    broker: NatsBroker, event_type: str, schema: type[BaseModel] | None = None, *, service: str = ""
) -> LogicPublisher:
    """The relay's publisher of one event type. It is declared on the type's documented address;
    each publish names the event's own subject (bureau and partition) and the stream, so that
    JetStream acknowledges it (a PubAck, with ``duplicate`` for a known ``Nats-Msg-Id``)."""
    return broker.publisher(
        address(event_type),
        stream=JStream(STREAM, declare=False),
        schema=schema,
        title=f"{service or 'relay'}:publish:{event_type}",
        description=_doc(event_type),
    )


def _doc(event_type: str) -> str:
    from petitions.messages import registry

    try:
        cls = registry.class_for(event_type)
    except Exception:  # an event type no class knows (yet): documented by name only
        return event_type
    return (cls.__doc__ or event_type).strip()


def events_matching(pattern: str, events: Iterable[type[Event]]) -> list[type[Event]]:
    """The event classes whose messages a subscription on ``pattern`` receives (whatever their
    bureau and partition)."""
    from petitions.messaging.claims import subject_matches

    return [e for e in events if subject_matches(pattern, f"{PREFIX}.b.p00.{e.event_type}")]
