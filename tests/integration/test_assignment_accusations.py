"""Accusations (检举控告, Art. 30) on real PostgreSQL and NATS: never assigned to, nor visible to,
the unit or the person accused — not in the case view, not in the lists, not through commands
(404, as if the case did not exist), not by reassignment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from petitions.eventstore import EventStore
from petitions.identity import LocalIssuer

from tests.conftest import Token
from tests.integration.test_assignment_api import register, stream
from tests.support.assignment import command

pytestmark = pytest.mark.integration

ACCUSED_HEAD = ("sub_bureau_head", "330103", "head-330103")
ACCUSED_OFFICER = ("handler", "330102", "赵警官")
OFFICE = ("petition_office", "3301", "office-01")


async def sees(
    http: httpx.AsyncClient, auth: Token, who: tuple[str, str, str], case_id: str
) -> bool:
    response = await http.get(f"/api/v1/cases/{case_id}", headers=auth(*who))
    assert response.status_code in (200, 404), response.text
    listed = await http.get("/api/v1/cases", headers=auth(*who))
    assert listed.status_code == 200, listed.text
    in_list = case_id in {row["case_id"] for row in listed.json()}
    assert in_list == (response.status_code == 200), "the list and the case view agree"
    return response.status_code == 200


async def accusation(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, n: int, **changes: Any
) -> dict[str, Any]:
    return await register(client, assignment, auth, n, **{"category": "JK01", **changes})


async def test_the_accused_officer_never_sees_the_accusation(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    case = await accusation(client, assignment, auth, 1, accused_officers=["赵警官"])
    case_id = case["case_id"]
    assert case["category_kind"] == "accusation"
    assert case["unit"] == "jijian"  # the routing rule: 民警违纪违法 -> 纪检监察室
    colleague = ("handler", "330102", "钱警官")
    assert await sees(assignment, auth, colleague, case_id)
    assert await sees(assignment, auth, OFFICE, case_id)
    assert not await sees(assignment, auth, ACCUSED_OFFICER, case_id)
    # Not at any bureau, in any role: it is the person who is accused.
    assert not await sees(assignment, auth, ("leader", "3301", "赵警官"), case_id)
    # Nor can they act on it: 404, not 403, which would tell them it exists.
    before = len(await stream(store, case_id))
    for name, body in [("accept", {}), ("record_progress", {"note": "x"})]:
        answer = await command(
            assignment,
            auth,
            case_id,
            name,
            body,
            role=ACCUSED_OFFICER[0],
            bureau=ACCUSED_OFFICER[1],
            user=ACCUSED_OFFICER[2],
            status=404,
        )
        assert answer["error"] == "case_not_found"
    assert len(await stream(store, case_id)) == before
    # Nor be given it: the petition office cannot assign it to them.
    answer = await command(
        assignment,
        auth,
        case_id,
        "assign",
        {"unit": "330102", "officer": "赵警官", "reason": "就近"},
        status=422,
    )
    assert answer["error"] == "accused_party"
    assert "第三十条" in answer["message"]
    assert "Art. 30" in answer["message"]


async def test_the_accused_unit_never_sees_nor_gets_the_accusation(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, store: EventStore
) -> None:
    # Received at the city bureau, about sub-bureau 330103, accusing that very sub-bureau.
    case = await accusation(
        client,
        assignment,
        auth,
        2,
        category="JK04",
        registrar=("3301", "clerk-city"),
        receiving_bureau="3301",
        receiving_officer="孙警官",
        sub_bureau="330103",
        accused_units=["330103"],
    )
    case_id = case["case_id"]
    # No routing rule for JK04: the first receiver at the city bureau.
    assert (case["unit"], case["officer"]) == ("3301", "孙警官")
    assert not await sees(assignment, auth, ACCUSED_HEAD, case_id)
    assert not await sees(assignment, auth, ("registrar", "330103", "clerk-03"), case_id)
    assert (
        await sees(assignment, auth, ("sub_bureau_head", "330104", "head-330104"), case_id) is False
    )
    assert await sees(assignment, auth, OFFICE, case_id)
    answer = await command(
        assignment, auth, case_id, "assign", {"unit": "330103", "reason": "属地"}, status=422
    )
    assert answer["error"] == "accused_party"
    # Reassigned elsewhere, it stays hidden from the accused unit.
    await command(assignment, auth, case_id, "accept", {})
    done = await command(assignment, auth, case_id, "assign", {"unit": "ducha", "reason": "督察"})
    assert done["case"]["unit"] == "ducha"
    assert not await sees(assignment, auth, ACCUSED_HEAD, case_id)
    assigned = [
        e for e in await stream(store, case_id) if e.event_type == "assignment.CaseAssigned"
    ]
    assert all(e.data.unit != "330103" for e in assigned)


async def test_an_accusation_against_the_receiving_unit_goes_to_discipline(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    # Received at 330102, accusing 330102 itself (no routing rule for JK05).
    case = await accusation(client, assignment, auth, 3, category="JK05", accused_units=["330102"])
    assert (case["unit"], case["officer"]) == ("jijian", None)
    assert not await sees(assignment, auth, ("registrar", "330102", "clerk-01"), case["case_id"])
    assert not await sees(assignment, auth, ("handler", "330102", "王警官"), case["case_id"])
    assert await sees(assignment, auth, OFFICE, case["case_id"])


async def test_an_accusation_against_its_own_first_receiver_goes_elsewhere(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case = await accusation(
        client, assignment, auth, 4, category="JK06", accused_officers=["王警官"]
    )
    assert case["unit"] == "jijian"
    assert case["officer"] != "王警官"
    assert not await sees(assignment, auth, ("handler", "330102", "王警官"), case["case_id"])


async def test_when_the_routed_unit_is_accused_it_is_not_given_the_case(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    # JK01 goes to jijian by rule; jijian is accused: the first receiver's unit takes it.
    case = await accusation(client, assignment, auth, 5, accused_units=["jijian"])
    assert (case["unit"], case["officer"]) == ("330102", "王警官")
    # jijian and the receiving unit both accused: neither; the inspection office takes it.
    case = await accusation(client, assignment, auth, 6, accused_units=["jijian", "330102"])
    assert case["unit"] == "ducha"
    assert not await sees(assignment, auth, ("handler", "330102", "王警官"), case["case_id"])


async def sees_with(http: httpx.AsyncClient, headers: dict[str, str], case_id: str) -> bool:
    """Like :func:`sees`, for a token made by hand (a department claim)."""
    response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert response.status_code in (200, 404), response.text
    listed = await http.get("/api/v1/cases", headers=headers)
    assert listed.status_code == 200, listed.text
    assert (case_id in {r["case_id"] for r in listed.json()}) == (response.status_code == 200)
    return response.status_code == 200


async def test_accused_officers_are_matched_whatever_their_case_or_spacing(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    case = await accusation(client, assignment, auth, 7, accused_officers=[" p330102007 "])
    case_id = case["case_id"]
    for written in ("P330102007", "p330102007"):
        assert not await sees(assignment, auth, ("handler", "330102", written), case_id)
    assert await sees(assignment, auth, ("handler", "330102", "P330102008"), case_id)
    # Nor can the petition office hand it to them under another spelling.
    answer = await command(
        assignment,
        auth,
        case_id,
        "assign",
        {"unit": "330104", "officer": "P330102007", "reason": "就近"},
        status=422,
    )
    assert answer["error"] == "accused_party"


async def test_an_accused_city_department_is_hidden_from_its_own_staff(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token, issuer: LocalIssuer
) -> None:
    case = await accusation(client, assignment, auth, 8, accused_units=["zhian"])
    case_id = case["case_id"]

    def leader(department: str | None) -> dict[str, str]:
        token = issuer.mint("leader-7", "leader", "3301", department=department)
        return {"Authorization": f"Bearer {token}"}

    assert not await sees_with(assignment, leader("zhian"), case_id)
    assert await sees_with(assignment, leader("xingzhen"), case_id)
    assert await sees_with(assignment, leader(None), case_id)
    # A department the configuration does not know is refused, not treated as none.
    unknown = await assignment.get(f"/api/v1/cases/{case_id}", headers=leader("nosuch"))
    assert unknown.status_code == 403
    assert unknown.json()["error"] == "department_unknown"


async def test_a_city_handler_sees_the_city_bureaus_own_cases_only(
    client: httpx.AsyncClient, assignment: httpx.AsyncClient, auth: Token
) -> None:
    # The same rule as reporting's: a city handler's work is the city bureau's own cases.
    local = await register(client, assignment, auth, 9)  # received and handled at 330102
    city = await register(
        client,
        assignment,
        auth,
        10,
        registrar=("3301", "clerk-city"),
        receiving_bureau="3301",
        receiving_officer="孙警官",
        sub_bureau="330103",
    )
    handler = ("handler", "3301", "孙警官")
    assert not await sees(assignment, auth, handler, local["case_id"])
    assert await sees(assignment, auth, handler, city["case_id"])
    assert await sees(assignment, auth, OFFICE, local["case_id"])
