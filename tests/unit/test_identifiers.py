"""The checks of each identity document a petitioner may register with, and their masks."""

from __future__ import annotations

from uuid import uuid4

import pytest
from intake.domain.commands import PetitionerIn, RegisterSubmission
from petitions.identifiers import (
    IdKind,
    credit_code_check,
    credit_code_error,
    gb11643_check,
    hk_macau_permit_error,
    passport_error,
    permanent_residence_id_error,
    taiwan_permit_error,
)
from petitions.messages.intake import PetitionerRecord, SubmissionReceived
from petitions.personal.blind_index import normalise
from petitions.personal.masking import MaskKind, mask
from pydantic import ValidationError
from reporting.projections.projector import _identifier as ledger_identifier

# Published codes of real organisations (GB 32100-2015), and the standard's worked example.
KNOWN_CREDIT_CODES = (
    "91350100M000100Y43",
    "9144030071526726XG",
    "914403001922038216",
    "91110000802100433B",
)


@pytest.mark.parametrize("code", KNOWN_CREDIT_CODES)
def test_known_credit_codes_pass(code: str) -> None:
    assert credit_code_check(code[:17]) == code[17]
    assert credit_code_error(code) is None


@pytest.mark.parametrize("code", KNOWN_CREDIT_CODES)
def test_every_wrong_check_character_is_refused_by_name(code: str) -> None:
    for wrong in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if wrong == code[17]:
            continue
        error = credit_code_error(code[:17] + wrong)
        assert error is not None
        assert "校验位" in error
        assert "check character" in error


@pytest.mark.parametrize(
    "code", ["91350100M000100Y4", "91350100M000100Y431", "91350100M0001O0Y43", "9135010OI000100Y43"]
)
def test_credit_code_shape(code: str) -> None:
    error = credit_code_error(code)
    assert error is not None
    assert "18" in error
    assert "I, O, S, V, Z" in error


def test_permanent_residence_id_2023_card_carries_the_gb11643_check() -> None:
    body = "93115619860101001"
    good = body + gb11643_check(body)
    assert permanent_residence_id_error(good) is None
    wrong = body + ("0" if good[-1] != "0" else "1")
    error = permanent_residence_id_error(wrong)
    assert error is not None
    assert "校验位" in error
    assert "check character" in error
    assert permanent_residence_id_error("USA330000123456") is None  # the older card
    assert permanent_residence_id_error("US3300001234567") is not None
    assert permanent_residence_id_error("83115619860101001X") is not None


