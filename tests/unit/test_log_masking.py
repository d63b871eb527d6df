"""Personal data never reaches a log: the masking processor, and the configured pipeline."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from petitions.log import configure_logging, get_logger, mask_personal_data, mask_text

ID_18 = "11010519491231002X"
ID_18_DIGIT = "110101199003071234"
MOBILE = "13812345678"


@pytest.mark.parametrize(
    ("text", "secret", "masked"),
    [
        (f"身份证 {ID_18} 来访", ID_18, "110105********002X"),
        (f"id={ID_18_DIGIT}", ID_18_DIGIT, "110101********1234"),
        (f"电话{MOBILE}。", MOBILE, "138****5678"),
        ("phone +86 138-1234-5678", "1234", "+86 138****5678"),
        ("old id 110101900307123 here", "900307", "110101******123"),
        ("座机 0571-87654321", "87654321", "0571-****4321"),
    ],
)
def test_mask_text(text: str, secret: str, masked: str) -> None:
    out = mask_text(text)
    assert secret not in out
    assert masked in out


@pytest.mark.parametrize(
    "harmless",
    ["position 12345678901234567890", "case 3301-2026-000123", "amount 1000", "uuid 0f0e0d0c"],
)
def test_mask_text_leaves_other_numbers_alone(harmless: str) -> None:
    assert mask_text(harmless) == harmless


def test_processor_masks_nested_values() -> None:
    event = {
        "event": f"registered {ID_18}",
        "petitioner": {"phones": [MOBILE], "id": ID_18_DIGIT},
        "phone_as_int": int(MOBILE),
    }
    out = mask_personal_data(None, "info", event)
    text = json.dumps(out, ensure_ascii=False)
    for secret in (ID_18, ID_18_DIGIT, MOBILE):
        assert secret not in text


def test_configured_pipeline_masks_structlog_stdlib_and_exceptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="tests", fmt="json")
    try:
        structlog.contextvars.bind_contextvars(case_id="case-1", caller=MOBILE)
        get_logger("t").info("petitioner.seen", resident_id=ID_18, note=f"call {MOBILE}")
        logging.getLogger("plain").warning("stdlib line with %s", ID_18_DIGIT)
        try:
            raise ValueError(f"bad id {ID_18}")
        except ValueError:
            get_logger("t").exception("failed")
        out = capsys.readouterr().err
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == 3
        assert lines[0]["case_id"] == "case-1"
        assert lines[0]["service"] == "tests"
        for secret in (ID_18, ID_18_DIGIT, MOBILE):
            assert secret not in out
        assert "110105********002X" in out
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()


def test_row_values_postgresql_quotes_in_its_errors_are_withheld() -> None:
    """A refused row's values (a dead letter's payload, a note naming someone) reach the text of
    asyncpg's exception through DETAIL; the log keeps the message and drops the values."""
    error = (
        'new row for relation "dead_letters" violates check constraint "refuse_everything"\n'
        'DETAIL:  Failing row contains (7, 张三反映邻居噪音, {"note": "王五"}).\n'
        "HINT:  nothing"
    )
    masked = mask_text(error)
    assert "张三" not in masked
    assert "王五" not in masked
    assert "violates check constraint" in masked
    assert "HINT:  nothing" in masked
    unique = (
        'duplicate key value violates unique constraint "k"\n'
        "DETAIL:  Key (name)=(李四) already exists."
    )
    assert "李四" not in mask_text(unique)
    assert "Key (name)=" in mask_text(unique)


def test_row_values_over_several_lines_are_withheld_to_the_end_of_the_detail() -> None:
    """A refused dead letter's row holds the handler's error text, which may span lines: the
    values are withheld up to the HINT, not to the first line break; a traceback's next
    exception stays readable."""
    error = (
        'new row for relation "dead_letters" violates check constraint "c"\n'
        "DETAIL:  Failing row contains (7, ValueError: refused\n张三丰 举报邻居\nsecond line).\n"
        "HINT:  see the constraint"
    )
    masked = mask_text(error)
    assert "张三丰" not in masked
    assert "second line" not in masked
    assert masked.endswith("HINT:  see the constraint")
    chained = (
        "asyncpg.exceptions.CheckViolationError: new row violates check constraint\n"
        "DETAIL:  Failing row contains (7, 王五\nline two).\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "RuntimeError: giving up"
    )
    masked = mask_text(chained)
    assert "王五" not in masked
    assert "line two" not in masked
    assert masked.endswith("RuntimeError: giving up")
    assert "李四" not in mask_text("DETAIL:  Key (name)=(first\n李四) already exists.")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("护照 E12345678", "护照 E1****78"),
        ("passport EA1234567.", "passport EA****67."),
        ("回乡证 H12345678", "回乡证 H1****78"),
        ("permit M1234567890", "permit M1****90"),
        ("old card ABC123456789012", "old card ABC****012"),
        ("机构 9144030071526726XG", "机构 9144****26XG"),  # a published code, check valid
    ],
)
def test_the_other_identity_documents_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "officer P330102007",  # officers' ids are not passports
        "case 330102-2026-000009",
        "on 20261206 at 2026-12-06",  # Taiwan permits look like this: left to the event masks
        "token 91440300MA5G7PKX3L",  # 18 characters but a wrong check character
        "id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc",
    ],
)
def test_ordinary_tokens_are_not_taken_for_documents(text: str) -> None:
    assert mask_text(text) == text
