"""A 3-node JetStream cluster (PETITIONS_NATS_CLUSTER=3) with the stream replicated three times:
the node leading the stream is killed (SIGKILL) while registrations keep coming; the relay
carries on through the other nodes, and the stream ends up with every stored event exactly once
(issue 16)."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from pathlib import Path

import asyncpg
import nats
import pytest
from devstack.demo import resident_id
from devstack.servers import start_nats_cluster
from intake.config import Settings as IntakeSettings
from nats.js import JetStreamContext
from petitions.identity import DEV_ISSUER
from petitions.messaging.provision import provision
from petitions.messaging.security import ADMIN, RELAY, SERVICES, generate_passwords
from petitions.messaging.subjects import STREAM

from tests.conftest import ROOT, Clock, Token
from tests.integration.test_intake_registration import visit
from tests.integration.test_operations_health import serving

pytestmark = pytest.mark.integration

REGISTRATIONS = 150


async def test_killing_the_stream_leader_under_load_loses_and_duplicates_nothing(
    database_url: str, jwks_file: Path, clock: Clock, auth: Token, tmp_path: Path
) -> None:
    passwords = generate_passwords()
    with start_nats_cluster(tmp_path / "nats", 3, passwords=passwords) as cluster:
        await provision(cluster.access(ADMIN), replicas=3)
        admin = await nats.connect(**cluster.access(ADMIN).options())
        try:
            js = admin.jetstream()
            info = await js.stream_info(STREAM)
            assert info.config.num_replicas == 3
            settings = IntakeSettings(
                database_url=database_url,
                nats_url=cluster.url,
                nats_user=SERVICES["intake"].user,
                nats_password=passwords[SERVICES["intake"].user],
                nats_relay_password=passwords[RELAY],
                run_relay=True,
                kek=base64.b64encode(os.urandom(16)).decode(),
                blind_index_key=base64.b64encode(os.urandom(32)).decode(),
                oidc_issuer=DEV_ISSUER,
                jwks_file=jwks_file,
                bureau_config=ROOT / "deploy/config/bureaus.demo.toml",
            )
            rng = random.Random(3)
            async with serving(settings, clock) as http:

                async def register(n: int) -> None:
                    person = {"name": f"测试{n}", "resident_id": resident_id(rng, "330102")}
                    response = await http.post(
                        "/api/v1/submissions",
                        json=visit(petitioners=[person | {"phone": "13900000000"}]),
                        headers=auth() | {"Idempotency-Key": f"cluster-{n}"},
                    )
                    assert response.status_code == 201, response.text

                for n in range(REGISTRATIONS // 3):
                    await register(n)
                # Kill the node that leads the stream (the hardest one to lose), mid-load.
                leader = (await js.stream_info(STREAM)).cluster
                assert leader is not None
                killed = next(
                    node
                    for node in cluster.nodes
                    if node.cluster is not None and node.cluster.name == leader.leader
                )
                killed.kill()
                for n in range(REGISTRATIONS // 3, REGISTRATIONS):
                    await register(n)

                conn = await asyncpg.connect(database_url)
                try:
                    stored = {
                        str(r["event_id"])
                        for r in await conn.fetch("SELECT event_id FROM eventstore.events")
                    }
                finally:
                    await conn.close()
                assert len(stored) >= REGISTRATIONS
                # The relay goes on through the two nodes left: every stored event arrives.
                deadline = time.monotonic() + 90
                while await _messages(js) < len(stored):
                    assert time.monotonic() < deadline, "events did not all reach the stream"
                    await asyncio.sleep(0.5)
            sub = await _pull_subscription(js)
            ids: list[str] = []
            # Drained when a fetch finds nothing more and every stored event came (a fetch can
            # also time out while the cluster settles after losing its leader).
            deadline = time.monotonic() + 90
            while True:
                try:
                    batch = await sub.fetch(500, timeout=2)
                except (TimeoutError, nats.errors.TimeoutError):
                    if set(ids) >= stored or time.monotonic() > deadline:
                        break
                    continue
                for message in batch:
                    assert message.headers is not None
                    ids.append(message.headers["Nats-Msg-Id"])
                    await message.ack()
            assert len(ids) == len(set(ids)), "an event is on the stream twice"
            assert set(ids) == stored, "the stream and the store differ"
            state = (await js.stream_info(STREAM)).cluster
            assert state is not None
            assert state.leader != leader.leader  # another node took over the stream
        finally:
            await admin.close()


async def _pull_subscription(js: JetStreamContext) -> JetStreamContext.PullSubscription:
    """A consumer on the stream. Creating one needs the cluster's meta leader and the stream's
    new leader: right after the old leader died, on a busy machine, that outlasted the client's
    5 s API timeout (a CI run); a timed-out attempt is tried again until a deadline."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return await js.pull_subscribe("petitions.events.>", stream=STREAM)
        except (nats.errors.TimeoutError, TimeoutError):
            if time.monotonic() > deadline:
                raise


async def _messages(js: JetStreamContext) -> int:
    """Messages on the stream; -1 while the cluster cannot say (electing a new leader, or our
    own connection moving to a node that lives)."""
    try:
        return int((await js.stream_info(STREAM)).state.messages)
    except (nats.errors.Error, TimeoutError):
        return -1
