"""Concurrent commands on one case, on real PostgreSQL: with the same expected_version exactly one
wins and the others get 409 with the current version; without one, each is decided again on
what the case has become, so nothing is lost and nothing is done twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from assignment.application.workflow import Workflow
from petitions.eventstore import EventStore

from tests.conftest import Clock, Token, sealing_store
from tests.integration.test_assignment_api import HANDLER, HEAD, register, stream
from tests.integration.test_assignment_sweep import CALENDAR, CONFIG

pytestmark = pytest.mark.integration

OFFICE = ("petition_office", "3301", "office-01")


async def post(
    http: httpx.AsyncClient,
    auth: Token,
    case_id: str,
    name: str,
    body: dict[str, Any],
    who: tuple[str, str, str] = OFFICE,
) -> httpx.Response:
    return await http.post(f"/api/v1/cases/{case_id}/{name}", json=body, headers=auth(*who))


def handler() -> tuple[str, str, str]:
    return (HANDLER["role"], HANDLER["bureau"], HANDLER["user"])


async def test_same_expected_version_exactly_one_wins(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await register(client, assignment, auth, 1)
    case_id, seen = case["case_id"], case["version"]
    accept, decline = await asyncio.gather(
        post(assignment, auth, case_id, "accept", {"expected_version": seen}),
        post(assignment, auth, case_id, "decline", {"expected_version": seen, "reason": "不受理"}),
    )
    statuses = sorted([accept.status_code, decline.status_code])
    assert statuses == [200, 409], (accept.text, decline.text)
    winner, loser = (accept, decline) if accept.status_code == 200 else (decline, accept)
    assert loser.json()["error"] == "stale_version"
    assert loser.json()["current_version"] == seen + 1
    assert winner.json()["case"]["version"] == seen + 1
    types = [e.event_type for e in await stream(store, case_id)]
    decisions = {"assignment.CaseAccepted", "assignment.AcceptanceDeclined"}
    assert len([t for t in types if t in decisions]) == 1
    assert len(types) == seen + 1


@pytest.mark.parametrize("racers", [2, 6])
async def test_many_racers_on_one_version(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    racers: int,
) -> None:
    case = await register(client, assignment, auth, 2)
    case_id = case["case_id"]
    await post(assignment, auth, case_id, "accept", {})
    seen = case["version"] + 1
    answers = await asyncio.gather(
        *(
            post(
                assignment,
                auth,
                case_id,
                "record_progress",
                {"expected_version": seen, "note": f"进展{i}"},
                handler(),
            )
            for i in range(racers)
        )
    )
    codes = Counter(a.status_code for a in answers)
    assert codes == {200: 1, 409: racers - 1}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json() | {"message": ""} == {
                "error": "stale_version",
                "message": "",
                "current_version": seen + 1,
            }
    recorded = [e for e in await stream(store, case_id) if e.event_type.endswith("Recorded")]
    assert len(recorded) == 1


async def test_without_expected_version_each_is_decided_on_the_newest_state(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    personal_store: EventStore,
) -> None:
    case = await register(client, assignment, auth, 3)
    case_id = case["case_id"]
    # Two offices accept at once: one accepts, the other is told the case is already handled.
    answers = await asyncio.gather(
        post(assignment, auth, case_id, "accept", {}),
        post(assignment, auth, case_id, "accept", {}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert (refused["error"], refused["state"]) == ("not_allowed_in_state", "handling")
    # Eight progress notes at once: all written, one after the other.
    notes = await asyncio.gather(
        *(
            post(assignment, auth, case_id, "record_progress", {"note": f"第{i}条"}, handler())
            for i in range(8)
        )
    )
    assert [a.status_code for a in notes] == [200] * 8, [a.text for a in notes]
    events = await stream(store, case_id)
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    # The notes are sealed (free text): opened with the key they were sealed under.
    opened = await personal_store.read_stream(f"case-{case_id}")
    assert sorted(
        e.data.note for e in opened if e.event_type.endswith("ProgressRecorded")
    ) == sorted(f"第{i}条" for i in range(8))
    assert sorted(a.json()["case"]["version"] for a in notes) == [
        e.version for e in events if e.event_type.endswith("ProgressRecorded")
    ]
    # The one extension, asked for twice at once: granted once.
    both = await asyncio.gather(
        *(
            post(
                assignment,
                auth,
                case_id,
                "grant_extension",
                {"days": 10 + i, "reason": "复杂"},
                (HEAD["role"], HEAD["bureau"], HEAD["user"]),
            )
            for i in range(2)
        )
    )
    assert sorted(a.status_code for a in both) == [200, 409]
    loser = next(a for a in both if a.status_code == 409).json()
    assert loser["error"] in {"extension_already_granted", "not_allowed_in_state"}
    grants = [e for e in await stream(store, case_id) if e.event_type.endswith("Granted")]
    assert len(grants) == 1


async def test_a_command_and_a_sweep_at_once(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    cases = [await register(client, assignment, auth, 4 + i) for i in range(4)]
    due = date.fromisoformat(cases[0]["acceptance_due"])
    sweeper = Workflow(
        sealing_store(pool), CONFIG, CALENDAR, event_id_key=b"concurrency tests' key", clock=clock
    )
    sweeping = asyncio.ensure_future(sweeper.sweep(CALENDAR.working_days_before(due, 5)))
    answers = await asyncio.gather(
        *(
            post(assignment, auth, c["case_id"], "assign", {"unit": "330103", "reason": "属地"})
            for c in cases
        )
    )
    sweep = await sweeping
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    for case in cases:
        types = [e.event_type for e in await stream(store, case["case_id"])]
        assert types.count("assignment.CaseAssigned") == 2  # taken up, then reassigned
        assert types.count("assignment.DeadlineReminderSent") == 1
    assert sweep.events == 4
    # The row follows the case: the newest version, and the next day the sweep has work.
    rows = await pool.fetch("SELECT unit, version FROM assignment.cases ORDER BY case_id")
    assert {r["unit"] for r in rows} == {"330103"}
    for case in cases:
        events = await stream(store, case["case_id"])
        row = await pool.fetchrow(
            "SELECT version, next_check FROM assignment.cases WHERE case_id = $1",
            events[0].data.case_id,
        )
        assert row is not None
        assert row["version"] == events[-1].version
        assert row["next_check"] == CALENDAR.working_days_before(
            date.fromisoformat(case["acceptance_due"]), 1
        )
