"""Personal data in the event store: sealed at rest, opened transparently, masked for display,
erased by destroying a key with the hash chain intact, found by blind index."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid

import asyncpg
import pytest
from petitions.db import create_pool
from petitions.eventstore import EventStore, Metadata, NewEvent, PersonalData
from petitions.personal import (
    ERASED,
    BlindIndex,
    CiphertextMismatchError,
    DataKeys,
    KeyUnavailableError,
    LocalKeyService,
    PersonalDataError,
    SubjectErasedError,
)
from petitions.personal.masking import mask_name, mask_phone, mask_resident_id
from petitions.settings import CommonSettings

from tests.support.events import NoteAdded, Petitioner, PetitionFiled, resident_id

pytestmark = pytest.mark.integration

META = Metadata(actor="registrar-01", service="intake")
ZHANG_ID = resident_id("11010519491231002")
LI_ID = resident_id("33010619850412773")
ZHANG_PHONE = "13812345678"
LI_PHONE = "13987654321"


def filing(
    zhang: uuid.UUID, li: uuid.UUID | None = None, summary: str = "反映邻里纠纷处理不公"
) -> PetitionFiled:
    petitioners = [
        Petitioner(
            subject_id=zhang,
            name="张三",
            resident_id=ZHANG_ID,
            phone=ZHANG_PHONE,
            address="浙江省杭州市西湖区文三路 100 号",
        )
    ]
    if li is not None:
        petitioners.append(
            Petitioner(subject_id=li, name="李四", resident_id=LI_ID, phone=LI_PHONE)
        )
    return PetitionFiled(
        subject_id=zhang, petitioners=petitioners, summary=summary, category="申诉求决"
    )


async def stored_text(store: EventStore, stream: str) -> list[str]:
    return [r.data for r in await store.read_stream_raw(stream)]


async def test_round_trip_is_transparent(personal_store: EventStore) -> None:
    zhang, li = uuid.uuid4(), uuid.uuid4()
    event = filing(zhang, li)
    await personal_store.append("case-p1", [NewEvent(event, bureau="3301")], 0, metadata=META)

    [read] = await personal_store.read_stream("case-p1")

    assert read.data == event


async def test_stored_json_holds_ciphertext_and_masks_only(personal_store: EventStore) -> None:
    zhang, li = uuid.uuid4(), uuid.uuid4()
    await personal_store.append(
        "case-p2", [NewEvent(filing(zhang, li), bureau="3301")], 0, metadata=META
    )

    [text] = await stored_text(personal_store, "case-p2")

    for secret in (ZHANG_ID, LI_ID, ZHANG_PHONE, LI_PHONE, "张三", "李四", "文三路", "邻里纠纷"):
        assert secret not in text
    stored = json.loads(text)
    first = stored["petitioners"][0]
    assert first["subject_id"] == str(zhang)
    assert first["name"] == "张*"
    assert first["resident_id"] == "110105********002X" == mask_resident_id(ZHANG_ID)
    assert first["phone"] == "138****5678"
    assert stored["category"] == "申诉求决"  # not personal: stays in the clear
    vault = stored["$vault"]
    assert set(vault) == {str(zhang), str(li)}  # one ciphertext per person
    assert ["petitioners", 0, "resident_id"] in vault[str(zhang)]["p"]
    assert ["summary"] in vault[str(zhang)]["p"]
    assert vault[str(li)]["p"] == [
        ["petitioners", 1, "name"],
        ["petitioners", 1, "resident_id"],
        ["petitioners", 1, "phone"],
    ]


async def test_masked_view_needs_no_clear_values(personal_store: EventStore) -> None:
    zhang = uuid.uuid4()
    await personal_store.append(
        "case-p3", [NewEvent(filing(zhang), bureau="3301")], 0, metadata=META
    )

    [masked] = await personal_store.read_stream("case-p3", reveal=False)

    person = masked.data.petitioners[0]
    assert (person.name, person.resident_id, person.phone) == (
        mask_name("张三"),
        mask_resident_id(ZHANG_ID),
        mask_phone(ZHANG_PHONE),
    )
    # A store with no key service at all (reporting, say) still reads the masked forms.
    keyless = EventStore(personal_store.pool)
    [plain] = await keyless.read_stream("case-p3", reveal=False)
    assert plain.data.petitioners[0].resident_id == mask_resident_id(ZHANG_ID)
    with pytest.raises(PersonalDataError, match="key service"):
        await keyless.read_stream("case-p3")
    # The ordered read of the whole log alike (keyless, it decodes straight from the rows).
    [[ordered]] = [batch async for batch in keyless.iter_all(reveal=False)]
    assert ordered == plain
    with pytest.raises(PersonalDataError, match="key service"):
        [batch async for batch in keyless.iter_all()]
    [[opened]] = [batch async for batch in personal_store.iter_all()]
    assert opened.data.petitioners[0].resident_id == ZHANG_ID


async def test_erasure_keeps_the_chain_and_makes_fields_unreadable(
    personal_store: EventStore,
) -> None:
    zhang, li = uuid.uuid4(), uuid.uuid4()
    await personal_store.append(
        "case-p4", [NewEvent(filing(zhang, li), bureau="3301")], 0, metadata=META
    )
    await personal_store.append(
        "case-p4", [NewEvent(NoteAdded(body="已受理", words=1), bureau="3301")], 1, metadata=META
    )
    before = await stored_text(personal_store, "case-p4")

    erased_by = Metadata(actor="admin-02", service="intake")
    assert await personal_store.erase_subject(
        zhang, reason="保存期限届满 retention ended", metadata=erased_by
    )

    assert await stored_text(personal_store, "case-p4") == before  # events untouched
    assert (await personal_store.verify("case-p4")).ok
    [filed, note] = await personal_store.read_stream("case-p4")
    zhang_read, li_read = filed.data.petitioners
    assert {zhang_read.name, zhang_read.resident_id, zhang_read.phone, zhang_read.address} == {
        ERASED
    }
    assert filed.data.summary == ERASED  # owned by the first petitioner
    assert (li_read.name, li_read.resident_id) == ("李四", LI_ID)  # another subject: untouched
    assert note.data.body == "已受理"
    [masked] = await personal_store.read_stream("case-p4", to_version=1, reveal=False)
    assert masked.data.petitioners[0].resident_id == ERASED

    [record] = await personal_store.read_stream(f"subject-{zhang}")
    assert record.data.reason == "保存期限届满 retention ended"
    assert record.actor == "admin-02"
    assert not await personal_store.find_by_index("resident_id", ZHANG_ID)
    assert await personal_store.find_by_index("resident_id", LI_ID)

    # Erasing again changes nothing and records nothing twice.
    assert not await personal_store.erase_subject(zhang, reason="again", metadata=erased_by)
    assert len(await personal_store.read_stream(f"subject-{zhang}")) == 1
    # An erased person cannot be written again under the same subject id.
    with pytest.raises(SubjectErasedError, match=str(zhang)):
        await personal_store.append(
            "case-p5", [NewEvent(filing(zhang), bureau="3301")], 0, metadata=META
        )


async def test_other_processes_forget_an_erased_key(personal_store: EventStore, kek: bytes) -> None:
    zhang = uuid.uuid4()
    await personal_store.append(
        "case-p6", [NewEvent(filing(zhang), bureau="3301")], 0, metadata=META
    )
    other = EventStore(
        personal_store.pool,
        personal=PersonalData(DataKeys(personal_store.pool, LocalKeyService(kek), cache_seconds=0)),
    )
    assert (await other.read_stream("case-p6"))[0].data.petitioners[0].name == "张三"

    await personal_store.erase_subject(zhang, reason="PIPL 47", metadata=META)

    assert (await other.read_stream("case-p6"))[0].data.petitioners[0].name == ERASED


async def _copy_event(database_url: str, source: str, target: str, *, version: int) -> None:
    """As a superuser, write an event whose data is copied from another stream, with a correct
    hash chain: only the encryption can tell it does not belong there."""
    from petitions.eventstore import hashing

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT * FROM eventstore.events WHERE stream_id = $1 AND version = 1", source
        )
        previous = hashing.GENESIS
        if version > 1:
            previous = await conn.fetchval(
                "SELECT hash FROM eventstore.events WHERE stream_id = $1 AND version = $2",
                target,
                version - 1,
            )
        event_id = uuid.uuid4()
        digest = hashing.link(
            "sm3",
            previous,
            hashing.canonical_bytes(
                stream_id=target,
                version=version,
                event_id=event_id,
                event_type=row["event_type"],
                schema_version=row["schema_version"],
                bureau=row["bureau"],
                data=row["data"],
                actor=row["actor"],
                service=row["service"],
                correlation_id=row["correlation_id"],
                causation_id=None,
                occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"],
            ),
        )
        await conn.execute(
            "INSERT INTO eventstore.streams (stream_id, category, bureau, version, head_hash) "
            "VALUES ($1, 'case', '3301', $2, $3) ON CONFLICT (stream_id) DO UPDATE SET "
            "version = EXCLUDED.version, head_hash = EXCLUDED.head_hash",
            target,
            version,
            digest,
        )
        await conn.execute(
            "INSERT INTO eventstore.events (stream_id, version, event_id, event_type, "
            "schema_version, bureau, data, actor, service, correlation_id, occurred_at, "
            "recorded_at, hash_alg, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
            "$12, 'sm3', $13)",
            target,
            version,
            event_id,
            row["event_type"],
            row["schema_version"],
            row["bureau"],
            row["data"],
            row["actor"],
            row["service"],
            row["correlation_id"],
            row["occurred_at"],
            row["recorded_at"],
            digest,
        )
    finally:
        await conn.close()


@pytest.mark.parametrize(("target", "version"), [("case-elsewhere", 1), ("case-src", 2)])
async def test_ciphertext_moved_to_another_stream_or_version_fails(
    personal_store: EventStore, database_url: str, target: str, version: int
) -> None:
    await personal_store.append(
        "case-src", [NewEvent(filing(uuid.uuid4()), bureau="3301")], 0, metadata=META
    )
    await _copy_event(database_url, "case-src", target, version=version)
    assert (await personal_store.verify(target)).ok  # the chain is fine: only crypto objects

    with pytest.raises(CiphertextMismatchError, match=f"{target} v{version}"):
        await personal_store.read_stream(target, from_version=version)


async def test_wrong_or_missing_keys_give_clear_errors(personal_store: EventStore) -> None:
    await personal_store.append(
        "case-p7", [NewEvent(filing(uuid.uuid4()), bureau="3301")], 0, metadata=META
    )

    wrong = EventStore(
        personal_store.pool,
        personal=PersonalData(DataKeys(personal_store.pool, LocalKeyService(os.urandom(16)))),
    )
    with pytest.raises(KeyUnavailableError, match="PETITIONS_KEK"):
        await wrong.read_stream("case-p7")

    other_kek = EventStore(
        personal_store.pool,
        personal=PersonalData(
            DataKeys(personal_store.pool, LocalKeyService(os.urandom(16), kek_id="hsm-2"))
        ),
    )
    with pytest.raises(KeyUnavailableError, match="hsm-2"):
        await other_kek.read_stream("case-p7")

    keyless = EventStore(personal_store.pool)
    with pytest.raises(PersonalDataError, match="key service"):
        await keyless.append(
            "case-p8", [NewEvent(filing(uuid.uuid4()), bureau="3301")], 0, metadata=META
        )
    with pytest.raises(KeyUnavailableError, match="16 bytes"):
        LocalKeyService(b"short")
    with pytest.raises(PersonalDataError, match="32 bytes"):
        BlindIndex(b"short")


async def test_blind_index_finds_the_right_cases(personal_store: EventStore) -> None:
    zhang, li = uuid.uuid4(), uuid.uuid4()
    await personal_store.append(
        "case-b1", [NewEvent(filing(zhang), bureau="3301")], 0, metadata=META
    )
    await personal_store.append(
        "case-b2", [NewEvent(filing(zhang, li), bureau="3301")], 0, metadata=META
    )
    await personal_store.append(
        "case-b3", [NewEvent(NoteAdded(body="x", words=1), bureau="3301")], 0, metadata=META
    )

    assert await personal_store.find_by_index("resident_id", ZHANG_ID) == [
        ("case-b1", zhang),
        ("case-b2", zhang),
    ]
    assert await personal_store.find_by_index("resident_id", LI_ID.lower()) == [("case-b2", li)]
    assert await personal_store.find_by_index("phone", "+86 139-8765-4321") == [("case-b2", li)]
    assert await personal_store.find_by_index("resident_id", resident_id("11010519491231003")) == []


async def test_no_stored_token_is_a_plain_hash_of_an_id_number(
    personal_store: EventStore,
) -> None:
    await personal_store.append(
        "case-b4", [NewEvent(filing(uuid.uuid4(), uuid.uuid4()), bureau="3301")], 0, metadata=META
    )
    tokens = {
        bytes(r["token"])
        for r in await personal_store.pool.fetch("SELECT token FROM personal.blind_index")
    }
    assert tokens
    for value in (ZHANG_ID, LI_ID, ZHANG_PHONE, LI_PHONE):
        for algorithm in ("sm3", "sha256"):
            assert hashlib.new(algorithm, value.encode()).digest() not in tokens
            assert hashlib.new(algorithm, f"resident_id\x1f{value}".encode()).digest() not in tokens


async def test_data_keys_are_stored_wrapped(personal_store: EventStore) -> None:
    zhang = uuid.uuid4()
    await personal_store.append(
        "case-k1", [NewEvent(filing(zhang), bureau="3301")], 0, metadata=META
    )
    row = await personal_store.pool.fetchrow(
        "SELECT kek_id, wrapped FROM personal.data_keys WHERE subject_id = $1", zhang
    )
    assert row["kek_id"] == "local-1"
    assert len(row["wrapped"]) == 12 + 16 + 16  # nonce, wrapped 128-bit key, tag


async def test_concurrent_personal_appends_on_a_small_pool(
    settings: CommonSettings, kek: bytes
) -> None:
    """Each append also looks up keys: it must not hold a connection while waiting for another."""
    pool = await create_pool(settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 2}))
    try:
        store = EventStore(
            pool,
            personal=PersonalData(DataKeys(pool, LocalKeyService(kek)), BlindIndex(os.urandom(32))),
        )
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    store.append(
                        f"case-c{i}",
                        [NewEvent(filing(uuid.uuid4()), bureau="3301")],
                        0,
                        metadata=META,
                    )
                    for i in range(12)
                )
            ),
            timeout=30,
        )
        assert len(await store.find_by_index("resident_id", ZHANG_ID)) == 12
    finally:
        await pool.close()
