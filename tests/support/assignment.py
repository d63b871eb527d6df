"""Helpers for driving the assignment API in tests."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import httpx

from tests.conftest import Token


class Who(TypedDict):
    """Who gives a command (the keyword arguments of ``command``): typed so that ``**who`` is
    checked against them instead of against every keyword of ``command``."""

    role: str
    bureau: str
    user: str


async def wait_taken_up(
    http: httpx.AsyncClient, auth: Token, case_id: str, *, seconds: float = 20.0
) -> dict[str, Any]:
    """Poll until the case has come through NATS into the workflow (no test-only shortcut)."""
    headers = auth("petition_office", "3301", "office-01")
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await http.get(f"/api/v1/cases/{case_id}", headers=headers)
        if response.status_code == 200 and response.json()["state"] != "registered":
            return dict(response.json())
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"case {case_id} not taken up in {seconds}s: {response.status_code} {response.text}"
            )
        await asyncio.sleep(0.1)


async def command(
    http: httpx.AsyncClient,
    auth: Token,
    case_id: str,
    name: str,
    body: dict[str, Any] | None = None,
    *,
    role: str = "petition_office",
    bureau: str = "3301",
    user: str = "office-01",
    status: int = 200,
) -> dict[str, Any]:
    response = await http.post(
        f"/api/v1/cases/{case_id}/{name}", json=body or {}, headers=auth(role, bureau, user)
    )
    assert response.status_code == status, response.text
    return dict(response.json())
