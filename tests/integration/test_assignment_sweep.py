"""The deadline sweep on real PostgreSQL: reminders at 5 and 1 working days before each deadline
and supervision once it is missed, each raised exactly once, even when a sweep stops half-way
and a restarted process (a second ``Workflow`` on the same database) sweeps again, or when two
processes sweep at once. Time is the test's: the sweep is given its day, or the app's clock."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from assignment.application.workflow import Workflow
from assignment.domain.case import notice_event_id
from assignment.domain.commands import Accept
from petitions.bureaus import (
    BureauConfig,
    WorkCalendar,
    load_config,
    load_holiday_year,
    load_work_calendar,
)
from petitions.eventstore import EventStore
from petitions.identity import Principal, Role
from petitions.messages.assignment import DatedDeadline

from tests.conftest import TEST_EVENT_ID_KEY, Clock, Token, sealing_store
from tests.integration.test_assignment_api import HANDLER, SHANGHAI, register, stream
from tests.support.assignment import command

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIG: BureauConfig = load_config(ROOT / "deploy/config/bureaus.demo.toml")
CALENDAR: WorkCalendar = load_work_calendar(CONFIG)
EVENT_ID_KEY = TEST_EVENT_ID_KEY
NOTICES = ("assignment.DeadlineReminderSent", "assignment.SupervisionRaised")


def process(pool: asyncpg.Pool, clock: Clock) -> Workflow:
    """A fresh assignment process on the same database (its own store, its own caches)."""
    return Workflow(sealing_store(pool), CONFIG, CALENDAR, event_id_key=EVENT_ID_KEY, clock=clock)


def stages(due: date) -> list[tuple[date, int]]:
    """The days the sweep has something to raise for a deadline: 5 and 1 working days before,
    and the day after it (0: supervision)."""
    return [
        (CALENDAR.working_days_before(due, 5), 5),
        (CALENDAR.working_days_before(due, 1), 1),
        (due + timedelta(days=1), 0),
    ]


async def notices(store: EventStore, case_id: str) -> list[tuple[str, str, int]]:
    """(deadline, due, working days left; 0 = supervision) of every notice on the case."""
    found = []
    for event in await stream(store, case_id):
        if event.event_type in NOTICES:
            left = getattr(event.data, "working_days_left", 0)
            found.append((str(event.data.deadline), event.data.due.isoformat(), left))
            assert event.event_id == notice_event_id(
                EVENT_ID_KEY, UUID(case_id), str(event.data.deadline), event.data.due, left
            )
            assert event.actor == "deadline-sweep"
    return found


async def open_cases(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, count: int, first: int
) -> list[dict[str, Any]]:
    return [await register(client, assignment, auth, first + i) for i in range(count)]


async def test_a_sweep_stopped_half_way_and_run_again_raises_each_notice_once(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    waiting = await open_cases(client, assignment, auth, 4, 1)
    handled = await open_cases(client, assignment, auth, 2, 5)
    for case in handled:
        case.update((await command(assignment, auth, case["case_id"], "accept", {}))["case"])
    days: dict[date, int] = {}
    for case in waiting:
        for day, _ in stages(date.fromisoformat(case["acceptance_due"])):
            days[day] = days.get(day, 0) + 1

    for day, due_cases in sorted(days.items()):
        # The first process stops after two cases (as if killed there) ...
        first = await process(pool, clock).sweep(day, limit=2)
        assert (first.cases, first.events) == (2, 2)
        # ... a restarted process sweeps again and raises the rest, and only the rest ...
        second = await process(pool, clock).sweep(day)
        assert second.events == due_cases - 2
        # ... and one more full sweep that day finds nothing left to raise.
        again = await process(pool, clock).sweep(day)
        assert again.events == 0
        assert again.cases == 0  # and no case left due that day

    for case in waiting:
        due = case["acceptance_due"]
        assert sorted(await notices(store, case["case_id"])) == [
            ("acceptance", due, 0),
            ("acceptance", due, 1),
            ("acceptance", due, 5),
        ]
    for case in handled:
        # Accepted before any acceptance notice was due: the handling clock runs instead.
        assert await notices(store, case["case_id"]) == []

    # The handling deadline's reminder, swept one case at a time by two processes.
    due = date.fromisoformat(handled[0]["handling_due"])
    five = CALENDAR.working_days_before(due, 5)
    assert (await process(pool, clock).sweep(five, limit=1)).events == 1
    assert (await process(pool, clock).sweep(five, limit=1)).events == 1
    assert (await process(pool, clock).sweep(five)).events == 0
    for case in handled:
        assert await notices(store, case["case_id"]) == [("handling", case["handling_due"], 5)]


async def test_a_lost_row_update_does_not_raise_anything_twice(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    cases = await open_cases(client, assignment, auth, 3, 1)
    due = date.fromisoformat(cases[0]["acceptance_due"])
    late = due + timedelta(days=1)
    assert (await process(pool, clock).sweep(late)).events == 3
    # Crash recovery from an old copy of the table, or a row written before the events it
    # follows from: the sweep's bookkeeping says every case is due again.
    await pool.execute("UPDATE assignment.cases SET next_check = $1", due - timedelta(days=20))
    again = await process(pool, clock).sweep(late)
    assert (again.cases, again.events) == (3, 0)  # looked at, nothing raised again
    rows = await pool.fetch("SELECT next_check FROM assignment.cases")
    assert [r["next_check"] for r in rows] == [None, None, None]  # repaired from the events
    for case in cases:
        assert await notices(store, case["case_id"]) == [("acceptance", case["acceptance_due"], 0)]


async def test_two_processes_sweeping_at_once_raise_each_notice_once(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    cases = await open_cases(client, assignment, auth, 5, 1)
    for day, left in stages(date.fromisoformat(cases[0]["acceptance_due"])):
        results = await asyncio.gather(
            process(pool, clock).sweep(day),
            process(pool, clock).sweep(day),
            process(pool, clock).sweep(day),
        )
        # Each notice is counted by the process that wrote it, and by no other.
        assert sum(r.events for r in results) == len(cases)
        for case in cases:
            raised = [n for n in await notices(store, case["case_id"]) if n[2] == left]
            assert len(raised) == 1, (day, left, raised)
    for case in cases:
        assert len(await notices(store, case["case_id"])) == 3


async def test_the_service_sweeps_on_its_clock(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    case = await register(client, assignment, auth, 1)
    admin = auth("admin", "3301", "admin-01")

    async def sweep_now() -> dict[str, Any]:
        response = await assignment.post("/api/v1/sweep", json={}, headers=admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert await sweep_now() == {"cases": 0, "events": 0}  # nothing due yet
    due = date.fromisoformat(case["acceptance_due"])
    for day, left in stages(due):
        local = clock.now.astimezone(SHANGHAI)
        clock.advance(days=(day - local.date()).days)
        assert await sweep_now() == {"cases": 1, "events": 1}, (day, left)
        assert await sweep_now() == {"cases": 0, "events": 0}
    supervision = [e for e in await stream(store, case["case_id"]) if e.event_type == NOTICES[1]]
    (raised,) = supervision
    assert (raised.data.unit, raised.data.officer) == ("330102", "王警官")
    assert raised.data.deadline == "acceptance"
    # The workflow's own sweep, with no day given, uses the same clock: nothing is left.
    assert (await assignment.post("/api/v1/sweep", json={}, headers=admin)).json()["events"] == 0


async def test_no_notices_for_closed_cases_and_a_handling_hearing_stops_no_clock(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    declined, hearing, replied = await open_cases(client, assignment, auth, 3, 1)
    await command(assignment, auth, declined["case_id"], "decline", {"reason": "不属于职责"})
    accepted = await command(assignment, auth, hearing["case_id"], "accept", {})
    due = date.fromisoformat(accepted["case"]["handling_due"])
    # Accepted on Wednesday 2026-11-04: 60 days end on Sunday 2027-01-03: due Monday 01-04.
    assert (accepted["case"]["accepted_on"], due) == ("2026-11-04", date(2027, 1, 4))
    await command(
        assignment, auth, hearing["case_id"], "start_hearing", {"reason": "听证"}, **HANDLER
    )
    await command(assignment, auth, replied["case_id"], "accept", {})
    await command(
        assignment, auth, replied["case_id"], "report_completion", {"summary": "办结"}, **HANDLER
    )
    await command(assignment, auth, replied["case_id"], "accept_completion", {})
    done = await command(
        assignment,
        auth,
        replied["case_id"],
        "reply",
        {"outcome": "support", "legal_basis": "依据", "summary": "支持"},
        **HANDLER,
    )
    assert done["case"]["running_deadline"] is None
    # Swept late, on 2027-01-05, the day after the deadline: the case still in its hearing is
    # supervised (Art. 34 has no pause); the closed and the replied ones get nothing.
    assert (await process(pool, clock).sweep(date(2027, 1, 5))).events == 1
    assert await notices(store, hearing["case_id"]) == [("handling", "2027-01-04", 0)]
    for case in (declined, replied):
        assert await notices(store, case["case_id"]) == []
    # Ending the hearing changes no deadline, so nothing new is due.
    clock.advance(days=2)
    ended = await command(assignment, auth, hearing["case_id"], "end_hearing", {}, **HANDLER)
    assert ended["case"]["handling_due"] == "2027-01-04"
    assert (await process(pool, clock).sweep(date(2027, 1, 6))).events == 0


# -- a year whose holiday file is missing ------------------------------------------------------


def calendar_without_this_year() -> WorkCalendar:
    """The calendar as it would be had nobody added this year's holiday file."""
    folder = ROOT / "deploy/config/holidays"
    return WorkCalendar([load_holiday_year(folder / f"{year}.toml") for year in (2024, 2025)])


