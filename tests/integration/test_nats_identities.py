"""NATS with identities: what each user may and may not do on the server the tests run
(the wheel's nats-server 2.15, or Debian's 2.9 in CI's second pass), configured by
petitions.messaging.security."""

from __future__ import annotations

import asyncio
import contextlib
import json

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerConfig
from petitions.messaging import STREAM, NatsAccess
from petitions.messaging.security import ADMIN, RELAY, SERVICES

from tests.conftest import Servers

pytestmark = pytest.mark.integration

SUBJECT = "petitions.events.330102.p01.intake.CaseRegistered"


async def _connect(who: NatsAccess) -> NatsClient:
    return await nats.connect(**who.options(), allow_reconnect=False, connect_timeout=2)


def _user(service: str) -> str:
    return SERVICES[service].user


async def _reported(errors: list[Exception]) -> bool:
    """Whether a permissions violation reached the error callback. nats-py runs the callback in
    a task of its own, which may run after the flush that followed the refused operation has
    returned: wait for it (up to 5 s, far more than needed), rather than read too early."""
    for _ in range(500):
        if any("permissions violation" in str(e).lower() for e in errors):
            return True
        await asyncio.sleep(0.01)
    return False


async def _violates(who: NatsAccess, subject: str, payload: bytes = b"{}") -> bool:
    """Whether a request on ``subject`` is refused as a permissions violation (an error the
    server sends back, which nats-py passes to the error callback)."""
    errors: list[Exception] = []

    async def seen(exc: Exception) -> None:
        errors.append(exc)

    client = await nats.connect(**who.options(), allow_reconnect=False, error_cb=seen)
    try:
        with contextlib.suppress(nats.errors.TimeoutError, nats.errors.NoRespondersError):
            await client.request(subject, payload, timeout=1)
        await client.flush()
        return await _reported(errors)
    finally:
        await client.close()


async def test_anonymous_client_is_refused(servers: Servers, nats_url: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization"):
        await nats.connect(servers.nats_url, allow_reconnect=False, max_reconnect_attempts=0)


async def test_wrong_password_is_refused(servers: Servers, nats_url: str) -> None:
    from pydantic import SecretStr

    wrong = NatsAccess(servers.nats_url, _user("reporting"), SecretStr("not-the-password"))
    with pytest.raises(nats.errors.Error, match="Authorization"):
        await nats.connect(**wrong.options(), allow_reconnect=False, max_reconnect_attempts=0)


async def test_only_the_relay_publishes_events(servers: Servers, nats_url: str) -> None:
    relay = await _connect(servers.access(RELAY))
    try:
        ack = await relay.jetstream().publish(SUBJECT, b"{}", stream=STREAM, timeout=2)
    finally:
        await relay.close()
    assert ack.seq == 1
    for user in (ADMIN, *(s.user for s in SERVICES.values())):
        assert await _violates(servers.access(user), SUBJECT), user


async def test_a_service_cannot_create_or_delete_a_consumer(
    servers: Servers, nats_url: str
) -> None:
    reporting = servers.access(_user("reporting"))
    config = ConsumerConfig(durable_name="spy", filter_subject="petitions.events.>")
    create = json.dumps({"stream_name": STREAM, "config": config.as_dict()}).encode()
    assert await _violates(reporting, f"$JS.API.CONSUMER.CREATE.{STREAM}", create)
    assert await _violates(reporting, f"$JS.API.CONSUMER.DURABLE.CREATE.{STREAM}.spy", create)
    assert await _violates(reporting, f"$JS.API.CONSUMER.CREATE.{STREAM}.spy", create)
    assert await _violates(reporting, f"$JS.API.CONSUMER.DELETE.{STREAM}.reporting")
    assert await _violates(reporting, f"$JS.API.STREAM.DELETE.{STREAM}")
    # The durable it was refused to delete is still there.
    admin = await _connect(servers.access(ADMIN))
    try:
        info = await admin.jetstream().consumer_info(STREAM, "reporting")
    finally:
        await admin.close()
    assert info.name == "reporting"


async def test_a_service_reads_only_its_own_durable(servers: Servers, nats_url: str) -> None:
    assignment = servers.access(_user("assignment"))
    # Its own: consumer info answers (the server replies; no violation).
    client = await _connect(assignment)
    try:
        info = await client.jetstream().consumer_info(STREAM, "assignment")
    finally:
        await client.close()
    assert info.config.filter_subject == "petitions.events.*.*.intake.>"
    # Reporting's durable (every bureau's events, every kind): neither pulled nor inspected.
    assert await _violates(assignment, f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.reporting", b"1")
    assert await _violates(assignment, f"$JS.API.CONSUMER.INFO.{STREAM}.reporting")
    # Nor read through another's inbox, or the events' subjects directly.
    for subject in ("_INBOX.x", "_INBOX_petitions-reporting.x", "petitions.events.>"):
        errors: list[Exception] = []

        async def seen(exc: Exception, errors: list[Exception] = errors) -> None:
            errors.append(exc)

        spy = await nats.connect(**assignment.options(), allow_reconnect=False, error_cb=seen)
        try:
            await spy.subscribe(subject)
            await spy.flush()
            assert await _reported(errors), subject
        finally:
            await spy.close()


async def test_services_cannot_read_messages_by_sequence(servers: Servers, nats_url: str) -> None:
    relay = await _connect(servers.access(RELAY))
    try:
        await relay.jetstream().publish(SUBJECT, b"{}", stream=STREAM, timeout=2)
        # The relay may: it checks what the stream keeps under an id it published.
        kept = await relay.jetstream().get_msg(STREAM, seq=1)
    finally:
        await relay.close()
    assert kept.subject == SUBJECT
    for service in SERVICES:
        who = servers.access(_user(service))
        assert await _violates(who, f"$JS.API.STREAM.MSG.GET.{STREAM}", b'{"seq":1}'), service
        assert await _violates(who, f"$JS.API.DIRECT.GET.{STREAM}", b'{"seq":1}'), service
        assert await _violates(who, f"$JS.API.STREAM.INFO.{STREAM}"), service
