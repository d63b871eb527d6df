"""The dossier and its notices on the in-memory ports (``intake.adapters.memory``): who may know a
case exists and who may read it in the clear, that every clear read is recorded before it is
answered (and a refused one records nothing), and the notices' gapless numbering. The PostgreSQL
adapter runs the same use cases in tests/integration/test_intake_dossier.py and
test_intake_notices.py."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from intake.adapters.memory import (
    MemoryAttachmentStorage,
    MemoryDossierStorage,
    MemoryRegistrationStorage,
)
from intake.application.attachments import Attachments, Upload
from intake.application.dossier import Dossier, reads_stream
from intake.application.notices import Notices
from intake.application.register import Registered, Registrar
from intake.domain.commands import RegisterSubmission
from intake.domain.registration import Refused
from petitions.bureaus import BureauConfig, load_config
from petitions.eventstore import Metadata, NewEvent, PersonalData
from petitions.eventstore.memory import InMemoryEventStore
from petitions.identity import ForbiddenError, Principal, Role
from petitions.messages.assignment import CaseAccepted
from petitions.messages.intake import NoticeIssued, PersonalDataRead
from petitions.personal import BlindIndex, MemoryDataKeys

from tests.conftest import TEST_NOW, Clock

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
REGISTRAR = Principal("registrar1", Role.REGISTRAR, "330102")
HANDLER = Principal("王警官", Role.HANDLER, "330102")
OTHER_HANDLER = Principal("赵警官", Role.HANDLER, "330106")
OFFICE = Principal("office-01", Role.PETITION_OFFICE, "3301")
AUDITOR = Principal("auditor-01", Role.AUDITOR, "3301")
OTHER_AUDITOR = Principal("auditor-06", Role.AUDITOR, "330106")


PEOPLE = (("张三", "11010519491231002X"), ("李四", "110101199003077774"))


def letter(person: int = 0) -> RegisterSubmission:
    name, resident_id = PEOPLE[person]
    return RegisterSubmission.model_validate(
        {
            "channel": "letter",
            "received_at": TEST_NOW - timedelta(hours=1),
            "receiving_bureau": "330102",
            "receiving_officer": "李警官",
            "petitioners": [{"name": name, "resident_id": resident_id}],
            "head_count": 1,
            "category": "SQ01",
            "sub_bureau": "330102",
            "summary": "反映小区停车纠纷",
            "requests": "请求协调",
        }
    )


class Setup:
    def __init__(self) -> None:
        self.clock = Clock()
        index = BlindIndex(b"the dossier unit tests' index key")
        self.keys = MemoryDataKeys()
        self.store = InMemoryEventStore(personal=PersonalData(self.keys, index), clock=self.clock)
        registration = MemoryRegistrationStorage(self.store)
        self.registrar = Registrar(registration, index, CONFIG, clock=self.clock)
        # The registration's tables: the query codes it keeps are the dossier's to look up.
        self.storage = MemoryDossierStorage(self.store, registration.tables)
        self.dossier = Dossier(self.storage, CONFIG, index)
        self.notices = Notices(self.dossier, ROOT / "deploy/config/templates", clock=self.clock)

    async def register(self, person: int = 0) -> Registered:
        # Another person is another matter (the same one would be a repeat of the same case).
        return await self.registrar.register(
            letter(person), REGISTRAR, idempotency_key=None, correlation_id=uuid.uuid4()
        )

    async def read(self, ref: str, who: Principal, purpose: str = "handling") -> dict[str, object]:
        return await self.dossier.read(ref, who, purpose, correlation_id=uuid.uuid4())

    async def accept(self, case: Registered) -> None:
        stream = f"case-{case.case_id}"
        accepted = CaseAccepted(
            case_id=case.case_id, accepted_on=date(2026, 11, 4), handling_due=date(2027, 1, 3)
        )
        await self.store.append(
            stream,
            [NewEvent(accepted, bureau="330102")],
            await self.store.stream_version(stream),
            metadata=Metadata(actor="office-01", service="assignment"),
        )

    async def reads_version(self, case: Registered) -> int:
        return await self.store.stream_version(reads_stream(case.case_id))


async def test_the_handling_unit_reads_in_the_clear_and_the_read_is_recorded() -> None:
    s = Setup()
    case = await s.register()
    dossier = await s.read(case.case_number, HANDLER)
    petitioners = dossier["petitioners"]
    assert isinstance(petitioners, list)
    assert petitioners[0]["name"] == "张三"
    assert dossier["read"] == {
        "stream_id": reads_stream(case.case_id),
        "version": 1,
        "read_at": TEST_NOW,  # the pinned clock's moment (shown in Shanghai time)
    }
    assert [(r.reader, r.version, list(r.case_bureaus)) for r in s.storage.reads] == [
        ("王警官", 1, ["330102"])
    ]
    of_case = await s.dossier.reads_of_case(str(case.case_id), AUDITOR)
    assert [r["reader"] for r in of_case["reads"]] == ["王警官"]
    assert of_case["verification"]["ok"] is True


async def test_outside_the_scope_the_case_does_not_exist_and_nothing_is_recorded() -> None:
    s = Setup()
    case = await s.register()
    with pytest.raises(Refused) as refused:
        await s.read(case.case_number, OTHER_HANDLER)
    assert (refused.value.code, refused.value.status) == ("case_not_found", 404)
    # In scope but not among the clear readers: told it may not, and nothing is recorded.
    with pytest.raises(ForbiddenError):
        await s.read(case.case_number, REGISTRAR)
    with pytest.raises(Refused) as unknown:
        await s.read("LJ-2026-330102-999999", HANDLER)
    assert unknown.value.status == 404
    assert s.storage.reads == []
    assert await s.reads_version(case) == 0
    assert s.dossier.reads == 0


async def test_an_auditor_lists_a_readers_reads_within_their_own_scope_only() -> None:
    s = Setup()
    first, second = await s.register(0), await s.register(1)
    await s.read(str(first.case_id), HANDLER)
    await s.read(str(second.case_id), HANDLER, purpose="reply")
    listed = await s.dossier.reads_by_user("王警官", AUDITOR, limit=10, offset=0)
    assert [(r["case_id"], r["purpose"]) for r in listed["reads"]] == [
        (second.case_id, "reply"),  # newest first
        (first.case_id, "handling"),
    ]
    paged = await s.dossier.reads_by_user("王警官", AUDITOR, limit=1, offset=1)
    assert [r["case_id"] for r in paged["reads"]] == [first.case_id]
    elsewhere = await s.dossier.reads_by_user("王警官", OTHER_AUDITOR, limit=10, offset=0)
    assert elsewhere["reads"] == []


async def test_the_query_code_finds_the_case_status_and_nothing_else() -> None:
    s = Setup()
    case = await s.register()
    assert case.query_code is not None
    status = await s.dossier.status_by_query_code(case.query_code.lower())
    assert status is not None
    assert status["case_number"] == case.case_number
    assert await s.dossier.status_by_query_code("NO-SUCH-CODE") is None


async def test_notices_are_numbered_per_bureau_and_year_without_gaps() -> None:
    s = Setup()
    first, second = await s.register(0), await s.register(1)
    with pytest.raises(Refused) as early:
        await s.notices.issue(str(first.case_id), "acceptance", OFFICE, correlation_id=uuid.uuid4())
    assert early.value.status == 409  # before the act: no number taken
    assert s.storage.notice_numbers == {}
    await s.accept(first)
    await s.accept(second)
    numbers = [
        (await s.notices.issue(str(c.case_id), "acceptance", OFFICE, correlation_id=uuid.uuid4()))
        for c in (first, second, first)
    ]
    assert [n.document_number for n in numbers] == [
        "临公江信告〔2026〕1号",
        "临公江信告〔2026〕2号",
        "临公江信告〔2026〕3号",
    ]
    assert s.storage.notice_numbers == {("330102", 2026): 3}
    # Each notice is a recorded read (the first of its two events) and its NoticeIssued.
    events = await s.store.read_stream(reads_stream(first.case_id), reveal=False)
    assert [type(e.data) for e in events] == [PersonalDataRead, NoticeIssued] * 2
    assert [r.version for r in s.storage.reads if r.case_id == first.case_id] == [1, 3]


async def test_a_rolled_back_notice_gives_its_number_back() -> None:
    s = Setup()
    taken: list[int] = []

    async def fail_after_numbering() -> None:
        async with s.storage.transaction() as writer:
            taken.append(await writer.next_notice_number("330102", 2026))
            raise RuntimeError("the rendering failed")

    with pytest.raises(RuntimeError):
        await fail_after_numbering()
    assert taken == [1]
    async with s.storage.transaction() as writer:
        assert await writer.next_notice_number("330102", 2026) == 1
        assert await writer.next_notice_number("3301", 2026) == 1
    assert s.storage.notice_numbers == {("330102", 2026): 1, ("3301", 2026): 1}


async def test_an_attachment_is_kept_sealed_and_opened_only_with_a_recorded_read() -> None:
    s = Setup()
    case = await s.register()
    storage = MemoryAttachmentStorage(s.store, s.keys)
    attachments = Attachments(s.dossier, s.keys, storage, max_bytes=1 << 20)
    letter_scan = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + bytes(range(256)) + b"\n%%EOF\n"
    )
    added = await attachments.add(
        str(case.case_id),
        Upload(letter_scan, "来信.pdf", "scan", "application/pdf"),
        REGISTRAR,
        correlation_id=uuid.uuid4(),
    )
    [sealed] = storage.blobs.values()
    assert letter_scan not in sealed
    assert s.storage.reads == []  # attaching at the desk reads nothing in the clear
    opened = await attachments.open(
        str(case.case_id), added["attachment_id"], HANDLER, "handling", correlation_id=uuid.uuid4()
    )
    assert opened.content == letter_scan
    assert [r.reader for r in s.storage.reads] == ["王警官"]
