"""Issue 11, item 8 at reporting: every parameter bounded in the API document, an offset past
int64 or a date at the ends of the calendar is never a 5xx."""

from __future__ import annotations

import pytest

from tests.conftest import Token
from tests.integration.test_reporting_api import OFFICE, Api, api  # noqa: F401  (the fixture)
from tests.support.openapi import unbounded

pytestmark = pytest.mark.integration


async def test_every_parameter_states_its_limit_in_the_api_document(api: Api) -> None:  # noqa: F811
    document = (await api.http.get("/openapi.json")).json()
    assert unbounded(document) == []


async def test_paging_past_int64_is_422(api: Api, auth: Token) -> None:  # noqa: F811
    for offset in (str(2**63), str(2**64), "1000001"):
        response = await api.http.get(
            "/api/v1/reports/ledger", params={"offset": offset}, headers=auth(**OFFICE)
        )
        assert response.status_code == 422, response.text
    fine = await api.http.get(
        "/api/v1/reports/ledger",
        params={"offset": "1000000", "as_of": "2026-11-04"},
        headers=auth(**OFFICE),
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["rows"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-03", "as_of": "9999-12-31"},
        {"month": "2026-03", "as_of": "0001-01-01"},
        {"from": "0001-01-01", "to": "0001-01-31", "as_of": "2026-11-04"},
        {"from": "9999-12-01", "to": "9999-12-31", "as_of": "2026-11-04"},
    ],
)
async def test_periods_at_the_ends_of_the_calendar_are_no_server_error(
    api: Api,  # noqa: F811
    auth: Token,
    params: dict[str, str],
) -> None:
    for path in ("figures", "reception", "zero-petition"):
        response = await api.http.get(
            f"/api/v1/reports/{path}", params=params, headers=auth(**OFFICE)
        )
        assert response.status_code < 500, (path, response.status_code, response.text)


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01"])
async def test_ledger_bulletin_and_analysis_dates_at_the_ends_are_no_server_error(
    api: Api,  # noqa: F811
    auth: Token,
    as_of: str,
) -> None:
    for path, params in (
        ("ledger", {"as_of": as_of}),
        ("ledger", {"received_from": as_of, "as_of": "2026-11-04"}),
        ("ledger.xlsx", {"received_to": as_of, "as_of": "2026-11-04"}),
        ("weekly/2026-W45", {"as_of": as_of}),
        ("monthly/2026-10", {"as_of": as_of}),
    ):
        response = await api.http.get(
            f"/api/v1/reports/{path}", params=params, headers=auth(**OFFICE)
        )
        assert response.status_code < 500, (path, params, response.text[:300])
        if response.status_code == 422 and response.json()["error"] == "date_out_of_range":
            assert "1900-2999" in response.json()["message"]
