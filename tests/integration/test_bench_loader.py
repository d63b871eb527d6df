"""The scale benchmark's COPY loader writes a log the store accepts as its own: every chain
verifies, personal fields are sealed (masked to a keyless reader, in the clear with the key),
the blind index finds a petitioner, and the ordinary append path carries on from a loaded head."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from petitions.eventstore import EventStore, NewEvent, PersonalData
from petitions.messages import assignment as a
from petitions.messages import intake as i
from petitions.personal import BlindIndex, DataKeys, LocalKeyService

from bench import loader
from bench.reporting import META, story_groups

pytestmark = pytest.mark.integration


async def test_loaded_log_verifies_decodes_and_takes_appends(
    pool: asyncpg.Pool, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "CHUNK_CASES", 30)
    secrets = loader.new_secrets()
    loaded = await loader.load(database_url, 60, secrets, workers=0, progress=False)
    keyed = EventStore(
        pool,
        personal=PersonalData(
            DataKeys(pool, LocalKeyService(secrets.kek)), BlindIndex(secrets.blind_index)
        ),
    )
    keyless = EventStore(pool)

    assert loaded["cases"] == 60
    assert await pool.fetchval("SELECT count(*) FROM eventstore.events") == loaded["events"]
    streams = await pool.fetchval("SELECT count(*) FROM eventstore.streams")
    assert streams == 60 + 2  # and a reception day every 25 cases, in each chunk of 30
    results = await keyless.verify_all()
    assert len(results) == streams
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]

    # The second chunk's first case, as its generator made it.
    rng = random.Random("7-1")
    group, _ = next(story_groups(rng, secrets.petitioners, [], first_number=31))
    story = group[0]
    registered = story.appends[0][0].data
    assert isinstance(registered, i.CaseRegistered)
    person = registered.petitioners[0]
    assert person.resident_id is not None

    masked = (await keyless.read_stream(story.stream_id, reveal=False))[0].data
    clear = (await keyed.read_stream(story.stream_id, reveal=True))[0].data
    assert isinstance(masked, i.CaseRegistered)
    assert isinstance(clear, i.CaseRegistered)
    assert masked.petitioners[0].resident_id != person.resident_id
    assert clear.petitioners[0].resident_id == person.resident_id
    assert clear.petitioners[0].name == person.name
    stored = await pool.fetchval(
        "SELECT data::text FROM eventstore.events WHERE stream_id = $1 AND version = 1",
        story.stream_id,
    )
    assert person.resident_id not in stored
    assert person.phone not in stored
    assert (story.stream_id, person.subject_id) in await keyed.find_by_index(
        "resident_id", person.resident_id
    )

    # The append path chains onto a loaded head.
    # (a followed-up instruction later in the chunk may have lengthened the stream)
    version = await pool.fetchval(
        "SELECT version FROM eventstore.streams WHERE stream_id = $1", story.stream_id
    )
    case_id = uuid.UUID(story.stream_id.removeprefix("case-"))
    note = a.ProgressRecorded(
        subject_id=person.subject_id,
        case_id=case_id,
        week="2027-W02",
        note="继续跟进",
        recorded_on=datetime(2027, 1, 11, tzinfo=UTC).date(),
    )
    await keyed.append(story.stream_id, [NewEvent(note, bureau="3301")], version, metadata=META)
    assert (await keyless.verify(story.stream_id)).ok
