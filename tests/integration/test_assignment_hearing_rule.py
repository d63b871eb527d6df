"""The corrected hearing rule on real PostgreSQL and NATS (issue 15): a case stored under the
former rule, whose handling deadline a hearing lengthened, is re-dated by one
``DeadlinesRecomputed`` naming the rule, once, by the sweep (a calendar already recomputed
under rules 1 is recomputed again under rules 2) or by ``recompute-deadlines``; a case the rule
does not touch gets nothing."""

from __future__ import annotations

from datetime import date

import asyncpg
import httpx
import pytest
from assignment.domain.case import DEADLINE_RULES_VERSION, HEARING_RULE_NOTE
from petitions.eventstore import EventStore, Metadata, NewEvent
from petitions.messages.assignment import DeadlineKind, HearingEnded

from tests.conftest import Clock, Token
from tests.integration.test_assignment_api import HANDLER, get, register, stream
from tests.integration.test_assignment_sweep import CALENDAR, process
from tests.support.assignment import command

pytestmark = pytest.mark.integration


async def test_a_handling_deadline_a_hearing_lengthened_is_re_dated_once(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
    pool: asyncpg.Pool,
    database_url: str,
) -> None:
    # Both accepted on Wednesday 2026-11-04 (the pinned day): 60 days end on Sunday
    # 2027-01-03, due Monday 2027-01-04.
    old, plain = [await register(client, assignment, auth, n) for n in (1, 2)]
    for case in (old, plain):
        accepted = await command(assignment, auth, case["case_id"], "accept", {})
        assert accepted["case"]["handling_due"] == "2027-01-04"
    await command(assignment, auth, old["case_id"], "start_hearing", {"reason": "听证"}, **HANDLER)
    # The hearing ended as the former rule recorded it: 11/04 to 11/11, 7 days added to the
    # period, 2027-01-10 (a Sunday) moved to Monday 2027-01-11.
    version = len(await stream(store, old["case_id"]))
    former = HearingEnded(
        case_id=old["case_id"],
        ended_on=date(2026, 11, 11),
        paused_days=7,
        deadline=DeadlineKind.HANDLING,
        due=date(2027, 1, 11),
    )
    await store.append(
        f"case-{old['case_id']}",
        [NewEvent(former, bureau="330102")],
        version,
        metadata=Metadata(actor="王警官", service="assignment"),
    )
    assert (await get(assignment, auth, old["case_id"]))["handling_due"] == "2027-01-11"
    # The deployment had recomputed this calendar under the former rules only (the service
    # role may not delete: the owner's connection stages it).
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("DELETE FROM assignment.calendar_recomputations")
        await owner.execute(
            "INSERT INTO assignment.calendar_recomputations "
            "(checksum, files, cases, rules_version) VALUES ($1, '', 0, 1)",
            CALENDAR.checksum,
        )
    finally:
        await owner.close()

    await process(pool, clock).sweep(date(2026, 11, 12))
    (event,) = [
        e.data
        for e in await stream(store, old["case_id"])
        if e.event_type == "assignment.DeadlinesRecomputed"
    ]
    (change,) = event.changes
    assert (str(change.deadline), change.old_due, change.new_due) == (
        "handling",
        date(2027, 1, 11),
        date(2027, 1, 4),
    )
    assert (event.rules_version, event.rule_note) == (DEADLINE_RULES_VERSION, HEARING_RULE_NOTE)
    shown = await get(assignment, auth, old["case_id"])
    assert (shown["state"], shown["handling_due"]) == ("handling", "2027-01-04")
    assert await pool.fetchval(
        "SELECT due FROM assignment.cases WHERE case_id = $1", shown["case_id"]
    ) == date(2027, 1, 4)
    assert not [e for e in await stream(store, plain["case_id"]) if "Recomputed" in e.event_type]
    recorded = await pool.fetch(
        "SELECT rules_version FROM assignment.calendar_recomputations WHERE checksum = $1 "
        "ORDER BY rules_version",
        CALENDAR.checksum,
    )
    assert [r["rules_version"] for r in recorded] == [1, DEADLINE_RULES_VERSION]

    # Once: the next sweep and an explicit recomputation find nothing more.
    before = len(await stream(store, old["case_id"]))
    await process(pool, clock).sweep(date(2026, 11, 13))
    assert (await process(pool, clock).recompute_deadlines()).cases == 0
    assert len(await stream(store, old["case_id"])) == before
