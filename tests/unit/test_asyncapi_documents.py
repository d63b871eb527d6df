"""Each service's AsyncAPI document says exactly what the service subscribes to (the durables
the deployment provisions for it, which its composition root binds) and what it publishes, and
the FastStream wiring delivers what the document says (TestNatsBroker: wiring only; delivery is
tested on a real NATS server in tests/integration)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from assignment import main as assignment_main
from assignment.asyncapi import published as assignment_events
from assignment.asyncapi import spec as assignment_spec
from faststream.nats import TestNatsBroker
from faststream.specification import AsyncAPI
from intake.asyncapi import spec as intake_spec
from petitions.messaging import STREAM, Consumer, subject_for
from petitions.messaging.asyncapi import contract_events, render
from petitions.messaging.brokers import events_matching, nats_broker
from petitions.messaging.security import SERVICES
from petitions.messaging.subjects import PREFIX
from reporting.asyncapi import spec as reporting_spec
from reporting.projections.live import projection_consumer

SPECS: dict[str, Callable[[], AsyncAPI]] = {
    "intake": intake_spec,
    "assignment": assignment_spec,
    "reporting": reporting_spec,
}


def document(service: str) -> dict[str, Any]:
    # The very text `make docs` writes and /asyncapi.json serves.
    doc: dict[str, Any] = json.loads(render(SPECS[service]()))
    return doc


def operations(doc: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [op for op in doc["operations"].values() if op["action"] == action]


def channel(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    ref: str = operation["channel"]["$ref"]
    found: dict[str, Any] = doc["channels"][ref.rpartition("/")[2]]
    return found


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def event_schemas(doc: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    """The event types (schema titles) a receive operation's message carries in ``data``."""
    [message_ref] = operation["messages"]
    message = resolve(doc, message_ref["$ref"])
    message = resolve(doc, message["$ref"]) if "$ref" in message else message
    payload = resolve(doc, message["payload"]["$ref"])
    data = payload["properties"]["data"]
    refs = [d["$ref"] for d in data.get("anyOf", [])] or [data["$ref"]]
    return {ref.rpartition("/")[2] for ref in refs}


@pytest.mark.parametrize("service", sorted(SPECS))
def test_the_document_subscribes_to_exactly_the_services_durables(service: str) -> None:
    doc = document(service)
    subscribed = sorted(channel(doc, op)["address"] for op in operations(doc, "receive"))
    assert subscribed == sorted(d.filter_subject for d in SERVICES[service].durables)


@pytest.mark.parametrize("service", ["assignment", "reporting"])
def test_each_subscription_documents_every_event_type_it_receives(service: str) -> None:
    doc = document(service)
    [receive] = operations(doc, "receive")
    pattern = channel(doc, receive)["address"]
    expected = {e.__name__ for e in events_matching(pattern, contract_events())}
    assert expected  # a subscription that matches nothing would be a mistake of its own
    assert event_schemas(doc, receive) == expected


def test_assignment_receives_every_intake_event_and_only_those() -> None:
    """The case the issue named: the document listed 2 events while the consumer took
    ``intake.>``."""
    doc = document("assignment")
    [receive] = operations(doc, "receive")
    intake_types = {e.__name__ for e in contract_events() if e.event_type.startswith("intake.")}
    assert len(intake_types) > 2
    assert event_schemas(doc, receive) == intake_types


def test_the_documents_publish_what_each_service_writes() -> None:
    published = {
        service: {channel(document(service), op)["address"] for op in operations(doc, "send")}
        for service, doc in ((s, document(s)) for s in SPECS)
    }
    assert published["assignment"] == {f"{PREFIX}.*.*.{e.event_type}" for e in assignment_events()}
    assert published["reporting"] == {f"{PREFIX}.*.*.reporting.TimelineRead"}
    assert f"{PREFIX}.*.*.intake.CaseRegistered" in published["intake"]


def test_the_composition_roots_bind_the_durables_the_documents_show() -> None:
    [assignment] = SERVICES["assignment"].durables
    assert assignment == assignment_main.DURABLE
    [reporting] = SERVICES["reporting"].durables
    consumer = projection_consumer(None, None, "nats://127.0.0.1:4222")  # type: ignore[arg-type]
    assert consumer.durable == reporting


async def test_the_assignment_subscriber_receives_intake_events_only() -> None:
    """Wiring only (FastStream's in-memory broker): the subscriber the consumer registers takes
    what its durable's filter matches and hands the handler the raw message."""
    [durable] = SERVICES["assignment"].durables

    async def never(_conn: Any, _event: Any) -> None:
        raise AssertionError("the wiring test applies nothing")

    consumer = Consumer(
        name=durable.name,
        handler=never,
        pool=None,
        store=None,  # type: ignore[arg-type]
        nats_url="nats://127.0.0.1:4222",
        filter_subject=durable.filter_subject,
    )
    received: list[tuple[str, bytes]] = []

    async def record(msg: Any) -> None:
        received.append((msg.subject, msg.data))

    consumer.on_message = record  # type: ignore[method-assign]
    broker = nats_broker("nats://127.0.0.1:4222", name="wiring-test")
    consumer.subscribe(broker)
    registered = subject_for("330102", "case-1", "intake.CaseRegistered")
    accepted = subject_for("330102", "case-1", "assignment.CaseAccepted")
    async with TestNatsBroker(broker) as test_broker:
        await test_broker.publish(b"registered", registered, stream=STREAM)
        await test_broker.publish(b"accepted", accepted, stream=STREAM)
    assert received == [(registered, b"registered")]
