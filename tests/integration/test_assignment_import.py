"""Importing history case by case while the deadline sweep runs: an open import batch keeps the
sweep off the cases being imported, so it raises no notice the finished history would not; once
the batch is closed, the sweep judges them on their whole history. The tests' clock stands on
Wednesday 2026-11-04; the history is from March 2026."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from petitions.eventstore import EventStore

from tests.conftest import Token
from tests.integration.test_assignment_api import REPLY, register
from tests.integration.test_assignment_sweep import notices
from tests.support.assignment import Who, command

pytestmark = pytest.mark.integration

IMPORTER: Who = {"role": "importer", "bureau": "3301", "user": "importer-01"}


async def imported(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, n: int, received: str
) -> dict[str, Any]:
    return await register(
        client,
        assignment,
        auth,
        n,
        registrar=("3301", "importer-01"),
        role="importer",
        received_at=received,
    )


async def act(
    assignment: httpx.AsyncClient, auth: Token, case_id: str, name: str, day: str, **body: Any
) -> None:
    await command(
        assignment, auth, case_id, name, body | {"occurred_at": f"{day}T10:00:00+08:00"}, **IMPORTER
    )


async def sweep(assignment: httpx.AsyncClient, auth: Token) -> int:
    response = await assignment.post(
        "/api/v1/sweep", json={}, headers=auth("admin", "3301", "admin-01")
    )
    assert response.status_code == 200, response.text
    return int(response.json()["events"])


async def test_an_import_interleaved_with_sweeps_raises_only_what_the_history_would(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    opened = await assignment.post(
        "/api/v1/imports", json={"label": "2026年3月纸质台帐补录"}, headers=auth(**IMPORTER)
    )
    assert opened.status_code == 201, opened.text
    batch = opened.json()["batch_id"]
    assert opened.json()["open"] is True

    # Case A: received 2 March, accepted 5 March, replied 20 April (closed, nothing due).
    a = (await imported(client, assignment, auth, 1, "2026-03-02T09:00:00+08:00"))["case_id"]
    # Its acceptance deadline (17 March) looks long missed until the rest is imported.
    assert await sweep(assignment, auth) == 0
    await act(assignment, auth, a, "accept", "2026-03-05")
    assert await sweep(assignment, auth) == 0
    await act(assignment, auth, a, "report_completion", "2026-04-15", summary="已办结")
    # Case B: received 3 March, accepted 4 March, and never replied: overdue in the history too.
    b = (await imported(client, assignment, auth, 2, "2026-03-03T09:00:00+08:00"))["case_id"]
    assert await sweep(assignment, auth) == 0
    await act(assignment, auth, b, "accept", "2026-03-04")
    await act(assignment, auth, a, "accept_completion", "2026-04-16", note="同意")
    assert await sweep(assignment, auth) == 0
    await act(assignment, auth, a, "reply", "2026-04-20", **REPLY)
    assert await notices(store, a) == []
    assert await notices(store, b) == []

    closed = await assignment.post(f"/api/v1/imports/{batch}/close", headers=auth(**IMPORTER))
    assert closed.status_code == 200, closed.text
    assert closed.json()["open"] is False

    # Now the sweep judges both on their whole history: A was replied in time, B's handling
    # deadline (60 days from 4 March: 3 May, a Labour Day holiday, so 6 May) was missed.
    assert await sweep(assignment, auth) == 1
    assert await notices(store, a) == []
    assert await notices(store, b) == [("handling", "2026-05-06", 0)]


async def test_without_an_open_batch_imported_cases_are_swept_as_any_other(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    # The control: the same history imported with no batch open is judged at once (a case
    # received on 2 March and never decided has missed its acceptance deadline, 17 March).
    case = (await imported(client, assignment, auth, 3, "2026-03-02T09:00:00+08:00"))["case_id"]
    assert await sweep(assignment, auth) == 1
    assert await notices(store, case) == [("acceptance", "2026-03-17", 0)]


async def test_a_live_registration_is_not_held_by_an_open_batch(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    opened = await assignment.post(
        "/api/v1/imports", json={"label": "补录"}, headers=auth(**IMPORTER)
    )
    assert opened.status_code == 201
    # A letter received 20 days before the clock, registered at the desk today: live work, not
    # history, so its reminders come while an import runs elsewhere.
    live = await register(client, assignment, auth, 4, received_at="2026-10-15T09:00:00+08:00")
    assert live["acceptance_due"] == "2026-10-30"
    assert await sweep(assignment, auth) == 1
    assert await notices(store, live["case_id"]) == [("acceptance", "2026-10-30", 0)]


async def test_import_batches_are_for_the_import_role_and_closing_twice_is_harmless(
    assignment: httpx.AsyncClient, auth: Token
) -> None:
    refused = await assignment.post(
        "/api/v1/imports", json={"label": "x"}, headers=auth("petition_office", "3301", "o")
    )
    assert refused.status_code == 403
    empty = await assignment.post("/api/v1/imports", json={"label": ""}, headers=auth(**IMPORTER))
    assert empty.status_code == 422
    batch = (
        await assignment.post("/api/v1/imports", json={"label": "x"}, headers=auth(**IMPORTER))
    ).json()["batch_id"]
    listed = await assignment.get("/api/v1/imports?open_only=true", headers=auth(**IMPORTER))
    assert [b["batch_id"] for b in listed.json()] == [batch]
    for _ in range(2):
        closed = await assignment.post(f"/api/v1/imports/{batch}/close", headers=auth(**IMPORTER))
        assert closed.status_code == 200
    listed = await assignment.get("/api/v1/imports?open_only=true", headers=auth(**IMPORTER))
    assert listed.json() == []
    missing = await assignment.post(
        "/api/v1/imports/00000000-0000-0000-0000-000000000000/close", headers=auth(**IMPORTER)
    )
    assert missing.status_code == 404
