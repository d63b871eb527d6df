"""The turn of the year on real PostgreSQL and NATS (issue 10, item 3): a deadline computed on
the provisional 2027 file is marked in its event, the case view, the list and /health; installing
a changed 2027 file re-dates exactly the cases it affects, once each, through the sweep or the
``recompute-deadlines`` command, and the reminders follow the new dates.

Cases come the real way (intake, relay, NATS), registered by the import role so that their
explicit received_at may lie a few weeks back from the pinned clock."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from assignment.application.workflow import Workflow
from assignment.config import Settings as AssignmentSettings
from assignment.main import create_app as create_assignment
from assignment.main import recompute_deadlines
from petitions.bureaus import load_config, load_work_calendar
from petitions.eventstore import EventStore
from petitions.identity import DEV_ISSUER

from tests.conftest import TEST_EVENT_ID_KEY, TEST_KEK_B64, Clock, Servers, Token, sealing_store
from tests.integration.test_assignment_api import get, register, stream
from tests.integration.test_assignment_sweep import notices
from tests.support.assignment import Who, command

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "deploy/config"
IMPORTER: Who = {"role": "importer", "bureau": "3301", "user": "import-01"}
ADMIN: Who = {"role": "admin", "bureau": "3301", "user": "admin-01"}
# A fictional "official" 2027: 元旦 1/1-3 and 春节 1/28-2/3 (the demo guess has 1/1 and 2/5-8).
OFFICIAL_2027 = """year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知（测试用虚构 fictional, for the test）"

[[holidays]]
name = "元旦"
start = 2027-01-01
end = 2027-01-03

[[holidays]]
name = "春节"
start = 2027-01-28
end = 2027-02-03
"""


@pytest.fixture
def bureau_config(tmp_path: Path) -> Path:
    """The demo bureau configuration with a holiday folder of the test's own."""
    folder = tmp_path / "config"
    shutil.copytree(DEMO / "holidays", folder / "holidays")
    shutil.copy(DEMO / "bureaus.demo.toml", folder / "bureaus.toml")
    return folder / "bureaus.toml"


@pytest.fixture
def settings_2027(
    database_url: str, nats_url: str, servers: Servers, jwks_file: Path, bureau_config: Path
) -> AssignmentSettings:
    return AssignmentSettings(
        database_url=database_url,
        **servers.settings("assignment"),
        run_relay=True,
        run_sweep=False,
        kek=TEST_KEK_B64,
        event_id_key=base64.b64encode(TEST_EVENT_ID_KEY).decode(),
        oidc_issuer=DEV_ISSUER,
        jwks_file=jwks_file,
        bureau_config=bureau_config,
    )


