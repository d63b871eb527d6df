"""Issue 11, items 2 and 8 at assignment: every command's texts have a stated limit, integers are
bounded, a client's date outside the holiday calendar is the client's mistake (422, not 503);
nothing is written in any of these cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from petitions.eventstore import EventStore

from tests.conftest import Clock, Token
from tests.integration.test_assignment_api import get, refused, register
from tests.support.assignment import command
from tests.support.openapi import unbounded

pytestmark = pytest.mark.integration

OFFICE = {"role": "petition_office", "bureau": "3301", "user": "office-01"}
IMPORTER = {"role": "importer", "bureau": "3301", "user": "import-01"}
NO_CASE = "00000000-0000-4000-8000-000000000000"


async def test_every_command_text_and_list_states_its_limit_in_the_api_document(
    assignment: httpx.AsyncClient,
) -> None:
    document = (await assignment.get("/openapi.json")).json()
    assert unbounded(document) == []
    take_ownership = document["components"]["schemas"]["TakeOwnership"]["properties"]
    assert take_ownership["team"]["items"]["maxLength"] == 100


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("take_ownership", {"leader_id": "L01", "team": ["王", "专" * 101], "plan": "p"}, "team.1"),
        ("take_ownership", {"leader_id": "L01", "team": ["王"], "plan": "方" * 10_001}, "plan"),
        ("assign", {"unit": "330102", "officer": "警" * 101, "reason": "r"}, "officer"),
        ("assign", {"unit": "330102", "reason": "因" * 2001}, "reason"),
        ("record_progress", {"note": "进" * 10_001}, "note"),
        ("record_progress", {"note": "进展\u0007"}, "note"),
        (
            "reply",
            {"outcome": "explain", "legal_basis": "法" * 2001, "summary": "s"},
            "legal_basis",
        ),
        ("forward", {"organ": "机" * 101, "reason": "r"}, "organ"),
        ("congress_supervise", {"document_number": "文" * 101}, "document_number"),
        ("accept", {"expected_version": 2**63}, "expected_version"),
    ],
)
async def test_an_oversized_command_field_is_422_naming_it(
    assignment: httpx.AsyncClient,
    auth: Token,
    store: EventStore,
    name: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await assignment.post(
        f"/api/v1/cases/{NO_CASE}/{name}", json=body, headers=auth(**OFFICE)
    )

    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [field]
    assert await store.read_all_raw() == []


async def test_integer_query_parameters_are_bounded(
    assignment: httpx.AsyncClient, auth: Token
) -> None:
    for params in ({"offset": str(2**63)}, {"offset": "1000001"}, {"limit": "1001"}):
        response = await assignment.get("/api/v1/cases", params=params, headers=auth(**OFFICE))
        assert response.status_code == 422, response.text
        assert "过大" in response.text
        assert "too large" in response.text
    fine = await assignment.get(
        "/api/v1/cases", params={"offset": "1000000"}, headers=auth(**OFFICE)
    )
    assert (fine.status_code, fine.json()) == (200, [])


async def test_a_client_date_outside_the_holiday_calendar_is_422_not_503(
    client: httpx.AsyncClient,
    assignment: httpx.AsyncClient,
    auth: Token,
    clock: Clock,
    store: EventStore,
) -> None:
    clock.now = datetime(2026, 11, 4, 2, tzinfo=UTC)
    case = await register(
        client,
        assignment,
        auth,
        21,
        registrar=("3301", "import-01"),
        role="importer",
        received_at="2026-11-03T10:00:00+08:00",
    )
    case_id = case["case_id"]
    written = len(await store.read_all_raw())

    # The demo configuration has the holiday files of 2024-2026 only.
    for body in (
        {"document_number": "人大督字〔2026〕1号", "report_due": "2031-06-30"},
        {"document_number": "人大督字〔2026〕1号", "report_due": "0001-01-01"},
        {"document_number": "人大督字〔2026〕1号", "report_due": "9999-12-31"},
    ):
        error = await refused(assignment, auth, case_id, "congress_supervise", body, status=422)
        assert error["error"] == "date_not_in_calendar", error
        assert "report_due" in error["message"]
    for occurred_at in ("2019-11-04T10:00:00+08:00", "0001-01-01T00:00:00+08:00"):
        error = await refused(
            assignment,
            auth,
            case_id,
            "accept",
            {"occurred_at": occurred_at},
            status=422,
            who={"role": "importer", "bureau": "3301", "user": "import-01"},
        )
        assert error["error"] == "date_not_in_calendar", error
        assert "occurred_at" in error["message"]
    assert len(await store.read_all_raw()) == written

    # A date the calendar covers is taken.
    done = await command(
        assignment,
        auth,
        case_id,
        "congress_supervise",
        {"document_number": "人大督字〔2026〕1号", "report_due": "2026-12-15"},
    )
    assert done["events"] == ["assignment.CongressSupervisionStarted"]
    assert (await get(assignment, auth, case_id))["congress"] is True
