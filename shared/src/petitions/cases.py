"""Case references: people (the ledger, audit, the phone) use a case's number
(``330102-2026-000009``), services its id; every case endpoint takes either.

The number is found where it was first written, the case's ``intake.CaseRegistered`` event, so
a case is found by number the moment it is registered, before any read model has caught up.
"""

from __future__ import annotations

import re
from typing import Final
from uuid import UUID

import asyncpg

CASE_NUMBER: Final = re.compile(r"[0-9A-Za-z]{1,32}-[0-9]{4}-[0-9]{6}")
"""Receiving bureau, year of receipt, six-digit serial: ``330102-2026-000009``."""

# Served by an expression index (intake's and assignment's migrations create it): a case number
# is looked up on every request that names one.
_BY_NUMBER: Final = """
    SELECT stream_id FROM eventstore.events
    WHERE event_type = 'intake.CaseRegistered' AND data->>'case_number' = $1
    ORDER BY position LIMIT 1
"""


def parse_case_ref(ref: str) -> UUID | str | None:
    """A case id, a case number, or None when ``ref`` is neither (so it names no case)."""
    ref = ref.strip()
    if CASE_NUMBER.fullmatch(ref):
        return ref
    try:
        return UUID(ref)
    except ValueError:
        return None


async def case_id_for_number(
    db: asyncpg.Pool | asyncpg.Connection, case_number: str
) -> UUID | None:
    """The id of the case registered under ``case_number``, or None."""
    stream_id = await db.fetchval(_BY_NUMBER, case_number)
    return None if stream_id is None else UUID(str(stream_id).removeprefix("case-"))


async def resolve_case_ref(db: asyncpg.Pool | asyncpg.Connection, ref: str) -> UUID | None:
    """The case id ``ref`` names (an id is returned as it is, existing or not), or None."""
    parsed = parse_case_ref(ref)
    if parsed is None or isinstance(parsed, UUID):
        return parsed
    return await case_id_for_number(db, parsed)