@pytest.fixture
async def assignment_2027(
    settings_2027: AssignmentSettings, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_assignment(settings_2027, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as http:
            yield http


async def imported(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    n: int,
    received_at: str,
    accepted_at: str | None = None,
) -> dict[str, Any]:
    """A case received (and accepted) at the given local times, as the import role dates them."""
    case = await register(
        client,
        assignment,
        auth,
        n,
        registrar=("3301", "import-01"),
        role="importer",
        received_at=received_at,
    )
    if accepted_at is not None:
        done = await command(
            assignment, auth, case["case_id"], "accept", {"occurred_at": accepted_at}, **IMPORTER
        )
        case = done["case"]
    return case


async def recomputed(store: EventStore, case_id: str) -> list[Any]:
    return [
        e.data
        for e in await stream(store, case_id)
        if e.event_type == "assignment.DeadlinesRecomputed"
    ]


async def test_a_provisional_deadline_is_marked_end_to_end(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    case = await imported(client, assignment, auth, 1, "2026-12-01T10:00:00+08:00")
    # Acceptance by Wed 12/16/2026: no day of 2027 looked at, nothing marked.
    assert case["acceptance_due"] == "2026-12-16"
    assert case["provisional_deadlines"] == []
    done = await command(assignment, auth, case["case_id"], "accept", {})
    # 60 days from Tue 12/1/2026 = Sat 1/30/2027 -> Mon 2/1/2027 on the provisional 2027 file.
    assert done["case"]["handling_due"] == "2027-02-01"
    (mark,) = done["case"]["provisional_deadlines"]
    assert mark["deadline"] == "handling"
    assert mark["deadline_zh"] == "办理期限"
    assert mark["due"] == "2027-02-01"
    assert "2027 年节假日安排为暂定" in mark["reason_zh"]
    assert "the 2027 holiday arrangement is provisional" in mark["reason_en"]
    # The event says so, with the reason.
    (accepted,) = [
        e.data
        for e in await stream(store, case["case_id"])
        if e.event_type == "assignment.CaseAccepted"
    ]
    assert [str(d) for d in accepted.provisional_deadlines] == ["handling"]
    assert "国务院2027年节假日安排通知尚未发布" in accepted.calendar_note
    # The case view and the list.
    assert (await get(assignment, auth, case["case_id"]))["provisional_deadlines"] == [mark]
    listed = await assignment.get(
        "/api/v1/cases", headers=auth("petition_office", "3301", "office-01")
    )
    (row,) = [r for r in listed.json() if r["case_id"] == case["case_id"]]
    assert row["provisional_deadlines"] == ["handling"]
    # December, on the service's clock: /health warns.
    health = (await assignment.get("/health")).json()
    assert health["calendar"]["provisional_years"] == [2027]
    assert health["calendar"]["provisional_cases"] == 1
    assert "暂定" in health["calendar"]["warning"]
    assert "provisional" in health["calendar"]["warning"]


async def test_health_does_not_warn_before_november(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
) -> None:
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    case = await imported(client, assignment, auth, 2, "2026-12-01T10:00:00+08:00")
    await command(assignment, auth, case["case_id"], "accept", {})
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    assert "warning" in (await assignment.get("/health")).json()["calendar"]
    # The same case seen on an October day (the clock is the service's): no warning yet.
    clock.now = datetime(2026, 10, 31, 2, tzinfo=UTC)
    calendar = (await assignment.get("/health")).json()["calendar"]
    assert calendar["provisional_cases"] == 1
    assert "warning" not in calendar


async def test_installing_a_changed_year_file_re_dates_exactly_the_cases_it_affects(
    client: httpx.AsyncClient,
    assignment_2027: httpx.AsyncClient,
    settings_2027: AssignmentSettings,
    bureau_config: Path,
    auth: Token,
    clock: Clock,
    store: EventStore,
    pool: asyncpg.Pool,
) -> None:
    http = assignment_2027
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    # Moved: accepted Tue 12/1/2026, 60 days = Sat 1/30/2027 -> Mon 2/1 on the guess; in the
    # official 春节 1/28-2/3, so Thu 2/4.
    moved = await imported(
        client, http, auth, 1, "2026-12-01T09:00:00+08:00", "2026-12-01T09:30:00+08:00"
    )
    # Confirmed: accepted Thu 11/5/2026, 60 days = Mon 1/4/2027 on both files.
    confirmed = await imported(
        client, http, auth, 2, "2026-11-05T10:00:00+08:00", "2026-11-05T11:00:00+08:00"
    )
    # Untouched: accepted Tue 10/20/2026, 60 days = Sat 12/19 -> Mon 12/21/2026 (no reminder
    # due yet on 12/1: the sweep below writes nothing to it either).
    untouched = await imported(
        client, http, auth, 3, "2026-10-20T10:00:00+08:00", "2026-10-20T11:00:00+08:00"
    )
    assert moved["handling_due"] == "2027-02-01"
    assert [m["deadline"] for m in moved["provisional_deadlines"]] == ["handling"]
    assert confirmed["handling_due"] == "2027-01-04"
    assert [m["deadline"] for m in confirmed["provisional_deadlines"]] == ["handling"]
    assert untouched["handling_due"] == "2026-12-21"
    assert untouched["provisional_deadlines"] == []
    moved_id = UUID(moved["case_id"])
    check = "SELECT next_check FROM assignment.cases WHERE case_id = $1"
    # On the guess: 5 working days before Mon 2/1/2027 is Mon 1/25.
    assert await pool.fetchval(check, moved_id) == date(2027, 1, 25)
    versions = {c["case_id"]: len(await stream(store, c["case_id"])) for c in (moved, untouched)}

    # The official file is installed; the running service's next sweep notices it.
    holidays = bureau_config.parent / "holidays"
    (holidays / "2027.toml").write_text(OFFICIAL_2027, encoding="utf-8")
    sha = hashlib.sha256(OFFICIAL_2027.encode()).hexdigest()
    swept = await http.post("/api/v1/sweep", json={}, headers=auth(**ADMIN))
    assert swept.status_code == 200, swept.text

    (event,) = await recomputed(store, moved["case_id"])
    (change,) = event.changes
    assert str(change.deadline) == "handling"
    assert (change.old_due, change.new_due) == (date(2027, 2, 1), date(2027, 2, 4))
    assert (change.provisional_before, change.provisional_after) == (True, False)
    assert change.calendar_files == (f"2027.toml sha256:{sha}",)
    config = load_config(bureau_config)
    assert event.calendar_checksum == load_work_calendar(config).checksum
    (event,) = await recomputed(store, confirmed["case_id"])
    (change,) = event.changes
    assert (change.old_due, change.new_due) == (date(2027, 1, 4), date(2027, 1, 4))
    assert (change.provisional_before, change.provisional_after) == (True, False)
    assert await recomputed(store, untouched["case_id"]) == []
    assert len(await stream(store, untouched["case_id"])) == versions[untouched["case_id"]]

    after = await get(http, auth, moved["case_id"])
    assert after["handling_due"] == "2027-02-04"
    assert after["running_due"] == "2027-02-04"
    assert after["provisional_deadlines"] == []
    assert (await get(http, auth, confirmed["case_id"]))["provisional_deadlines"] == []

    # Once each: the command, and another sweep, find nothing more to do.
    assert (await recompute_deadlines(settings_2027, clock=clock)).cases == 0
    assert (await http.post("/api/v1/sweep", json={}, headers=auth(**ADMIN))).status_code == 200
    assert len(await recomputed(store, moved["case_id"])) == 1
    assert len(await recomputed(store, confirmed["case_id"])) == 1
    assert len(await stream(store, moved["case_id"])) == versions[moved["case_id"]] + 1

    # The reminders follow: officially 1/28-2/3 are off, so 5 working days before Thu 2/4 is
    # Thu 1/21 (not 1/25), and the reminder names the new date.
    assert await pool.fetchval(check, moved_id) == date(2027, 1, 21)
    official = Workflow(
        sealing_store(pool),
        config,
        load_work_calendar(config),
        event_id_key=TEST_EVENT_ID_KEY,
        clock=clock,
    )
    await official.sweep(date(2027, 1, 21))
    assert await notices(store, moved["case_id"]) == [("handling", "2027-02-04", 5)]


async def test_the_command_re_dates_too_and_a_second_run_appends_nothing(
    client: httpx.AsyncClient,
    assignment_2027: httpx.AsyncClient,
    settings_2027: AssignmentSettings,
    bureau_config: Path,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)
    moved = await imported(
        client, assignment_2027, auth, 1, "2026-12-01T09:00:00+08:00", "2026-12-01T09:30:00+08:00"
    )
    # Nothing changed yet: the command re-dates nothing.
    assert (await recompute_deadlines(settings_2027, clock=clock)).cases == 0
    (bureau_config.parent / "holidays" / "2027.toml").write_text(OFFICIAL_2027, encoding="utf-8")
    assert (await recompute_deadlines(settings_2027, clock=clock)).cases == 1
    assert (await recompute_deadlines(settings_2027, clock=clock)).cases == 0
    (event,) = await recomputed(store, moved["case_id"])
    assert event.changes[0].new_due == date(2027, 2, 4)
    # The 2027 file removed altogether: weekends only, provisional again ("not configured").
    (bureau_config.parent / "holidays" / "2027.toml").unlink()
    assert (await recompute_deadlines(settings_2027, clock=clock)).cases == 1
    latest = (await recomputed(store, moved["case_id"]))[-1]
    (change,) = latest.changes
    # Sat 1/30/2027 -> Mon 2/1 on weekends alone.
    assert (change.old_due, change.new_due) == (date(2027, 2, 4), date(2027, 2, 1))
    assert change.provisional_after
    assert change.calendar_files == ("2027.toml 未配置 not configured",)
    assert "未配置" in latest.calendar_note
    view = await get(assignment_2027, auth, moved["case_id"])
    assert [m["deadline"] for m in view["provisional_deadlines"]] == ["handling"]
    assert "2027 年节假日安排未配置" in view["provisional_deadlines"][0]["reason_zh"]
