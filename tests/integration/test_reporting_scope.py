"""Reporting under the one scope rule (petitions.scope), over HTTP on real PostgreSQL: the
ledger matches accused parties normalised and hides an accusation against the reader's
department; a city handler's ledger is the city bureau's own cases, its departments' included;
the accompany roster is published like the monthly analysis publishes it; counts include what
lists hide."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from petitions.identity import LocalIssuer

from tests.conftest import Token
from tests.integration.test_reporting_api import OFFICE, Api, api
from tests.support.reporting_fixtures import CITY, A, B, add_case, add_submission, local

pytestmark = pytest.mark.integration

__all__ = ["api"]  # the fixture, shared with the API tests

MARCH = local(date(2026, 3, 10))


async def ledger_ids(api: Api, headers: dict[str, str]) -> set[str]:
    got = await api.http.get(
        "/api/v1/reports/ledger", params={"as_of": "2026-04-30"}, headers=headers
    )
    assert got.status_code == 200, got.text
    return {row["case_id"] for row in got.json()["rows"]}


async def test_the_ledger_matches_the_accused_normalised_and_by_department(
    api: Api, auth: Token, issuer: LocalIssuer
) -> None:
    accusation = str(
        await add_case(
            api.pool,
            sub_bureau=A,
            bureau=CITY,
            received_at=MARCH,
            category="JK01",
            category_kind="accusation",
            accused_units=["zhian"],
            accused_officers=[" p330102007"],
            responsible_unit="jijian",
        )
    )
    await add_submission(api.pool, UUID(accusation), received_at=MARCH, receiving_bureau=CITY)

    def leader(user: str, department: str | None = None) -> dict[str, str]:
        token = issuer.mint(user, "leader", CITY, department=department)
        return {"Authorization": f"Bearer {token}"}

    assert accusation in await ledger_ids(api, auth(**OFFICE))
    assert accusation not in await ledger_ids(api, leader("P330102007"))
    assert accusation not in await ledger_ids(api, leader("leader-2", "zhian"))
    assert accusation in await ledger_ids(api, leader("leader-2", "xingzhen"))
    # Counts include it for everyone, the accused too: a number reveals no case.
    figures = await api.http.get(
        "/api/v1/reports/figures",
        params={"month": "2026-03", "as_of": "2026-04-30"},
        headers=leader("P330102007"),
    )
    assert figures.status_code == 200, figures.text
    assert figures.json()["matters"] == 1


async def test_a_city_handler_reads_the_city_bureaus_own_cases_its_departments_included(
    api: Api, auth: Token
) -> None:
    by_department = str(
        await add_case(api.pool, sub_bureau=A, received_at=MARCH, responsible_unit="zhian")
    )
    local_case = str(await add_case(api.pool, sub_bureau=B, received_at=MARCH, responsible_unit=B))
    city_handler = {"role": "handler", "bureau": CITY, "user": "handler-c"}
    seen = await ledger_ids(api, auth(**city_handler))
    assert by_department in seen
    assert local_case not in seen
    assert {by_department, local_case} <= await ledger_ids(api, auth(**OFFICE))


async def test_the_roster_is_published_alike_by_every_endpoint(api: Api, auth: Token) -> None:
    # Four sub-bureaus with justified petitions to the city bureau in March: three make the
    # roster, the fourth is only in the full ranking.
    for n, code in enumerate(("330102", "330103", "330104", "330105"), start=1):
        for _ in range(5 - n):
            case_id = await add_case(api.pool, sub_bureau=code, received_at=MARCH, justified=True)
            await add_submission(api.pool, case_id, received_at=MARCH, receiving_bureau=CITY)
    head = auth(role="sub_bureau_head", bureau="330105", user="head-330105")

    async def roster(headers: dict[str, str]) -> dict[str, list[str]]:
        got = await api.http.get(
            "/api/v1/reports/accompany-roster", params={"month": "2026-03"}, headers=headers
        )
        assert got.status_code == 200, got.text
        body = got.json()
        return {k: [e["sub_bureau"]["code"] for e in body[k]] for k in ("roster", "candidates")}

    top = ["330102", "330103", "330104"]
    assert await roster(auth(**OFFICE)) == {"roster": top, "candidates": [*top, "330105"]}
    assert await roster(head) == {"roster": top, "candidates": top}
    analysis = await api.http.get(
        "/api/v1/reports/monthly/2026-03", params={"as_of": "2026-04-30"}, headers=head
    )
    assert analysis.status_code == 200, analysis.text
    published = analysis.json()["roster"]
    assert [e["sub_bureau"]["code"] for e in published["candidates"]] == top
