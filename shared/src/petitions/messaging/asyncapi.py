"""AsyncAPI 3.0 documents of what each service publishes and consumes, generated from the event
classes themselves (FastStream's specification builder), so the document cannot drift from the
code. Each service exposes its document at ``/asyncapi.json`` and ``/asyncapi.yaml``, and
``make docs`` writes them to ``docs/asyncapi/``."""

# No `from __future__ import annotations`: the documented handlers' parameter types must be
# real classes when FastStream reads them.

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import yaml
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

from petitions.messages import Event
from petitions.messaging.subjects import PREFIX

E = TypeVar("E", bound=Event)


class RelayedEvent(BaseModel, Generic[E]):
    """信封 The envelope every event travels in (see petitions.messaging.envelope)."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(description="事件编号, also the Nats-Msg-Id header (de-duplication)")
    type: str = Field(description="事件类型 event type, e.g. intake.SubmissionReceived")
    schema_version: int
    stream_id: str = Field(description="案件流 the case stream, case-<case id>")
    version: int = Field(description="在案件流中的序号 the event's version in its stream")
    position: int = Field(description="全局位置 the event store's global position")
    bureau: str
    actor: str = Field(description="操作人 who caused it")
    service: str
    correlation_id: UUID
    causation_id: UUID | None
    occurred_at: datetime
    recorded_at: datetime
    data: E = Field(
        description="事件数据 as stored: personal fields masked, their SM4-GCM ciphertext in the "
        "'$vault' key (omitted from this schema)"
    )


def _address(event: type[Event]) -> str:
    return f"{PREFIX}.*.*.{event.event_type}"


def _envelope(event: type[Event]) -> type[BaseModel]:
    model: type[BaseModel] = create_model(
        f"{event.__name__}Message",
        __base__=RelayedEvent[event],  # type: ignore[valid-type]
    )
    return model


def _documented(model: type[BaseModel]) -> Callable[..., Awaitable[None]]:
    async def handler(message: model) -> None:  # type: ignore[valid-type]
        """Documentation only: never subscribed."""

    return handler


def specification(
    *,
    service: str,
    title: str,
    description: str,
    publishes: Iterable[type[Event]] = (),
    consumes: Iterable[type[Event]] = (),
    nats_url: str = "nats://127.0.0.1:4222",
) -> AsyncAPI:
    broker = NatsBroker(nats_url)
    for event in publishes:
        broker.publisher(
            _address(event),
            schema=_envelope(event),
            title=f"{service}:publish:{event.event_type}",
            description=(event.__doc__ or event.event_type).strip(),
        )
    for event in consumes:
        broker.subscriber(
            _address(event),
            title=f"{service}:consume:{event.event_type}",
            description=(event.__doc__ or event.event_type).strip(),
        )(_documented(_envelope(event)))
    return AsyncAPI(broker, title=title, version="0.1.0", description=description)


def render(spec: AsyncAPI, fmt: str = "json") -> str:
    """JSON, or YAML with the Chinese left readable (FastStream's own YAML escapes it)."""
    text = spec.to_specification().to_json()
    if fmt != "yaml":
        return text
    return str(yaml.safe_dump(json.loads(text), allow_unicode=True, sort_keys=False))
