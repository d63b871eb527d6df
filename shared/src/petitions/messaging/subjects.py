"""The JetStream stream and subject design: declared here, and only here.

Every stored event is published once to the stream ``PETITIONS_EVENTS`` on the subject

    petitions.events.<bureau>.<partition>.<event type>

for example ``petitions.events.330102.p07.intake.SubmissionRegistered``. The bureau lets a
consumer (or a NATS permission) take one bureau's events; the event type (itself dotted,
``service.EventName``) lets it take one kind; the partition, a stable hash of the case (stream)
id into 16 buckets, lets several replicas split the work while each case stays on one of them:
``petitions.events.*.p07.>`` is every event of the cases in bucket 7.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

STREAM = "PETITIONS_EVENTS"
PREFIX = "petitions.events"
PARTITIONS = 16
DUPLICATE_WINDOW = timedelta(minutes=10)
"""How long JetStream remembers a Nats-Msg-Id: a re-publish within it is dropped."""


def partition_of(stream_id: str) -> int:
    """Stable across processes and releases (unlike ``hash()``)."""
    digest = hashlib.blake2b(stream_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % PARTITIONS


def _token(text: str) -> str:
    # Subject tokens may not hold '.', '*', '>' or white space.
    cleaned = "".join("_" if ch in ".*> \t\r\n" else ch for ch in text)
    return cleaned or "_"


def subject_for(bureau: str, stream_id: str, event_type: str) -> str:
    kind = ".".join(_token(part) for part in event_type.split("."))
    return f"{PREFIX}.{_token(bureau)}.p{partition_of(stream_id):02d}.{kind}"


def partition_filter(partition: int) -> str:
    return f"{PREFIX}.*.p{partition:02d}.>"


def stream_config(max_age: timedelta = timedelta(days=30), replicas: int = 1) -> StreamConfig:
    """The store is the source of truth, so the stream only needs to outlive any consumer's
    downtime; a consumer further behind is re-driven from the store."""
    return StreamConfig(
        name=STREAM,
        description="信访事件 petition events, relayed from the PostgreSQL event store",
        subjects=[f"{PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age.total_seconds(),
        duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        # 3 on a 3-node cluster: every message on a majority of the nodes before it is acked,
        # so losing one node loses nothing.
        num_replicas=replicas,
    )
