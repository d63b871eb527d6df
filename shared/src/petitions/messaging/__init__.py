"""Events onto NATS JetStream (the relay) and the stream and subject design."""

from petitions.messaging.consumer import (
    BatchHandler,
    Consumer,
    DeadLetter,
    Handler,
    apply_consumer_migrations,
    list_dead_letters,
)
from petitions.messaging.envelope import Delivered, decode, encode
from petitions.messaging.provision import declare_consumer, declare_stream, provision
from petitions.messaging.relay import Relay
from petitions.messaging.security import NatsAccess
from petitions.messaging.subjects import (
    PARTITIONS,
    STREAM,
    partition_filter,
    partition_of,
    stream_config,
    subject_for,
)

__all__ = [
    "PARTITIONS",
    "STREAM",
    "BatchHandler",
    "Consumer",
    "DeadLetter",
    "Delivered",
    "Handler",
    "NatsAccess",
    "Relay",
    "apply_consumer_migrations",
    "declare_consumer",
    "declare_stream",
    "decode",
    "encode",
    "list_dead_letters",
    "partition_filter",
    "partition_of",
    "provision",
    "stream_config",
    "subject_for",
]
