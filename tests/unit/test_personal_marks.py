"""Personal-data marks, plans and masks (pure logic)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from petitions.messages import Event
from petitions.personal import Name, PersonalText, Phone, PlanError, SubjectId, plan_for
from petitions.personal.blind_index import normalise
from petitions.personal.codec import walk
from petitions.personal.masking import (
    mask_address,
    mask_free_text,
    mask_name,
    mask_phone,
    mask_resident_id,
)
from pydantic import BaseModel

from tests.support.events import NoteAdded, PetitionFiled


def test_plan_finds_nested_and_listed_personal_fields() -> None:
    zhang, li = uuid.uuid4(), uuid.uuid4()
    data = {
        "subject_id": str(zhang),
        "summary": "s",
        "category": "c",
        "petitioners": [
            {
                "subject_id": str(zhang),
                "name": "张三",
                "resident_id": "x",
                "phone": None,
                "address": None,
            },
            {
                "subject_id": str(li),
                "name": "李四",
                "resident_id": "y",
                "phone": "1",
                "address": None,
            },
        ],
    }
    spots = {
        (s.container.get("name", "event"), s.key, s.subject, s.marker.mask)
        for s in walk(plan_for(PetitionFiled), data)
    }
    assert spots == {
        ("张三", "name", zhang, "name"),
        ("张三", "resident_id", zhang, "resident_id"),
        ("李四", "name", li, "name"),
        ("李四", "resident_id", li, "resident_id"),
        ("李四", "phone", li, "phone"),
        ("event", "summary", zhang, "text"),
    }
    assert plan_for(NoteAdded).empty


def test_a_personal_field_without_a_subject_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(PlanError, match=r"Orphan.note .*no data subject"):

        class Orphan(Event, type="test.Orphan"):
            note: PersonalText


def test_a_nested_model_inherits_its_parents_subject() -> None:
    class Contact(BaseModel):
        phone: Phone

    class Called(Event, type="test.Called"):
        subject_id: SubjectId
        contact: Contact | None = None
        names: tuple[Name, ...] = ()

    subject = uuid.uuid4()
    data = {"subject_id": str(subject), "contact": {"phone": "1"}, "names": ["a", "b"]}
    assert {(s.key, s.container[s.key]) for s in walk(plan_for(Called), data)} == {
        ("phone", "1"),
        (0, "a"),
        (1, "b"),
    }
    assert (
        list(walk(plan_for(Called), {"subject_id": str(subject), "contact": None, "names": []}))
        == []
    )


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        (mask_name, "张三", "张*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_resident_id, "11010519491231002X", "110105********002X"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+86 138-1234-5678", "138****5678"),
        (mask_phone, "0571-87654321", "********4321"),
        (mask_address, "浙江省杭州市西湖区文三路100号", "浙江省杭州市****"),
        (mask_free_text, "反映问题", "〔4 字 characters, 已加密 encrypted〕"),
    ],
)
def test_masks(mask: Callable[[str], str], value: str, shown: str) -> None:
    assert mask(value) == shown


def test_blind_index_normalises_before_hashing() -> None:
    assert normalise("resident_id", " 11010519491231002x ") == "11010519491231002X"
    assert normalise("phone", "+86 138-1234-5678") == "13812345678"
