"""After a realistic run (petitions registered with personal data, read back, logged carelessly,
and carried onto NATS as the relay will), no resident ID number or phone number is found in the
clear: not in a dump of the database, not in JetStream's store files, not in the logs."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
import structlog
from devstack.servers import POSTGRES_BIN_PATH
from nats.js import JetStreamContext
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.log import configure_logging, get_logger
from petitions.messaging.security import RELAY

from tests.conftest import Servers
from tests.support.events import Petitioner, PetitionFiled, resident_id

pytestmark = pytest.mark.integration

PEOPLE = [
    ("王芳", resident_id("11010519800101123"), "13900001111"),
    ("陈伟", resident_id("44030619751212456"), "+86 137-0000-2222"),
    ("刘洋", resident_id("51010719920304789"), "15800003333"),
]
SECRETS = [p[1] for p in PEOPLE] + ["13900001111", "13700002222", "15800003333"]


def assert_clean(blob: bytes, where: str) -> None:
    text = blob.decode("utf-8", errors="replace")
    found = [s for s in SECRETS if s in text or s.encode() in blob]
    assert not found, f"plaintext personal data in {where}: {found}"


async def realistic_run(store: EventStore, servers: Servers, subject: str) -> None:
    log = get_logger("intake.registration")
    # As the relay (the only identity that may publish events), onto the provisioned stream.
    js_client = await nats.connect(**servers.access(RELAY).options())
    js = js_client.jetstream()
    try:
        for i, (name, rid, phone) in enumerate(PEOPLE):
            person = Petitioner(subject_id=uuid.uuid4(), name=name, resident_id=rid, phone=phone)
            event = PetitionFiled(
                subject_id=person.subject_id,
                petitioners=[person],
                summary=f"{name}（身份证 {rid}，电话 {phone}）反映拆迁补偿问题",
                category="申诉求决",
            )
            stream = f"case-scan{i}"
            await store.append(
                stream,
                [NewEvent(event, bureau="3301")],
                0,
                metadata=Metadata(actor="registrar", service="intake"),
            )
            [back] = await store.read_stream(stream)
            assert back.data.petitioners[0].resident_id == rid  # the clerk sees it...
            # ...and a careless developer logs it, in every way one might.
            log.info(
                "petition.registered", petitioner=back.data.petitioners[0].model_dump(), case=stream
            )
            log.warning(f"callback requested on {phone} for {rid}")
            logging.getLogger("intake.legacy").info("petitioner %s %s", rid, phone)
            for raw in await store.read_stream_raw(stream):
                # What the relay publishes: the stored JSON, ciphertext and masks only.
                await js.publish(
                    f"petitions.events.3301.{subject}.{raw.event_type}",
                    raw.data.encode(),
                    headers={"Nats-Msg-Id": str(raw.event_id)},
                )
    finally:
        await js_client.close()


async def test_no_plaintext_in_database_dump_jetstream_or_logs(
    personal_store: EventStore,
    servers: Servers,
    nats_url: str,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="intake", fmt="json")
    subject = f"scan{uuid.uuid4().hex[:8]}"
    try:
        await realistic_run(personal_store, servers, subject)
        logs = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    assert "petition.registered" in logs  # the logs were captured at all
    assert_clean(logs.encode(), "the logs")

    dump = await asyncio.to_thread(
        subprocess.run,
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--no-owner", database_url],
        capture_output=True,
        check=True,
    )
    assert b"case-scan0" in dump.stdout  # the dump holds the events
    assert_clean(dump.stdout, "the database dump")

    if servers.nats_store_dir is None and servers.kind == "testcontainers":
        pytest.skip("JetStream's store is inside the container; the other scans ran")
    if servers.nats_store_dir is None:
        pytest.fail("set PETITIONS_NATS_STORE_DIR to JetStream's store directory to scan it")
    blob = await asyncio.to_thread(_read_tree, Path(servers.nats_store_dir))
    assert subject.encode() in blob  # the published messages are in these files
    assert_clean(blob, "JetStream's store directory")


def _read_tree(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
async def _delete_test_stream(servers: Servers) -> AsyncIterator[None]:
    """Leave no stream behind on a shared NATS server (after the scan, which needs its files)."""
    yield
    client = await nats.connect(servers.admin_url)
    try:
        js = client.jetstream()
        for name in [n async for n in _stream_names(js)]:
            if name.startswith("SCAN"):
                await js.delete_stream(name)
    finally:
        await client.close()


async def _stream_names(js: JetStreamContext) -> AsyncIterator[str]:
    for info in await js.streams_info():
        yield info.config.name or ""
