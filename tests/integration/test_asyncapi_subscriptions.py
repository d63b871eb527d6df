"""What a running service subscribes to is what its AsyncAPI document says: the document served
by the service, the FastStream subscriber its consumer bound, and the durable the deployment
provisioned on NATS agree (tests/unit/test_asyncapi_documents.py checks the documents' make-up)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from assignment.config import Settings as AssignmentSettings
from assignment.main import create_app as create_assignment
from petitions.identity import DEV_ISSUER
from petitions.messaging import STREAM, Consumer
from petitions.messaging.security import SERVICES
from reporting.asyncapi import spec as reporting_spec

from tests.conftest import ROOT, TEST_EVENT_ID_KEY, TEST_KEK_B64, Clock, Servers
from tests.integration.test_relay import wait_for

pytestmark = pytest.mark.integration


def received(document: dict[str, Any]) -> list[str]:
    """The addresses of the document's receive operations."""
    channels = document["channels"]
    return sorted(
        channels[op["channel"]["$ref"].rpartition("/")[2]]["address"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    )


async def provisioned_filter(admin_url: str, durable: str) -> str:
    client = await nats.connect(admin_url)
    try:
        info = await client.jetstream().consumer_info(STREAM, durable)
    finally:
        await client.close()
    subject: str | None = info.config.filter_subject
    assert subject is not None
    return subject


async def test_assignment_subscribes_to_what_its_document_says(
    database_url: str, nats_url: str, servers: Servers, jwks_file: Path, clock: Clock
) -> None:
    settings = AssignmentSettings(
        database_url=database_url,
        **servers.settings("assignment"),  # its own identity, as deployed
        run_relay=False,
        run_sweep=False,
        kek=TEST_KEK_B64,
        event_id_key=base64.b64encode(TEST_EVENT_ID_KEY).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks_file,
        bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
    )
    app = create_assignment(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as http:
            document = (await http.get("/asyncapi.json")).json()
        consumer = app.state.holder["consumer"]
        assert isinstance(consumer, Consumer)
        await _agree(consumer, received(document), nats_url)


async def _agree(consumer: Consumer, addresses: list[str], nats_url: str) -> None:
    [address] = addresses

    async def bound() -> bool:
        return consumer.subscriber is not None

    await wait_for(bound, 20, "the consumer's subscriber bound to its durable")
    subscriber = consumer.subscriber
    assert subscriber is not None
    assert subscriber.subject.template == address
    assert subscriber.extra_options["durable"] == consumer.name
    assert await provisioned_filter(nats_url, consumer.name) == address


async def test_reporting_durable_is_what_its_document_says(nats_url: str) -> None:
    [durable] = SERVICES["reporting"].durables
    document = json.loads(reporting_spec().to_specification().to_json())
    assert received(document) == [await provisioned_filter(nats_url, durable.name)]
