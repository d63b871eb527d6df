"""One refusal type: every service refuses with ``petitions.refusals.Refusal`` (or a subclass
naming its area), built with the same arguments and answered the same way."""

from __future__ import annotations

import httpx
import pytest
from assignment.domain.case import Forbidden, NotAllowed, StaleVersion, WorkflowError
from assignment.entrypoints.http import install_errors as assignment_errors
from fastapi import FastAPI
from intake.domain.registration import Refused
from intake.entrypoints.http import install_errors as intake_errors
from petitions.identity import ForbiddenError, IdentityError, install_auth_errors
from petitions.refusals import Refusal


@pytest.mark.parametrize("kind", [WorkflowError, Refused, IdentityError])
def test_every_service_refuses_with_the_one_type(kind: type[Refusal]) -> None:
    refusal = kind("some_code", "中文 / English")
    assert isinstance(refusal, Refusal)
    assert (refusal.code, refusal.message, refusal.details) == ("some_code", "中文 / English", {})


def test_the_status_is_the_classs_unless_given() -> None:
    assert Refused("x", "m").status == 409
    assert Refused("x", "m", 503).status == 503
    assert Forbidden("x", "m").status == 403
    assert ForbiddenError("x", "m").status == 403
    assert StaleVersion("x", "m", current_version=4).details == {"current_version": 4}


async def answer(app: FastAPI, refusal: Exception) -> httpx.Response:
    @app.get("/refuse")
    async def refuse() -> None:
        raise refusal

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/refuse")


async def test_the_answers_are_what_each_service_answered_before() -> None:
    app = FastAPI()
    assignment_errors(app)
    refused = await answer(app, NotAllowed("not_allowed", "不允许 / no", state="handling"))
    assert refused.status_code == 409
    assert refused.json() == {"error": "not_allowed", "message": "不允许 / no", "state": "handling"}

    app = FastAPI()
    intake_errors(app)
    busy = await answer(app, Refused("busy", "请重试 / try again", 503))
    assert busy.status_code == 503
    assert busy.json() == {"error": "busy", "message": "请重试 / try again"}

    app = FastAPI()
    intake_errors(app)
    install_auth_errors(app)
    forbidden = await answer(app, ForbiddenError("role_forbidden", "无权 / not for you"))
    assert forbidden.status_code == 403
    assert forbidden.json() == {"error": "role_forbidden", "message": "无权 / not for you"}