def test_document_shapes() -> None:
    assert passport_error("E12345678") is None
    assert passport_error("E1234") is None
    assert passport_error("E123") is not None
    assert passport_error("E12345678-") is not None
    assert passport_error("Ｅ12345678") is not None  # full-width: not what the passport says
    assert hk_macau_permit_error("H12345678") is None
    assert hk_macau_permit_error("M1234567890") is None
    assert hk_macau_permit_error("H123456789") is not None
    assert hk_macau_permit_error("K12345678") is not None
    assert taiwan_permit_error("12345678") is None
    assert taiwan_permit_error("1234567") is not None


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("passport", "E12345678", "E1****678"),
        ("credit_code", "91330100MA27XXXXXX", "9133****XXXX"),
        ("permit", "H12345678", "H1****78"),
        ("permit", "12345678", "12****78"),
        ("permanent_residence_id", "931156198601010018", "931156********0018"),
        ("permanent_residence_id", "USA330000123456", "USA****3456"),
    ],
)
def test_each_kind_has_its_own_mask(kind: MaskKind, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_documents_are_indexed_as_written_on_them() -> None:
    assert normalise("passport", " e1234 5678 ") == "E12345678"
    assert normalise("credit_code", "9144030071526726xg") == "9144030071526726XG"


def _person(**fields: object) -> PetitionerIn:
    return PetitionerIn.model_validate(fields)


def test_a_petitioner_gives_exactly_one_document_or_is_anonymous() -> None:
    assert _person(name="Smith", passport="e1234567", passport_country="usa").identity == (
        IdKind.PASSPORT,
        "USA:E1234567",
    )
    assert _person(anonymous=True).identity is None
    for fields in (
        {"name": "张三"},
        {
            "name": "张三",
            "passport": "E1234567",
            "passport_country": "USA",
            "taiwan_permit": "12345678",
        },
        {"name": "Smith", "passport": "E1234567"},
        {"name": "Smith", "passport": "E1234567", "passport_country": "XXX"},
        {"anonymous": True, "name": "张三"},
        {"anonymous": True, "taiwan_permit": "12345678"},
        {"passport": "E1234567", "passport_country": "USA"},
    ):
        with pytest.raises(ValidationError):
            _person(**fields)


def _command(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "channel": "visit",
        "received_at": "2026-11-04T09:00:00+08:00",
        "receiving_bureau": "330102",
        "receiving_officer": "王警官",
        "petitioners": [{"name": "某公司", "credit_code": KNOWN_CREDIT_CODES[0]}],
        "head_count": 6,
        "category": "SQ01",
        "sub_bureau": "330102",
        "summary": "反映问题",
    }
    return body | changes


def test_representatives_are_identified_at_most_five_and_counted() -> None:
    reps = [{"name": f"代表{n}", "taiwan_permit": f"1234567{n}"} for n in range(5)]
    assert (
        len(RegisterSubmission.model_validate(_command(representatives=reps)).representatives) == 5
    )
    six = [*reps, {"name": "代表5", "taiwan_permit": "12345675"}]
    with pytest.raises(ValidationError, match="representatives"):
        RegisterSubmission.model_validate(_command(representatives=six, head_count=20))
    with pytest.raises(ValidationError, match="head count"):
        RegisterSubmission.model_validate(_command(representatives=reps, head_count=5))
    with pytest.raises(ValidationError, match="identified"):
        RegisterSubmission.model_validate(_command(representatives=[{"anonymous": True}]))
    twice = [reps[0], reps[0]]
    with pytest.raises(ValidationError, match="twice"):
        RegisterSubmission.model_validate(_command(representatives=twice))
    mixed = [{"anonymous": True}, {"name": "张三", "taiwan_permit": "12345678"}]
    with pytest.raises(ValidationError, match="anonymous"):
        RegisterSubmission.model_validate(_command(petitioners=mixed))


def test_events_from_before_other_documents_still_load() -> None:
    old = PetitionerRecord.model_validate(
        {"subject_id": str(uuid4()), "name": "张*", "resident_id": "110105********002X"}
    )
    assert old.id_kind is IdKind.RESIDENT_ID
    assert old.identifier == "110105********002X"
    received = SubmissionReceived.model_validate(
        {
            "subject_id": str(uuid4()),
            "case_id": str(uuid4()),
            "submission_id": str(uuid4()),
            "channel": "visit",
            "received_at": "2026-11-04T09:00:00+08:00",
            "receiving_bureau": "330102",
            "receiving_officer": "王警官",
            "head_count": 1,
            "collective": False,
            "petitioner_subjects": [],
            "summary": "x",
            "requests": "",
            "preliminary_assessment": "undetermined",
            "is_repeat": False,
        }
    )
    assert received.representatives == ()


@pytest.mark.parametrize(
    ("record", "column"),
    [
        ({"resident_id": "110105********002X"}, "110105********002X"),
        (
            {"id_kind": "passport", "passport": "E1****678", "passport_country": "USA"},
            "护照(USA) E1****678",
        ),
        (
            {"id_kind": "credit_code", "credit_code": "9144****26XG"},
            "统一社会信用代码 9144****26XG",
        ),
        ({"id_kind": "anonymous", "name": None}, "匿名"),
    ],
)
def test_the_ledger_labels_each_kind_with_its_mask(record: dict[str, object], column: str) -> None:
    person = PetitionerRecord.model_validate({"subject_id": str(uuid4()), "name": "王*"} | record)
    assert ledger_identifier(person) == column
