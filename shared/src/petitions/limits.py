"""The length limits of what people type into the system, in one place, for every service.

Every text a command carries ends up in an event, and every event in one NATS message: a field
without a limit let a 1.5 MB event into the store that the relay could never publish, and every
bureau's events stopped behind it (issue 11). So every str and list a request model takes is one
of these types, and the limits show in each service's OpenAPI document (``maxLength``).

The tiers, in characters (a Chinese character is 3 bytes of UTF-8):

- :data:`Code` (32): a configuration code (bureau, unit, category); bureau codes are at most 32
  letters and digits, the longest any code in the configuration is.
- :data:`ShortText` (100): one line naming something: a person, an officer's id, a place, an
  organ, a document number. No Chinese name, official title or 文号 comes near 100.
- :data:`Text` (2,000): a reason, a note, an instruction, a legal basis; a page of Chinese.
- :data:`LongText` (10,000): a summary of a petition, its requests, a plan, a report; the
  written report to the People's Congress, the longest text a case carries, is a few pages.

Registration, the biggest command, then carries at most about 100 kB of UTF-8 (sealed personal
fields grow by a third in base64), far below the event size the store accepts
(``CommonSettings.max_event_bytes``), which itself stays below NATS's 1 MiB message limit.

Control characters are refused in all of them: openpyxl cannot write them to a workbook (a BEL
in one note made the whole bureau's ledger.xlsx fail), PostgreSQL text cannot hold NUL, and no
keyboard types them. Multi-line texts keep tab and line breaks; one-line texts allow none.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

CODE_MAX = 32
SHORT_MAX = 100
TEXT_MAX = 2_000
LONG_MAX = 10_000

MAX_OFFSET = 1_000_000
"""The furthest any list may be paged. Far beyond any bureau's case count, and far below the
bigint PostgreSQL takes for OFFSET: an offset past int64 was a 500."""

# C0 controls and DEL. Tab, line feed and carriage return are text in a note; nothing else is.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _refuse(pattern: re.Pattern[str], allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise ValueError(
                f"含有不允许的控制字符 U+{ord(found.group()):04X}（位置 {found.start() + 1}）"
                f"{allowed} / contains the control character U+{ord(found.group()):04X} "
                f"(at character {found.start() + 1}), which no text may hold"
            )
        return value

    return AfterValidator(check)


_ONE_LINE = _refuse(_CONTROL_ONE_LINE, "，此处只能填一行文字")
_MULTILINE = _refuse(_CONTROL_MULTILINE, "，只允许制表符和换行")

Code = Annotated[str, Field(max_length=CODE_MAX), _ONE_LINE]
"""A code from the bureau configuration (bureau, unit, department, category)."""

ShortText = Annotated[str, Field(max_length=SHORT_MAX), _ONE_LINE]
"""One line naming something: a person, an officer's id, a place, an organ, a document number."""

Text = Annotated[str, Field(max_length=TEXT_MAX), _MULTILINE]
"""A reason, a note, an instruction: up to a page; tab and line breaks allowed."""

LongText = Annotated[str, Field(max_length=LONG_MAX), _MULTILINE]
"""A summary, the requests, a plan, a report: a few pages; tab and line breaks allowed."""

__all__ = [
    "CODE_MAX",
    "LONG_MAX",
    "MAX_OFFSET",
    "SHORT_MAX",
    "TEXT_MAX",
    "Code",
    "LongText",
    "ShortText",
    "Text",
]
