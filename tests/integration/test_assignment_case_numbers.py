"""People address cases by number (issue 13, part 2) and read names beside codes (part 3):
assignment's case view and every command take the case number as well as the id, an unknown
number is 404 and writes nothing, and the view and the lists carry the configured Chinese names
of the bureau, sub-bureau, unit, category, state and leader."""

from __future__ import annotations

import httpx
import pytest
from petitions.eventstore import EventStore

from tests.conftest import Token
from tests.integration.test_assignment_api import LEADER, OFFICE, event_types, register
from tests.support.assignment import command

pytestmark = pytest.mark.integration


async def test_the_case_view_and_commands_take_the_case_number(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await register(client, assignment, auth, 1)
    number = case["case_number"]

    by_number = await assignment.get(f"/api/v1/cases/{number}", headers=auth(**OFFICE))
    assert by_number.status_code == 200, by_number.text
    assert by_number.json()["case_id"] == case["case_id"]

    done = await command(assignment, auth, number, "accept", **OFFICE)
    assert done["events"] == ["assignment.CaseAccepted"]
    assert done["case"]["case_id"] == case["case_id"]
    assert (await event_types(store, case["case_id"]))[-1] == "assignment.CaseAccepted"


async def test_an_unknown_number_is_404_and_writes_nothing(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await register(client, assignment, auth, 1)
    before = await event_types(store, case["case_id"])
    for ref in ["330102-2026-999999", "330102-2026-00000x", "no-such-case"]:
        view = await assignment.get(f"/api/v1/cases/{ref}", headers=auth(**OFFICE))
        assert view.status_code == 404, (ref, view.text)
        assert "案件不存在" in view.json()["message"]
        answer = await command(assignment, auth, ref, "accept", status=404, **OFFICE)
        assert answer["error"] == "case_not_found"
    assert await event_types(store, case["case_id"]) == before
    # A number out of the caller's scope is as unknown as one that does not exist.
    elsewhere = {"role": "petition_office", "bureau": "330103", "user": "office-330103"}
    hidden = await assignment.get(f"/api/v1/cases/{case['case_number']}", headers=auth(**elsewhere))
    assert hidden.status_code == 404, hidden.text


async def test_the_view_and_the_lists_carry_names_beside_codes(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case = await register(client, assignment, auth, 1)
    assert case["bureau_name"] == "江城分局"
    assert case["sub_bureau_name"] == "江城分局"
    assert case["category_name"] == "治安管理"
    assert case["category_kind_name"] == "申诉求决"
    assert case["unit_name"] == "江城分局"
    assert case["state_label"].startswith("待受理")
    assert case["running_deadline_name"] == "受理告知"
    assert case["leader_name"] is None

    owned = await command(
        assignment,
        auth,
        case["case_number"],
        "take_ownership",
        {"leader_id": "L03", "team": ["信访科", "江城分局"], "plan": "包案化解"},
        **LEADER,
    )
    assert owned["case"]["leader_id"] == "L03"
    assert owned["case"]["leader_name"] == "林振华"

    listed = await assignment.get("/api/v1/cases", headers=auth(**OFFICE))
    assert listed.status_code == 200, listed.text
    (row,) = [r for r in listed.json() if r["case_id"] == case["case_id"]]
    assert (row["bureau"], row["bureau_name"]) == ("330102", "江城分局")
    assert (row["category"], row["category_name"]) == ("SQ01", "治安管理")
    assert (row["unit"], row["unit_name"]) == ("330102", "江城分局")
    assert (row["leader_id"], row["leader_name"]) == ("L03", "林振华")
    assert row["state_label"].startswith("待受理")
    assert row["deadline_name"] == "受理告知"
    leader_owned = await assignment.get("/api/v1/cases/leader-owned", headers=auth(**OFFICE))
    assert [r["leader_name"] for r in leader_owned.json()] == ["林振华"]
