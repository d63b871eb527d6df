"""Attachments (issue 13, item 7) through intake's API on real PostgreSQL: a file round-trips
with its SM3 digest in the event (so the hash chain covers it); its type is judged by content
and must match what was declared; the size limit holds, before the body is read when its length
is announced; reading one is a recorded read that auditors list; the accused get 404; and once
the person is erased the file cannot be read (410)."""

from __future__ import annotations

import hashlib
import io
import struct
import urllib.parse
import wave
import zlib
from typing import Any
from uuid import UUID

import httpx
import pytest
from docx import Document
from petitions.eventstore import EventStore, Metadata
from petitions.messages.intake import AttachmentAdded, PersonalDataRead

from tests.conftest import Token
from tests.integration.test_intake_dossier import HANDLER, registered
from tests.integration.test_intake_registration import LI, ZHANG

pytestmark = pytest.mark.integration

REGISTRAR = ("registrar", "330102", "clerk-01")
AUDITOR = ("auditor", "3301", "auditor-1")


def png() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    # A letter "scanned" to PDF: binary bytes (NULs included) after the header.
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + bytes(range(256)) + b"\n%%EOF\n"


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 4000)
    return out.getvalue()


async def attach(
    client: httpx.AsyncClient,
    auth: Token,
    ref: str,
    content: bytes,
    *,
    kind: str = "scan",
    filename: str = "王五来信.pdf",
    content_type: str = "application/pdf",
    who: tuple[str, str, str] = REGISTRAR,
    **fields: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{ref}/attachments",
        files={"file": (filename, content, content_type)},
        data={"kind": kind, **{k: str(v) for k, v in fields.items()}},
        headers=auth(*who),
    )


async def fetch(
    client: httpx.AsyncClient,
    auth: Token,
    ref: str,
    attachment_id: str,
    who: tuple[str, str, str] = HANDLER,
    purpose: str | None = "handling",
) -> httpx.Response:
    params = {} if purpose is None else {"purpose": purpose}
    return await client.get(
        f"/api/v1/cases/{ref}/attachments/{attachment_id}", params=params, headers=auth(*who)
    )