async def test_a_missing_holiday_file_stops_no_sweep_and_no_command(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    pool: asyncpg.Pool,
    store: EventStore,
) -> None:
    cases = await open_cases(client, assignment, auth, 2, 1)
    this_year = date.fromisoformat(cases[0]["received_on"]).year
    assert this_year > 2025
    day = CALENDAR.working_days_before(date.fromisoformat(cases[0]["acceptance_due"]), 1)
    unconfigured = Workflow(
        sealing_store(pool),
        CONFIG,
        calendar_without_this_year(),
        event_id_key=EVENT_ID_KEY,
        clock=clock,
    )
    # The sweep goes on: the year is computed on weekends alone, its deadlines marked
    # provisional (one DeadlinesRecomputed per case), and what is due is raised.
    result = await unconfigured.sweep(day)
    assert result.cases == 2
    for case in cases:
        types = [e.event_type for e in await stream(store, case["case_id"])]
        assert "assignment.DeadlinesRecomputed" in types
    # A command is not refused for want of a calendar: its deadline is marked instead.
    office = Principal("office-01", Role.PETITION_OFFICE, "3301")
    done = await unconfigured.execute(UUID(cases[0]["case_id"]), Accept(), office)
    assert [str(k) for k in done.case.provisional_marks()] == ["acceptance", "handling"]
    assert done.case.provisional_now() == ["handling"]
    assert done.case.handling_due is not None
    due_year = done.case.handling_due.year
    assert f"{due_year} 年节假日安排未配置" in done.case.provisional_marks()[DatedDeadline.HANDLING]
