"""Events onto NATS JetStream (the relay) and the stream and subject design."""

from petitions.messaging.envelope import Delivered, decode, encode
from petitions.messaging.relay import Relay, declare_stream
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
    "Delivered",
    "Relay",
    "declare_stream",
    "decode",
    "encode",
    "partition_filter",
    "partition_of",
    "stream_config",
    "subject_for",
]
