"""Reference data (issue 13, part 3 of the issue): read-only documents from the configuration, in
Chinese and English, for any authenticated role, with an ETag and 304 on If-None-Match."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Token

pytestmark = pytest.mark.integration


async def test_every_document_is_bilingual_and_revalidates_with_its_etag(
    client: httpx.AsyncClient, auth: Token
) -> None:
    for kind in ["bureaus", "categories", "channels", "outcomes", "roles", "leaders", "purposes"]:
        first = await client.get(f"/api/v1/reference/{kind}", headers=auth("handler"))
        assert first.status_code == 200, (kind, first.text)
        etag = first.headers["etag"]
        assert etag.startswith('"')
        again = await client.get(
            f"/api/v1/reference/{kind}", headers=auth("auditor") | {"If-None-Match": etag}
        )
        assert again.status_code == 304, kind
        assert again.content == b""
        assert again.headers["etag"] == etag
        stale = await client.get(
            f"/api/v1/reference/{kind}", headers=auth() | {"If-None-Match": '"0123"'}
        )
        assert stale.status_code == 200
        assert stale.content == first.content
    # Different documents, different tags.
    tags = {
        (await client.get(f"/api/v1/reference/{k}", headers=auth())).headers["etag"]
        for k in ["bureaus", "roles"]
    }
    assert len(tags) == 2


async def test_the_documents_carry_the_configuration(
    client: httpx.AsyncClient, auth: Token
) -> None:
    async def get(kind: str) -> Any:
        response = await client.get(f"/api/v1/reference/{kind}", headers=auth())
        assert response.status_code == 200, response.text
        return response.json()

    bureaus = await get("bureaus")
    assert bureaus["city"] == {
        "code": "3301",
        "name": "临江市公安局",
        "name_en": "Linjiang Municipal Public Security Bureau",
    }
    subs = {s["code"]: s for s in bureaus["sub_bureaus"]}
    assert len(subs) == 24
    assert subs["330102"]["name"] == "江城分局"
    assert subs["330102"]["head"] == "王建军"
    departments = {d["code"]: d for d in bureaus["departments"]}
    assert departments["jijian"]["role"] == "discipline"
    assert departments["fazhi"]["name_en"] == "Legal Affairs Detachment"

    tops = {c["code"]: c for c in (await get("categories"))["categories"]}
    assert tops["JK"]["kind"] == "accusation"
    assert tops["JK"]["kind_name"] == "检举控告"
    assert {c["code"] for c in tops["JK"]["children"]} >= {"JK01", "JK02"}
    sq01 = next(c for c in tops["SQ"]["children"] if c["code"] == "SQ01")
    assert sq01["name"] == "治安管理"
    assert sq01["children"], "sub-categories nest"

    channels = {c["code"]: c for c in (await get("channels"))["channels"]}
    assert channels["letter"]["name"] == "来信"
    assert channels["congress_referral"]["referral"] is True
    outcomes = {o["code"]: o for o in (await get("outcomes"))["outcomes"]}
    assert outcomes["support"] == {
        "code": "support",
        "name": "支持",
        "name_en": "Supported",
        "justified": True,
    }
    roles = {r["code"]: r for r in (await get("roles"))["roles"]}
    assert roles["handler"]["name"] == "承办人"
    leaders = {x["id"]: x for x in (await get("leaders"))["leaders"]}
    assert leaders["L01"]["is_chief"] is True
    assert leaders["L01"]["duty_weekday"] == {"code": "wed", "name": "周三"}
    assert leaders["L06"]["duty_weekday"] is None
    purposes = [p["code"] for p in (await get("purposes"))["purposes"]]
    assert purposes == ["handling", "reply", "review", "supervision", "audit"]


async def test_the_holiday_calendar_of_a_configured_year(
    client: httpx.AsyncClient, auth: Token
) -> None:
    response = await client.get("/api/v1/reference/holidays", params={"year": 2026}, headers=auth())
    assert response.status_code == 200, response.text
    year = response.json()
    assert year["year"] == 2026
    new_year = year["holidays"][0]
    assert (new_year["name"], new_year["start"], new_year["end"]) == (
        "元旦",
        "2026-01-01",
        "2026-01-03",
    )
    assert year["working_days"], "make-up working days (调休上班) are listed"
    cached = await client.get(
        "/api/v1/reference/holidays",
        params={"year": 2026},
        headers=auth() | {"If-None-Match": response.headers["etag"]},
    )
    assert cached.status_code == 304
    missing = await client.get("/api/v1/reference/holidays", params={"year": 2031}, headers=auth())
    assert missing.status_code == 404
    assert "2031" in missing.json()["message"]
    assert "2026" in missing.json()["message"]


async def test_reference_data_needs_a_token_and_a_known_kind(
    client: httpx.AsyncClient, auth: Token
) -> None:
    assert (await client.get("/api/v1/reference/bureaus")).status_code == 401
    unknown = await client.get("/api/v1/reference/secrets", headers=auth())
    assert unknown.status_code == 422
    no_year = await client.get("/api/v1/reference/holidays", headers=auth())
    assert no_year.status_code == 422