async def test_an_attachment_round_trips_with_its_sm3_digest_in_the_chained_event(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    content = pdf()
    response = await attach(
        client, auth, case["case_number"], content, submission_id=case["submission_id"]
    )
    assert response.status_code == 201, response.text
    added = response.json()
    digest = hashlib.new("sm3", content).hexdigest()
    assert added["sm3"] == digest
    assert added["media_type"] == "application/pdf"
    assert added["size"] == len(content)
    assert added["submission_id"] == case["submission_id"]
    assert added["filename"] != "王五来信.pdf"  # the file name is the person's: masked

    # The event carries the digest and is chained; the name is sealed, the bytes elsewhere.
    stream = f"attachments-{case['case_id']}"
    (event,) = await store.read_stream(stream, reveal=False)
    assert isinstance(event.data, AttachmentAdded)
    assert event.data.sm3 == digest
    assert event.data.added_by == "clerk-01"
    (raw,) = await store.read_stream_raw(stream)
    assert "王五来信" not in raw.data
    assert (await store.verify(stream)).ok
    # Stored sealed: the clear bytes are nowhere in the blob table.
    sealed = await store.pool.fetchval(
        "SELECT sealed FROM intake.attachment_blobs WHERE sm3 = $1", bytes.fromhex(digest)
    )
    assert sealed is not None
    assert content not in bytes(sealed)

    # The handler reads it back: the same bytes, its name, and a recorded read.
    got = await fetch(client, auth, case["case_number"], added["attachment_id"])
    assert got.status_code == 200, got.text
    assert got.content == content
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["x-content-sm3"] == digest
    assert urllib.parse.quote("王五来信.pdf") in got.headers["content-disposition"]
    (read,) = await store.read_stream(f"reads-{case['case_id']}", reveal=False)
    assert isinstance(read.data, PersonalDataRead)
    assert read.data.fields == (f"attachments.{added['attachment_id']}",)
    assert read.data.subjects == (event.data.subject_id,)

    # Auditors see the read; the listing shows the file masked, the registrar may list it.
    listing = await client.get(
        "/api/v1/audit/reads", params={"case": case["case_number"]}, headers=auth(*AUDITOR)
    )
    assert listing.status_code == 200, listing.text
    assert [(r["reader"], r["fields"]) for r in listing.json()["reads"]] == [
        ("handler-1", [f"attachments.{added['attachment_id']}"])
    ]
    files = await client.get(
        f"/api/v1/cases/{case['case_id']}/attachments", headers=auth(*REGISTRAR)
    )
    assert files.status_code == 200, files.text
    (item,) = files.json()["attachments"]
    assert (item["sm3"], item["kind_name"], item["erased"]) == (digest, "信件扫描件", False)
    assert item["added_at"].endswith("+08:00")


async def test_the_content_decides_the_type_and_must_match_what_was_declared(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    ref = case["case_number"]
    # A PNG named and declared as a PDF: refused, naming the declared type and the content.
    lied = await attach(client, auth, ref, png(), filename="letter.pdf")
    assert lied.status_code == 422, lied.text
    (problem,) = lied.json()["fields"]
    assert problem["field"] == "media_type"
    assert "PNG" in problem["message"]
    assert "does not match" in problem["message"]
    # Text is no scan at all, whatever it claims; a recording is no photo.
    text = await attach(client, auth, ref, b"hello, I am a letter" * 10)
    assert text.status_code == 422, text.text
    assert text.json()["fields"][0]["field"] == "file"
    audio_as_photo = await attach(
        client, auth, ref, wav(), kind="photo", filename="a.wav", content_type="audio/wav"
    )
    assert audio_as_photo.status_code == 422, audio_as_photo.text
    assert "照片只接受" in audio_as_photo.json()["fields"][0]["message"]
    unknown_kind = await attach(client, auth, ref, pdf(), kind="video")
    assert unknown_kind.status_code == 422, unknown_kind.text
    empty = await attach(client, auth, ref, b"")
    assert empty.status_code == 422, empty.text
    assert await store.stream_version(f"attachments-{case['case_id']}") == 0

    # Aliases are the same type; a browser's "I don't know" declares nothing.
    ok = await attach(
        client, auth, ref, wav(), kind="audio", filename="来电录音.wav", content_type="audio/x-wav"
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["media_type"] == "audio/wav"
    unknown = await attach(
        client, auth, ref, png(), kind="photo", content_type="application/octet-stream"
    )
    assert unknown.status_code == 201, unknown.text
    assert unknown.json()["media_type"] == "image/png"
    assert await store.stream_version(f"attachments-{case['case_id']}") == 2


async def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    limit = 20 * 1024 * 1024  # the default PETITIONS_ATTACHMENT_MAX_BYTES
    # Just over the limit (inside the form's allowance): the endpoint refuses it exactly.
    over = pdf() + b"\x00" * (limit - len(pdf()) + 1)
    response = await attach(client, auth, case["case_number"], over)
    assert response.status_code == 413, response.text
    assert "文件过大" in response.json()["message"]
    assert "limit" in response.json()["message"]
    # Announced far over the limit: refused at the door, before the body is read; without a
    # length (chunked), counted as it comes and cut off just past the limit, not at its end.
    sent = 0
    head = (
        b'--x\r\nContent-Disposition: form-data; name="kind"\r\n\r\nscan\r\n'
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    )

    async def body() -> Any:
        nonlocal sent
        sent = 0
        yield head
        for _ in range(40):
            sent += 1
            yield b"\x00" * (1024 * 1024)
        yield b"\r\n--x--\r\n"

    for length in (str(len(head) + 40 * 1024 * 1024 + 9), None):
        refused = await client.post(
            f"/api/v1/cases/{case['case_number']}/attachments",
            content=body(),
            headers={
                **auth(*REGISTRAR),
                "Content-Type": "multipart/form-data; boundary=x",
                **({} if length is None else {"Content-Length": length}),
            },
        )
        assert refused.status_code == 413, (length, refused.text)
        assert "文件过大" in refused.json()["message"]
        assert sent <= (0 if length else 21), (length, sent)  # MiB taken in before refusing
    assert await store.stream_version(f"attachments-{case['case_id']}") == 0
    assert await store.pool.fetchval("SELECT count(*) FROM intake.attachment_blobs") == 0


async def test_the_accused_get_404_and_other_roles_may_not_read(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth, category="JK01", accused_officers=["赵警官"])
    added = await attach(client, auth, case["case_number"], pdf())
    assert added.status_code == 201, added.text
    attachment_id = added.json()["attachment_id"]
    for who in [
        ("handler", "330102", "赵警官"),  # within reach, but the accused officer (Art. 30)
        ("leader", "3301", "赵警官"),
        ("petition_office", "330103", "office-330103"),  # outside the case's bureaus
    ]:
        got = await fetch(client, auth, case["case_number"], attachment_id, who)
        assert got.status_code == 404, (who, got.text)
        listed = await client.get(
            f"/api/v1/cases/{case['case_number']}/attachments", headers=auth(*who)
        )
        assert listed.status_code == 404, (who, listed.text)
        again = await attach(client, auth, case["case_number"], pdf(), who=who)
        assert again.status_code == 404, (who, again.text)
    # The registrar attached it but does not read cases in the clear; a purpose is required.
    ref = case["case_id"]
    assert (await fetch(client, auth, ref, attachment_id, REGISTRAR)).status_code == 403
    assert (await fetch(client, auth, ref, attachment_id, purpose=None)).status_code == 422
    assert (await fetch(client, auth, ref, str(UUID(int=7)))).status_code == 404
    assert await store.stream_version(f"reads-{case['case_id']}") == 0


async def test_after_the_person_is_erased_the_attachment_cannot_be_read(
    client: httpx.AsyncClient, auth: Token, store: EventStore, personal_store: EventStore
) -> None:
    case = await registered(client, auth)
    added = await attach(client, auth, case["case_id"], pdf())
    assert added.status_code == 201, added.text
    attachment_id = added.json()["attachment_id"]
    assert (await fetch(client, auth, case["case_id"], attachment_id)).status_code == 200
    (event,) = await store.read_stream(f"attachments-{case['case_id']}", reveal=False)
    subject = event.data.subject_id

    await personal_store.erase_subject(
        subject,
        reason="信访人依法申请删除个人信息",
        metadata=Metadata(actor="dpo-1", service="test"),
    )

    gone = await fetch(client, auth, case["case_id"], attachment_id)
    assert gone.status_code == 410, gone.text
    assert "已依法擦除" in gone.json()["message"]
    assert "erased" in gone.json()["message"]
    listing = (
        await client.get(f"/api/v1/cases/{case['case_id']}/attachments", headers=auth(*HANDLER))
    ).json()
    assert listing["attachments"][0]["erased"] is True
    # Nothing new can be sealed for them either; the record still verifies.
    refused = await attach(client, auth, case["case_id"], pdf())
    assert refused.status_code == 410, refused.text
    assert (await store.verify(f"attachments-{case['case_id']}")).ok
    assert await store.stream_version(f"reads-{case['case_id']}") == 1  # only the first read


async def test_the_receipt_opens_with_the_case_number_and_the_query_code(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    number, code = case["case_number"], case["query_code"]
    response = await client.post(
        f"/api/v1/cases/{number}/receipt", json={"query_code": code}, headers=auth(*REGISTRAR)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert urllib.parse.quote("登记回执") in response.headers["content-disposition"]
    document = Document(io.BytesIO(response.content))
    text = "\n".join(
        [p.text for p in document.paragraphs]
        + [c.text for t in document.tables for row in t.rows for c in row.cells]
    )
    for phrase in [number, code, "信访事项登记回执", "江城分局", "2026年11月4日", "来访", "查询码"]:
        assert phrase in text, phrase
    assert "{{" not in text
    # No personal data beyond the masked name: not the name, ID, phone or summary.
    assert "张*" in text
    for secret in ["张三", ZHANG, "13812345678", "噪音"]:
        assert secret not in text, secret
    assert await store.stream_version(f"reads-{case['case_id']}") == 0  # not a read in the clear

    # Another case's code is refused; a handler is no desk; another sub-bureau's desk: 404.
    other = await registered(client, auth, petitioners=[{"name": "李四", "resident_id": LI}])
    wrong = await client.post(
        f"/api/v1/cases/{number}/receipt",
        json={"query_code": other["query_code"]},
        headers=auth(*REGISTRAR),
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["fields"][0]["field"] == "query_code"
    denied = await client.post(
        f"/api/v1/cases/{number}/receipt", json={"query_code": code}, headers=auth(*HANDLER)
    )
    assert denied.status_code == 403, denied.text
    elsewhere = await client.post(
        f"/api/v1/cases/{number}/receipt",
        json={"query_code": code},
        headers=auth("registrar", "330103", "clerk-9"),
    )
    assert elsewhere.status_code == 404, elsewhere.text


async def test_a_file_attaches_to_a_case_act_or_a_submission_never_both(
    client: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await registered(client, auth)
    ref = case["case_number"]
    on_act = await attach(
        client, auth, ref, png(), kind="photo", content_type="image/png", act_version=1, who=HANDLER
    )
    assert on_act.status_code == 201, on_act.text
    assert (on_act.json()["act_version"], on_act.json()["act_type"]) == (
        1,
        "intake.CaseRegistered",
    )
    assert on_act.json()["submission_id"] is None
    missing = await attach(
        client, auth, ref, png(), kind="photo", content_type="image/png", act_version=99
    )
    assert missing.status_code == 422, missing.text
    assert missing.json()["fields"][0]["field"] == "act_version"
    both = await attach(
        client,
        auth,
        ref,
        png(),
        kind="photo",
        content_type="image/png",
        act_version=1,
        submission_id=case["submission_id"],
    )
    assert both.status_code == 422, both.text
    stranger = await attach(
        client, auth, ref, png(), kind="photo", content_type="image/png", submission_id=UUID(int=5)
    )
    assert stranger.status_code == 422, stranger.text
    assert stranger.json()["fields"][0]["field"] == "submission_id"
    assert await store.stream_version(f"attachments-{case['case_id']}") == 1
